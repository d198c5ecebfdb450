"""The grader's commands: ``python -m book grade | start | progress | watch | gradescope | classroom |
classroom-grade`` (see ``--help``)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from book.core import manifest
from book.grader import batch, hints, render, runner, sandbox, workspace


class UsageError(Exception):
    """Bad command-line input: one line, exit status 2."""


def add_commands(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = commands.add_parser(
        "grade", help="grade notebooks: the visible checks under nbval, then the hidden checks",
        description="Grade each notebook (a path, or an exercise number such as 01 for your copy in workspace/). "
                    "Exit status 0 only when every check of every submission passes; 2 for bad input.")
    p.add_argument("paths", nargs="*", metavar="PATH", help="a notebook, or an exercise number such as 01")
    p.add_argument("--under", type=Path, metavar="DIR",
                   help="also grade every notebook under DIR (a class's submissions; checkpoints skipped)")
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
    p.add_argument("--summary", type=Path, metavar="FILE",
                   help="also write FILE.csv and FILE.svg: per check, how many passed and the most common failure")
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
    p.add_argument("--interval", type=_positive_float, default=None, metavar="S",
                   help="look for a save every S seconds (default: be told of saves by the system)")
    p.add_argument("--runs", type=_positive_int, default=None, help=argparse.SUPPRESS)  # tests stop after N
    p.set_defaults(run=cmd_watch)

    from book.grader import gradescope

    p = commands.add_parser(
        "gradescope", help="write a Gradescope autograder archive (setup.sh, run_autograder, the course it needs)",
        description="Write the autograder archive of an exercise (NN, --out FILE.zip) or of every exercise "
                    "(all, --out FOLDER: one archive per exercise, as each is a Gradescope assignment).")
    p.add_argument("target", metavar="NN|all", help="an exercise number such as 01, or all")
    p.add_argument("--out", type=Path, required=True, metavar="PATH", help="the .zip (or, for all, a folder)")
    p.add_argument("--checks", type=Path, metavar="DIR", help="bundle the hidden checks from DIR, not tests/checks")
    p.add_argument("--visibility", choices=gradescope.VISIBILITIES, default="visible",
                   help="when students see the results of the checks (default visible)")
    p.add_argument("--stdout-visibility", choices=gradescope.VISIBILITIES, default="hidden",
                   help="when students see the grader's own output (default hidden)")
    p.set_defaults(run=cmd_gradescope)

    p = commands.add_parser(
        "classroom", help="write a GitHub Classroom student repository (no solutions, no hidden checks) and workflow",
        description="Write the student repository into --out: the course without solutions/ and tests/, with "
                    ".github/workflows/classroom.yml, which fetches the hidden checks at grade time. --kit also "
                    "writes the grading kit (the hidden checks and the references) to keep private.")
    p.add_argument("--out", type=Path, metavar="DIR", help="a new (or empty) folder for the student repository")
    p.add_argument("--kit", type=Path, metavar="FILE", help="also write the grading kit, a .tar.gz")
    p.add_argument("--checks", type=Path, metavar="DIR", help="the kit's hidden checks from DIR, not tests/checks")
    p.set_defaults(run=cmd_classroom)

    p = commands.add_parser(
        "classroom-grade", help="in the Classroom workflow: grade the assignment and report its points",
        description="Grade the student's copy of each exercise with the kit's hidden checks and write the points "
                    "in the autograding runners' format (a base64 JSON result) to --github-output.")
    p.add_argument("--kit", type=Path, required=True, metavar="DIR",
                   help="the fetched kit: tests/checks/ and solutions/, as in the course")
    p.add_argument("--exercises", default="all", metavar="NN ...", help="the exercises graded: 01 02, or all")
    p.add_argument("--github-output", type=Path, metavar="FILE", help="append result=... here ($GITHUB_OUTPUT)")
    p.add_argument("--no-sandbox", action="store_true", help="run submissions without the bubblewrap sandbox")
    p.set_defaults(run=cmd_classroom_grade)


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


def _notebooks_under(folder: Path | None) -> list[Path]:
    if folder is None:
        return []
    if not folder.is_dir():
        raise UsageError(f"--under {str(folder)[:160]}: no such folder")
    found = sorted(path for path in folder.rglob("*.ipynb")
                   if ".ipynb_checkpoints" not in path.relative_to(folder).parts)
    if not found:
        raise UsageError(f"--under {str(folder)[:160]}: no notebook in it")
    return found


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
    paths = _paths(args.paths) + _notebooks_under(args.under)
    if not paths:
        raise UsageError("say what to grade: a notebook, an exercise number such as 01, or --under DIR")
    if args.summary is not None and not args.summary.parent.is_dir():
        raise UsageError(f"--summary {str(args.summary)[:160]}: its folder does not exist")
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
        pointers = hints.due_for(results[0]) if len(results) == 1 else None
        print("\n\n".join(render.human(result, colour=colour, pointers=pointers) for result in results))
        if len(results) > 1:
            full = sum(result.passed for result in results)
            print(f"\n{len(results)} submissions graded, {full} with full marks")
    if args.gradescope:
        try:
            render.write_gradescope(results[0], args.gradescope)
        except OSError as exc:
            raise UsageError(f"--gradescope {str(args.gradescope)[:160]}: cannot be written ({exc.strerror})") from None
    if args.summary is not None:
        from book.grader import summary

        try:
            written = summary.write(results, args.summary)
        except OSError as exc:
            raise UsageError(f"--summary {str(args.summary)[:160]}: cannot be written ({exc.strerror})") from None
        print(f"summary: {written[0]} and {written[1]}", file=sys.stderr)
    return 0 if all(result.passed for result in results) else 1


def cmd_gradescope(args: argparse.Namespace) -> int:
    from book.grader import gradescope

    if args.checks is not None and not args.checks.is_dir():
        raise UsageError(f"--checks {str(args.checks)[:160]}: no such folder")
    try:
        chosen = manifest.ordered() if args.target == "all" else [manifest.find(args.target)]
        if args.target == "all":
            if args.out.exists() and not args.out.is_dir():
                raise UsageError(f"--out {str(args.out)[:160]}: for all, a folder, not a file")
            args.out.mkdir(parents=True, exist_ok=True)
            targets = [args.out / f"autograder-{exercise.number}.zip" for exercise in chosen]
        else:
            if args.out.is_dir() or args.out.suffix != ".zip":
                raise UsageError(f"--out {str(args.out)[:160]}: name the archive to write, ending in .zip")
            if not args.out.parent.is_dir():
                raise UsageError(f"--out {str(args.out)[:160]}: its folder does not exist")
            targets = [args.out]
        for exercise, target in zip(chosen, targets, strict=True):
            gradescope.build(exercise, target, checks_dir=args.checks, visibility=args.visibility,
                             stdout_visibility=args.stdout_visibility)
            print(f"wrote {target} (exercise {exercise.number}, {exercise.points} points)")
    except gradescope.BundleError as exc:
        raise UsageError(str(exc)) from None
    except OSError as exc:
        raise UsageError(f"--out {str(args.out)[:160]}: cannot be written ({exc.strerror})") from None
    return 0


def cmd_classroom(args: argparse.Namespace) -> int:
    from book.grader import classroom

    if args.out is None and args.kit is None:
        raise UsageError("say what to write: --out DIR (the student repository) and/or --kit FILE.tar.gz")
    if args.checks is not None and not args.checks.is_dir():
        raise UsageError(f"--checks {str(args.checks)[:160]}: no such folder")
    try:
        if args.out is not None:
            written = classroom.build(args.out)
            print(f"wrote the student repository: {args.out} ({len(written)} files)")
        if args.kit is not None:
            if not args.kit.parent.is_dir():
                raise UsageError(f"--kit {str(args.kit)[:160]}: its folder does not exist")
            members = classroom.write_kit(args.kit, args.checks)
            print(f"wrote the grading kit: {args.kit} ({len(members)} files; keep it private)")
    except classroom.ClassroomError as exc:
        raise UsageError(str(exc)) from None
    except OSError as exc:
        raise UsageError(f"{str(exc.filename)[:160]}: cannot be written ({exc.strerror})") from None
    return 0


def cmd_classroom_grade(args: argparse.Namespace) -> int:
    from book.grader import classroom

    try:
        return classroom.grade(args.kit, args.exercises, args.github_output, sandboxed=not args.no_sandbox)
    except classroom.ClassroomError as exc:
        raise UsageError(str(exc)) from None
    except OSError as exc:
        raise UsageError(f"{str(exc.filename)[:160]}: cannot be written ({exc.strerror})") from None


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
