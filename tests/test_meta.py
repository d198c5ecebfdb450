"""The hidden checks themselves: they pass on each solution, fail on each starter, and catch
plausible mistakes (each mutant below is a wrong answer a learner could write)."""

import pytest

from book import CHECKS, EXERCISES, SOLUTIONS

CHECK_MODULES = sorted(CHECKS.glob("test_*.py"))


def exercise_of(check_module):
    return check_module.stem.removeprefix("test_").replace("_", "-")


def test_every_exercise_has_hidden_checks_and_every_check_module_an_exercise():
    exercises = {path.stem for path in SOLUTIONS.glob("*.ipynb")}
    covered = {exercise_of(module) for module in CHECK_MODULES}
    assert exercises == covered


def solution_and_starter(checks_in_batches, check_module):
    exercise = exercise_of(check_module)
    return checks_in_batches(exercise, {"solution": SOLUTIONS / f"{exercise}.ipynb",
                                        "starter": EXERCISES / f"{exercise}.ipynb"})


@pytest.mark.parametrize("check_module", CHECK_MODULES, ids=lambda path: path.stem)
def test_the_solution_scores_full_marks(check_module, checks_in_batches):
    results = solution_and_starter(checks_in_batches, check_module)["solution"]
    assert results, "no checks ran"
    failed = [(result["name"], result["message"]) for result in results if not result["passed"]]
    assert not failed


@pytest.mark.parametrize("check_module", CHECK_MODULES, ids=lambda path: path.stem)
def test_the_untouched_starter_fails_every_check(check_module, checks_in_batches):
    results = solution_and_starter(checks_in_batches, check_module)["starter"]
    assert len(results) >= 5, "an exercise needs at least five hidden checks"
    passed = [result["name"] for result in results if result["passed"]]
    assert not passed, f"these checks pass without any work: {passed}"
