"""``python -m book watch NN``: grade again each time the notebook is saved.

Polls the file's modification time and size (works on every filesystem); a save that leaves
half-written JSON is graded once the file is whole again.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from book.grader import manifest, render, runner


def watch(path: Path, *, interval: float = 0.5, runs: int | None = None, options: runner.Options | None = None) -> int:
    if not path.is_file():
        print(f"watch: {path}: no such notebook", file=sys.stderr)
        return 2
    exercise = manifest.of_path(path)
    colour = render.use_colour(sys.stdout)
    print(f"watching {path} (Ctrl-C stops); grading now and after each save", flush=True)
    seen, graded = None, 0
    while runs is None or graded < runs:
        try:
            stamp: tuple[int, int] | None = path.stat().st_mtime_ns, path.stat().st_size
        except FileNotFoundError:
            stamp = None
        if stamp is not None and stamp != seen:
            seen = stamp
            result = runner.grade(path, exercise, options)
            print(f"\n[{time.strftime('%H:%M:%S')}] " + render.human(result, colour=colour), flush=True)
            graded += 1
            continue
        time.sleep(interval)
    return 0
