"""Plausible mistakes, each of which the hidden checks must catch, and catch with the right checks.

Each mutant is a wrong answer a learner could write: a text replaced in a solution. Each exercise's
mutants are in tests/grading/cases/, one module per exercise. The checks it
names must fail, and no other, so that every failure message points at the real mistake.
(A file of its own so that pytest-xdist can run it beside the other meta-tests.)
"""

from collections.abc import Callable
from pathlib import Path

import pytest

from book.core.manifest import number_of
from tests.support import MUTANTS, Entry, write_mutant

# tests/conftest.py's checks_in_batches: batch(exercise, {key: notebook path}) -> {key: results}
Batch = Callable[[str, dict[str, Path]], dict[str, list[Entry]]]


@pytest.fixture(scope="session")
def mutants_of(
    tmp_path_factory: pytest.TempPathFactory, checks_in_batches: Batch
) -> Callable[[str], dict[str, list[Entry] | None]]:
    """Every mutant of an exercise, checked in one pytest process: {mistake: results, or None}."""
    written: dict[str, dict[str, Path | None]] = {}

    def results(exercise: str) -> dict[str, list[Entry] | None]:
        if exercise not in written:
            root = tmp_path_factory.mktemp(f"mutants-{exercise}")
            written[exercise] = {
                mistake: write_mutant(root / str(number), exercise, replace)
                for number, (name, mistake, replace, _) in enumerate(MUTANTS)
                if name == exercise
            }
        paths = written[exercise]
        found = checks_in_batches(exercise, {mistake: path for mistake, path in paths.items() if path})
        return {mistake: found.get(mistake) for mistake in paths}

    return results


@pytest.mark.parametrize(
    "exercise, mistake, replace, must_fail", MUTANTS, ids=[f"ex{number_of(m[0])}: {m[1]}" for m in MUTANTS]
)
def test_the_checks_catch_a_plausible_mistake(
    exercise: str,
    mistake: str,
    replace: tuple[str, str],
    must_fail: set[str],
    mutants_of: Callable[[str], dict[str, list[Entry] | None]],
) -> None:
    results = mutants_of(exercise)[mistake]
    assert results is not None, f"the mutant's text is no longer in the solution, once: {replace[0]!r}"
    failed = {result["name"] for result in results if not result["passed"]}
    assert must_fail <= failed, f"missed: {must_fail - failed}"
    assert failed <= must_fail, f"also failed, so the mutant is not the mistake it says: {failed - must_fail}"
