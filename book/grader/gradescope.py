"""Gradescope: an autograder archive per exercise, and what runs in it for each submission.

``python -m book gradescope 01 --out autograder.zip`` writes the archive Gradescope asks for: at
its root ``setup.sh`` (run once, when Gradescope builds the image: installs the pinned course into
``/autograder/venv``), ``run_autograder`` (run for each submission) and the course files grading
needs, in the course's own layout, as Gradescope unpacks them into ``/autograder/source``:

- ``book/`` (the grader), ``pyproject.toml``, ``requirements.txt``, ``constraints.txt``;
- ``exercises/manifest.json`` and the exercise's released notebook (versions are told by it);
- ``tests/checks/`` with the exercise's check module (from ``--checks DIR`` when given, with the
  folder's helper modules), and ``solutions/`` with the exercise's solution only: the differential
  checks drive the learner's app and this reference with the same requests;
- the chapters the checks' hints point into, and ``gradescope.json`` (the exercise, visibility).

``all`` writes one archive per exercise into a folder: a Gradescope assignment is one exercise.

``run_autograder`` runs ``python -m book.grader.gradescope ROOT``: it grades the one notebook in
``ROOT/submission/`` (``AUTOGRADER_ROOT``, default ``/autograder``) as the archive's exercise,
whatever its name, and writes ``ROOT/results/results.json``: a test per check with its points,
what went wrong and the hint as output. A submission it cannot grade (no notebook, two) still gets
a results.json, at score 0, that says why, one line on stderr and exit status 1; so does a file
that is not a notebook (every check at 0, with the reason).
"""

from __future__ import annotations

import json
import os
import stat
import sys
import zipfile
from pathlib import Path
from typing import Any

from book import CHAPTERS, CHECKS, EXERCISES, ROOT, SOLUTIONS
from book.core import manifest
from book.grader import intake, render, runner, sandbox
from book.grader.model import Result

CONFIG = "gradescope.json"
VISIBILITIES = ("visible", "hidden", "after_due_date", "after_published")
DEFAULT_ROOT = "/autograder"
# A trial run outside Gradescope, against a venv whose course is installed from elsewhere, cannot
# use the sandbox (it shows the venv's course, not the archive's): BOOK_NO_SANDBOX=1 says so.
NO_SANDBOX = "BOOK_NO_SANDBOX"
ZIP_TIME = (2020, 1, 1, 0, 0, 0)  # every entry's time: the same archive from the same files

SETUP_SH = r"""#!/usr/bin/env bash
# Gradescope runs this once, as root, while it builds the autograder image (Ubuntu 22.04 or 24.04):
# Python 3.11 or newer, bubblewrap where it installs, and the course's pinned requirements
# (requirements.txt with constraints.txt) in /autograder/venv. Grading itself needs no network.
set -euo pipefail
SOURCE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq python3 python3-venv python3-pip ca-certificates >/dev/null
PYTHON=python3
if ! python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
  apt-get install -y -qq python3.11 python3.11-venv >/dev/null
  PYTHON=python3.11
fi
# bubblewrap gives each submission a sandbox of its own where the container allows namespaces;
# where it does not, the grade says so and the container is the isolation.
apt-get install -y -qq bubblewrap >/dev/null || echo "setup: bubblewrap not installed; the container isolates"
cd "$SOURCE"
"$PYTHON" -m venv /autograder/venv
# book.maintainer.install uses only the standard library: uv where it can have it, pip otherwise.
"$PYTHON" -m book.maintainer.install /autograder/venv -r requirements.txt
/autograder/venv/bin/python -c 'import book.grader.runner' && echo "setup: the course is installed"
"""

