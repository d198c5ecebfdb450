"""The learner's loop: `start` into a workspace apart from the course, `progress`, `watch`, `grade NN`.

Every test works in a workspace of its own (BOOK_WORKSPACE), never in the course's workspace/.
"""

import dataclasses
import hashlib
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from book import EXERCISES, ROOT, SOLUTIONS
from book.core import manifest, nbfiles
from book.grader import progress, workspace
from book.grader.model import Result
from tests.support import book

EXERCISE = "01-typed-aliases"
FULL = manifest.find("01").points  # from the manifest: nothing here depends on the content


def in_workspace(*args: object, folder: Path, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """`python -m book ARGS` with its workspace in `folder`."""
    return book(*args, timeout=timeout, env={**os.environ, "BOOK_WORKSPACE": str(folder)})


def test_start_copies_the_exercise_and_never_overwrites_the_learners_copy(tmp_path: Path) -> None:
    done = in_workspace("start", "01", folder=tmp_path)
    assert done.returncode == 0 and "started exercise 01" in done.stdout
    mine = tmp_path / f"{EXERCISE}.ipynb"
    assert mine.read_bytes() == (EXERCISES / f"{EXERCISE}.ipynb").read_bytes()
    mine.write_text(mine.read_text() + " ")  # the learner's work
    again = in_workspace("start", "01", folder=tmp_path)
    assert "already started" in again.stdout and mine.read_text().endswith(" ")


def test_start_all_and_a_bad_name(tmp_path: Path) -> None:
    done = in_workspace("start", "all", folder=tmp_path)
    assert done.returncode == 0
    assert sorted(path.name for path in tmp_path.glob("*.ipynb")) == sorted(
        path.name for path in EXERCISES.glob("*.ipynb")
    )
    bad = in_workspace("start", "99", folder=tmp_path)
    assert bad.returncode == 2 and bad.stderr.startswith("start: there is no exercise 99")


def test_grade_by_number_grades_the_workspace_copy(tmp_path: Path) -> None:
    assert in_workspace("grade", "01", folder=tmp_path).stderr.startswith("grade: exercise 01 is not started yet")
    shutil.copy(SOLUTIONS / f"{EXERCISE}.ipynb", tmp_path / f"{EXERCISE}.ipynb")
    done = in_workspace("grade", "01", folder=tmp_path)
    assert (
        done.returncode == 0 and f"{tmp_path}/{EXERCISE}.ipynb" in done.stdout and f"score {FULL}/{FULL}" in done.stdout
    )


def test_work_done_in_exercises_is_carried_over_once(tmp_path: Path) -> None:
    """A learner who edited the tracked exercise before the workspace existed keeps that work."""
    exercises = tmp_path / "exercises"
    exercises.mkdir()
    shutil.copy(SOLUTIONS / f"{EXERCISE}.ipynb", exercises / f"{EXERCISE}.ipynb")  # "their work"
    exercise = manifest.find("01")
    note = workspace.carry_over(exercise, tmp_path / "workspace", exercises)
    assert "is now in" in note and "back as released" in note
    moved = tmp_path / "workspace" / f"{EXERCISE}.ipynb"
    assert moved.read_bytes() == (SOLUTIONS / f"{EXERCISE}.ipynb").read_bytes()
    released = hashlib.sha256((exercises / f"{EXERCISE}.ipynb").read_bytes()).hexdigest()
    assert released == exercise.starter_sha256
    assert workspace.carry_over(exercise, tmp_path / "workspace", exercises) == ""  # once


def test_work_on_an_older_version_is_kept_when_the_exercise_changes(tmp_path: Path) -> None:
    """A learner's copy of version 1 is set aside, not overwritten, and the new version started beside it."""
    released = manifest.find("01")
    mine = tmp_path / f"{EXERCISE}.ipynb"
    shutil.copy(SOLUTIONS / f"{EXERCISE}.ipynb", mine)  # their work, on the released check cells
    newer = dataclasses.replace(
        released,
        version=released.version + 1,
        versions={**released.versions, released.version + 1: manifest.Version(("a changed check cell",), ())},
    )
    note = workspace.start(newer, tmp_path)
    old = released.version
    kept = tmp_path / f"{EXERCISE}.v{old}.ipynb"
    assert note == (
        f"exercise 01 changed (version {old} to {old + 1}): your work on version {old} is kept in "
        f"{kept}; the new version is in {mine}"
    )
    assert kept.read_bytes() == (SOLUTIONS / f"{EXERCISE}.ipynb").read_bytes()
    assert mine.read_bytes() == released.starter.read_bytes()
    assert "already started" in workspace.start(released, tmp_path)  # the current version is left alone
    assert workspace.version_of(kept, newer) == old and workspace.version_of(mine, released) == old


def test_progress_tells_not_started_done_and_broken(tmp_path: Path) -> None:
    folders = {status: tmp_path / status for status in ("missing", "untouched", "solved", "broken")}
    for folder in folders.values():
        folder.mkdir()
    shutil.copy(EXERCISES / f"{EXERCISE}.ipynb", folders["untouched"])
    shutil.copy(SOLUTIONS / f"{EXERCISE}.ipynb", folders["solved"])
    broken = nbfiles.read(SOLUTIONS / f"{EXERCISE}.ipynb", as_version=4)
    broken.cells.append(nbfiles.new_code_cell("raise RuntimeError('oops')"))
    nbfiles.write(broken, folders["broken"] / f"{EXERCISE}.ipynb")
    exercise = manifest.find("01")
    rows = {name: progress.status_of(exercise, folder) for name, folder in folders.items()}
    assert rows["missing"].status == "not started" and "make start EX=01" in rows["missing"].note
    assert rows["untouched"].status == "not started"
    assert (rows["solved"].status, rows["solved"].score, rows["solved"].max_score) == ("done", FULL, FULL)
    assert rows["broken"].status == "broken" and "RuntimeError: oops" in rows["broken"].note
    assert progress.table(list(rows.values())).splitlines()[-1] == "1 of 4 exercises done"


def test_progress_command_lists_every_exercise_of_the_manifest(tmp_path: Path) -> None:
    done = in_workspace("progress", folder=tmp_path)
    assert done.returncode == 0, done.stderr
    for exercise in manifest.load().values():
        assert exercise.slug in done.stdout
    assert done.stdout.splitlines()[-1] == f"0 of {len(manifest.load())} exercises done"


@pytest.mark.parametrize("target", ["path", "number"])
def test_watch_grades_now_and_again_after_each_save(tmp_path: Path, target: str) -> None:
    path = tmp_path / f"{EXERCISE}.ipynb"
    shutil.copy(EXERCISES / f"{EXERCISE}.ipynb", path)
    watcher = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "book",
            "watch",
            str(path) if target == "path" else "01",
            "--interval",
            "0.1",
            "--runs",
            "2",
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "BOOK_WORKSPACE": str(tmp_path)},
    )
    assert watcher.stdout is not None
    try:
        lines = []
        for line in watcher.stdout:  # the first grading: the untouched starter
            lines.append(line)
            if line.startswith("score "):
                break
        assert f"score 0/{FULL}" in "".join(lines)
        time.sleep(0.05)
        shutil.copy(SOLUTIONS / f"{EXERCISE}.ipynb", path)  # the learner saves a finished notebook
        rest, _ = watcher.communicate(timeout=120)
    finally:
        watcher.kill()
    assert watcher.returncode == 0
    assert f"score {FULL}/{FULL}" in rest


