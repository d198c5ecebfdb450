import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pytest

from book import ROOT
from book.core.report_file import read_report


def judge_command(check_module: Path, *options: str) -> list[str]:
    """pytest with the judge and one exercise's hidden checks, as the grader runs it (no other plugin)."""
    return [sys.executable, "-m", "pytest", str(check_module), "-q", "-c", str(ROOT / "book" / "grading.ini"),
            "--rootdir", str(ROOT), "--confcutdir", str(check_module.parent), "--disable-plugin-autoload",
            "-p", "book.core.skip_slow_imports", "-p", "book.grader.judge", "-p", "anyio.pytest_plugin",
            "-p", "no:cacheprovider", *options]


def run_checks(check_module: Path, submissions: list[Path], report: Path, *extra: str) -> dict[str, list[dict]]:
    """Run one exercise's hidden checks against each notebook, in one fresh pytest; the results of each."""
    options = [item for path in submissions for item in ("--submission", str(path))]
    subprocess.run(judge_command(check_module, *options, "--book-report", str(report), *extra),
                   cwd=ROOT, capture_output=True, text=True, timeout=600)
    results, _ = read_report(report)
    if len(submissions) == 1:
        return {str(submissions[0]): results}
    grouped = defaultdict(list)
    for result in results:
        grouped[result["submission"]].append(result)
    return {str(path): grouped[str(path)] for path in submissions}


@pytest.fixture(scope="session")
def checks_in_batches(tmp_path_factory):
    """Results of an exercise's checks against a set of notebooks, run once per set in one process.

    `batch(exercise, {key: notebook path})` gives {key: results}; the parametrized meta-tests of
    one exercise share one pytest process rather than starting one each.
    """
    cache: dict[tuple, dict] = {}

    def batch(exercise: str, notebooks: dict[str, Path]) -> dict[str, list[dict]]:
        key = (exercise, tuple(sorted(notebooks)))
        if key not in cache:
            module = ROOT / "tests" / "checks" / f"test_{exercise.replace('-', '_')}.py"
            report = tmp_path_factory.mktemp(exercise) / "report.jsonl"
            found = run_checks(module, list(notebooks.values()), report)
            cache[key] = {name: found[str(path)] for name, path in notebooks.items()}
        return cache[key]

    return batch
