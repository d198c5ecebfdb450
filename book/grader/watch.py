"""``python -m book watch NN``: grade again each time the notebook is saved, in about half a second.

The next grade's processes are started while the learner types (``runner.Warm``: a kernel with the
libraries imported, the judge with its checks collected and its agent ready), and each serves one
grade only, so a grade is as fresh as a cold one. The report of the visible checks and of every
hidden check but those that compare with the reference is shown as soon as it is known; those
follow. Saves are seen by watchfiles (inotify where the system has it) or, with ``--interval``,
by polling; a save that leaves half-written JSON is graded again once the file is whole.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from book.core import manifest
from book.grader import hints, render, runner
from book.grader.model import Result


def _stamp(path: Path) -> tuple[int, int] | None:
    try:
        status = path.stat()
    except OSError:
        return None
    return status.st_mtime_ns, status.st_size


def saves(path: Path, *, interval: float | None, stop: threading.Event) -> Iterator[None]:
    """Yield now, then after each change of `path` (polling every `interval` s, or watchfiles when None)."""
    seen = _stamp(path)
    yield
    if interval is None:
        import watchfiles

        target = str(path.resolve())
        for _ in watchfiles.watch(
            path.parent,
            watch_filter=lambda _, changed: changed == target,
            step=20,
            debounce=400,
            stop_event=stop,
            raise_interrupt=False,
        ):
            stamp = _stamp(path)
            if stamp is not None and stamp != seen:
                seen = stamp
                yield
        return
    while not stop.is_set():
        stamp = _stamp(path)
        if stamp is not None and stamp != seen:
            seen = stamp
            yield
            continue
        stop.wait(interval)


def watch(
    path: Path,
    *,
    interval: float | None = None,
    runs: int | None = None,
    options: runner.Options | None = None,
    out: Callable[[str], None] | None = None,
) -> int:
    if not path.is_file():
        print(f"watch: {path}: no such notebook", file=sys.stderr)
        return 2
    exercise = manifest.of_path(path)
    colour = render.use_colour(sys.stdout)
    say = out or (lambda text: print(text, flush=True))
    say(f"watching {path} (Ctrl-C stops); grading now and after each save")
    stop = threading.Event()
    graded = 0
    with runner.Warm(exercise, options) as warm:
        for _ in saves(path, interval=interval, stop=stop):
            grade_and_show(path, exercise, warm, say, colour)
            graded += 1
            if runs is not None and graded >= runs:
                stop.set()
                break
    return 0


def grade_and_show(
    path: Path, exercise: manifest.Exercise, warm: runner.Warm, say: Callable[[str], None], colour: bool
) -> Result:
    """Grade once: the quick checks' report as soon as it is known, then what the rest changes."""
    shown: dict[str, tuple[bool, str]] = {}

    def first(result: Result) -> None:
        pointers = hints.due_for(result, remember=False)
        say(f"\n[{time.strftime('%H:%M:%S')}] " + render.human(result, colour=colour, pointers=pointers))
        shown.update({check.name: (check.passed, check.message) for check in result.checks if not check.pending})

    result = runner.grade(path, exercise, warm=warm, first=first)
    pointers = hints.due_for(result)
    if shown:  # only what the first report did not say
        rest = {check.name for check in result.checks if shown.get(check.name) != (check.passed, check.message)}
        say(render.human(result, colour=colour, pointers=pointers, only=rest))
    else:
        say(f"\n[{time.strftime('%H:%M:%S')}] " + render.human(result, colour=colour, pointers=pointers))
    return result
