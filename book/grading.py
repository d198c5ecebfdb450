"""Grade a submission: its visible checks under nbval, then the hidden checks, in a child process.

The child is a pytest run over the submission (nbval, in a fresh kernel) and the exercise's
check module (in-process, see book.notebooks). It has a time limit and writes each result as it
comes (book.pytest_plugin), so a submission that hangs, exits or crashes its process still gets
every result that finished and zero for the rest, with a one-line reason.

A submission is code the grader runs, so the grader guards against the easy ways to fool it (the
threat model is in the README): the children's output is discarded (a printed report counts for
nothing); the report's lines are signed with a key only the grader's own plugin receives (a line
written by anything else voids the report); a tripwire in the hidden checks' process reports a
submission that replaces the code of pytest or the book package; and the grader's own files (the
book package, the checks, pytest and its plugins) are fingerprinted before a batch and after each
submission: a submission that changed them scores nothing, and so does every later one.
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import nbformat

from book import CHECKS, EXERCISES, ROOT, notebooks
from book.report_file import ForgedReport, read_report

CELL_TIMEOUT = 10.0  # no cell in a course notebook needs more than a second
TIME_LIMIT = 120.0  # the whole grading of one submission
VISIBLE = "runs top to bottom in a fresh kernel, check cells included"
VISIBLE_POINTS = 1
VISIBLE_HINT = ("Restart the kernel and run all cells: the cell named above fails. Put back any check "
                "cell you changed or deleted, from a fresh copy of the exercise.")
NUMBER = re.compile(r"^(\d{2})(?:-|$)")


class GradingError(Exception):
    """Input the grader cannot act on (unknown exercise, no checks); one line."""


@dataclass
class Exercise:
    number: str
    slug: str  # "01-typed-aliases"
    starter: Path
    checks: Path

    @property
    def title(self) -> str:
        return self.slug[3:].replace("-", " ")


@dataclass
class CheckResult:
    name: str
    points: int
    max_points: int
    passed: bool
    message: str = ""
    hint: str = ""

    @property
    def title(self) -> str:
        return self.name.removeprefix("test_").replace("_", " ")


@dataclass
class Submission:
    path: Path
    exercise: Exercise | None
    checks: list[CheckResult] = field(default_factory=list)
    error: str = ""  # why some or all of it could not be graded
    seconds: float = 0.0

    @property
    def score(self) -> int:
        return sum(check.points for check in self.checks)

    @property
    def max_score(self) -> int:
        return sum(check.max_points for check in self.checks)

    @property
    def passed(self) -> bool:
        return not self.error and bool(self.checks) and all(check.passed for check in self.checks)

    def to_dict(self) -> dict:
        return {
            "path": str(self.path),
            "exercise": self.exercise.slug if self.exercise else None,
            "score": self.score,
            "max_score": self.max_score,
            "passed": self.passed,
            "error": self.error,
            "seconds": round(self.seconds, 2),
            "checks": [asdict(check) for check in self.checks],
        }


def find_exercise(number: str, checks_dir: Path = CHECKS) -> Exercise:
    """The exercise with this two-digit number (from "1", "01" or "01-typed-aliases")."""
    match = re.match(r"^(\d{1,2})\b", number)
    if not match:
        raise GradingError(f"{number!r} is not an exercise number (try 01)")
    number = f"{int(match[1]):02d}"
    starters = sorted(EXERCISES.glob(f"{number}-*.ipynb"))
    if not starters:
        known = ", ".join(sorted(path.name[:2] for path in EXERCISES.glob("*.ipynb"))) or "none"
        raise GradingError(f"there is no exercise {number} (exercises: {known})")
    slug = starters[0].stem
    checks = checks_dir / f"test_{slug.replace('-', '_')}.py"
    if not checks.is_file():
        raise GradingError(f"no hidden checks for exercise {slug}: expected {checks}")
    return Exercise(number, slug, starters[0], checks)


def exercise_of(path: Path, checks_dir: Path = CHECKS) -> Exercise:
    match = NUMBER.match(path.name)
    if not match:
        raise GradingError(f"{path}: cannot tell which exercise this is; name it like 01-typed-aliases.ipynb "
                           "or pass --exercise 01")
    return find_exercise(match[1], checks_dir)


def check_cells(nb: nbformat.NotebookNode) -> list[str]:
    return [cell.source for cell in nb.cells
            if cell.cell_type == "code" and notebooks.CHECK_TAG in cell.get("metadata", {}).get("tags", [])]


def tampering(submission: nbformat.NotebookNode, starter: nbformat.NotebookNode) -> str:
    """Why the submission's check cells are not the exercise's, or "" when they are."""
    code = [cell for cell in submission.cells if cell.cell_type == "code"]
    for number, source in enumerate(check_cells(starter), start=1):
        label = f"check cell {number} (`{notebooks.first_line(source)}`)"
        copies = [cell for cell in code if cell.source.strip() == source.strip()]
        if not copies:
            return f"{label} was deleted, emptied or changed; copy it back from the exercise"
        if len(copies) > 1:
            return f"{label} appears {len(copies)} times; keep one"
        if notebooks.CHECK_TAG not in copies[0].get("metadata", {}).get("tags", []):
            return f"{label} lost its `check` tag; put it back (or copy the cell from the exercise)"
    return ""


def grade(path: Path, exercise: Exercise | None = None, *, checks_dir: Path = CHECKS,
          cell_timeout: float = CELL_TIMEOUT, time_limit: float = TIME_LIMIT, side_by_side: bool = False,
          baseline: dict[str, str] | None = None) -> Submission:
    """Grade one notebook; never raises for a bad submission, only reports it.

    `baseline` is the fingerprint of the grader's files (`grader_fingerprint`) taken before a
    batch: a submission graded after another one changed them is refused too. Without it, the
    files are compared before and after this submission only.

    With `side_by_side`, the visible checks (nbval, in a kernel) and the hidden checks run in two
    processes at once, one per core: for one submission graded alone. A batch gives each core a
    submission instead.
    """
    started = time.monotonic()
    submission = Submission(Path(path), exercise)
    try:
        submission.exercise = exercise = exercise or exercise_of(submission.path, checks_dir)
        nb = notebooks.read(submission.path)
    except (GradingError, notebooks.NotebookError) as exc:
        submission.error = str(exc)
        if submission.exercise:
            submission.checks = _all_failed(submission.exercise, str(exc))
        return _timed(submission, started)

    with tempfile.TemporaryDirectory(prefix="grade-") as workdir:
        # A snapshot: saving the notebook while it is graded changes nothing, and the kernel's
        # working folder is not the learner's.
        copy = Path(workdir) / f"{exercise.slug}.ipynb"
        shutil.copyfile(submission.path, copy)
        reports = [Path(workdir) / "visible.jsonl", Path(workdir) / "hidden.jsonl"]
        baseline = baseline or grader_fingerprint(checks_dir)
        key = secrets.token_bytes(32)  # for this submission's report only
        # Only the plugins grading needs, named rather than looked up among all those installed
        # (xdist and platformdirs' cost 0.05 s a process); skip_slow_imports first, before any
        # plugin imports nbformat.
        plugins = ["--disable-plugin-autoload", "-p", "book.skip_slow_imports", "-p", "book.pytest_plugin",
                   "-p", "anyio.pytest_plugin", "-p", "no:cacheprovider"]
        common = ["-c", str(Path(__file__).with_name("grading.ini")), "-q", "--capture=sys", "--book-guard",
                  "--rootdir", str(ROOT), "--confcutdir", str(exercise.checks.parent),
                  "--submission", str(copy), f"--book-cell-timeout={cell_timeout:g}"]
        visible = ["-p", "nbval.plugin", str(copy), "--nbval-lax", "--nbval-current-env",
                   f"--nbval-cell-timeout={cell_timeout:g}"]
        hidden = [str(exercise.checks)]
        if side_by_side:  # the hidden checks' process does without nbval, and its imports (0.5 s)
            commands = [plugins + visible + common + ["--book-report", str(reports[0])],
                        plugins + hidden + common + ["--book-report", str(reports[1])]]
        else:
            commands = [plugins + visible + hidden + common + ["--book-report", str(reports[0])]]
            reports = reports[:1]
        stopped = _run_children(commands, copy.parent, time_limit, key)
        entries, finished, cheated = [], True, ""
        for report in reports:
            try:
                found, done = read_report(report, key)
            except ForgedReport as exc:
                found, done, cheated = [], True, f"{exc} (a forged result?)"
            entries += found
            finished = finished and done
        if not stopped and not finished:
            stopped = "the grading process ended early (os._exit or a crash in a cell?)"
        cheated = cheated or next((entry["why"] for entry in entries if entry["kind"] == "tampered"), "")
        changed = _changed(baseline, grader_fingerprint(checks_dir))
        if changed:
            cheated = f"the grader's own files changed while this submission ran: {changed}"

    if cheated:
        submission.error = f"not graded: {cheated}"
        submission.checks = _all_failed(exercise, submission.error)
        return _timed(submission, started)
    submission.checks = _results(exercise, entries, stopped, tampering(nb, nbformat.read(exercise.starter, 4)),
                                 notebooks.code_cells(nb, skip_tags=frozenset()))
    if stopped:
        submission.error = stopped
    return _timed(submission, started)


def grader_fingerprint(checks_dir: Path) -> dict[str, str]:
    """A hash of every file the grading runs on: the book package, the checks, pytest, pluggy,
    nbval and anyio's plugin, and what Python runs at start-up (.pth files, sitecustomize)."""
    from importlib.util import find_spec  # finds each package's files without importing it (pytest: 0.1 s)

    def package(name: str) -> Path:
        return Path(find_spec(name).origin).parent

    folders = [Path(__file__).parent, checks_dir, package("_pytest"), package("pluggy"), package("nbval")]
    files = [package("pytest") / "__init__.py", package("anyio") / "pytest_plugin.py"]
    for folder in folders:
        files += [path for path in folder.rglob("*") if path.is_file() and "__pycache__" not in path.parts]
    site = Path(sysconfig.get_paths()["purelib"])
    files += [path for path in site.glob("*.pth")]
    files += [site / name for name in ("sitecustomize.py", "usercustomize.py") if (site / name).exists()]
    found = {}
    for path in files:
        try:
            found[str(path)] = hashlib.sha256(path.read_bytes()).hexdigest()
        except OSError:
            found[str(path)] = "unreadable"
    return found


