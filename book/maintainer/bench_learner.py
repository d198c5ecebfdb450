"""The benchmark's figures of a learner's waits: a fresh setup, grading a notebook, and make watch."""

from __future__ import annotations

import os
import statistics
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

from book import EXERCISES, ROOT, SOLUTIONS
from book.core import manifest
from book.maintainer.bench_timing import Figure, fresh_copy, python, timed, timed_together, wait_for

LIBRARIES = "import fastapi, pydantic, starlette, httpx, sqlalchemy.ext.asyncio, aiosqlite, fakeredis"
# The targets on a 2-core machine (issue 9).
GRADING_RATIO, GRADING_SECONDS = 1.3, 5.0
TESTS_RATIO = 2.0  # exercise 10 runs the learner's tests against ten apps: under 2x nbval (issue 18)
SETUP_SECONDS = 45.0  # a fresh clone's make book (issue 16)
WATCH_SECONDS, WATCH_SAVES = 0.6, 5  # a save to the quick checks' report, median of 5 saves (issue 24)
WATCH_PAUSE = 2.0  # seconds between saves: a learner reads the report before saving again


def setup(runs: int) -> list[Figure]:
    """A newcomer's `make book` in a fresh copy: venv, installs, site (package caches as the machine has them)."""
    times = []
    for _ in range(runs):
        with tempfile.TemporaryDirectory(prefix="bench-setup-") as folder:
            copy = fresh_copy(Path(folder))
            times.append(timed(["make", "book"], runs=1, warmup=False, cwd=copy)[0])
    median = statistics.median(times)
    return [
        Figure(
            "setup: make book in a fresh clone",
            median,
            min(times),
            max(times),
            runs,
            f"< {SETUP_SECONDS:g} s",
            median < SETUP_SECONDS,
        )
    ]


def grading(exercises: list[str], runs: int) -> list[Figure]:
    figures = []
    median, low, high = timed(python("-c", LIBRARIES), runs=runs)
    figures.append(Figure("floor: import the course's libraries", median, low, high, runs))
    for slug in exercises:
        for kind, folder in (("solution", SOLUTIONS), ("starter", EXERCISES)):
            notebook = folder / f"{slug}.ipynb"
            grade = python("-m", "book", "grade", str(notebook), "--exercise", manifest.number_of(slug))
            # the sandbox's cost: the same grade without it, for the solutions
            # hypothesis's pytest plugin (loaded by every plain pytest since it is installed) left out:
            # the floor is what running the notebook costs
            commands = [
                python(
                    "-m",
                    "pytest",
                    str(notebook),
                    "--nbval",
                    "--nbval-current-env",
                    "-q",
                    "-p",
                    "no:cacheprovider",
                    "-p",
                    "no:xdist",
                    "-p",
                    "no:hypothesispytest",
                    "-o",
                    "addopts=",
                ),
                grade,
            ]
            if kind == "solution":
                commands.append([*grade, "--no-sandbox"])
            bare, graded, *plain = timed_together(commands, runs=runs, ok=(0, 1))
            figures.append(Figure(f"floor: pytest --nbval {slug} {kind}", *bare, runs))
            ratio = graded[0] / bare[0]
            limit = TESTS_RATIO if slug.startswith("10") else GRADING_RATIO
            figures.append(
                Figure(
                    f"grade {slug} {kind}",
                    *graded,
                    runs,
                    f"x{ratio:.2f} of nbval (<= {limit}), < {GRADING_SECONDS:g} s",
                    ratio <= limit and graded[0] < GRADING_SECONDS,
                )
            )
            if plain:
                figures.append(
                    Figure(
                        f"grade {slug} {kind} --no-sandbox",
                        *plain[0],
                        runs,
                        f"the sandbox costs {graded[0] - plain[0][0]:+.2f} s",
                    )
                )
    return figures


def watch_latency(exercises: list[str], saves: int = WATCH_SAVES) -> list[Figure]:
    """Seconds from a save to the report of the visible and quick hidden checks under `make watch`,
    for the build exercises of chapters 01-09: every save's figure, their median against the target."""
    chosen = [slug for slug in exercises if slug[:2] <= "09" and manifest.find(slug).kind == "build"]
    figures: list[Figure] = []
    every: list[float] = []
    for slug in chosen:
        taken = _watch_saves(slug, saves)
        every.extend(taken)
        figures.append(
            Figure(f"watch {slug}: save to first report", statistics.median(taken), min(taken), max(taken), len(taken))
        )
    if every:
        median = statistics.median(every)
        figures.append(
            Figure(
                f"watch: save to first report (01-09, {saves} saves each)",
                median,
                min(every),
                max(every),
                len(every),
                f"<= {WATCH_SECONDS:g} s",
                median <= WATCH_SECONDS,
            )
        )
    return figures


def _watch_saves(slug: str, saves: int) -> list[float]:
    """`make watch` on a copy of the solution of `slug`, saved `saves` times: seconds from each save
    to its first report."""
    with tempfile.TemporaryDirectory(prefix="bench-watch-") as folder:
        path = Path(folder) / f"{slug}.ipynb"
        text = (SOLUTIONS / f"{slug}.ipynb").read_text(encoding="utf-8")
        path.write_text(text, encoding="utf-8")
        watcher = subprocess.Popen(
            python("-m", "book", "watch", str(path)),
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            env={**os.environ, "NO_COLOR": "1"},
        )
        marks: list[tuple[float, str]] = []  # (when, "so far" or "score"): a grade ends with "score"

        def read() -> None:
            assert watcher.stdout is not None
            for line in watcher.stdout:
                if line.startswith(("so far ", "score ", "not graded")):
                    marks.append((time.perf_counter(), line.split()[0]))

        def scored_since(seen: int) -> Callable[[], bool]:
            return lambda: any(kind == "score" for _, kind in marks[seen:])

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        taken: list[float] = []
        try:
            wait_for(scored_since(0), 120)  # the file as it was
            for number in range(saves):
                time.sleep(WATCH_PAUSE)
                partial = path.with_suffix(".saving")
                partial.write_text(text + " " * (number % 2), encoding="utf-8")  # as Jupyter saves: whole
                seen = len(marks)
                saved = time.perf_counter()
                partial.replace(path)
                wait_for(scored_since(seen), 120)
                taken.append(marks[seen][0] - saved)
        finally:
            watcher.kill()
            watcher.wait()
            reader.join(10)
            if watcher.stdout is not None:
                watcher.stdout.close()
    return taken
