"""The results file a grading run writes (--book-report): writing it, signed, and reading it back.

Each result is a JSON line written the moment it is known; the last line, {"kind": "end"}, says
the run reached its end. The grader reads it after its child processes are gone, without
importing pytest.

When the grader gives its child a key (on the child's stdin, before any submission code runs),
every line carries an HMAC of its entry: a line written by anything else, a notebook that found
the file's path, say, does not verify, and the whole report is refused.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from pathlib import Path
from typing import Any

Entry = dict[str, Any]  # one result, as JSON: "kind", "id", "name", "passed", ...


class ForgedReport(Exception):
    """A line of the report was not written by the grader's own plugin."""


def _mac(key: bytes, entry: Entry) -> str:
    return hmac.new(key, json.dumps(entry, sort_keys=True).encode(), hashlib.sha256).hexdigest()


def line(entry: Entry, key: bytes | None = None) -> str:
    """One line of the report for `entry`, signed when there is a key."""
    return json.dumps({"entry": entry, "mac": _mac(key, entry)} if key else entry) + "\n"


MARKS = ("start", "first", "end")  # lines that say how far the run got, not results


def _parsed(lines: list[str], key: bytes | None) -> dict[str, Entry]:
    entries: dict[str, Entry] = {}
    for text in lines:
        try:
            entry = json.loads(text)
        except ValueError:  # the last line of a run that was stopped mid-write
            continue
        if key is not None:
            signed = entry if isinstance(entry, dict) else {}
            if not (
                isinstance(signed.get("entry"), dict)
                and isinstance(signed.get("mac"), str)
                and hmac.compare_digest(signed["mac"], _mac(key, signed["entry"]))
            ):
                raise ForgedReport("a line of the grading report was not written by the grader")
            entry = signed["entry"]
        if isinstance(entry, dict) and isinstance(entry.get("id"), str):
            entries[entry["id"]] = entry
    return entries


def _results(entries: dict[str, Entry]) -> tuple[list[Entry], bool]:
    finished = entries.get("end") is not None
    return [entry for name, entry in entries.items() if name not in MARKS], finished


def read_report(path: Path, key: bytes | None = None) -> tuple[list[Entry], bool]:
    """The results a --book-report file holds, and whether the run reached its end.

    A check reported twice counts as its last report. With `key`, every line must carry a valid
    signature, or ForgedReport is raised.
    """
    lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
    return _results(_parsed(lines, key))


def read_report_text(text: str, key: bytes | None = None) -> tuple[list[Entry], bool]:
    """`read_report` for the text of a report that came through a pipe rather than a file."""
    return _results(_parsed(text.splitlines(), key))


def marks(text: str, key: bytes | None = None) -> set[str]:
    """How far the run that wrote `text` got: which of MARKS it wrote (ForgedReport as read_report)."""
    return set(_parsed(text.splitlines(), key)) & set(MARKS)