def _changed(before: dict[str, str], after: dict[str, str]) -> str:
    """The first file added, removed or changed, or ""."""
    for path in sorted(before.keys() | after.keys()):
        if before.get(path) != after.get(path):
            what = "added" if path not in before else "removed" if path not in after else "changed"
            return f"{path} was {what}"
    return ""


def _run_children(commands: list[list[str]], cwd: Path, time_limit: float, key: bytes) -> str:
    """Run pytest with each argument list at once; return "" or why the run was stopped early."""
    # The children's own output is not the report (a notebook could print a fake one): discard it.
    # The report's key goes through stdin, read before any submission code runs, never in argv or
    # the environment, which a kernel could read.
    # Temporary files go in the grading folder, which is removed afterwards: a kernel killed at the
    # time limit leaves its sockets' folder there, not in the machine's /tmp.
    env = {**os.environ, "TMPDIR": str(cwd)}
    children = []
    for command in commands:
        child = subprocess.Popen([sys.executable, "-m", "pytest", *command], cwd=cwd, env=env, stdin=subprocess.PIPE,
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            child.stdin.write(key.hex().encode() + b"\n")
            child.stdin.close()
        except BrokenPipeError:  # it died at once: its report will say nothing
            pass
        children.append(child)
    deadline = time.monotonic() + time_limit
    reason = ""
    try:
        for child in children:
            returncode = child.wait(timeout=max(0.0, deadline - time.monotonic()))
            if returncode not in (0, 1) and not reason:  # 1: some test failed, which the report says
                reason = f"the grading process ended early (exit status {returncode}: os._exit or a crash in a cell?)"
    except subprocess.TimeoutExpired:
        reason = f"stopped after the time limit of {time_limit:g} s (an endless loop?)"
    finally:
        for child in children:
            stop_tree(child)
    return reason  # exit status 0 proves nothing by itself: each report must also have reached its end


def stop_tree(child: subprocess.Popen) -> None:
    """Kill the child and everything it started: its kernel (which Jupyter puts in a session of
    its own, out of reach of a process-group kill) and any process a cell started."""
    import psutil  # comes with ipykernel

    try:
        processes = [psutil.Process(child.pid), *psutil.Process(child.pid).children(recursive=True)]
    except psutil.NoSuchProcess:
        processes = []
    for process in processes:
        try:
            process.kill()
        except psutil.NoSuchProcess:
            pass
    child.wait()


def _results(exercise: Exercise, entries: list[dict], stopped: str, tampered: str,
             code: list[notebooks.Cell]) -> list[CheckResult]:
    cells = [entry for entry in entries if entry["kind"] == "cell"]
    failing = next((entry for entry in cells if not entry["passed"]), None)
    if tampered:
        visible = CheckResult(VISIBLE, 0, VISIBLE_POINTS, False, tampered, VISIBLE_HINT)
    elif failing:
        number = failing["cell"]  # nbval counts code cells from 0
        where = code[number].where if number < len(code) else f"code cell {number + 1}"
        visible = CheckResult(VISIBLE, 0, VISIBLE_POINTS, False, f"{where} failed: {failing['message']}", VISIBLE_HINT)
    elif not cells or stopped:
        visible = CheckResult(VISIBLE, 0, VISIBLE_POINTS, False, stopped or "the notebook did not run", VISIBLE_HINT)
    else:
        visible = CheckResult(VISIBLE, VISIBLE_POINTS, VISIBLE_POINTS, True)
    results = [visible]
    reported = {entry["name"]: entry for entry in entries if entry["kind"] == "check"}
    declared = declared_checks(exercise.checks)
    # A check declared with computed points or hint is only known from the report.
    declared += [(name, entry["points"], entry["hint"]) for name, entry in reported.items()
                 if name not in {d[0] for d in declared}]
    for name, points, hint in declared:
        entry = reported.get(name)
        if entry is None:
            results.append(CheckResult(name, 0, points, False, f"not reached: {stopped or 'did not run'}", hint))
        else:
            results.append(CheckResult(name, points if entry["passed"] else 0, points, entry["passed"],
                                       entry["message"], hint))
    return results


def declared_checks(module: Path) -> list[tuple[str, int, str]]:
    """(name, points, hint) of every check in a module, read without running the submission.

    Reading them here, not from the child's report, means a check the child never reached still
    counts, with zero points.
    """
    import ast

    found = []
    for node in ast.parse(module.read_text(encoding="utf-8")).body:
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        for decorator in node.decorator_list:
            if isinstance(decorator, ast.Call) and getattr(decorator.func, "id", "") == "check":
                try:
                    options = {kw.arg: ast.literal_eval(kw.value) for kw in decorator.keywords}
                except ValueError:
                    continue  # not literals: known from the report when the check runs
                found.append((node.name, options.get("points", 1), " ".join(options.get("hint", "").split())))
    return found


def _all_failed(exercise: Exercise, reason: str) -> list[CheckResult]:
    return [CheckResult(VISIBLE, 0, VISIBLE_POINTS, False, reason, VISIBLE_HINT)] + [
        CheckResult(name, 0, points, False, "not graded: " + reason, hint)
        for name, points, hint in declared_checks(exercise.checks)
    ]


def _timed(submission: Submission, started: float) -> Submission:
    submission.seconds = time.monotonic() - started
    return submission