def test_grading_work_on_an_older_version_says_so_before_the_checks() -> None:
    from book.grader import render, runner

    released = manifest.find("01")
    newer = dataclasses.replace(
        released,
        version=released.version + 1,
        versions={**released.versions, released.version + 1: manifest.Version(("a changed check cell",), ())},
    )
    result = runner.grade(SOLUTIONS / f"{EXERCISE}.ipynb", newer)
    assert result.version == released.version and result.passed
    report = render.human(result).splitlines()
    assert report[1] == (
        f"note: this is your work on version {released.version} of exercise 01, graded with the "
        f"checks of version {released.version + 1}: `make start EX=01` gives you the new version "
        "and keeps this copy"
    )


def test_a_fix_the_bug_exercise_is_named_by_its_number_like_any_other(tmp_path: Path) -> None:
    fix = next(exercise for exercise in manifest.ordered() if exercise.kind == "fix")
    with pytest.raises(workspace.WorkspaceError, match=f"run `make start EX={fix.number}`"):
        workspace.resolve(fix.number, tmp_path)
    assert workspace.start(manifest.find(fix.number), tmp_path).startswith(f"started exercise {fix.number}, ")
    path, notes = workspace.resolve(fix.number.lstrip("0"), tmp_path)
    assert path == tmp_path / f"{fix.slug}.ipynb" and path.read_bytes() == fix.starter.read_bytes() and not notes


