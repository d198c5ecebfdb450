"""The course's benchmark: how long a learner and a maintainer wait, against the targets.

    python -m book.maintainer.bench                      # everything, 3 timed runs after a warm-up
    python -m book.maintainer.bench --parts grading --exercises 01,10 --runs 5
    python -m book.maintainer.bench --compare old.json   # and the change from an earlier run
    python -m book.maintainer.bench --parts watch        # make watch: a save to the first report, 01-09
    python -m book.maintainer.bench --parts class --class-size 200   # a class of one exercise, --jobs 1 and 2

Each figure is the median of the timed runs, with the spread (lowest to highest). Grading is put
next to two floors measured in the same run: a bare ``pytest --nbval`` of the same notebook (what
running the notebook alone costs), taken in turn with the grading so that both see the same
moments of the machine, and a bare import of the course's libraries. The figures are
written as JSON (``--out``), which ``--compare`` reads back.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path

from book import ROOT, SOLUTIONS
from book.core import manifest
from book.maintainer.bench_course import CLASS_SIZE, batch, class_batch, site, test_suite
from book.maintainer.bench_learner import grading, setup, watch_latency
from book.maintainer.bench_timing import Figure

PARTS = ("setup", "grading", "watch", "site", "test", "batch", "class")
DEFAULT_OUT = ROOT / "_build" / "bench.json"


def compare(figures: list[Figure], old_path: Path) -> list[str]:
    old = {figure["name"]: figure for figure in json.loads(old_path.read_text(encoding="utf-8"))["figures"]}
    lines = []
    for figure in figures:
        before = old.get(figure.name)
        if before:
            change = (figure.median - before["median"]) / before["median"] * 100 if before["median"] else 0.0
            lines.append(f"{figure.name:44} {before['median']:8.2f} s -> {figure.median:8.2f} s  ({change:+.0f}%)")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m book.maintainer.bench", description=__doc__.splitlines()[0])
    parser.add_argument("--parts", default=",".join(PARTS), help=f"which, of {','.join(PARTS)} (default: all)")
    parser.add_argument("--exercises", default="", help="which exercises to grade, e.g. 01,10 (default: all)")
    parser.add_argument("--runs", type=int, default=3, help="timed runs of each figure (default: 3)")
    parser.add_argument(
        "--class-size", type=int, default=CLASS_SIZE, help=f"submissions in the class batch (default: {CLASS_SIZE})"
    )
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="where to write the figures (JSON)")
    parser.add_argument("--compare", type=Path, help="an earlier --out file to compare with")
    args = parser.parse_args(argv)
    parts = [part.strip() for part in args.parts.split(",") if part.strip()]
    unknown = sorted(set(parts) - set(PARTS))
    if args.class_size < 1:
        parser.error("--class-size must be at least 1")
    if unknown or args.runs < 1:
        parser.error(f"unknown part {unknown[0]!r}" if unknown else "--runs must be at least 1")
    if args.compare and not args.compare.exists():
        parser.error(f"{args.compare}: no such file")
    slugs = sorted(path.stem for path in SOLUTIONS.glob("*.ipynb"))
    if args.exercises:
        wanted = [number.strip() for number in args.exercises.split(",")]
        chosen = [slug for slug in slugs if manifest.number_of(slug) in wanted]
        if len(chosen) != len(wanted):
            parser.error(f"--exercises {args.exercises}: not every number names an exercise")
        slugs = chosen
    runners: dict[str, Callable[[], list[Figure]]] = {
        "setup": lambda: setup(args.runs),
        "grading": lambda: grading(slugs, args.runs),
        "watch": lambda: watch_latency(slugs),
        "class": lambda: class_batch(args.class_size),
        "site": lambda: site(args.runs),
        "test": lambda: test_suite(args.runs),
        "batch": lambda: batch(args.runs),
    }
    figures: list[Figure] = []
    print(f"{'figure':44} {'median':>10} {'spread':>15}  target")
    for part in parts:
        for figure in runners[part]():
            print(figure.line(), flush=True)
            figures.append(figure)
    missed = [figure.name for figure in figures if figure.met is False]
    print(f"targets: {sum(f.met is True for f in figures)} met, {len(missed)} missed")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(
        json.dumps(
            {
                "when": time.strftime("%Y-%m-%d %H:%M"),
                "runs": args.runs,
                "figures": [asdict(figure) for figure in figures],
            },
            indent=1,
        ),
        encoding="utf-8",
    )
    print(f"figures written to {args.out}")
    if args.compare:
        print("\n".join(["", f"compared with {args.compare}:", *compare(figures, args.compare)]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
