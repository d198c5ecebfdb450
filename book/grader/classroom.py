"""GitHub Classroom: a student repository without the solutions and the hidden checks, graded by a workflow.

``python -m book classroom --out DIR`` writes the student repository: the course's files (as a
fresh clone has them) without ``solutions/``, ``tests/`` (the hidden checks, the grader's own
tests) and the course's CI, with a README for students and ``.github/workflows/classroom.yml``.
The table of contents stays: ``make book-class`` builds the class edition, without the Solutions
part. ``--kit FILE.tar.gz`` also writes the grading kit: the hidden checks (``tests/checks/``) and
the references the differential checks drive (``solutions/``), in the course's layout, for the
instructor to keep private.

The workflow fetches the kit at grade time (a private repository that holds the course, or an
archive URL kept as a secret), then runs ``python -m book classroom-grade``, which grades each
exercise of the assignment, prints the reports, and hands the points to GitHub Classroom's
reporter (``classroom-resources/autograding-grading-reporter``) in the runners' format: a
base64-encoded JSON ``{"version": 1, "status": ..., "max_score": ..., "tests": [...]}`` as the step's
``result`` output, one test per check with its score.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import shutil
import subprocess
import tarfile
from pathlib import Path
from typing import Any

from book import CHECKS, EXERCISES, ROOT, SOLUTIONS
from book.core import manifest
from book.grader import render, runner, sandbox, workspace
from book.grader.model import CheckResult, Result

# Left out of the student repository: the references and every test (hidden checks, tests/grading,
# the course's own), CI, learners' work, setuptools' leftovers, and the grading image's recipe.
LEFT_OUT = ("solutions/", "tests/", ".ci/", ".github/", "workspace/", "submissions/", "build/", "dist/")
NOT_COPIED = ("README.md", ".gitignore", "Dockerfile", ".dockerignore")
KIT = ".grading-kit"
NO_SANDBOX = "BOOK_NO_SANDBOX"

WORKFLOW = """\
# Grades the exercises of this assignment on every push and reports the points to GitHub Classroom.
# The hidden checks and the references are not in this repository: they are fetched at grade time,
# from the instructor's private repository (variable BOOK_CHECKS_REPO, owner/name, read with the
# secret BOOK_CHECKS_TOKEN) or else from a .tar.gz archive (secret BOOK_CHECKS_URL) made by
# `python -m book classroom --kit`. Variable BOOK_EXERCISES: the exercises graded (01 02, or all).
name: Autograding Tests
"on":
  - push
  - repository_dispatch
  - workflow_dispatch
permissions:
  checks: write
  actions: read
  contents: read
jobs:
  run-autograding-tests:
    name: Autograding Tests
    runs-on: ubuntu-latest
    if: github.actor != 'github-classroom[bot]'
    timeout-minutes: 40
    steps:
      - name: Checkout code
        uses: actions/checkout@v4
      - name: Set up Python
        uses: actions/setup-python@v5
        with:
          python-version: "3.12"
      - name: Install the pinned course
        run: |
          sudo apt-get install -y -qq bubblewrap || echo "no bubblewrap: the runner's machine isolates"
          python -m book.maintainer.install .venv -r requirements.txt
      - name: Fetch the hidden checks (private repository)
        if: vars.BOOK_CHECKS_REPO != ''
        uses: actions/checkout@v4
        with:
          repository: ${{ vars.BOOK_CHECKS_REPO }}
          token: ${{ secrets.BOOK_CHECKS_TOKEN }}
          path: .grading-kit
      - name: Fetch the hidden checks (archive)
        if: vars.BOOK_CHECKS_REPO == ''
        env:
          BOOK_CHECKS_URL: ${{ secrets.BOOK_CHECKS_URL }}
        run: |
          mkdir -p .grading-kit
          curl --fail --silent --show-error --location "$BOOK_CHECKS_URL" | tar -xz -C .grading-kit
      - name: Grade
        id: grade
        env:
          BOOK_EXERCISES: ${{ vars.BOOK_EXERCISES }}
        run: >-
          .venv/bin/python -m book classroom-grade --kit .grading-kit
          --exercises "${BOOK_EXERCISES:-all}" --github-output "$GITHUB_OUTPUT"
      - name: Autograding Reporter
        uses: classroom-resources/autograding-grading-reporter@v1
        env:
          GRADE_RESULTS: ${{ steps.grade.outputs.result }}
        with:
          runners: grade
