"""Command line: ``python -m book COMMAND``; ``python -m book --help`` lists the commands."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from book import ROOT
from book.authoring import release
from book.core import manifest
from book.grader import cli


def cmd_release(args: argparse.Namespace) -> int:
    try:
        drafts = frozenset(manifest.number_of(f"{number}-") or number for number in args.draft)
        changes = (
            release.plan(drafts=drafts, toc=release.TOC)
            if args.check
            else release.release(drafts=drafts, toc=release.TOC)
        )
    except (release.MarkerError, manifest.ManifestError) as exc:
        print(f"release: {exc}", file=sys.stderr)
        return 2
    if args.check:
        if changes:
            for change in changes:
                print(f"out of date: {change.path.relative_to(ROOT)} (would {change.action})")
            print("exercises/ is out of date: run `python -m book release`", file=sys.stderr)
            return 1
        print("exercises/ is up to date with solutions/")
        return 0
    for change in changes:
        print(f"{change.action}: {change.path.name}")
    print(f"released: {len(changes)} file(s) changed")
    return 0


def cmd_execute(args: argparse.Namespace) -> int:
    from book.authoring.execute import execute_in_place

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


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog="python -m book", description="Tools of the FastAPI dependency injection course."
    )
    commands = top.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = commands.add_parser("release", help="write exercises/ from solutions/")
    p.add_argument("--check", action="store_true", help="only report whether exercises/ is up to date (exit 1 if not)")
    p.add_argument(
        "--draft",
        action="append",
        default=[],
        metavar="NN",
        help="an exercise (04, 04-fix) whose current version is still being written: replace its "
        "fingerprints instead of asking for a new version (never for a version learners have)",
    )
    p.set_defaults(run=cmd_release)

    cli.add_commands(commands)

    p = commands.add_parser("execute", help="re-run notebooks in place so their stored outputs are fresh")
    p.add_argument("paths", nargs="+", type=Path, metavar="PATH")
    p.set_defaults(run=cmd_execute)
    return top


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return cli.run(args)
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
