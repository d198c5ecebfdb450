"""What each grader command does, given its parsed arguments; bad input raises UsageError."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from book.core import manifest
from book.grader import batch, hints, render, runner, sandbox, workspace


class UsageError(Exception):
    """Bad command-line input: one line, exit status 2."""


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
    found = sorted(
        path for path in folder.rglob("*.ipynb") if ".ipynb_checkpoints" not in path.relative_to(folder).parts
    )
    if not found:
        raise UsageError(f"--under {str(folder)[:160]}: no notebook in it")
    return found


def _refuse_missing_checks(checks_dir: Path | None) -> None:
    if checks_dir is not None and not checks_dir.is_dir():
        raise UsageError(f"--checks {str(checks_dir)[:160]}: no such folder")


def cmd_grade(args: argparse.Namespace) -> int:
    checks_dir = args.checks
    _refuse_missing_checks(checks_dir)
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
    options = runner.Options(
        checks_dir=checks_dir,
        cell_timeout=args.cell_timeout,
        time_limit=args.time_limit,
        isolation=sandbox.choose(not args.no_sandbox),
        limits=sandbox.Limits(memory_mb=args.memory),
        seed=args.seed,
    )
    if len(paths) == 1 and not (args.csv or args.jsonl):
        results = [runner.grade(paths[0], exercise, options)]
    else:
        skip = batch.done_before(args.csv, args.jsonl) if args.resume else {}
        try:
            outputs = batch.Outputs(args.csv, args.jsonl, batch.columns_for(paths, exercise), args.resume)
        except OSError as exc:
            raise UsageError(f"{str(exc.filename)[:160]}: cannot be written ({exc.strerror})") from None
        try:
            results = batch.grade_all(
                paths,
                exercise=exercise,
                options=options,
                jobs=args.jobs,
                outputs=outputs,
                skip=skip,
                progress=batch.progress_line if len(paths) > 1 else None,
            )
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

    _refuse_missing_checks(args.checks)
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
            gradescope.build(
                exercise,
                target,
                checks_dir=args.checks,
                visibility=args.visibility,
                stdout_visibility=args.stdout_visibility,
            )
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
    _refuse_missing_checks(args.checks)
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
        chosen = (
            sorted(manifest.load().values(), key=lambda e: e.number)
            if args.target == "all"
            else [manifest.find(args.target)]
        )
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
