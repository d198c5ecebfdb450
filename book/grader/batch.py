"""Grading many submissions: in parallel, each result written the moment it is known, resumable.

Every output (a CSV gradebook, JSON lines) is appended to and flushed as each submission finishes,
so a batch that is stopped, even killed, keeps everything it graded; ``--resume`` then grades only
the submissions the JSON-lines file (or the CSV) does not hold yet, for the same file contents.
Without a sandbox, the grader's own files are fingerprinted before the batch and compared after
each submission: a submission that changed them spoils its own grade and every later one.
Each worker starts the processes of its next grade while it grades (``runner.Warm``); they serve
one submission each, so no state passes from one submission to the next.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import json
import os
import sys
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path
from typing import IO, Any

from book.core import manifest
from book.grader import render, runner, sandbox
from book.grader.model import Result


class Outputs:
    """The files a batch appends to: a CSV gradebook and/or JSON lines, each row flushed to disk."""

    def __init__(self, csv_path: Path | None, jsonl_path: Path | None, columns: list[str], resume: bool) -> None:
        self.lock = threading.Lock()
        self.columns = columns
        self.csv_file: IO[str] | None = None
        self.jsonl_file: IO[str] | None = None
        if csv_path is not None:
            fresh = not (resume and csv_path.exists() and csv_path.stat().st_size)
            self.csv_file = csv_path.open("w" if fresh else "a", newline="", encoding="utf-8")
            if fresh:
                self._csv([*render.CSV_FIELDS, *columns])
        if jsonl_path is not None:
            self.jsonl_file = jsonl_path.open("a" if resume else "w", encoding="utf-8")

    def _csv(self, row: list[Any]) -> None:
        assert self.csv_file is not None
        csv.writer(self.csv_file).writerow(row)
        self._sync(self.csv_file)

    @staticmethod
    def _sync(stream: IO[str]) -> None:
        stream.flush()
        # not a file that can be synced (/dev/null, a pipe): flushed is all there is
        with contextlib.suppress(OSError):
            os.fsync(stream.fileno())

    def add(self, result: Result) -> None:
        with self.lock:
            if self.csv_file is not None:
                self._csv(render.csv_row(result, self.columns))
            if self.jsonl_file is not None:
                self.jsonl_file.write(json.dumps(result.to_dict()) + "\n")
                self._sync(self.jsonl_file)

    def close(self) -> None:
        for stream in (self.csv_file, self.jsonl_file):
            if stream is not None:
                stream.close()


def done_before(csv_path: Path | None, jsonl_path: Path | None) -> dict[tuple[str, str], Result]:
    """What an earlier run of the batch graded: {(path, sha256): result}."""
    found: dict[tuple[str, str], Result] = {}
    if jsonl_path is not None and jsonl_path.exists():
        for line in jsonl_path.read_text(encoding="utf-8").splitlines():
            try:
                result = Result.from_dict(json.loads(line))
            except (ValueError, KeyError, TypeError):
                continue  # the last line of a killed run, half written
            found[(str(result.path), result.sha256)] = result
    elif csv_path is not None and csv_path.exists():
        with csv_path.open(newline="", encoding="utf-8") as stream:
            for row in csv.DictReader(stream):
                if row.get("submission") and row.get("sha256") is not None:
                    result = Result(
                        Path(row["submission"]),
                        row.get("exercise", ""),
                        sha256=row["sha256"],
                        error=row.get("error", ""),
                    )
                    found[(row["submission"], row["sha256"])] = result
    return found


def file_sha256(path: Path) -> str:
    """The hash the grade of `path` would carry ("" when it cannot be read as a regular file)."""
    from book.grader import intake

    try:
        return hashlib.sha256(intake.read_bytes(path)).hexdigest()
    except intake.Refused:
        return ""


def columns_for(paths: Iterable[Path], exercise: manifest.Exercise | None) -> list[str]:
    """The gradebook's check columns: every check of every exercise in the batch, in manifest order."""
    found: list[str] = []
    wanted: list[manifest.Exercise] = []
    if exercise is not None:
        wanted = [exercise]
    else:
        for path in paths:
            try:
                entry = manifest.of_path(path)
            except manifest.ManifestError:
                continue
            if entry not in wanted:
                wanted.append(entry)
    for entry in sorted(wanted, key=lambda e: e.number):
        for title in [manifest.VISIBLE_CHECK, *[check.title for check in entry.checks]]:
            if title not in found:
                found.append(title)
    return found


