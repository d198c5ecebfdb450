"""Time commands for the benchmark: the median and spread of several runs of each, as Figures.

book.maintainer.bench runs the parts; this is what every part measures with.
"""

from __future__ import annotations

import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass
from pathlib import Path

from book import ROOT

Env = dict[str, str]


@dataclass
class Figure:
    """One figure of the benchmark: the median wall time of its runs, and the target it must meet."""

    name: str
    median: float
    low: float
    high: float
    runs: int
    target: str = ""  # what it must meet, in words
    met: bool | None = None  # None: a figure without a target of its own

    def line(self) -> str:
        verdict = {True: "met", False: "MISSED", None: ""}[self.met]
        spread = f"({self.low:.2f}-{self.high:.2f})" if self.runs > 1 else ""
        return f"{self.name:44} {self.median:8.2f} s {spread:>15}  {self.target:34} {verdict}".rstrip()


def timed(
    command: list[str],
    *,
    runs: int,
    warmup: bool = True,
    cwd: Path = ROOT,
    env: Env | None = None,
    ok: Collection[int] = (0,),
) -> tuple[float, float, float]:
    """Median, lowest and highest wall time of `command` over `runs` runs (after one untimed run)."""
    return timed_together([command], runs=runs, warmup=warmup, cwd=cwd, env=env, ok=ok)[0]


def timed_together(
    commands: list[list[str]],
    *,
    runs: int,
    warmup: bool = True,
    cwd: Path = ROOT,
    env: Env | None = None,
    ok: Collection[int] = (0,),
) -> list[tuple[float, float, float]]:
    """`timed` for several commands, taken in turn in each round: a figure and its floor then see
    the same moments of a machine whose speed drifts (a shared virtual machine's does, by 20%)."""
    times: list[list[float]] = [[] for _ in commands]
    for attempt in range(runs + (1 if warmup else 0)):
        for command, taken in zip(commands, times, strict=True):
            elapsed = _run_once(command, cwd=cwd, env=env, ok=ok)
            if attempt or not warmup:
                taken.append(elapsed)
    return [(statistics.median(taken), min(taken), max(taken)) for taken in times]


def _run_once(command: list[str], *, cwd: Path, env: Env | None, ok: Collection[int]) -> float:
    started = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    elapsed = time.perf_counter() - started
    if done.returncode not in ok:
        # pytest -q names what failed on its last lines
        tail = [line for line in done.stdout.strip().splitlines() if line.startswith(("FAILED", "ERROR"))]
        tail = tail[:3] or done.stdout.strip().splitlines()[-1:] or ["(no output)"]
        raise SystemExit(f"error: {' '.join(command[:6])}... exited {done.returncode}: {'; '.join(tail)}")
    return elapsed


def python(*args: str) -> list[str]:
    """A command that runs this Python (the venv's) with `args`."""
    return [sys.executable, *args]


def fresh_copy(folder: Path) -> Path:
    """The checkout's tracked files as they are now (uncommitted edits included), with no venv or build."""
    listed = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
    copy = folder / "course"
    for name in filter(None, listed.decode().split("\0")):
        source = ROOT / name
        if source.is_file():
            (copy / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, copy / name)
    return copy


def wait_for(condition: Callable[[], bool], seconds: float) -> None:
    """Wait until `condition()` holds; stop the benchmark if it does not within `seconds`."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise SystemExit("error: make watch gave no report within the time allowed")
        time.sleep(0.005)