"""

STUDENT_README = """\
# FastAPI dependency injection: your exercises

This repository is your copy of the course: the chapters, the exercises and the grader, without
the solutions and the hidden checks. Set it up once (Python 3.11 or newer):

    make book-class    # installs the pinned packages into .venv and builds the site

Then, for each exercise of the assignment:

1. `make start EX=01` copies exercise 01 into `workspace/`, where you work on it
   (`make lab` opens JupyterLab).
2. Restart the kernel and run every cell: the check cells in the notebook must pass.
3. Commit `workspace/` and push. GitHub runs the hidden checks (the *Actions* tab shows the report,
   with a hint for each failed check) and GitHub Classroom records your points.

Push as often as you like: each push is graded again. Do not edit `.github/`.
"""

STUDENT_GITIGNORE = """\
.venv/
_build/
__pycache__/
*.egg-info/
.ipynb_checkpoints/
.grading-kit/
/solutions/
.ruff_cache/
.mypy_cache/
"""


class ClassroomError(Exception):
    """Bad input for the classroom commands; one line."""


def course_files(root: Path = ROOT) -> list[str]:
    """The course's files as a fresh clone has them (tracked, or new and not ignored), relative."""
    try:
        done = subprocess.run(
            ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
            cwd=root,
            capture_output=True,
            check=True,
            timeout=60,
        )
        names = [name for name in done.stdout.decode().split("\0") if name]
    except (OSError, subprocess.SubprocessError):
        raise ClassroomError(f"{root} is not a git checkout of the course: clone it first") from None
    return sorted(name for name in names if (root / name).is_file() and not (root / name).is_symlink())


def student_files(root: Path = ROOT) -> list[str]:
    return [name for name in course_files(root) if not name.startswith(LEFT_OUT) and name not in NOT_COPIED]


def build(out: Path, root: Path = ROOT) -> list[str]:
    """Write the student repository into `out` (new or empty); the files written."""
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise ClassroomError(f"--out {str(out)[:160]}: exists and is not an empty folder")
    names = student_files(root)
    out.mkdir(parents=True, exist_ok=True)
    for name in names:
        target = out / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(root / name, target)
    (out / "README.md").write_text(STUDENT_README, encoding="utf-8")
    (out / ".gitignore").write_text(STUDENT_GITIGNORE, encoding="utf-8")
    workflow = out / ".github" / "workflows" / "classroom.yml"
    workflow.parent.mkdir(parents=True)
    workflow.write_text(WORKFLOW, encoding="utf-8")
    return [*names, "README.md", ".gitignore", ".github/workflows/classroom.yml"]


def write_kit(target: Path, checks_dir: Path | None = None) -> list[str]:
    """The grading kit, a .tar.gz: tests/checks/*.py and solutions/*.ipynb; the names in it."""
    checks = checks_dir or CHECKS
    members = [(f"tests/checks/{path.name}", path) for path in sorted(checks.glob("*.py"))]
    members += [(f"solutions/{path.name}", path) for path in sorted(SOLUTIONS.glob("*.ipynb"))]
    if not any(name.startswith("tests/checks/test_") for name, _ in members):
        raise ClassroomError(f"--checks {str(checks)[:160]}: no check modules (test_*.py) in it")
    partial = target.with_name(target.name + ".partial")
    with tarfile.open(partial, "w:gz") as archive:
        for name, path in members:
            data = path.read_bytes()
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.mtime = len(data), 0o644, 0
            archive.addfile(info, io.BytesIO(data))
    partial.replace(target)
    return [name for name, _ in members]


# ---------------------------------------------------------------------------------------------
# In the workflow: grade, and report in the runners' format


