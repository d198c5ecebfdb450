"""Hints lead, they do not hand over: a nudge that holds no line of the solution, then a chapter section."""

from pathlib import Path

import pytest

from book import CHAPTERS, SOLUTIONS
from book.authoring import release
from book.core import manifest, nbfiles
from book.grader import hints

EXERCISES = sorted(manifest.load().values(), key=lambda exercise: exercise.number)


def normal(text: str) -> str:
    return " ".join(text.split())


@pytest.mark.parametrize("exercise", EXERCISES, ids=lambda exercise: exercise.slug)
def test_no_hint_contains_a_line_of_the_solution(exercise: manifest.Exercise) -> None:
    solution = nbfiles.read(SOLUTIONS / exercise.notebook_name, as_version=4)
    lines = {
        normal(line)
        for cell in solution.cells
        if cell.cell_type == "code"
        for line in release.solution_lines(cell.source, shortest=20)
    }
    for name, _, hint, _ in manifest.declared_checks(exercise.check_module):
        given_away = [line for line in lines if line in normal(hint)]
        assert not given_away, f"{name}: its hint hands over {given_away[0]!r}"


@pytest.mark.parametrize("exercise", EXERCISES, ids=lambda exercise: exercise.slug)
def test_every_check_has_a_hint_of_its_own(exercise: manifest.Exercise) -> None:
    nudges = [declared.hint for declared in manifest.declared_checks(exercise.check_module)]
    assert all(len(hint) >= 40 for hint in nudges), "a hint says where to look, in a sentence at least"
    assert len(set(nudges)) == len(nudges), "two checks share a hint: each failure needs its own lead"


@pytest.mark.parametrize("exercise", EXERCISES, ids=lambda exercise: exercise.slug)
def test_every_check_points_to_a_chapter_section_that_exists(exercise: manifest.Exercise) -> None:
    for declared in manifest.declared_checks(exercise.check_module):
        assert declared.see, f'{declared.name}: no see="NN-chapter.ipynb#section" to read after the nudge'
        assert not hints.missing(declared.see), f"{declared.name}: {hints.missing(declared.see)}"


def test_a_check_that_fails_again_shows_where_to_read_and_a_batch_shows_it_at_once(tmp_path: Path) -> None:
    from book.grader import render
    from book.grader.model import CheckResult, Result

    pointer = hints.pointer("04-role-checks.ipynb#" + next(iter(hints.headings(CHAPTERS / "04-role-checks.ipynb"))))
    assert pointer.startswith("Chapter 04, “") and "(chapters/04-role-checks.ipynb#" in pointer

    def graded(failing: set[str]) -> Result:
        checks = [
            CheckResult(
                name, 0 if name in failing else 1, 1, name not in failing, f"{name}: got 500", "Nudge.", pointer
            )
            for name in ("test_a", "test_b")
        ]
        return Result(tmp_path / "04-role-checks.ipynb", exercise="04-role-checks", checks=checks)

    first = graded({"test_a"})
    assert hints.due_for(first, tmp_path) == set()
    assert "read " not in render.human(first, pointers=set())
    again = graded({"test_a", "test_b"})
    due = hints.due_for(again, tmp_path)
    assert due == {"test_a"}, "only a check that failed last time too earns its pointer"
    report = render.human(again, pointers=due)
    assert report.count("read      Chapter 04") == 1 and report.count("hint      Nudge.") == 2
    assert hints.due_for(graded(set()), tmp_path) == set() and hints.due_for(graded({"test_b"}), tmp_path) == set()
    elsewhere = Result(tmp_path / "sub" / "x.ipynb", exercise="04-role-checks", checks=again.checks)
    assert hints.due_for(elsewhere, tmp_path) is None, "outside the workspace there is no memory: show them all"
    assert render.human(again).count("read      Chapter 04") == 2
    assert "read: Chapter 04" in render.gradescope(again)["tests"][0]["output"]


def test_a_pointer_to_nowhere_is_named() -> None:
    assert (
        hints.missing("04-role-checks.ipynb#no-such-heading")
        == "'04-role-checks.ipynb#no-such-heading': no heading #no-such-heading in 04-role-checks.ipynb"
    )
    assert "not chapter.ipynb#anchor" in hints.missing("04-role-checks")
    assert "no chapter" in hints.missing("99-nothing.ipynb#x")
