"""What a notebook's ``import book`` gives: book.graph, book.trace, book.run_tests, book.grade, the folders.

Chapters use it only to *see* what FastAPI does; the patterns themselves are written
out in full in each notebook. The package's parts are in its subpackages, one per audience
(the map: README.md, or ``python -m book.maintainer.layout``).
"""

from pathlib import Path
from typing import TYPE_CHECKING

from book.core import skip_slow_imports  # noqa: F401  (before anything imports nbformat)

if TYPE_CHECKING:  # what __getattr__ gives, for type checkers
    from book.grader.in_notebook import grade
    from book.learner.dependency_graph import graph
    from book.learner.request_trace import trace
    from book.learner.suite import run_tests

ROOT = Path(__file__).resolve().parent.parent
CHAPTERS = ROOT / "chapters"
EXERCISES = ROOT / "exercises"
SOLUTIONS = ROOT / "solutions"
CHECKS = ROOT / "tests" / "checks"

__all__ = ["CHAPTERS", "CHECKS", "EXERCISES", "ROOT", "SOLUTIONS", "grade", "graph", "run_tests", "trace"]


def __getattr__(name: str) -> object:
    # book.graph(app, "GET /x"), await book.trace(app, "GET", "/x"), book.run_tests(globals()) and
    # await book.grade(), imported on first use so that the command line (grading) does not pay
    # for importing FastAPI.
    if name == "graph":
        from book.learner.dependency_graph import graph

        return graph
    if name == "trace":
        from book.learner.request_trace import trace

        return trace
    if name == "grade":
        from book.grader.in_notebook import grade

        return grade
    if name == "run_tests":
        from book.learner.suite import run_tests

        return run_tests
    raise AttributeError(f"module 'book' has no attribute {name!r}")
