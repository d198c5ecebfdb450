"""What one run of a learner's tests found: each test's outcome, and how the tests swapped dependencies.

book.learner.suite runs the tests and fills a SuiteResult in (book.learner.suite_recorder); the grader
sends it back from its agent as a dict (``dataclasses.asdict``) and reads it with ``from_dict``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Outcome:
    """One test's outcome."""

    name: str
    passed: bool
    message: str = ""  # why it failed, one line


@dataclass
class SuiteResult:
    """One run of a learner's tests against one app."""

    tests: list[Outcome] = field(default_factory=list)
    error: str = ""  # the tests could not run at all: the notebook failed, nothing was collected
    overridden: list[str] = field(default_factory=list)  # dependencies some test overrode
    replaced_globals: list[str] = field(default_factory=list)  # "test_x replaced `SessionLocal`"
    left_behind: list[str] = field(default_factory=list)  # "test_x left overrides of get_current_user"
    opened_database: list[str] = field(default_factory=list)  # tests that opened the app's own engine

    @property
    def passed(self) -> bool:
        return not self.error and bool(self.tests) and all(test.passed for test in self.tests)

    @property
    def failing(self) -> list[Outcome]:
        return [test for test in self.tests if not test.passed]

    def summary(self) -> str:
        """One line: what a mutation check quotes as "got"."""
        if self.error:
            return self.error
        if not self.failing:
            return f"all {len(self.tests)} tests passed"
        first = self.failing[0]
        more = f" (and {len(self.failing) - 1} more)" if len(self.failing) > 1 else ""
        return f"{first.name} failed: {first.message}{more}"

    def __str__(self) -> str:
        if self.error:
            return self.error
        width = max(len(test.name) for test in self.tests)
        lines = [
            f"{'passed' if test.passed else 'FAILED'}  {test.name:{width}}  {test.message}".rstrip()
            for test in self.tests
        ]
        lines += [f"problem: {problem}" for problem in self.replaced_globals + self.left_behind]
        lines += [
            f"problem: {name} opened the app's own database; override get_session" for name in self.opened_database
        ]
        failed = len(self.failing)
        lines.append(f"{len(self.tests) - failed} passed" + (f", {failed} failed" if failed else ""))
        return "\n".join(lines)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SuiteResult:
        return cls(**{**data, "tests": [Outcome(**test) for test in data.get("tests", [])]})
