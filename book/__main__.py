"""Command line: ``python -m book COMMAND``; ``python -m book --help`` lists the commands."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from book import CHECKS, EXERCISES, release


def cmd_release(args) -> int:
    try:
        changes = release.plan() if args.check else release.release()
    except release.MarkerError as exc:
        print(f"release: {exc}", file=sys.stderr)
        return 2
    if args.check:
        if changes:
            for change in changes:
                print(f"out of date: exercises/{change.path.name} (would {change.action})")
            print("exercises/ is out of date: run `python -m book release`", file=sys.stderr)
            return 1
        print("exercises/ is up to date with solutions/")
        return 0
    for change in changes:
        print(f"{change.action}: {change.path.name}")
    print(f"released: {len(changes)} exercise notebook(s) changed")
    return 0


def cmd_execute(args) -> int:
    from book.execute import execute_in_place

    for path in args.paths:
        if not path.is_file() or path.suffix != ".ipynb":
            print(f"execute: {path}: not a notebook file", file=sys.stderr)
            return 2
    for path in args.paths:
        print(f"executing {path}", flush=True)
        try:
            execute_in_place(path)
        except Exception as exc:  # nbclient's CellExecutionError carries the whole traceback
            print(f"execute: {path}: {type(exc).__name__}: {str(exc).strip().splitlines()[-1]}", file=sys.stderr)
            return 1
    return 0


def _exercise_paths(targets: list[str]) -> list[Path]:
    """Paths as given; a bare number such as 01 means that exercise in exercises/."""
    from book.grading import find_exercise

    paths = []
    for target in targets:
        if target.isdigit() and not Path(target).exists():
            paths.append(find_exercise(target).starter)
        else:
            paths.append(Path(target))
    return paths


def cmd_grade(args) -> int:
    from concurrent.futures import ThreadPoolExecutor

    from book import grading, report

    checks_dir = args.checks or CHECKS
    if not checks_dir.is_dir():
        raise grading.GradingError(f"--checks {checks_dir}: no such folder")
    exercise = grading.find_exercise(args.exercise, checks_dir) if args.exercise else None
    paths = _exercise_paths(args.paths)
    missing = [str(path) for path in paths if not path.exists()]
    if missing:
        raise grading.GradingError(f"{', '.join(missing)}: no such file")
    if args.gradescope and len(paths) != 1:
        raise grading.GradingError("--gradescope writes one submission's results.json: give one notebook")

    baseline = grading.grader_fingerprint(checks_dir)  # one for the batch: a submission that changes
    # the grader's files spoils its own grade and every later one

    def one(path: Path):
        return grading.grade(path, exercise, checks_dir=checks_dir, baseline=baseline,
                             cell_timeout=args.cell_timeout or grading.CELL_TIMEOUT,
                             time_limit=args.time_limit or grading.TIME_LIMIT,
                             side_by_side=len(paths) == 1)  # one submission: both cores on it

    results, done = [], 0
    with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        for submission in pool.map(one, paths):  # map keeps the order given, whatever finishes first
            results.append(submission)
            done += 1
            if len(paths) > 1:
                report.progress_line(done, len(paths))
    if args.json:
        print(report.as_json(results))
    else:
        colour = report.use_colour(sys.stdout)
        print("\n\n".join(report.human(submission, colour=colour) for submission in results))
        if len(results) > 1:
            full = sum(submission.passed for submission in results)
            print(f"\n{len(results)} submissions graded, {full} with full marks")
    if args.gradescope:
        report.gradescope(results[0], args.gradescope)
    if args.csv:
        report.gradebook(results, args.csv)
    return 0 if all(submission.passed for submission in results) else 1


def cmd_progress(args) -> int:
    from book import progress

    print(progress.table(progress.survey(EXERCISES, jobs=args.jobs)))
    return 0


def cmd_watch(args) -> int:
    from book import watch

    return watch.watch(_exercise_paths([args.target])[0], interval=args.interval, runs=args.runs)


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="python -m book", description="Tools of the FastAPI dependency injection course.")
    commands = top.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = commands.add_parser("release", help="write exercises/ from solutions/")
    p.add_argument("--check", action="store_true", help="only report whether exercises/ is up to date (exit 1 if not)")
    p.set_defaults(run=cmd_release)

    p = commands.add_parser("grade", help="grade notebooks: visible checks under nbval, then the hidden checks",
                            description="Grade each notebook (a path, or an exercise number for exercises/NN-*.ipynb). "
                                        "Exit status 0 only when every check of every submission passes.")
    p.add_argument("paths", nargs="+", metavar="PATH", help="a notebook, or an exercise number such as 01")
    p.add_argument("--json", action="store_true", help="print the results as JSON instead of the report")
    p.add_argument("--gradescope", type=Path, metavar="DIR", help="also write DIR/results.json for Gradescope")
    p.add_argument("--csv", type=Path, metavar="FILE", help="also write a gradebook, one row per submission")
    p.add_argument("--jobs", type=_positive_int, default=1, metavar="N", help="grade N submissions at once (default 1)")
    p.add_argument("--checks", type=Path, metavar="DIR", help="hidden checks from DIR instead of tests/checks")
    p.add_argument("--exercise", metavar="NN", help="grade as this exercise, whatever the file names")
    p.add_argument("--time-limit", type=_positive_float, default=None, metavar="S",
                   help="seconds one submission may take in all (default 120)")
    p.add_argument("--cell-timeout", type=_positive_float, default=None, metavar="S",
                   help="seconds one cell may take (default 10)")
    p.set_defaults(run=cmd_grade)

    p = commands.add_parser("progress", help="every exercise in exercises/ with its status and score")
    p.add_argument("--jobs", type=_positive_int, default=2, metavar="N", help="grade N exercises at once (default 2)")
    p.set_defaults(run=cmd_progress)

    p = commands.add_parser("watch", help="re-grade an exercise each time its notebook is saved")
    p.add_argument("target", metavar="NN|PATH", help="an exercise number such as 01, or a notebook")
    p.add_argument("--interval", type=_positive_float, default=0.5, metavar="S", help="seconds between looks (default 0.5)")
    p.add_argument("--runs", type=_positive_int, default=None, help=argparse.SUPPRESS)  # tests stop after N gradings
    p.set_defaults(run=cmd_watch)

    p = commands.add_parser("execute", help="re-run notebooks in place so their stored outputs are fresh")
    p.add_argument("paths", nargs="+", type=Path, metavar="PATH")
    p.set_defaults(run=cmd_execute)
    return top


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, not {value}")
    return value


def _positive_float(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be more than 0, not {text}")
    return value


def main(argv: list[str] | None = None) -> int:
    from book.grading import GradingError

    args = parser().parse_args(argv)
    try:
        return args.run(args)
    except GradingError as exc:
        print(f"{args.command}: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
