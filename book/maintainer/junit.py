"""What a pytest run broke, and why, one line each: read from the JUnit XML it wrote (--junitxml)."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass
from pathlib import Path


@dataclass
class Broken:
    where: str  # a notebook and cell, or a test
    why: str  # one line


def broken(junit: Path) -> tuple[int, list[Broken]]:
    """How many tests ran, and each failure or error with its reason in one line."""
    if not junit.exists():
        return 0, [Broken("pytest", "the suite did not run: see its output above")]
    found, total = [], 0
    for case in ElementTree.parse(junit).getroot().iter("testcase"):
        total += 1
        for problem in [*case.findall("failure"), *case.findall("error")]:
            where = f"{case.get('classname', '')}::{case.get('name', '')}".strip(":")
            # nbval's message is generic ("Notebook cell execution failed"): the reason is in the text.
            found.append(Broken(where, _one_line(f"{problem.get('message') or ''}\n{problem.text or ''}")))
    return total, found


def _one_line(text: str) -> str:
    lines = [line.strip() for line in re.sub(r"(\x1b|#x1B)\[[0-9;]*m", "", text).splitlines() if line.strip()]
    mismatch = next((re.search(r"mismatch '(\w+)'", line) for line in lines if "mismatch '" in line), None)
    if mismatch:  # nbval's output comparison: pytest's diff has the fresh output as -, the stored as +
        now = next((line[2:] for line in lines if line.startswith("- ")), "?")
        stored = next((line[2:] for line in lines if line.startswith("+ ")), "?")
        return _short(f"{mismatch[1]} differs: stored {stored} / now {now}")
    errors = [line for line in lines if re.match(r"^(E\s+)?\w*(Error|Exception|Warning)\b", line)]
    line = (errors[-1] if errors else lines[0]) if lines else "(no message)"
    return _short(re.sub(r"^E\s+", "", line))


def _short(line: str) -> str:
    return line if len(line) <= 240 else line[:237] + "..."
