"""`python -m book gradescope`: the autograder archive, and run_autograder in a simulated /autograder.

The archive is unpacked into AUTOGRADER_ROOT/source as Gradescope does, and run_autograder runs
with the course already installed: BOOK_PYTHON points at this venv instead of setup.sh's. That venv
knows the course of this checkout, which a sandbox would not show, so these runs go without one
(BOOK_NO_SANDBOX=1); on Gradescope setup.sh installs the archive's own course.
"""

import json
import os
import stat
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest

from book import EXERCISES, ROOT, SOLUTIONS
from book.core import manifest
from book.grader import gradescope, sandbox
from tests.support import book, one_line_refusal, output

EXERCISE = manifest.find("01")
FULL = EXERCISE.points
SOLUTION = SOLUTIONS / EXERCISE.notebook_name
STARTER = EXERCISES / EXERCISE.notebook_name
TEST_FIELDS: dict[str, type | tuple[type, ...]] = {
    "name": str,
    "score": (int, float),
    "max_score": (int, float),
    "output": str,
    "visibility": str,
    "status": str,
}


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("archive") / "autograder.zip"
    done = book("gradescope", "01", "--out", out, "--visibility", "after_published")
    assert done.returncode == 0, done.stderr
    return out


def setup_text(archive: Path) -> str:
    with zipfile.ZipFile(archive) as opened:
        return opened.read("setup.sh").decode()


def simulated_root(tmp_path: Path, archive: Path, *submissions: tuple[str, bytes]) -> Path:
    """A folder laid out as Gradescope's /autograder: the archive in source/, the submission's files."""
    root = tmp_path / "autograder"
    with zipfile.ZipFile(archive) as opened:
        opened.extractall(root / "source")
        for info in opened.infolist():  # zipfile does not restore modes; Gradescope's unzip does
            os.chmod(root / "source" / info.filename, (info.external_attr >> 16) & 0o777)
    (root / "submission").mkdir()
    for name, content in submissions:
        (root / "submission" / name).write_bytes(content)
    return root


def run_autograder(root: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "AUTOGRADER_ROOT": str(root), "BOOK_PYTHON": sys.executable, gradescope.NO_SANDBOX: "1"}
    return subprocess.run(
        [str(root / "source" / "run_autograder")], cwd=root, env=env, capture_output=True, text=True, timeout=300
    )


def valid_results(data: dict[str, Any]) -> dict[str, Any]:
    """results.json as Gradescope documents it: the fields it reads, of the types it reads."""
    assert isinstance(data["score"], (int, float)) and isinstance(data["output"], str)
    assert data["visibility"] in gradescope.VISIBILITIES and data["stdout_visibility"] in gradescope.VISIBILITIES
    assert isinstance(data["extra_data"], dict) and isinstance(data["tests"], list)
    for test in data["tests"]:
        for name, kind in TEST_FIELDS.items():
            assert isinstance(test[name], kind), (name, test)
        assert test["status"] in ("passed", "failed") and test["visibility"] in gradescope.VISIBILITIES
        assert 0 <= test["score"] <= test["max_score"]
    if data["tests"]:
        assert data["score"] == sum(test["score"] for test in data["tests"])
    return data


def test_the_archive_holds_what_grading_needs_and_no_other_exercise(archive: Path) -> None:
    with zipfile.ZipFile(archive) as opened:
        infos = {info.filename: info for info in opened.infolist()}
        config = json.loads(opened.read(gradescope.CONFIG))
    for script in ("setup.sh", "run_autograder"):
        assert (infos[script].external_attr >> 16) & stat.S_IXUSR, f"{script} is not executable"
    names = set(infos)
    assert {
        "book/grader/runner.py",
        "book/grading.ini",
        "exercises/manifest.json",
        "requirements.txt",
        "constraints.txt",
        "pyproject.toml",
        f"exercises/{EXERCISE.notebook_name}",
    } <= names
    # the reference is bundled (the differential checks drive it), and no other exercise's
    assert [name for name in names if name.startswith("solutions/")] == [f"solutions/{EXERCISE.notebook_name}"]
    assert [name for name in names if name.startswith("tests/")] == [f"tests/checks/{EXERCISE.check_module.name}"]
    assert "chapters/01-typed-aliases.ipynb" in names  # the hints' pointers read its headings
    assert not [name for name in names if "__pycache__" in name]
    assert config["exercise"] == "01" and config["visibility"] == "after_published"
    for script in ("setup.sh", "run_autograder"):  # bash reads them (syntax only: setup.sh installs)
        with zipfile.ZipFile(archive) as opened:
            text = opened.read(script).decode()
        assert text.startswith("#!/usr/bin/env bash\n")
        checked = subprocess.run(["bash", "-n"], input=text, capture_output=True, text=True, timeout=30)
        assert checked.returncode == 0, checked.stderr
    assert "requirements.txt" in setup_text(archive) and "/autograder/venv" in setup_text(archive)


def test_run_autograder_grades_the_solution_at_full_marks(tmp_path: Path, archive: Path) -> None:
    root = simulated_root(tmp_path, archive, ("my work.ipynb", SOLUTION.read_bytes()))  # any name will do
    done = run_autograder(root)
    assert done.returncode == 0, output(done)
    data = valid_results(json.loads((root / "results" / "results.json").read_text()))
    assert data["score"] == data["max_score"] == FULL
    assert len(data["tests"]) == 1 + len(EXERCISE.checks)
    assert {test["visibility"] for test in data["tests"]} == {"after_published"}
    assert data["extra_data"]["isolation"].startswith("none (--no-sandbox")
    assert f"score {FULL}/{FULL}" in done.stdout