def install_kit(kit: Path, root: Path = ROOT) -> Path:
    """Put the kit's references where the differential checks read them; its checks folder."""
    checks = kit / "tests" / "checks"
    if not kit.is_dir():
        raise ClassroomError(f"--kit {str(kit)[:160]}: no such folder (was the kit fetched?)")
    if not checks.is_dir() or not any(checks.glob("test_*.py")):
        raise ClassroomError(f"--kit {str(kit)[:160]}: no tests/checks/test_*.py in it")
    references = sorted((kit / "solutions").glob("*.ipynb"))
    if not references:
        raise ClassroomError(f"--kit {str(kit)[:160]}: no solutions/*.ipynb in it (the references)")
    (root / "solutions").mkdir(exist_ok=True)
    for path in references:
        shutil.copyfile(path, root / "solutions" / path.name)
    return checks


def chosen(text: str) -> list[manifest.Exercise]:
    words = text.replace(",", " ").split()
    if not words or words == ["all"]:
        return manifest.ordered()
    return [manifest.find(word) for word in words]


def submission_of(exercise: manifest.Exercise) -> Path | None:
    """The student's copy: workspace/ first (make start), else exercises/ when it was edited there."""
    for folder in (workspace.WORKSPACE, EXERCISES):
        path = folder / exercise.notebook_name
        if path.is_file():
            if folder == EXERCISES:
                try:
                    if hashlib.sha256(path.read_bytes()).hexdigest() == exercise.starter_sha256:
                        return None
                except OSError:
                    return None
            return path
    return None


def not_started(exercise: manifest.Exercise, checks: Path) -> Result:
    module = runner.check_module(exercise, checks)
    reason = f"not started: run `make start EX={exercise.number}`, work in workspace/, commit and push"
    result = Result(
        Path("workspace") / exercise.notebook_name, exercise.slug, exercise.number, exercise.title, error=reason
    )
    result.checks = [CheckResult(manifest.VISIBLE_CHECK, 0, manifest.VISIBLE_POINTS, False, reason)]
    result.checks += [
        CheckResult(declared.name, 0, declared.points, False, reason, declared.hint)
        for declared in manifest.declared_checks(module)
    ]
    return result


def _shown(path: Path) -> str:
    return str(path.relative_to(ROOT)) if path.is_absolute() and path.is_relative_to(ROOT) else str(path)


def runner_result(results: list[Result]) -> dict[str, Any]:
    """The autograding runners' result: what classroom-resources/autograding-grading-reporter reads."""
    tests = []
    for result in results:
        for check in result.checks:
            message = "" if check.passed else render.failure_text(check)
            tests.append(
                {
                    "name": f"{result.number} {check.title}",
                    "status": "pass" if check.passed else "fail",
                    "score": check.points,
                    "message": message,
                    "test_code": "",
                    "filename": _shown(result.path),
                    "line_no": 0,
                    "duration": round(result.seconds * 1000 / max(1, len(result.checks))),
                }
            )
    graded = all(result.checks for result in results)
    status = "error" if not graded else "pass" if all(test["status"] == "pass" for test in tests) else "fail"
    return {"version": 1, "status": status, "max_score": sum(result.max_score for result in results), "tests": tests}


def grade(kit: Path, exercises: str, github_output: Path | None, *, sandboxed: bool = True) -> int:
    checks = install_kit(kit)
    wanted = chosen(exercises)
    wanted_sandbox = sandboxed and os.environ.get(NO_SANDBOX, "") not in ("1", "true", "yes")
    options = runner.Options(checks_dir=checks, isolation=sandbox.choose(wanted_sandbox))
    results = []
    for exercise in wanted:
        path = submission_of(exercise)
        result = runner.grade(path, exercise, options) if path is not None else not_started(exercise, checks)
        results.append(result)
        print(render.human(result), end="\n\n", flush=True)
    data = runner_result(results)
    score = sum(result.score for result in results)
    print(f"Points {score}/{data['max_score']}")
    if github_output is not None:
        encoded = base64.b64encode(json.dumps(data).encode()).decode()
        with github_output.open("a", encoding="utf-8") as stream:
            stream.write(f"result={encoded}\n")
    return 0
