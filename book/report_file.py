"""Reading the results file a grading run writes (--book-report), without importing pytest.

Each result is a JSON line written the moment it is known; the last line, {"kind": "end"}, says
the run reached its end. The grader reads it after its child processes are gone.
"""

from __future__ import annotations

import json
from pathlib import Path


def read_report(path: Path) -> tuple[list[dict], bool]:
    """The results a --book-report file holds, and whether the run reached its end.

    A check reported twice counts as its last report.
    """
    entries: dict[str, dict] = {}
    if path.exists():
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                entry = json.loads(line)
            except ValueError:  # the last line of a run that was stopped mid-write
                continue
            entries[entry["id"]] = entry
    finished = entries.pop("end", None) is not None
    return list(entries.values()), finished
