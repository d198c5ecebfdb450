"""Releasing exercises from solutions: the stub, the cleaned notebook, and exercises/ in sync."""

import re
from pathlib import Path

import pytest
import yaml
from myst_parser.mdit_to_docutils.base import default_slugify

from book import EXERCISES, ROOT, SOLUTIONS
from book.authoring import release
from book.core import manifest, nbfiles
from book.grader import hints
from book.site import build as site


def test_exercises_are_in_sync_with_solutions() -> None:
    stale = [f"{change.action} {change.path.name}" for change in release.plan()]
    assert not stale, f"exercises/ is out of date ({', '.join(stale)}): run `python -m book release`"


def test_every_solution_has_an_exercise_and_no_solution_code_reaches_it() -> None:
    for solution in sorted(SOLUTIONS.glob("*.ipynb")):
        exercise = nbfiles.read(EXERCISES / solution.name, as_version=4)
        # Code cells: hints in markdown may name a line on purpose.
        text = "\n".join(cell.source for cell in exercise.cells if cell.cell_type == "code")
        assert "BEGIN SOLUTION" not in text and "### BUGGY" not in text
        # A fix-the-bug exercise ships working code with one bug: nothing in it says where.
        kind = nbfiles.read(solution, as_version=4).metadata["exercise"]["kind"]
        assert ("NotImplementedError" in text) == (kind != "fix"), solution.name
        for line in release.secret_lines(nbfiles.read(solution, as_version=4)):
            assert line not in text, f"{solution.name}: solution line {line!r} is in the exercise"


def test_stub_keeps_indentation_and_instruction() -> None:
    source = "def f():\n    ### BEGIN SOLUTION: return the answer\n    return 42\n    ### END SOLUTION\nx = 1"
    assert release.stub_source(source) == (
        "def f():\n    # TODO: return the answer\n    raise NotImplementedError('return the answer')\nx = 1"
    )


def test_stub_without_instruction_uses_the_default() -> None:
    stub = release.stub_source("### BEGIN SOLUTION\nanswer = 42\n### END SOLUTION")
    assert stub == "# TODO: write your code here\nraise NotImplementedError('write your code here')"


@pytest.mark.parametrize(
    "source, reason",
    [
        ("### BEGIN SOLUTION\nx = 1", "never ended"),
        ("x = 1\n### END SOLUTION", "without BEGIN"),
        ("### BEGIN SOLUTION\n### BEGIN SOLUTION\n### END SOLUTION", "inside another region"),
    ],
)
def test_unpaired_markers_are_reported(source: str, reason: str) -> None:
    with pytest.raises(release.MarkerError, match=reason):
        release.stub_source(source, where="x.ipynb, cell 1")


def test_a_fix_region_ships_the_buggy_code_uncommented_and_nothing_that_points_at_it() -> None:
    source = (
        "async def get_session():\n"
        "    ### BEGIN SOLUTION\n"
        "    async with SessionLocal() as session:\n"
        "        yield session\n"
        "    ### BUGGY\n"
        "    # async with SHARED as session:\n"
        "    #     yield session\n"
        "    #\n"
        "    # # the learner's own comment\n"
        "    ### END SOLUTION\n"
        "x = 1"
    )
    assert release.stub_source(source) == (
        "async def get_session():\n"
        "    async with SHARED as session:\n"
        "        yield session\n"
        "\n"
        "    # the learner's own comment\n"
        "x = 1"
    )
    assert release.solution_lines(source, shortest=5) == ["async with SessionLocal() as session:", "yield session"]


@pytest.mark.parametrize(
    "source, message",
    [
        ("### BUGGY\n# x = 1", "outside a solution region"),
        ("### BEGIN SOLUTION\nx = 1\n### BUGGY\n# x = 2\n### BUGGY\n### END SOLUTION", "twice"),
        ("### BEGIN SOLUTION\nx = 1\n### BUGGY\nx = 2\n### END SOLUTION", "every line is commented out"),
    ],
)
def test_a_misplaced_buggy_marker_is_refused(source: str, message: str) -> None:
    with pytest.raises(release.MarkerError, match=message):
        release.stub_source(source, where="x.ipynb, cell 1")


