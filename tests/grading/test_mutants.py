"""Plausible mistakes, each of which the hidden checks must catch, and catch with the right checks.

Each mutant is a wrong answer a learner could write: a text replaced in a solution. Each exercise's
mutants are in tests/grading/cases/, one module per exercise. The checks it
names must fail, and no other, so that every failure message points at the real mistake.
(A file of its own so that pytest-xdist can run it beside the other meta-tests.)
"""

from pathlib import Path

import nbformat
import pytest

from book import SOLUTIONS
from book.core.manifest import number_of
from tests.grading import cases

MUTANTS = [entry for case in cases.ALL for entry in case.MUTANTS]


def write_mutant(folder: Path, exercise: str, replace: tuple[str, str]) -> Path | None:
    """The solution with `old` replaced by `new`, or None when `old` is no longer in it once."""
    solution = nbformat.read(SOLUTIONS / f"{exercise}.ipynb", as_version=4)
    old, new = replace
    sources = [cell for cell in solution.cells if cell.cell_type == "code" and old in cell.source]
    if len(sources) != 1:
        return None
    sources[0].source = sources[0].source.replace(old, new)
    folder.mkdir(parents=True)
    nbformat.write(solution, folder / f"{exercise}.ipynb")
    return folder / f"{exercise}.ipynb"


@pytest.fixture(scope="session")
def mutants_of(tmp_path_factory, checks_in_batches):
    """Every mutant of an exercise, checked in one pytest process: {mistake: results, or None}."""
    written: dict[str, dict[str, Path | None]] = {}

    def results(exercise: str) -> dict[str, list[dict] | None]:
        if exercise not in written:
            root = tmp_path_factory.mktemp(f"mutants-{exercise}")
            written[exercise] = {mistake: write_mutant(root / str(number), exercise, replace)
                                 for number, (name, mistake, replace, _) in enumerate(MUTANTS) if name == exercise}
        paths = written[exercise]
        found = checks_in_batches(exercise, {mistake: path for mistake, path in paths.items() if path})
        return {mistake: found.get(mistake) for mistake in paths}

    return results


@pytest.mark.parametrize("exercise, mistake, replace, must_fail", MUTANTS,
                         ids=[f"ex{number_of(m[0])}: {m[1]}" for m in MUTANTS])
def test_the_checks_catch_a_plausible_mistake(exercise, mistake, replace, must_fail, mutants_of):
    results = mutants_of(exercise)[mistake]
    assert results is not None, f"the mutant's text is no longer in the solution, once: {replace[0]!r}"
    failed = {result["name"] for result in results if not result["passed"]}
    assert must_fail <= failed, f"missed: {must_fail - failed}"
    assert failed <= must_fail, f"also failed, so the mutant is not the mistake it says: {failed - must_fail}"
