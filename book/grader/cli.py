"""The grader's command line: each command's arguments, and running one with bad input said in one line.

``python -m book grade | start | progress | watch | gradescope | classroom | classroom-grade`` (see ``--help``);
what each command does is in book.grader.commands.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from book.core import manifest
from book.grader import runner, sandbox
from book.grader.commands import (
    UsageError,
    cmd_classroom,
    cmd_classroom_grade,
    cmd_grade,
    cmd_gradescope,
    cmd_progress,
    cmd_start,
    cmd_watch,
)


def add_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = commands.add_parser(
        "grade",
        help="grade notebooks: the visible checks under nbval, then the hidden checks",
        description="Grade each notebook (a path, or an exercise number such as 01 for your copy in workspace/). "
        "Exit status 0 only when every check of every submission passes; 2 for bad input.",
    )
    p.add_argument("paths", nargs="*", metavar="PATH", help="a notebook, or an exercise number such as 01")
    p.add_argument(
        "--under",
        type=Path,
        metavar="DIR",
        help="also grade every notebook under DIR (a class's submissions; checkpoints skipped)",
    )
    p.add_argument("--json", action="store_true", help="print the results as JSON instead of the report")
    p.add_argument("--csv", type=Path, metavar="FILE", help="a gradebook, a row appended as each submission finishes")
    p.add_argument("--jsonl", type=Path, metavar="FILE", help="every result as a JSON line, appended as it finishes")
    p.add_argument(
        "--resume",
        action="store_true",
        help="grade only what --jsonl (or --csv) does not hold yet for the same file contents",
    )
    p.add_argument("--gradescope", type=Path, metavar="DIR", help="also write DIR/results.json for Gradescope")
    p.add_argument("--jobs", type=_positive_int, default=1, metavar="N", help="grade N submissions at once (default 1)")
    p.add_argument("--checks", type=Path, metavar="DIR", help="hidden checks from DIR instead of tests/checks")
    p.add_argument("--exercise", metavar="NN", help="grade as this exercise, whatever the file names")
    p.add_argument(
        "--time-limit",
        type=_positive_float,
        default=runner.TIME_LIMIT,
        metavar="S",
        help=f"seconds one submission may take in all (default {runner.TIME_LIMIT:g})",
    )
    p.add_argument(
        "--cell-timeout",
        type=_positive_float,
        default=runner.CELL_TIMEOUT,
        metavar="S",
        help=f"seconds one cell may take (default {runner.CELL_TIMEOUT:g})",
    )
    p.add_argument(
        "--memory",
        type=_positive_int,
        default=sandbox.Limits.memory_mb,
        metavar="MB",
        help=f"memory one submission may use, all its processes (default {sandbox.Limits.memory_mb})",
    )
    p.add_argument("--no-sandbox", action="store_true", help="run submissions without the bubblewrap sandbox")
    p.add_argument(
        "--seed", type=int, default=None, help="the seed of the checks' data (a report shows it): replays a grade"
    )
    p.add_argument(
        "--summary",
        type=Path,
        metavar="FILE",
        help="also write FILE.csv and FILE.svg: per check, how many passed and the most common failure",
    )
    p.set_defaults(run=cmd_grade)

    p = commands.add_parser(
        "start",
        help="copy an exercise into workspace/, where you work on it",
        description="Copy the exercise (or all) into workspace/, never over your own copy.",
    )
    p.add_argument("target", metavar="NN|all", help="an exercise number such as 01, or all")
    p.set_defaults(run=cmd_start)

    p = commands.add_parser("progress", help="every exercise with its status and score")
    p.add_argument("--jobs", type=_positive_int, default=2, metavar="N", help="grade N exercises at once (default 2)")
    p.set_defaults(run=cmd_progress)

    p = commands.add_parser("watch", help="grade an exercise again each time its notebook is saved")
    p.add_argument("target", metavar="NN|PATH", help="an exercise number such as 01, or a notebook")
    p.add_argument(
        "--interval",
        type=_positive_float,
        default=None,
        metavar="S",
        help="look for a save every S seconds (default: be told of saves by the system)",
    )
    p.add_argument("--runs", type=_positive_int, default=None, help=argparse.SUPPRESS)  # tests stop after N
    p.set_defaults(run=cmd_watch)

    from book.grader import gradescope

    p = commands.add_parser(
        "gradescope",
        help="write a Gradescope autograder archive (setup.sh, run_autograder, the course it needs)",
        description="Write the autograder archive of an exercise (NN, --out FILE.zip) or of every exercise "
        "(all, --out FOLDER: one archive per exercise, as each is a Gradescope assignment).",
    )
    p.add_argument("target", metavar="NN|all", help="an exercise number such as 01, or all")
    p.add_argument("--out", type=Path, required=True, metavar="PATH", help="the .zip (or, for all, a folder)")
    p.add_argument("--checks", type=Path, metavar="DIR", help="bundle the hidden checks from DIR, not tests/checks")
    p.add_argument(
        "--visibility",
        choices=gradescope.VISIBILITIES,
        default="visible",
        help="when students see the results of the checks (default visible)",
    )
    p.add_argument(
        "--stdout-visibility",
        choices=gradescope.VISIBILITIES,
        default="hidden",
        help="when students see the grader's own output (default hidden)",
    )
    p.set_defaults(run=cmd_gradescope)

    p = commands.add_parser(
        "classroom",
        help="write a GitHub Classroom student repository (no solutions, no hidden checks) and workflow",
        description="Write the student repository into --out: the course without solutions/ and tests/, with "
        ".github/workflows/classroom.yml, which fetches the hidden checks at grade time. --kit also "
        "writes the grading kit (the hidden checks and the references) to keep private.",
    )
    p.add_argument("--out", type=Path, metavar="DIR", help="a new (or empty) folder for the student repository")
    p.add_argument("--kit", type=Path, metavar="FILE", help="also write the grading kit, a .tar.gz")
    p.add_argument("--checks", type=Path, metavar="DIR", help="the kit's hidden checks from DIR, not tests/checks")
    p.set_defaults(run=cmd_classroom)

    p = commands.add_parser(
        "classroom-grade",
        help="in the Classroom workflow: grade the assignment and report its points",
        description="Grade the student's copy of each exercise with the kit's hidden checks and write the points "
        "in the autograding runners' format (a base64 JSON result) to --github-output.",
    )
    p.add_argument(
        "--kit",
        type=Path,
        required=True,
        metavar="DIR",
        help="the fetched kit: tests/checks/ and solutions/, as in the course",
    )
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


def run(args: argparse.Namespace) -> int:
    """Run a grader command; bad input is one line on stderr and exit status 2."""
    try:
        return int(args.run(args))
    except (UsageError, manifest.ManifestError, runner.GradingError) as exc:
        print(f"{args.command}: {exc}", file=sys.stderr)
        return 2
