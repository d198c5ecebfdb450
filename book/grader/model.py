"""What a grade is: each check's result, the submission's total, and how it was graded."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

MAX_MESSAGE = 400  # characters of anything a submission made the grader say


def capped(text: str, limit: int = MAX_MESSAGE) -> str:
    text = str(text).strip()
    return text if len(text) <= limit else text[: limit - 3] + "..."


@dataclass
class CheckResult:
    name: str
    points: int
    max_points: int
    passed: bool
    message: str = ""
    hint: str = ""
    see: str = ""  # where to read, as a learner reads it: "Chapter 04, “Section” (chapters/...)"
    pending: bool = False  # in a first report: still running

    @property
    def title(self) -> str:
        return self.name.removeprefix("test_").replace("_", " ")


@dataclass
class Result:
    """One submission, graded."""

    path: Path
    exercise: str = ""  # the slug, "" when it could not be told
    number: str = ""
    title: str = ""
    version: int | None = None  # the exercise version its check cells are from
    checks: list[CheckResult] = field(default_factory=list)
    error: str = ""  # why some or all of it could not be graded
    seconds: float = 0.0
    isolation: str = ""  # "sandbox (...)", "container (...)" or "none (...)"
    seed: int | None = None  # of the data the checks made up: --seed replays the grade
    sha256: str = ""  # of the file as graded
    note: str = ""  # for the learner, before the checks: work on an older version of the exercise

    @property
    def score(self) -> int:
        return sum(check.points for check in self.checks)

    @property
    def max_score(self) -> int:
        return sum(check.max_points for check in self.checks)

    @property
    def passed(self) -> bool:
        return not self.error and bool(self.checks) and all(check.passed for check in self.checks)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.update(
            path=str(self.path),
            score=self.score,
            max_score=self.max_score,
            passed=self.passed,
            seconds=round(self.seconds, 2),
        )
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Result:
        checks = [
            CheckResult(
                **{
                    key: check[key]
                    for key in ("name", "points", "max_points", "passed", "message", "hint")
                    if key in check
                },
                see=check.get("see", ""),
            )
            for check in data.get("checks", [])
        ]
        return cls(
            Path(data["path"]),
            data.get("exercise", ""),
            data.get("number", ""),
            data.get("title", ""),
            data.get("version"),
            checks,
            data.get("error", ""),
            float(data.get("seconds", 0.0)),
            data.get("isolation", ""),
            data.get("seed"),
            data.get("sha256", ""),
            data.get("note", ""),
        )
