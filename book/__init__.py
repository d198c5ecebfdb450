"""The course's Python package: loading notebooks, releasing exercises, grading.

Chapters use it only to *see* what FastAPI does; the patterns themselves are written
out in full in each notebook.
"""

from pathlib import Path

from book import skip_slow_imports  # noqa: F401  (before anything imports nbformat)

ROOT = Path(__file__).resolve().parent.parent
CHAPTERS = ROOT / "chapters"
EXERCISES = ROOT / "exercises"
SOLUTIONS = ROOT / "solutions"
CHECKS = ROOT / "tests" / "checks"

__all__ = ["ROOT", "CHAPTERS", "EXERCISES", "SOLUTIONS", "CHECKS"]
