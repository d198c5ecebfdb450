"""Correct answers written differently must score full marks, every time.

Each alternative is a solution with parts rewritten as a learner who understood the chapter might
write them. It is graded through the judge (the mirror of its cells included) under five seeds, so
under five sets of made-up data: every check must pass in every run. Each exercise's alternatives
are in tests/grading/cases/, one module per exercise.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from book import CHECKS, SOLUTIONS
from book.core import nbfiles
from book.core.manifest import number_of
from tests.grading import cases
from tests.support import Entry, run_checks

SEEDS = (1, 2, 3, 4, 5)

ALTERNATIVES: list[tuple[str, str, list[tuple[str, str]]]] = [
    entry for case in cases.ALL for entry in case.ALTERNATIVES
]


def patched(folder: Path, exercise: str, patches: list[tuple[str, str]]) -> Path:
    solution = nbfiles.read(SOLUTIONS / f"{exercise}.ipynb", as_version=4)
    for old, new in patches:
        cells = [cell for cell in solution.cells if cell.cell_type == "code" and old in cell.source]
        assert len(cells) == 1 and cells[0].source.count(old) == 1, f"{exercise}: not once in the solution: {old!r}"
        cells[0].source = cells[0].source.replace(old, new)
    folder.mkdir(parents=True)
    nbfiles.write(solution, folder / f"{exercise}.ipynb")
    return folder / f"{exercise}.ipynb"


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str, int], dict[str, list[Entry]]]:
    """{(exercise, seed): {description: results}}, each exercise's alternatives in one judge per seed."""
    cache: dict[tuple[str, int], dict[str, list[Entry]]] = {}
    written: dict[str, dict[str, Path]] = {}

    def results(exercise: str, seed: int) -> dict[str, list[Entry]]:
        if exercise not in written:
            root = tmp_path_factory.mktemp(f"alternatives-{exercise}")
            written[exercise] = {
                description: patched(root / str(number), exercise, patches)
                for number, (name, description, patches) in enumerate(ALTERNATIVES)
                if name == exercise
            }
        if (exercise, seed) not in cache:
            paths = written[exercise]
            module = CHECKS / f"test_{exercise.replace('-', '_')}.py"
            report = tmp_path_factory.mktemp(f"report-{exercise}-{seed}") / "report.jsonl"
            found = run_checks(module, list(paths.values()), report, "--book-seed", str(seed), "--book-mirror")
            cache[(exercise, seed)] = {description: found[str(path)] for description, path in paths.items()}
        return cache[(exercise, seed)]

    return results


@pytest.mark.parametrize(
    "exercise, description, patches",
    ALTERNATIVES,
    ids=[f"ex{number_of(exercise)}: {description}" for exercise, description, _ in ALTERNATIVES],
)
def test_a_correct_alternative_scores_full_marks_under_every_seed(
    exercise: str,
    description: str,
    patches: list[tuple[str, str]],
    graded: Callable[[str, int], dict[str, list[Entry]]],
) -> None:
    for seed in SEEDS:
        results = graded(exercise, seed)[description]
        assert results, f"seed {seed}: no result"
        failed = [(result.get("name", result["kind"]), result["message"]) for result in results if not result["passed"]]
        assert not failed, f"seed {seed}: {failed}"


def test_every_exercise_proven_here_has_four_alternatives() -> None:
    counts: dict[str, int] = {}
    for exercise, _, _ in ALTERNATIVES:
        counts[exercise] = counts.get(exercise, 0) + 1
    assert all(count >= 4 for count in counts.values()), counts