def grade_all(
    paths: list[Path],
    *,
    exercise: manifest.Exercise | None,
    options: runner.Options,
    jobs: int,
    outputs: Outputs | None = None,
    skip: dict[tuple[str, str], Result] | None = None,
    progress: Callable[[int, int, Result], None] | None = None,
) -> list[Result]:
    """Grade every path (in parallel, `jobs` at a time); results in the order given."""
    runner.sweep_scratch()
    skip = skip or {}
    watch_files = options.isolation.kind != sandbox.SANDBOX
    baseline = grader_fingerprint(options.checks_dir) if watch_files else {}
    spoiled = ""
    lock = threading.Lock()
    results: dict[int, Result] = {}
    todo = []
    for number, path in enumerate(paths):
        earlier = skip.get((str(path), file_sha256(path)))
        if earlier is not None:
            results[number] = earlier
        else:
            todo.append((number, path))

    local = threading.local()
    warms: list[runner.Warm] = []

    def warm_for(path: Path) -> runner.Warm | None:
        """This worker's processes for the next submission of the same exercise, started while it grades."""
        try:
            chosen = exercise or manifest.of_path(path)
        except manifest.ManifestError:
            return None
        mine = getattr(local, "warm", None)
        if mine is None or mine.exercise.slug != chosen.slug:
            if mine is not None:
                mine.close()
            mine = local.warm = runner.Warm(chosen, options)
            with lock:
                warms.append(mine)
        return mine

    def one(number: int, path: Path) -> tuple[int, Result]:
        nonlocal spoiled
        try:
            warm = warm_for(path)
        except runner.GradingError:
            warm = None
        result = runner.grade(path, exercise, options, warm=warm)
        if watch_files:
            with lock:
                changed = spoiled or _changed(baseline, grader_fingerprint(options.checks_dir))
                spoiled = changed
            if changed:
                result = _spoiled(result, changed)
        return number, result

    finished = len(results)
    try:
        with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
            futures = [pool.submit(one, number, path) for number, path in todo]
            for future in as_completed(futures):
                number, result = future.result()
                results[number] = result
                if outputs is not None:
                    outputs.add(result)
                finished += 1
                if progress is not None:
                    progress(finished, len(paths), result)
    finally:
        for warm in warms:
            warm.close()
    return [results[number] for number in range(len(paths))]


def _spoiled(result: Result, changed: str) -> Result:
    import dataclasses

    reason = f"not graded: the grader's own files changed while this batch ran: {changed}"
    result.error = reason
    result.checks = [dataclasses.replace(check, points=0, passed=False, message=reason) for check in result.checks]
    return result


def grader_fingerprint(checks_dir: Path | None) -> dict[str, str]:
    """A fingerprint of every file grading runs on: the book package, the checks, the venv's libraries
    (their size and change time: reading 10,000 files would cost seconds) and what Python runs at start-up."""
    import sysconfig

    from book import CHECKS

    found: dict[str, str] = {}
    book = Path(__file__).resolve().parent.parent
    for folder in (book, checks_dir or CHECKS):
        for path in folder.rglob("*"):
            if path.is_file() and "__pycache__" not in path.parts:
                try:
                    found[str(path)] = hashlib.sha256(path.read_bytes()).hexdigest()
                except OSError:
                    found[str(path)] = "unreadable"
    site = Path(sysconfig.get_paths()["purelib"])
    for path in site.rglob("*"):
        if "__pycache__" in path.parts:
            continue
        try:
            info = path.lstat()
        except OSError:
            continue
        found[str(path)] = f"{info.st_size}:{info.st_mtime_ns}"
    return found


def _changed(before: dict[str, str], after: dict[str, str]) -> str:
    for path in sorted(before.keys() | after.keys()):
        if before.get(path) != after.get(path):
            what = "added" if path not in before else "removed" if path not in after else "changed"
            return f"{path} was {what}"
    return ""


def progress_line(done: int, total: int, result: Result, stream: IO[str] = sys.stderr) -> None:
    """One line per submission graded: long batches show where they are, and what went wrong."""
    score = f"{result.score}/{result.max_score}" if result.checks else "not graded"
    note = f"  {result.error[:300]}" if result.error else ""
    stream.write(f"[{done}/{total}] {result.path}: {score}{note}\n")
    stream.flush()
