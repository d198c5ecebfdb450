"""The grader's commands: ``python -m book grade | start | progress | watch`` (see ``--help``)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from book.grader import batch, manifest, render, runner, sandbox, workspace


class UsageError(Exception):
    """Bad command-line input: one line, exit status 2."""


def add_commands(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = commands.add_parser(
        "grade", help="grade notebooks: the visible checks under nbval, then the hidden checks",
        description="Grade each notebook (a path, or an exercise number such as 01 for your copy in workspace/). "
                    "Exit status 0 only when every check of every submission passes; 2 for bad input.")
    p.add_argument("paths", nargs="+", metavar="PATH", help="a notebook, or an exercise number such as 01")
    p.add_argument("--json", action="store_true", help="print the results as JSON instead of the report")
    p.add_argument("--csv", type=Path, metavar="FILE", help="a gradebook, a row appended as each submission finishes")
    p.add_argument("--jsonl", type=Path, metavar="FILE", help="every result as a JSON line, appended as it finishes")
    p.add_argument("--resume", action="store_true",
                   help="grade only what --jsonl (or --csv) does not hold yet for the same file contents")
    p.add_argument("--gradescope", type=Path, metavar="DIR", help="also write DIR/results.json for Gradescope")
    p.add_argument("--jobs", type=_positive_int, default=1, metavar="N", help="grade N submissions at once (default 1)")
    p.add_argument("--checks", type=Path, metavar="DIR", help="hidden checks from DIR instead of tests/checks")
    p.add_argument("--exercise", metavar="NN", help="grade as this exercise, whatever the file names")
    p.add_argument("--time-limit", type=_positive_float, default=runner.TIME_LIMIT, metavar="S",
                   help=f"seconds one submission may take in all (default {runner.TIME_LIMIT:g})")
    p.add_argument("--cell-timeout", type=_positive_float, default=runner.CELL_TIMEOUT, metavar="S",
                   help=f"seconds one cell may take (default {runner.CELL_TIMEOUT:g})")
    p.add_argument("--memory", type=_positive_int, default=sandbox.Limits.memory_mb, metavar="MB",
                   help=f"memory one submission may use, all its processes (default {sandbox.Limits.memory_mb})")
    p.add_argument("--no-sandbox", action="store_true", help="run submissions without the bubblewrap sandbox")
    p.add_argument("--seed", type=int, default=None, help="the seed of the checks' data (a report shows it): "
                                                          "replays a grade")
    p.set_defaults(run=cmd_grade)

    p = commands.add_parser("start", help="copy an exercise into workspace/, where you work on it",
                            description="Copy the exercise (or all) into workspace/, never over your own copy.")
    p.add_argument("target", metavar="NN|all", help="an exercise number such as 01, or all")
    p.set_defaults(run=cmd_start)

    p = commands.add_parser("progress", help="every exercise with its status and score")
    p.add_argument("--jobs", type=_positive_int, default=2, metavar="N", help="grade N exercises at once (default 2)")
    p.set_defaults(run=cmd_progress)

    p = commands.add_parser("watch", help="grade an exercise again each time its notebook is saved")
    p.add_argument("target", metavar="NN|PATH", help="an exercise number such as 01, or a notebook")
    p.add_argument("--interval", type=_positive_float, default=0.5, metavar="S",
                   help="seconds between looks (default 0.5)")
    p.add_argument("--runs", type=_positive_int, default=None, help=argparse.SUPPRESS)  # tests stop after N
    p.set_defaults(run=cmd_watch)


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text[:20]!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, not {value}")
    return value


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text[:20]!r}") from None
    if not 0 < value < 1e6:
        raise argparse.ArgumentTypeError(f"must be more than 0, not {text[:20]}")
    return value


def _paths(targets: list[str]) -> list[Path]:
    paths = []
    for target in targets:
        try:
            path, notes = workspace.resolve(target)
        except workspace.WorkspaceError as exc:
            raise UsageError(str(exc)) from None
        for note in notes:
            print(note, file=sys.stderr)
        if not path.exists() and not path.is_symlink():
            raise UsageError(f"{str(path)[:160]}: no such file")
        paths.append(path)
    return paths


def cmd_grade(args: argparse.Namespace) -> int:
    checks_dir = args.checks
    if checks_dir is not None and not checks_dir.is_dir():
        raise UsageError(f"--checks {str(checks_dir)[:160]}: no such folder")
    if args.resume and not (args.csv or args.jsonl):
        raise UsageError("--resume needs --jsonl FILE or --csv FILE to know what was graded before")
    exercise = None
    if args.exercise:
        try:
            exercise = manifest.find(args.exercise)
        except manifest.ManifestError as exc:
            raise UsageError(str(exc)) from None
    paths = _paths(args.paths)
    if args.gradescope and len(paths) != 1:
        raise UsageError("--gradescope writes one submission's results.json: give one notebook")
    options = runner.Options(checks_dir=checks_dir, cell_timeout=args.cell_timeout, time_limit=args.time_limit,
                             isolation=sandbox.choose(not args.no_sandbox),
                             limits=sandbox.Limits(memory_mb=args.memory), seed=args.seed)
    if len(paths) == 1 and not (args.csv or args.jsonl):
        results = [runner.grade(paths[0], exercise, options)]
    else:
        skip = batch.done_before(args.csv, args.jsonl) if args.resume else {}
        try:
            outputs = batch.Outputs(args.csv, args.jsonl, batch.columns_for(paths, exercise), args.resume)
        except OSError as exc:
            raise UsageError(f"{str(exc.filename)[:160]}: cannot be written ({exc.strerror})") from None
        try:
            results = batch.grade_all(paths, exercise=exercise, options=options, jobs=args.jobs, outputs=outputs,
                                      skip=skip, progress=batch.progress_line if len(paths) > 1 else None)
        finally:
            outputs.close()
    if args.json:
        print(render.as_json(results))
    else:
        colour = render.use_colour(sys.stdout)
        print("\n\n".join(render.human(result, colour=colour) for result in results))
        if len(results) > 1:
            full = sum(result.passed for result in results)
            print(f"\n{len(results)} submissions graded, {full} with full marks")
    if args.gradescope:
        try:
            render.write_gradescope(results[0], args.gradescope)
        except OSError as exc:
            raise UsageError(f"--gradescope {str(args.gradescope)[:160]}: cannot be written ({exc.strerror})") from None
    return 0 if all(result.passed for result in results) else 1


def cmd_start(args: argparse.Namespace) -> int:
    try:
        chosen = (sorted(manifest.load().values(), key=lambda e: e.number) if args.target == "all"
                  else [manifest.find(args.target)])
    except manifest.ManifestError as exc:
        raise UsageError(str(exc)) from None
    for exercise in chosen:
        print(workspace.start(exercise))
    return 0


def cmd_progress(args: argparse.Namespace) -> int:
    from book.grader import progress

    print(progress.table(progress.survey(jobs=args.jobs)))
    return 0


def cmd_watch(args: argparse.Namespace) -> int:
    from book.grader import watch

    (path,) = _paths([args.target])
    return watch.watch(path, interval=args.interval, runs=args.runs)


def run(args: argparse.Namespace) -> int:
    """Run a grader command; bad input is one line on stderr and exit status 2."""
    try:
        return int(args.run(args))
    except (UsageError, manifest.ManifestError, runner.GradingError) as exc:
        print(f"{args.command}: {exc}", file=sys.stderr)
        return 2
