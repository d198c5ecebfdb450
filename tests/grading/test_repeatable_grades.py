"""Twenty grades of one submission give one result: no exact TTLs, no timing races, whatever the seed.

Each submission is graded by the judge twenty times, each time with another seed (so other made-up
data); every check must pass or fail the same way every time.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from book import CHECKS, SOLUTIONS
from tests.support import MUTANTS, mutant, run_checks

GRADES = 20
SUBMISSIONS = [  # (exercise, mutant or None): those with a cache's TTL, concurrency or a background task
    ("09-background-work", None),
    ("12-capstone", None),
    ("12-capstone", "the cache's TTL is a constant, not settings.room_list_ttl"),
]


@pytest.mark.parametrize("exercise, mistake", SUBMISSIONS, ids=[f"{e[:2]} {m or 'solution'}" for e, m in SUBMISSIONS])
def test_twenty_grades_of_one_submission_agree(tmp_path: Path, exercise: str, mistake: str | None) -> None:
    if mistake is None:
        path = SOLUTIONS / f"{exercise}.ipynb"
    else:
        (replace,) = [replace for name, what, replace, _ in MUTANTS if name == exercise and what == mistake]
        path = mutant(tmp_path / "mutant", exercise, replace)
    module = CHECKS / f"test_{exercise.replace('-', '_')}.py"
    outcomes: set[tuple[tuple[str, bool], ...]] = set()
    for seed in range(GRADES):
        found = run_checks(module, [path], tmp_path / f"report-{seed}.jsonl", "--book-seed", str(1000 + seed))
        results = next(iter(found.values()))
        assert results, f"seed {1000 + seed}: no result"
        outcomes.add(tuple(sorted((result["name"], result["passed"]) for result in results)))
    assert len(outcomes) == 1, f"{len(outcomes)} different results: " + "; ".join(
        ", ".join(name for name, passed in outcome if not passed) or "all passed" for outcome in outcomes
    )