def test_starter_clears_outputs_and_metadata() -> None:
    solution = nbfiles.new_notebook(
        metadata={
            "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
            "widgets": {"state": {}},
            "author": "someone",
        }
    )
    code = nbfiles.new_code_cell(
        "### BEGIN SOLUTION\nx = 1\n### END SOLUTION",
        execution_count=3,
        outputs=[nbfiles.new_output("stream", name="stdout", text="1")],
    )
    code.metadata = {"tags": ["step"], "scrolled": True, "execution": {"iopub.execute_input": "2026"}}
    solution.cells = [nbfiles.new_markdown_cell("# Task"), code]
    starter = release.starter(solution)
    cell = starter.cells[1]
    assert cell.outputs == [] and cell.execution_count is None
    assert dict(cell.metadata) == {"tags": ["step"]}
    assert set(starter.metadata) == {"kernelspec", "mystnb"}
    assert starter.metadata["mystnb"] == {"execution_mode": "off"}


def test_a_solution_without_regions_is_refused() -> None:
    solution = nbfiles.new_notebook(cells=[nbfiles.new_code_cell("x = 1")])
    with pytest.raises(release.MarkerError, match="no ### BEGIN SOLUTION"):
        release.starter(solution, name="empty.ipynb")


def small_course(tmp_path: Path, check: str = "assert x == 1") -> tuple[Path, Path, Path]:
    solutions, exercises, checks = tmp_path / "solutions", tmp_path / "exercises", tmp_path / "checks"
    for folder in (solutions, exercises, checks):
        folder.mkdir(exist_ok=True)
    nbfiles.write(
        nbfiles.new_notebook(
            cells=[
                nbfiles.new_markdown_cell("# Exercise 01: A small one"),
                nbfiles.new_code_cell("### BEGIN SOLUTION\nx = 1\n### END SOLUTION"),
                nbfiles.new_code_cell(check, metadata={"tags": ["check"]}),
            ]
        ),
        solutions / "01-x.ipynb",
    )
    (checks / "test_01_x.py").write_text('@check(points=3, hint="h")\nasync def test_y(client):\n    pass\n')
    return solutions, exercises, checks


def test_release_writes_and_removes_and_writes_the_manifest(tmp_path: Path) -> None:
    solutions, exercises, checks = small_course(tmp_path)
    (exercises / "99-gone.ipynb").write_text("{}")
    done = {(change.path.name, change.action) for change in release.release(solutions, exercises, checks)}
    assert done == {("01-x.ipynb", "write"), ("99-gone.ipynb", "remove"), ("manifest.json", "write")}
    assert release.plan(solutions, exercises, checks) == []
    (exercise,) = manifest.from_json((exercises / "manifest.json").read_text()).values()
    assert (exercise.number, exercise.slug, exercise.title, exercise.kind, exercise.version) == (
        "01",
        "01-x",
        "A small one",
        "build",
        1,
    )
    assert exercise.points == 4 and [c.name for c in exercise.checks] == ["test_y"]
    assert exercise.versions[1].check_cells == (manifest.fingerprint("assert x == 1"),)


def test_a_changed_check_cell_needs_a_new_version_and_the_old_one_is_kept(tmp_path: Path) -> None:
    solutions, exercises, checks = small_course(tmp_path)
    release.release(solutions, exercises, checks)
    small_course(tmp_path, check="assert x == 1, x")
    with pytest.raises(manifest.ManifestError, match=r"raise metadata\.exercise\.version"):
        release.release(solutions, exercises, checks)
    nb = nbfiles.read(solutions / "01-x.ipynb", as_version=4)
    nb.metadata["exercise"] = {"version": 2}
    nbfiles.write(nb, solutions / "01-x.ipynb")
    release.release(solutions, exercises, checks)
    (exercise,) = manifest.from_json((exercises / "manifest.json").read_text()).values()
    assert exercise.version == 2 and sorted(exercise.versions) == [1, 2]
    assert exercise.version_of([manifest.fingerprint("assert x == 1")]) == 1  # work started on version 1


