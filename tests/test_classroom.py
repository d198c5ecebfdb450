"""`python -m book classroom`: the student repository, its workflow, and the workflow's grading run here.

The student repository is built into a temporary folder; nothing of the solutions or the hidden
checks may be in it. Then the workflow's own command lines (the archive fetch, with a file:// URL
to a kit made by `--kit`, and the grade step) run in it against a copy of the solution, and the
result they hand to Classroom's reporter is decoded and checked. The repository's .venv is this
one, whose course is this checkout's: a sandbox would not show it, so the run goes without one.
"""

import base64
import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from book import CHECKS, SOLUTIONS
from book.authoring.release import secret_lines
from book.core import manifest, nbfiles
from book.grader import classroom
from tests.support import book, one_line_refusal, output

EXERCISE = manifest.find("01")
FULL = EXERCISE.points


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("classroom")
    done = book("classroom", "--out", folder / "repo", "--kit", folder / "kit.tar.gz")
    assert done.returncode == 0, done.stderr
    return folder / "repo", folder / "kit.tar.gz"


def files_of(repo: Path) -> dict[str, Path]:
    return {path.relative_to(repo).as_posix(): path for path in repo.rglob("*") if path.is_file()}


def test_the_student_repository_has_no_solution_and_no_check(built: tuple[Path, Path]) -> None:
    repo, _ = built
    files = files_of(repo)
    assert not [name for name in files if name.startswith(("solutions/", "tests/"))]
    assert not [name for name in files if Path(name).name.startswith("test_") and name.endswith(".py")]
    private = {
        hashlib.sha256(path.read_bytes()).hexdigest(): path.name
        for path in [*SOLUTIONS.glob("*.ipynb"), *CHECKS.glob("*.py")]
    }
    copied = [
        private[digest]
        for path in files.values()
        if (digest := hashlib.sha256(path.read_bytes()).hexdigest()) in private
    ]
    assert not copied, f"a solution or check module is in the student repository: {copied}"
    notebooks = {name for name in files if name.endswith(".ipynb")}
    assert {name.partition("/")[0] for name in notebooks} <= {"chapters", "exercises"}


def test_no_solution_line_is_in_an_exercise(built: tuple[Path, Path]) -> None:
    repo, _ = built
    for exercise in manifest.ordered():
        notebook = nbfiles.read(repo / "exercises" / exercise.notebook_name, as_version=4)
        # code cells, as tests/test_release.py reads them: a hint in markdown may name a line on purpose
        text = "\n".join(cell.source for cell in notebook.cells if cell.cell_type == "code")
        assert "BEGIN SOLUTION" not in text, exercise.slug
        solution = nbfiles.read(SOLUTIONS / exercise.notebook_name, as_version=4)
        leaked = [line for line in secret_lines(solution) if line in text]
        assert not leaked, f"{exercise.slug}: {leaked[:2]}"


def test_the_repository_has_the_course_a_student_needs(built: tuple[Path, Path]) -> None:
    repo, _ = built
    for name in (
        "Makefile",
        "README.md",
        "requirements.txt",
        "constraints.txt",
        "pyproject.toml",
        "exercises/manifest.json",
        "book/grader/runner.py",
        ".github/workflows/classroom.yml",
    ):
        assert (repo / name).is_file(), name
    assert {path.name for path in (repo / "exercises").glob("*.ipynb")} == {
        exercise.notebook_name for exercise in manifest.ordered()
    }
    assert "make book-class" in (repo / "README.md").read_text()  # the site without the Solutions part
    ignored = (repo / ".gitignore").read_text().splitlines()
    assert "/workspace/" not in ignored and ".grading-kit/" in ignored  # the student commits workspace/


def workflow(repo: Path) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((repo / ".github" / "workflows" / "classroom.yml").read_text())
    return data


def step(data: dict[str, Any], name: str) -> dict[str, Any]:
    (job,) = data["jobs"].values()
    found: dict[str, Any] = next(entry for entry in job["steps"] if entry.get("name") == name)
    return found


def test_the_workflow_reports_to_classroom_as_its_actions_expect(built: tuple[Path, Path]) -> None:
    repo, _ = built
    data = workflow(repo)
    assert data["permissions"]["checks"] == "write"
    grade = step(data, "Grade")
    reporter = step(data, "Autograding Reporter")
    assert reporter["uses"].startswith("classroom-resources/autograding-grading-reporter@")
    runner = reporter["with"]["runners"]
    assert runner == grade["id"]
    # the reporter reads <RUNNER>_RESULTS, the base64 result the grade step writes as its output
    assert reporter["env"][f"{runner.upper()}_RESULTS"] == f"${{{{ steps.{runner}.outputs.result }}}}"