def test_run_autograder_gives_the_starter_hints_as_output(tmp_path: Path, archive: Path) -> None:
    root = simulated_root(tmp_path, archive, (STARTER.name, STARTER.read_bytes()))
    done = run_autograder(root)
    assert done.returncode == 0, output(done)
    data = valid_results(json.loads((root / "results" / "results.json").read_text()))
    assert data["score"] < FULL
    failed = [test for test in data["tests"] if test["status"] == "failed"]
    assert failed and all("hint: " in test["output"] for test in failed)


@pytest.mark.parametrize(
    "submissions, reason",
    [
        ((), "no notebook was submitted: upload your 01-typed-aliases.ipynb"),
        ((("a.ipynb", b"{}"), ("b.ipynb", b"{}")), "2 notebooks were submitted (a.ipynb, b.ipynb)"),
    ],
    ids=["none", "two"],
)
def test_a_submission_that_cannot_be_graded_says_why_in_results_json(
    tmp_path: Path, archive: Path, submissions: tuple[tuple[str, bytes], ...], reason: str
) -> None:
    root = simulated_root(tmp_path, archive, *submissions)
    done = run_autograder(root)
    one_line_refusal(done, reason, status=1)
    data = valid_results(json.loads((root / "results" / "results.json").read_text()))
    assert data["score"] == 0 and reason in data["output"]


def test_an_unreadable_notebook_scores_zero_with_its_reason(tmp_path: Path, archive: Path) -> None:
    root = simulated_root(tmp_path, archive, ("01-typed-aliases.ipynb", b"\x00 not a notebook"))
    done = run_autograder(root)
    data = valid_results(json.loads((root / "results" / "results.json").read_text()))
    assert data["score"] == 0 and len(data["tests"]) == 1 + len(EXERCISE.checks)
    assert "not a valid notebook" in data["output"], data["output"]
    one_line_refusal(done, "not a valid notebook", status=1)


def test_private_checks_are_bundled_with_their_helpers(tmp_path: Path) -> None:
    private = tmp_path / "private"
    private.mkdir()
    module = private / EXERCISE.check_module.name
    module.write_text(EXERCISE.check_module.read_text() + "\n# PRIVATE-7\n")
    (private / "helpers.py").write_text("VALUE = 1\n")
    (private / "test_02_db_session.py").write_text("# another exercise's: not bundled\n")
    out = tmp_path / "private.zip"
    done = book("gradescope", "1", "--out", out, "--checks", private)
    assert done.returncode == 0, done.stderr
    with zipfile.ZipFile(out) as opened:
        assert b"PRIVATE-7" in opened.read(f"tests/checks/{module.name}")
        assert sorted(name for name in opened.namelist() if name.startswith("tests/")) == [
            "tests/checks/helpers.py",
            f"tests/checks/{module.name}",
        ]


def test_all_writes_one_archive_per_exercise(tmp_path: Path) -> None:
    done = book("gradescope", "all", "--out", tmp_path / "archives")
    assert done.returncode == 0, done.stderr
    written = sorted(path.name for path in (tmp_path / "archives").iterdir())
    assert written == sorted(f"autograder-{number}.zip" for number in manifest.load())


@pytest.mark.parametrize(
    "args, reason",
    [
        (["99", "--out", "x.zip"], "there is no exercise 99"),
        (["01", "--out", "autograder.tar"], "ending in .zip"),
        (["01", "--out", "no/such/folder/a.zip"], "its folder does not exist"),
        (["01", "--out", "a.zip", "--checks", "no/such/folder"], "--checks no/such/folder: no such folder"),
        (["01", "--out", "a.zip", "--visibility", "sometimes"], "invalid choice"),
    ],
)
def test_bad_input_gets_one_line_and_a_non_zero_exit(args: list[str], reason: str) -> None:
    done = book("gradescope", *args)
    assert done.returncode == 2
    assert reason in done.stderr and "Traceback" not in done.stderr


def test_a_checks_folder_without_the_exercise_module_is_refused(tmp_path: Path) -> None:
    one_line_refusal(
        book("gradescope", "01", "--out", tmp_path / "a.zip", "--checks", tmp_path), "no test_01_typed_aliases.py in it"
    )
    assert not (tmp_path / "a.zip").exists()


def test_run_autograder_outside_an_archive_says_so(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "book.grader.gradescope", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    one_line_refusal(done, "not an autograder archive's folder")


def test_where_bubblewrap_cannot_make_namespaces_a_container_is_the_isolation(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sandbox, "_bwrap_works", lambda: "bubblewrap cannot create namespaces here (denied)")
    monkeypatch.setattr(sandbox, "in_container", lambda: True)
    chosen = sandbox.choose(True)
    assert chosen.kind == sandbox.CONTAINER and "cannot create namespaces" in chosen.detail


def test_in_gradescopes_root_an_unrecognised_container_is_still_named_the_isolation(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(sandbox, "_bwrap_works", lambda: "bubblewrap cannot create namespaces here (denied)")
    monkeypatch.setattr(sandbox, "in_container", lambda: False)
    chosen = gradescope.isolation_for(Path(gradescope.DEFAULT_ROOT), True)
    assert chosen.kind == sandbox.CONTAINER and chosen.detail.startswith("Gradescope's container")
    assert gradescope.isolation_for(tmp_path, True).kind == sandbox.NONE  # a trial run elsewhere: as it is
    assert gradescope.isolation_for(Path(gradescope.DEFAULT_ROOT), False).kind == sandbox.NONE
