"""The grading image's Dockerfile: what it is made of, checked here; built and run where Docker is.

The build needs a Docker daemon (`docker info` works) and the network, once, to install the pins;
the image then grades a mounted folder with no network (--network none). Without a daemon that
test is skipped, and says why.
"""

import csv
import json
import shlex
import shutil
import subprocess
import uuid
from pathlib import Path

import pytest

from book import ROOT, SOLUTIONS
from book.__main__ import parser
from book.core import manifest
from tests.support import output, tail

DOCKERFILE = ROOT / "Dockerfile"
EXERCISE = manifest.find("01")


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of the Dockerfile, continuation lines joined, comments left out."""
    found, pending = [], ""
    for line in DOCKERFILE.read_text().splitlines():
        if not pending and (not line.strip() or line.lstrip().startswith("#")):
            continue
        pending += line.rstrip().removesuffix("\\") + " "
        if not line.rstrip().endswith("\\"):
            keyword, _, rest = pending.strip().partition(" ")
            found.append((keyword.upper(), rest.strip()))
            pending = ""
    return found


def test_the_image_is_python_slim_with_bubblewrap_and_the_pinned_course() -> None:
    steps = instructions()
    assert steps[0][0] == "FROM" and "python:3." in steps[0][1] and "-slim" in steps[0][1]
    runs = " ".join(rest for keyword, rest in steps if keyword == "RUN")
    assert "bubblewrap" in runs and "book.maintainer.install" in runs and "-r requirements.txt" in runs
    for keyword, rest in steps:
        if keyword == "COPY":
            *sources, _ = [word for word in shlex.split(rest) if not word.startswith("--")]
            for source in sources:
                assert (ROOT / source).exists(), f"COPY {source}: not in the course"


def test_the_entry_point_is_a_grade_command_the_course_accepts() -> None:
    steps = dict(instructions())
    entry, default = json.loads(steps["ENTRYPOINT"]), json.loads(steps["CMD"])
    assert entry[:4] == ["python", "-m", "book", "grade"]
    args = parser().parse_args([*entry[3:], *default])  # argparse exits on an option it does not know
    assert str(args.under) == "/submissions" and args.summary is not None and args.csv is not None


def test_dockerignore_keeps_what_grading_needs_and_leaves_out_the_rest() -> None:
    ignored = {
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    assert {".git", ".venv", "workspace", "_build"} <= ignored
    kept = ("book", "exercises", "solutions", "tests", "tests/checks", "requirements.txt", "constraints.txt")
    assert not ignored & set(kept)


def docker_works() -> str:
    """ "" when a Docker daemon answers, or why not."""
    if shutil.which("docker") is None:
        return "docker is not installed"
    done = subprocess.run(["docker", "info"], capture_output=True, text=True, timeout=60)
    if done.returncode != 0:
        reason = (done.stderr.strip().splitlines() or ["no reason given"])[-1]
        return f"no Docker daemon here ({reason[:120]})"
    return ""


def test_the_image_builds_and_grades_a_mounted_folder_offline(tmp_path: Path) -> None:
    why_not = docker_works()
    if why_not:
        pytest.skip(why_not)
    tag = f"course-grader-test-{uuid.uuid4().hex[:8]}"
    build = subprocess.run(["docker", "build", "-t", tag, str(ROOT)], capture_output=True, text=True, timeout=1800)
    assert build.returncode == 0, tail(build.stderr, 3000)
    try:
        learner = tmp_path / "submissions" / "learner1"
        learner.mkdir(parents=True)
        (learner / EXERCISE.notebook_name).write_bytes((SOLUTIONS / EXERCISE.notebook_name).read_bytes())
        out = tmp_path / "out"
        out.mkdir(mode=0o777)
        out.chmod(0o777)  # the image grades as its own user
        done = subprocess.run(
            [
                "docker",
                "run",
                "--rm",
                "--network",
                "none",
                "-v",
                f"{tmp_path / 'submissions'}:/submissions:ro",
                "-v",
                f"{out}:/out",
                tag,
            ],
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert done.returncode == 0, output(done)
        with (out / "grades.csv").open(newline="") as stream:
            (row,) = list(csv.DictReader(stream))
        assert int(row["score"]) == int(row["max_score"]) == EXERCISE.points
        assert row["isolation"].split()[0] in ("sandbox", "container")
        assert (out / "summary.csv").is_file() and (out / "summary.svg").is_file()
    finally:
        subprocess.run(["docker", "rmi", "-f", tag], capture_output=True, timeout=120)
