"""The tests' shared fixtures (helpers are in tests/support.py, which test modules import)."""

from collections.abc import Callable
from pathlib import Path

import pytest

from book.core import manifest
from tests.support import Entry, run_checks

Batch = Callable[[str, dict[str, Path]], dict[str, list[Entry]]]


@pytest.fixture(scope="session")
def checks_in_batches(tmp_path_factory: pytest.TempPathFactory) -> Batch:
    """Results of an exercise's checks against a set of notebooks, run once per set in one process.

    `batch(exercise, {key: notebook path})` gives {key: results}; the parametrized meta-tests of
    one exercise share one pytest process rather than starting one each.
    """
    cache: dict[tuple[str, tuple[str, ...]], dict[str, list[Entry]]] = {}

    def batch(exercise: str, notebooks: dict[str, Path]) -> dict[str, list[Entry]]:
        key = (exercise, tuple(sorted(notebooks)))
        if key not in cache:
            report = tmp_path_factory.mktemp(exercise) / "report.jsonl"
            found = run_checks(manifest.find(exercise).check_module, list(notebooks.values()), report)
            cache[key] = {name: found[str(path)] for name, path in notebooks.items()}
        return cache[key]

    return batch