STATEFUL_CELL = """\
import json as module_of_the_library
module_of_the_library.grades_seen = getattr(module_of_the_library, "grades_seen", 0) + 1
assert module_of_the_library.grades_seen == 1, "state of an earlier grade survived into this one"
"""


def test_a_warm_grade_starts_as_fresh_as_a_cold_one(tmp_path: Path) -> None:
    """The processes a watch keeps started serve one grade each: nothing of one grade, module state
    in the kernel or the agent, or the judge's cache of a notebook by its path, reaches the next."""
    from book.grader import runner

    exercise = manifest.find("01")
    path = tmp_path / f"{EXERCISE}.ipynb"
    stateful = nbfiles.read(SOLUTIONS / f"{EXERCISE}.ipynb", as_version=4)
    stateful.cells.insert(1, nbfiles.new_code_cell(STATEFUL_CELL))
    with runner.Warm(exercise) as warm:
        shutil.copy(EXERCISES / f"{EXERCISE}.ipynb", path)
        assert runner.grade(path, exercise, warm=warm).score <= 1  # the starter
        shutil.copy(SOLUTIONS / f"{EXERCISE}.ipynb", path)  # the same path, new content
        assert runner.grade(path, exercise, warm=warm).score == FULL
        nbfiles.write(stateful, path)
        for _ in range(2):
            result = runner.grade(path, exercise, warm=warm)
            assert result.passed, [check.message for check in result.checks if not check.passed]
        assert warm.next is not None and warm.next.alive(), "the next grade's processes wait, started"
    assert warm.next is None


def test_the_first_report_holds_the_quick_checks_and_the_rest_follows(tmp_path: Path) -> None:
    from book.grader import render, runner

    path = tmp_path / f"{EXERCISE}.ipynb"
    shutil.copy(SOLUTIONS / f"{EXERCISE}.ipynb", path)
    firsts: list[Result] = []
    result = runner.grade(path, manifest.find("01"), first=firsts.append)
    assert len(firsts) == 1
    pending = {check.name for check in firsts[0].checks if check.pending}
    # which are still running depends on the machine's speed; only a check that compares with the
    # reference may be, and the first report never says anything the final one contradicts
    assert pending <= {"test_behaves_as_specified_in_any_sequence"}
    for early, final in zip(firsts[0].checks, result.checks, strict=True):
        assert early.name == final.name and (
            early.pending or (early.passed, early.message) == (final.passed, final.message)
        )
    early_result = dataclasses.replace(
        result,
        checks=[
            dataclasses.replace(check, pending=check.name in pending or check.name.startswith("test_behaves"))
            for check in result.checks
        ],
    )
    report = render.human(early_result).splitlines()
    assert "… behaves as specified in any sequence" in report and report[-2].endswith("1 check still running")