def test_the_manifest_is_what_the_solutions_and_checks_say() -> None:
    released = manifest.load()
    assert sorted(exercise.slug for exercise in released.values()) == sorted(p.stem for p in SOLUTIONS.glob("*.ipynb"))
    for exercise in released.values():
        declared = [(found.name, found.points) for found in manifest.declared_checks(exercise.check_module)]
        assert [(check.name, check.points) for check in exercise.checks] == declared


def test_the_table_of_contents_lists_every_exercise_by_chapter_with_its_fix_beneath() -> None:
    toc = yaml.safe_load(release.toc_text(release.TOC.read_text(encoding="utf-8"), manifest.load()))
    parts = {part["caption"]: part["chapters"] for part in toc["parts"]}
    listed = [name for name in site.toc_files({"parts": [{"chapters": parts["Exercises"]}]}) if name]
    assert listed == [f"exercises/{exercise.slug}" for exercise in manifest.ordered()]
    for entry in parts["Exercises"]:
        for section in entry.get("sections", []):
            assert section["title"].startswith("Fix the bug: "), section
            assert (
                manifest.number_of(Path(section["file"]).name) == f"{manifest.number_of(Path(entry['file']).name)}-fix"
            )
    solutions = [name for name in site.toc_files({"parts": [{"chapters": parts["Solutions"]}]}) if name]
    assert solutions == ["chapters/solutions", *[f"solutions/{exercise.slug}" for exercise in manifest.ordered()]]
    assert release.TOC.read_text(encoding="utf-8") == release.toc_text(
        release.TOC.read_text(encoding="utf-8"), manifest.load()
    ), "run python -m book release"


def heading_anchors(chapter: Path) -> set[str]:
    """The anchors the site gives a chapter's headings (## and ###), as MyST makes them."""
    found: set[str] = set()
    for cell in nbfiles.read(chapter, as_version=4).cells:
        if cell.cell_type == "markdown":
            found.update(default_slugify(m[1].strip()) for m in re.finditer(r"^#{2,3} (.+)$", cell.source, re.M))
    assert found == set(hints.headings(chapter)), "the grader's pointers must make the site's anchors"
    return found


@pytest.mark.parametrize("solution", sorted(SOLUTIONS.glob("*.ipynb")), ids=lambda path: path.stem)
def test_every_exercise_says_what_it_practises_how_long_it_takes_and_what_to_read_first(solution: Path) -> None:
    meta = nbfiles.read(solution, as_version=4).metadata["exercise"]
    assert "draft" not in meta, 'remove "draft" once the exercise is written'
    assert meta["practises"] and meta["minutes"] > 0, meta
    assert len(meta.get("decisions", [])) >= 2, "a reviewer needs the decisions the exercise asks for"
    assert meta["sections"], "the chapter sections the exercise needs"
    for title, target in meta["sections"]:
        chapter, _, anchor = target.partition("#")
        assert (ROOT / "chapters" / chapter).is_file(), target
        assert anchor in heading_anchors(ROOT / "chapters" / chapter), f"{title}: no heading #{anchor} in {chapter}"
    about = nbfiles.read(EXERCISES / solution.name, as_version=4).cells[1]
    assert about.cell_type == "markdown" and about.source == release.about(meta)
    assert all(f"](../chapters/{target})" in about.source for _, target in meta["sections"])
    if meta["kind"] == "fix":
        assert meta.get("report"), "a fix-the-bug exercise says how the bug was reported"