def test_the_workflow_command_lines_grade_the_solution_at_full_marks(built: tuple[Path, Path], tmp_path: Path) -> None:
    repo, kit = built
    data = workflow(repo)
    (repo / ".venv").symlink_to(Path(sys.prefix))
    (repo / "workspace").mkdir()
    (repo / "workspace" / EXERCISE.notebook_name).write_bytes((SOLUTIONS / EXERCISE.notebook_name).read_bytes())
    github_output = tmp_path / "github-output"
    github_output.touch()
    env = {
        **os.environ,
        "BOOK_CHECKS_URL": kit.as_uri(),
        "GITHUB_OUTPUT": str(github_output),
        "BOOK_EXERCISES": "01",
        classroom.NO_SANDBOX: "1",
    }
    for name in ("Fetch the hidden checks (archive)", "Grade"):
        done = subprocess.run(
            ["bash", "-e", "-c", step(data, name)["run"]],
            cwd=repo,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0, f"{name}: {output(done)}"
    assert f"Points {FULL}/{FULL}" in done.stdout
    (line,) = github_output.read_text().splitlines()
    key, _, value = line.partition("=")
    result = json.loads(base64.b64decode(value))
    assert key == "result" and result["version"] == 1 and result["status"] == "pass"
    assert result["max_score"] == FULL == sum(test["score"] for test in result["tests"])
    assert len(result["tests"]) == 1 + len(EXERCISE.checks)
    assert {test["status"] for test in result["tests"]} == {"pass"}
    assert all(test["name"].startswith("01 ") for test in result["tests"])
    # the kit's references went where the differential checks read them, and stay out of git
    assert (repo / "solutions" / EXERCISE.notebook_name).is_file()
    assert "/solutions/" in (repo / ".gitignore").read_text().splitlines()


def test_an_exercise_not_started_scores_zero_with_the_reason(built: tuple[Path, Path], tmp_path: Path) -> None:
    repo, kit = built
    kit_folder = tmp_path / "kit"
    kit_folder.mkdir()
    subprocess.run(["tar", "-xzf", str(kit), "-C", str(kit_folder)], check=True)
    output = tmp_path / "out"
    env = {**os.environ, "BOOK_WORKSPACE": str(tmp_path / "empty"), classroom.NO_SANDBOX: "1"}
    done = book(
        "classroom-grade", "--kit", kit_folder, "--exercises", "03", "--github-output", output, cwd=repo, env=env
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(base64.b64decode(output.read_text().strip().partition("=")[2]))
    assert result["status"] == "fail" and result["max_score"] == manifest.find("03").points
    assert all(test["score"] == 0 and "not started" in test["message"] for test in result["tests"])


@pytest.mark.parametrize(
    "args, reason",
    [
        (["classroom"], "say what to write: --out DIR"),
        (["classroom", "--out", "{tmp}"], "exists and is not an empty folder"),
        (["classroom", "--kit", "{tmp}/no/such/kit.tar.gz"], "its folder does not exist"),
        (["classroom", "--kit", "{tmp}/kit.tar.gz", "--checks", "{tmp}"], "no check modules (test_*.py) in it"),
        (["classroom-grade", "--kit", "{tmp}/none"], "no such folder (was the kit fetched?)"),
        (["classroom-grade", "--kit", "{tmp}"], "no tests/checks/test_*.py in it"),
    ],
)
def test_bad_input_gets_one_line_and_a_non_zero_exit(args: list[str], reason: str, tmp_path: Path) -> None:
    (tmp_path / "something").touch()
    one_line_refusal(book(*[arg.replace("{tmp}", str(tmp_path)) for arg in args]), reason)


def test_an_unknown_exercise_is_one_line(built: tuple[Path, Path], tmp_path: Path) -> None:
    repo, kit = built
    kit_folder = tmp_path / "kit"
    kit_folder.mkdir()
    subprocess.run(["tar", "-xzf", str(kit), "-C", str(kit_folder)], check=True)
    one_line_refusal(
        book("classroom-grade", "--kit", kit_folder, "--exercises", "99", cwd=repo), "there is no exercise 99"
    )
