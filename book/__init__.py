"""The course's Python package: loading notebooks, releasing exercises, grading.

Chapters use it only to *see* what FastAPI does; the patterns themselves are written
out in full in each notebook.
"""

from pathlib import Path

from book.core import skip_slow_imports  # noqa: F401  (before anything imports nbformat)

ROOT = Path(__file__).resolve().parent.parent
CHAPTERS = ROOT / "chapters"
EXERCISES = ROOT / "exercises"
SOLUTIONS = ROOT / "solutions"
CHECKS = ROOT / "tests" / "checks"

__all__ = ["ROOT", "CHAPTERS", "EXERCISES", "SOLUTIONS", "CHECKS", "graph", "trace", "run_tests", "grade"]


def __getattr__(name: str):
    # book.graph(app, "GET /x"), await book.trace(app, "GET", "/x"), book.run_tests(globals()) and
    # await book.grade(), imported on first use so that the command line (grading) does not pay
    # for importing FastAPI.
    if name == "graph":
        from book.dependency_graph import graph

        return graph
    if name == "trace":
        from book.request_trace import trace

        return trace
    if name == "grade":
        from book.grader.in_notebook import grade

        return grade
    if name == "run_tests":
        from book.learner_suite import run_tests

        return run_tests
    raise AttributeError(f"module 'book' has no attribute {name!r}")