RUN_AUTOGRADER = r"""#!/usr/bin/env bash
# Gradescope runs this for each submission: grades the notebook in $AUTOGRADER_ROOT/submission/
# (default /autograder) into $AUTOGRADER_ROOT/results/results.json. BOOK_PYTHON names another
# Python with the course's requirements (a trial run outside Gradescope).
ROOT="${AUTOGRADER_ROOT:-/autograder}"
PYTHON="${BOOK_PYTHON:-/autograder/venv/bin/python}"
cd "$ROOT/source" || { echo "run_autograder: $ROOT/source: no such folder" >&2; exit 2; }
exec "$PYTHON" -m book.grader.gradescope "$ROOT"
"""


class BundleError(Exception):
    """The archive cannot be made (an unknown exercise, a checks folder without its module); one line."""


def bundle_files(exercise: manifest.Exercise, checks_dir: Path | None = None) -> dict[str, Path]:
    """Every course file the exercise's archive holds: {path in the archive: file here}."""
    checks = checks_dir or CHECKS
    module = checks / manifest.check_module_name(exercise.slug)
    if not module.is_file():
        raise BundleError(
            f"--checks {str(checks)[:160]}: no {module.name} in it"
            if checks_dir
            else f"no hidden checks for exercise {exercise.number}: {module} is missing"
        )
    solution = SOLUTIONS / exercise.notebook_name
    if not solution.is_file():
        raise BundleError(f"exercise {exercise.number}: its reference, {solution}, is missing")
    files: dict[str, Path] = {}
    for path in sorted((ROOT / "book").rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
            files[path.relative_to(ROOT).as_posix()] = path
    for name in ("pyproject.toml", "requirements.txt", "constraints.txt"):
        files[name] = ROOT / name
    files["exercises/manifest.json"] = manifest.MANIFEST
    files[f"exercises/{exercise.notebook_name}"] = EXERCISES / exercise.notebook_name
    files[f"solutions/{exercise.notebook_name}"] = solution
    files[f"tests/checks/{module.name}"] = module
    for helper in sorted(checks.glob("*.py")):  # conftest.py, shared helpers: not other exercises' checks
        if not helper.name.startswith("test_"):
            files[f"tests/checks/{helper.name}"] = helper
    for see in sorted({declared.see.partition("#")[0] for declared in manifest.declared_checks(module)} - {""}):
        if (CHAPTERS / see).is_file():
            files[f"chapters/{see}"] = CHAPTERS / see
    return files


def _add(archive: zipfile.ZipFile, name: str, data: bytes, executable: bool = False) -> None:
    info = zipfile.ZipInfo(name, ZIP_TIME)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = ((0o755 if executable else 0o644) | stat.S_IFREG) << 16
    archive.writestr(info, data)


def build(
    exercise: manifest.Exercise,
    out: Path,
    *,
    checks_dir: Path | None = None,
    visibility: str = "visible",
    stdout_visibility: str = "hidden",
) -> Path:
    """Write the exercise's autograder archive to `out`."""
    files = bundle_files(exercise, checks_dir)
    config = {
        "exercise": exercise.number,
        "slug": exercise.slug,
        "version": exercise.version,
        "visibility": visibility,
        "stdout_visibility": stdout_visibility,
    }
    partial = out.with_name(out.name + ".partial")
    with zipfile.ZipFile(partial, "w") as archive:
        _add(archive, "setup.sh", SETUP_SH.encode(), executable=True)
        _add(archive, "run_autograder", RUN_AUTOGRADER.encode(), executable=True)
        _add(archive, CONFIG, (json.dumps(config, indent=1) + "\n").encode())
        for name, path in files.items():
            _add(archive, name, path.read_bytes())
    partial.replace(out)
    return out


# ---------------------------------------------------------------------------------------------
# In the container: grade the submission


class SubmissionError(Exception):
    """A submission that cannot be graded at all; one line, for the learner and the instructor."""


def find_submission(folder: Path, exercise: manifest.Exercise) -> Path:
    """The one notebook in `folder` (at its top, else anywhere below but in checkpoints)."""
    if not folder.is_dir():
        raise SubmissionError(f"{folder}: no such folder: nothing was submitted")
    found = sorted(folder.glob("*.ipynb"))
    if not found:
        found = sorted(
            path
            for path in folder.rglob("*.ipynb")
            if not ({".ipynb_checkpoints", "__MACOSX"} & set(path.relative_to(folder).parts))
        )
    if not found:
        raise SubmissionError(f"no notebook was submitted: upload your {exercise.notebook_name}")
    if len(found) > 1:
        names = ", ".join(str(path.relative_to(folder)) for path in found[:4])
        raise SubmissionError(
            f"{len(found)} notebooks were submitted ({names}): upload only your {exercise.notebook_name}"
        )
    return found[0]


def results(result: Result, config: dict[str, Any]) -> dict[str, Any]:
    """results.json: render.gradescope's fields, with the archive's visibility settings."""
    data = render.gradescope(result)
    visibility = config.get("visibility", "visible")
    data["visibility"] = visibility
    data["stdout_visibility"] = config.get("stdout_visibility", "hidden")
    for test in data["tests"]:
        test["visibility"] = visibility
    data["execution_time"] = round(result.seconds)
    return data


def refused(message: str, config: dict[str, Any]) -> dict[str, Any]:
    return {
        "score": 0,
        "output": f"not graded: {message}",
        "tests": [],
        "visibility": config.get("visibility", "visible"),
        "stdout_visibility": config.get("stdout_visibility", "hidden"),
        "extra_data": {"error": message},
    }


def _write(data: dict[str, Any], folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    partial = folder / ".results.json.partial"
    partial.write_text(json.dumps(data, indent=1), encoding="utf-8")
    partial.replace(folder / "results.json")


def isolation_for(root: Path, wanted: bool) -> sandbox.Isolation:
    """sandbox.choose's answer; in Gradescope's /autograder, where bubblewrap gets no namespaces and
    the container goes unrecognised, the container is still what isolates, and the grade says so."""
    chosen = sandbox.choose(wanted)
    if wanted and chosen.kind == sandbox.NONE and root == Path(DEFAULT_ROOT):
        return sandbox.Isolation(sandbox.CONTAINER, f"Gradescope's container; {chosen.detail}")
    return chosen


def run(root: Path) -> int:
    """Grade ROOT/submission's notebook into ROOT/results/results.json; 0 when graded."""
    try:
        config = json.loads((ROOT / CONFIG).read_text(encoding="utf-8"))
        exercise = manifest.find(str(config["exercise"]))
    except (OSError, ValueError, KeyError, TypeError, manifest.ManifestError) as exc:
        print(
            f"run_autograder: this is not an autograder archive's folder ({ROOT / CONFIG}: {type(exc).__name__})",
            file=sys.stderr,
        )
        return 2
    out = root / "results"
    try:
        path = find_submission(root / "submission", exercise)
    except SubmissionError as exc:
        _write(refused(str(exc), config), out)
        print(f"run_autograder: {exc}", file=sys.stderr)
        return 1
    wanted = os.environ.get(NO_SANDBOX, "") not in ("1", "true", "yes")
    options = runner.Options(isolation=isolation_for(root, wanted))
    try:
        intake.parse(path, intake.read_bytes(path))
        unreadable = ""
    except intake.Refused as exc:  # graded all the same: every check at 0, with this reason
        unreadable = str(exc)
    result = runner.grade(path, exercise, options)
    _write(results(result, config), out)
    print(render.human(result))  # Gradescope keeps stdout for the instructor
    if unreadable:
        print(f"run_autograder: {unreadable}", file=sys.stderr)
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    root = Path(args[0] if args else os.environ.get("AUTOGRADER_ROOT") or DEFAULT_ROOT)
    try:
        return run(root)
    except (runner.GradingError, manifest.ManifestError, OSError) as exc:
        print(f"run_autograder: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
