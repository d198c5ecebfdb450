"""Run every chapter and solution under strict nbval several rounds in a row, each on other settings.

``python -m book.maintainer.repeat --rounds 3`` (``make repeat``): the notebooks run in parallel,
and each round on a different machine setting.

A stored output that depends on the time, an address, the order of a set or the machine fails
sooner or later; this makes it sooner. Each round sets its own PYTHONHASHSEED (the order of a set
of strings) and time zone, for pytest and the kernels it starts, and runs the notebooks on
several workers at once. A failing round names its settings, so that it can be re-run:

    PYTHONHASHSEED=2 TZ=Pacific/Kiritimati python -m pytest chapters/07-request-cache.ipynb

Exit status 0: every round passed.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time

from book import ROOT
from book.maintainer.junit import Broken, broken

NOTEBOOKS = ["chapters", "solutions"]
# Far from each other and from UTC, half-hour offsets included.
ZONES = ["Pacific/Kiritimati", "America/St_Johns", "Asia/Kathmandu", "UTC", "Pacific/Pago_Pago"]
OUT = ROOT / "_build" / "repeat"


def round_settings(number: int) -> dict[str, str]:
    return {"PYTHONHASHSEED": str(number + 1), "TZ": ZONES[number % len(ZONES)]}


def run_round(number: int, jobs: str, paths: list[str]) -> tuple[int, list[Broken], float, dict[str, str]]:
    settings = round_settings(number)
    junit = OUT / f"round-{number + 1}.xml"
    junit.unlink(missing_ok=True)
    started = time.monotonic()
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            *paths,
            "-q",
            "-p",
            "no:randomly",
            "-n",
            jobs,
            "--dist",
            "loadfile",
            "--junitxml",
            str(junit),
        ],
        cwd=ROOT,
        env={**os.environ, **settings},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    total, problems = broken(junit)
    return total, problems, time.monotonic() - started, settings


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text}: at least 1")
    return value


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m book.maintainer.repeat", description=__doc__.splitlines()[0])
    parser.add_argument(
        "paths", nargs="*", default=NOTEBOOKS, help="notebooks or folders (default: chapters solutions)"
    )
    parser.add_argument("--rounds", type=_positive, default=3, help="how many rounds (default 3)")
    parser.add_argument("--jobs", default="auto", help="pytest-xdist workers per round (default: auto)")
    parser.add_argument("--first", type=_positive, default=1, help="the first round's number, for its settings")
    args = parser.parse_args(argv)
    missing = [path for path in args.paths if not (ROOT / path).exists()]
    if missing:
        parser.error(f"{', '.join(missing)}: no such file or folder")
    OUT.mkdir(parents=True, exist_ok=True)
    failed = 0
    for number in range(args.first - 1, args.first - 1 + args.rounds):
        total, problems, seconds, settings = run_round(number, args.jobs, args.paths)
        shown = " ".join(f"{name}={value}" for name, value in settings.items())
        print(f"round {number + 1}: {shown}: {total - len(problems)}/{total} cells passed, {seconds:.1f} s", flush=True)
        for problem in problems:
            print(f"  {problem.where}: {problem.why}")
        failed += bool(problems) or not total
    print(f"{args.rounds - failed} of {args.rounds} rounds passed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
