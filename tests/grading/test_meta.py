"""The hidden checks themselves, through the real grader end to end: every solution scores full
marks with exit status 0, every untouched starter scores nothing, each with a complete report.
(The plausible mistakes each check must catch, and the correct alternatives each must accept, are in
tests/grading/, run by make test-grading.)"""

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from book import CHECKS, EXERCISES, ROOT, SOLUTIONS
from book.core import manifest

CHECK_MODULES = sorted(CHECKS.glob("test_*.py"))


def test_every_exercise_has_hidden_checks_and_every_check_module_an_exercise() -> None:
    exercises = {path.stem for path in SOLUTIONS.glob("*.ipynb")}
    covered = {module.stem.removeprefix("test_").replace("_", "-") for module in CHECK_MODULES}
    assert exercises == covered == {exercise.slug for exercise in manifest.load().values()}


Graded = tuple[int, dict[str, dict[str, Any]]]


def grade_all(folder: Path) -> Graded:
    paths = sorted(folder.glob("*.ipynb"))
    done = subprocess.run(
        [sys.executable, "-m", "book", "grade", *map(str, paths), "--jobs", "2", "--json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
    )
    return done.returncode, {result["exercise"]: result for result in json.loads(done.stdout)["submissions"]}


@pytest.fixture(scope="module")
def solutions() -> Graded:
    return grade_all(SOLUTIONS)


@pytest.fixture(scope="module")
def starters() -> Graded:
    return grade_all(EXERCISES)


def complete(result: dict[str, Any]) -> None:
    """Every declared check reported, each with its points; the visible check first."""
    exercise = manifest.find(result["exercise"])
    names = [check["name"] for check in result["checks"]]
    assert names == [manifest.VISIBLE_CHECK, *[check.name for check in exercise.checks]]
    assert result["max_score"] == exercise.points
    assert result["version"] == exercise.version


def test_every_solution_scores_full_marks_with_exit_status_0(solutions: Graded) -> None:
    status, results = solutions
    assert status == 0
    for slug, result in results.items():
        complete(result)
        failed = [(check["name"], check["message"]) for check in result["checks"] if not check["passed"]]
        assert not failed and not result["error"], (slug, failed, result["error"])


def test_every_untouched_starter_fails_every_check(starters: Graded) -> None:
    """A build exercise's starter passes nothing; a fix-the-bug one ships a working app with one bug,
    so it passes the checks of what works, and the bug's checks weigh more than half the points."""
    status, results = starters
    assert status == 1
    for slug, result in results.items():
        complete(result)
        assert len(result["checks"]) >= 6, f"{slug}: an exercise needs at least five hidden checks"
        passed = [check["name"] for check in result["checks"] if check["passed"]]
        if manifest.find(slug).kind == "fix":
            assert passed and result["score"] < result["max_score"] / 2, (slug, result["score"], passed)
        else:
            assert not passed, f"{slug}: these checks pass without any work: {passed}"
