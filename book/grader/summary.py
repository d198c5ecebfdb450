"""A class's results at a glance: per check, how many passed, and the failure seen most often.

``python -m book grade submissions/*/*.ipynb --summary class`` writes ``class.csv`` and
``class.svg`` (``--summary out/class.csv`` writes ``out/class.csv`` and ``out/class.svg``): a row
and a bar per check of each exercise in the batch, in the order the reports show them. The picture
is drawn with the course's own SVG helpers (book/learner/drawing.py): no plotting library.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from book.grader.model import Result
from book.learner import drawing

FIELDS = [
    "exercise",
    "check",
    "max_points",
    "submissions",
    "passed",
    "failed",
    "passed_percent",
    "most_common_failure",
    "times",
]
MESSAGE = 120  # characters of a failure's first line


@dataclass
class CheckSummary:
    exercise: str
    check: str  # the title, as reports show it
    max_points: int
    passed: int = 0
    failures: Counter[str] = field(default_factory=Counter)

    @property
    def submissions(self) -> int:
        return self.passed + sum(self.failures.values())

    @property
    def failed(self) -> int:
        return sum(self.failures.values())

    @property
    def percent(self) -> int:
        return round(100 * self.passed / self.submissions) if self.submissions else 0

    def most_common(self) -> tuple[str, int]:
        if not self.failures:
            return "", 0
        # the most frequent; among equals the first in alphabetical order, so reruns agree
        message, times = min(self.failures.items(), key=lambda item: (-item[1], item[0]))
        return message, times


def first_line(message: str) -> str:
    line = next((" ".join(line.split()) for line in message.splitlines() if line.strip()), "") or "(no message)"
    return line if len(line) <= MESSAGE else line[: MESSAGE - 3] + "..."


def summarize(results: Iterable[Result]) -> list[CheckSummary]:
    """One summary per check, exercises in course order, checks in report order; ungraded left out."""
    found: dict[tuple[str, str], CheckSummary] = {}
    for result in sorted(results, key=lambda result: result.exercise):
        for check in result.checks:
            entry = found.setdefault(
                (result.exercise, check.name), CheckSummary(result.exercise, check.title, check.max_points)
            )
            if check.passed:
                entry.passed += 1
            else:
                entry.failures[first_line(check.message)] += 1
    return list(found.values())


def as_csv(summaries: list[CheckSummary]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(FIELDS)
    for entry in summaries:
        message, times = entry.most_common()
        writer.writerow(
            [
                entry.exercise,
                entry.check,
                entry.max_points,
                entry.submissions,
                entry.passed,
                entry.failed,
                entry.percent,
                message,
                times,
            ]
        )
    return out.getvalue()


def as_svg(summaries: list[CheckSummary], title: str) -> str:
    """A bar per check: green for the share that passed, red for the rest, with the counts."""
    pad, row, bar = drawing.PAD, 38, 240
    label = max([len(entry.check) for entry in summaries] + [20])
    label = min(label, 70)
    left = pad + label * drawing.CHAR + pad
    width = left + bar + 12 * drawing.CHAR + pad
    parts = [drawing.svg_text(pad, 18, title, size=13, weight="bold")]
    exercise = None
    y = 30.0
    for entry in summaries:
        if entry.exercise != exercise:
            exercise = entry.exercise
            parts.append(drawing.svg_text(pad, y + 14, exercise, weight="bold", fill="#1f3a5f"))
            y += 22
        name = entry.check if len(entry.check) <= label else entry.check[: label - 1] + "…"
        parts.append(drawing.svg_text(pad, y + 14, name))
        passed = bar * entry.passed / entry.submissions if entry.submissions else 0
        parts.append(
            f'<rect x="{left:.0f}" y="{y + 3:.0f}" width="{bar}" height="14" fill="#fdecec" '
            'stroke="#c0392b" stroke-width="1"/>'
        )
        if passed:
            parts.append(f'<rect x="{left:.0f}" y="{y + 3:.0f}" width="{passed:.0f}" height="14" fill="#2a9d8f"/>')
        parts.append(drawing.svg_text(left + bar + pad, y + 14, f"{entry.passed}/{entry.submissions} passed"))
        message, times = entry.most_common()
        if message:
            shown = message if len(message) <= 90 else message[:87] + "..."
            parts.append(drawing.svg_text(pad + 12, y + 30, f"{times}×: {shown}", size=10, fill="#52606d"))
            width = max(width, pad + 12 + (len(shown) + 6) * 6 + pad)
        y += row
    return drawing.svg_document(width, y + pad, parts)


def paths_for(target: Path) -> tuple[Path, Path]:
    """(CSV, SVG) for --summary FILE: FILE.csv and FILE.svg, whatever suffix FILE has of the two."""
    base = target.with_suffix("") if target.suffix in (".csv", ".svg") else target
    return base.with_name(base.name + ".csv"), base.with_name(base.name + ".svg")


def write(results: list[Result], target: Path) -> tuple[Path, Path]:
    summaries = summarize(results)
    graded = sum(1 for result in results if result.checks)
    csv_path, svg_path = paths_for(target)
    csv_path.write_text(as_csv(summaries), encoding="utf-8")
    svg_path.write_text(as_svg(summaries, f"{graded} submissions: who passed each check"), encoding="utf-8")
    return csv_path, svg_path
