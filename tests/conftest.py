import subprocess
import sys
from pathlib import Path

import pytest

from book import ROOT
from book.pytest_plugin import read_report


def run_checks(check_module: Path, submission: Path, report: Path) -> list[dict]:
    """Run one exercise's hidden checks against a notebook in a fresh pytest; return the results."""
    subprocess.run(
        # addopts= drops the course's nbval options; the slow-import skip is put back by hand.
        [sys.executable, "-m", "pytest", str(check_module), "-q", "-p", "book.skip_slow_imports",
         "-p", "no:cacheprovider", "-o", "addopts=", "-p", "no:xdist", "--submission", str(submission), "--book-report", str(report)],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )
    results, _ = read_report(report)
    return results


@pytest.fixture
def checks_against(tmp_path):
    def run(check_module: Path, submission: Path) -> list[dict]:
        return run_checks(check_module, submission, tmp_path / "report.json")

    return run
