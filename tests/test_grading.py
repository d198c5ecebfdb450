"""`python -m book grade`: reports, formats, batch grading, and every kind of broken submission.

The broken submissions are graded in one batch (--jobs 2), which is also the test of batch
grading: one bad notebook never stops the others, and results come in the order given, and of the
files a batch appends to as it goes.
"""

import csv
import json
import os
import re
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from book import EXERCISES, SOLUTIONS
from book.core import manifest, nbfiles
from tests.support import Entry, book, one_line_refusal, still_running, submissions

EXERCISE = "01-typed-aliases"
FULL = manifest.find("01").points  # from the manifest: nothing here depends on the content
SOLUTION = SOLUTIONS / f"{EXERCISE}.ipynb"
STARTER = EXERCISES / f"{EXERCISE}.ipynb"
# the batch fixture: the grading run, each broken submission's result, their paths, the gradebook
Batch = tuple[subprocess.CompletedProcess[str], dict[str, Entry], list[Path], Path]


def grade(*args: object, timeout: float = 300, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """`python -m book grade ARGS`."""
    return book("grade", *args, timeout=timeout, env=env)


def solution() -> nbfiles.NotebookNode:
    return nbfiles.read(SOLUTION, as_version=4)


def code_cell(nb: nbfiles.NotebookNode, startswith: str) -> nbfiles.NotebookNode:
    found: nbfiles.NotebookNode = next(
        cell for cell in nb.cells if cell.cell_type == "code" and cell.source.startswith(startswith)
    )
    return found


def check_cells(nb: nbfiles.NotebookNode) -> list[nbfiles.NotebookNode]:
    return [cell for cell in nb.cells if "check" in cell.get("metadata", {}).get("tags", [])]


def with_cell_after_given(source: str) -> nbfiles.NotebookNode:
    """The solution with one more code cell, right after the given code."""
    nb = solution()
    index = nb.cells.index(code_cell(nb, "from dataclasses import dataclass")) + 1
    nb.cells.insert(index, nbfiles.new_code_cell(source))
    return nb


def edited(change: Callable[[nbfiles.NotebookNode], None]) -> nbfiles.NotebookNode:
    nb = solution()
    change(nb)
    return nb


def no_app(nb: nbfiles.NotebookNode) -> None:
    code_cell(nb, "from dataclasses").source = code_cell(nb, "from dataclasses").source.replace(
        'app = FastAPI(title="Platform")', 'api = FastAPI(title="Platform")'
    )
    code_cell(nb, "### BEGIN SOLUTION: the two routers").source = (
        code_cell(nb, "### BEGIN SOLUTION: the two routers")
        .source.replace("@app.", "@api.")
        .replace("app.include_router", "api.include_router")
    )
    for cell in check_cells(nb):
        cell.source = cell.source.replace("(app)", "(api)").replace("app.dependency", "api.dependency")


def delete_check(nb: nbfiles.NotebookNode) -> None:
    nb.cells.remove(check_cells(nb)[1])


def empty_check(nb: nbfiles.NotebookNode) -> None:
    check_cells(nb)[0].source = ""


def duplicate_check(nb: nbfiles.NotebookNode) -> None:
    nb.cells.append(nbfiles.from_dict(dict(check_cells(nb)[1])))
    nb.cells[-1].id = "duplicate"


def untag_check(nb: nbfiles.NotebookNode) -> None:
    check_cells(nb)[1].metadata["tags"] = []


# name: (notebook, or text for the file, and what the one-line reason must say)
BROKEN: dict[str, tuple[nbfiles.NotebookNode | str, str | None]] = {
    "syntax error": (with_cell_after_given("def broken(:\n    pass"), "SyntaxError on line 1"),
    "IPython magic": (with_cell_after_given("%timeit 1 + 1"), "`%timeit` is IPython syntax"),
    "exception while loading": (
        with_cell_after_given("raise RuntimeError('database unreachable')"),
        "raised RuntimeError: database unreachable",
    ),
    "no app": (edited(no_app), "must define `app = FastAPI(...)`; `app` is nothing"),
    "endless loop": (with_cell_after_given("while True:\n    pass"), "ran past the 6 s limit"),
    "sys.exit": (with_cell_after_given("import sys\nsys.exit(0)"), "SystemExit"),
    "os._exit": (with_cell_after_given("import os\nos._exit(0)"), "the notebook's process ended"),
    "a check cell tagged raises-exception": (
        edited(lambda nb: check_cells(nb)[0].metadata.update(tags=["check", "raises-exception"])),
        "carries the tag `raises-exception`",
    ),
    "an NBVAL_SKIP marker": (with_cell_after_given("# NBVAL_SKIP\nx = 1"), "carries the marker NBVAL_SKIP"),
    "a check cell that is no check": (
        edited(lambda nb: code_cell(nb, "### BEGIN SOLUTION: the two routers").metadata.update(tags=["check"])),
        "is tagged `check` but is not one of the exercise's check cells",
    ),
    "deleted check cell": (edited(delete_check), "check cell 2 (`smaller = Settings(operator="),
    "emptied check cell": (edited(empty_check), "check cell 1 (`def client_for(app)"),
    "duplicated check cell": (edited(duplicate_check), "appears 2 times"),
    "untagged check cell": (edited(untag_check), "lost its `check` tag"),
    "enormous output": (with_cell_after_given("print('x' * 30_000_000)"), None),
    "invalid JSON": ('{"cells": [', "not a valid notebook"),
    "nbformat 3": (
        json.dumps({"nbformat": 3, "nbformat_minor": 0, "metadata": {}, "worksheets": []}),
        "notebook format 3 is not supported",
    ),
}


@pytest.fixture(scope="module")
def batch(tmp_path_factory: pytest.TempPathFactory) -> Batch:
    """Every broken submission, one folder each, graded in one batch with a gradebook."""
    root = tmp_path_factory.mktemp("submissions")
    paths = []
    for number, (name, (content, _)) in enumerate(BROKEN.items()):
        folder = root / f"{number:02d}-{name.replace(' ', '-')}"
        folder.mkdir()
        path = folder / f"{EXERCISE}.ipynb"
        if isinstance(content, str):
            path.write_text(content)
        else:
            nbfiles.write(content, path)
        paths.append(path)
    # 6 s per cell: short enough for the endless loop, long enough for a kernel's first imports on a
    # loaded 2-core machine (this batch runs beside the rest of the suite).
    done = grade(
        *paths,
        "--jobs",
        "2",
        "--json",
        "--csv",
        root / "grades.csv",
        "--jsonl",
        root / "grades.jsonl",
        "--cell-timeout",
        "6",
    )
    results = submissions(done)
    return done, dict(zip(BROKEN, results, strict=True)), paths, root / "grades.csv"


def test_a_batch_reports_every_submission_in_the_order_given(batch: Batch) -> None:
    done, results, paths, _ = batch
    assert done.returncode == 1
    assert [result["path"] for result in results.values()] == [str(path) for path in paths]


@pytest.mark.parametrize("name", [name for name, (_, reason) in BROKEN.items() if reason], ids=str)
def test_a_broken_submission_gets_a_one_line_reason_and_no_pass(batch: Batch, name: str) -> None:
    _, results, _, _ = batch
    result = results[name]
    reason = BROKEN[name][1]
    messages = [result["error"]] + [check["message"] for check in result["checks"]]
    assert any(reason in message for message in messages), messages
    assert not result["passed"] and result["score"] < result["max_score"]
    for message in messages:
        assert "Traceback" not in message and 'File "' not in message


def test_what_a_broken_cell_could_not_reach_scores_zero(batch: Batch) -> None:
    _, results, _, _ = batch
    loaded_none = results["exception while loading"]
    assert loaded_none["score"] == 0, loaded_none


def test_tampered_check_cells_lose_the_visible_points_but_keep_the_hidden_ones(batch: Batch) -> None:
    # (An untagged check cell is the learner's code to the hidden checks, so it is not here.)
    _, results, _, _ = batch
    for name in ("deleted check cell", "emptied check cell", "duplicated check cell"):
        visible, *hidden = results[name]["checks"]
        assert not visible["passed"], name
        assert all(check["passed"] for check in hidden), name


def test_an_enormous_output_is_graded_normally(batch: Batch) -> None:
    _, results, _, _ = batch
    result = results["enormous output"]
    assert result["score"] == result["max_score"], result


def test_the_gradebook_and_json_lines_have_a_row_per_submission(batch: Batch) -> None:
    _, results, paths, gradebook = batch
    with gradebook.open(newline="") as file:
        rows = list(csv.DictReader(file))
    # Rows are appended as submissions finish: every submission once, whatever the order.
    assert sorted(row["submission"] for row in rows) == sorted(str(path) for path in paths)
    by_path = {row["submission"]: row for row in rows}
    assert by_path[str(paths[0])]["student"] == "00-syntax-error"
    assert {row["exercise"] for row in rows} == {EXERCISE}
    assert {path: int(row["score"]) for path, row in by_path.items()} == {
        result["path"]: result["score"] for result in results.values()
    }
    assert all(row["isolation"] and row["sha256"] for row in rows)
    lines = [json.loads(line) for line in gradebook.with_suffix(".jsonl").read_text().splitlines()]
    assert sorted(line["path"] for line in lines) == sorted(str(path) for path in paths)


def test_the_solution_passes_with_exit_status_0() -> None:
    done = grade(SOLUTION)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"score {FULL}/{FULL}" in done.stdout and "✗" not in done.stdout
    assert "graded in: " in done.stdout and "seed " in done.stdout


def test_the_starter_report_names_the_stub_once_with_hints() -> None:
    done = grade(STARTER)
    assert done.returncode == 1
    out = done.stdout
    assert f"score 0/{FULL}" in out
    assert out.count("raised NotImplementedError: the settings alias, paging") == 1  # shown once, not per check
    assert "hint      GET /about answers the settings' operator" in out
    assert out.count("not reached, for the reason above") == len(manifest.find("01").checks) - 1
    assert "Traceback" not in out and "\x1b[" not in out  # no colour when not on a terminal


def test_a_failing_check_says_what_was_called_what_came_back_and_what_was_expected(tmp_path: Path) -> None:
    nb = solution()
    cell = code_cell(nb, "### BEGIN SOLUTION: the two routers")
    cell.source = cell.source.replace(
        "async def about(settings: SettingsDep) -> dict:", "async def about() -> dict:\n    settings = Settings()"
    )
    path = tmp_path / f"{EXERCISE}.ipynb"
    nbfiles.write(nb, path)
    done = grade(path, "--json", "--seed", "7")
    checks = {check["name"]: check for check in submissions(done)[0]["checks"]}
    failed = checks["test_overriding_settings_reaches_every_endpoint"]
    lines = failed["message"].splitlines()
    assert re.fullmatch(r"called    GET /about with get_settings overridden to max_page_size=\d+", lines[0])
    assert lines[1] == 'got       200 {"operator": "Platform Rail", "max_page_size": 8}'
    assert re.fullmatch(r'expected  200 \{"operator": "[A-Za-z ]+ \d+", "max_page_size": \d+\}', lines[2])
    assert "Overriding get_settings with a smaller max_page_size" in failed["hint"]
    assert "expect_response" not in done.stdout  # never the checks' source
    again = grade(path, "--json", "--seed", "7")  # the seed replays the grade: the same made-up data
    replayed = {check["name"]: check for check in submissions(again)[0]["checks"]}
    assert replayed["test_overriding_settings_reaches_every_endpoint"]["message"] == failed["message"]


def test_gradescope_results(tmp_path: Path) -> None:
    done = grade(SOLUTION, "--gradescope", tmp_path)
    results = json.loads((tmp_path / "results.json").read_text())
    assert done.returncode == 0
    assert results["score"] == results["max_score"] == FULL
    assert len(results["tests"]) == 1 + len(manifest.find("01").checks)
    assert {"name", "score", "max_score", "output", "status", "visibility"} <= set(results["tests"][0])
    assert results["extra_data"]["isolation"] and results["extra_data"]["version"] == manifest.find("01").version


PRIVATE_HEADER = 'from book.grader.checks import CheckFailed, check, expect_response\n\nEXERCISE = "01-typed-aliases"\n'


def test_private_checks_folder(tmp_path: Path) -> None:
    (tmp_path / "test_01_typed_aliases.py").write_text(
        PRIVATE_HEADER + '\n\n@check(points=3, hint="A private check.")\n'
        "async def test_about_is_private(client):\n"
        '    expect_response(await client.get("/about"), status=200, json={"app_name": "Secret"})\n'
    )
    done = grade(SOLUTION, "--checks", tmp_path, "--json")
    result = submissions(done)[0]
    assert [check["name"] for check in result["checks"]][1:] == ["test_about_is_private"]
    # the visible check passes; the private check, 3 points, fails
    assert result["score"] == manifest.VISIBLE_POINTS and result["max_score"] == manifest.VISIBLE_POINTS + 3


def test_a_message_never_carries_the_check_modules_text_and_is_capped(tmp_path: Path) -> None:
    secret = "a private expectation nobody may read: SECRET-4242"
    (tmp_path / "test_01_typed_aliases.py").write_text(
        PRIVATE_HEADER + f"# {secret}\n"
        '\n\n@check(points=1, hint="A private check.")\n'
        "async def test_leaks(client):\n"
        '    raise CheckFailed(called=open(__file__).read(), got="x" * 5000, expected="y")\n'
    )
    done = grade(SOLUTION, "--checks", tmp_path, "--json")
    check = submissions(done)[0]["checks"][1]
    assert not check["passed"]
    assert "SECRET-4242" not in done.stdout and len(check["message"]) <= 400


def test_a_reported_check_the_module_does_not_declare_voids_the_grade(tmp_path: Path) -> None:
    (tmp_path / "test_01_typed_aliases.py").write_text(
        PRIVATE_HEADER + '\n\n@check(points=1, hint="Declared.")\n'
        "async def test_declared(client):\n    pass\n\n\n"
        'def _extra():\n    @check(points=100, hint="Not declared where the grader reads.")\n'
        "    async def test_extra(client):\n        pass\n    return test_extra\n\n\n"
        "test_extra = _extra()\n"
    )
    done = grade(SOLUTION, "--checks", tmp_path, "--json")
    result = submissions(done)[0]
    assert result["score"] == 0 and result["max_score"] == manifest.VISIBLE_POINTS + 1  # the declared check's 1
    assert "does not declare (test_extra)" in result["error"]


USAGE = {"usage": True}  # argparse's own refusal: its usage lines, then the reason


@pytest.mark.parametrize(
    "args, reason, how",
    [
        (["no/such/notebook.ipynb"], "no such file", {}),
        (["99"], "there is no exercise 99 (exercises: 01, 02", {}),
        (["01"], "exercise 01 is not started yet", {}),
        (
            ["README.md", "--exercise", "01"],
            "not a notebook",
            {"status": 1, "stderr_lines": 0},
        ),  # graded: refused in the report
        ([str(SOLUTION), "--checks", "no/such/folder"], "--checks no/such/folder: no such folder", {}),
        ([str(SOLUTION), str(SOLUTION), "--gradescope", "out"], "--gradescope writes one submission", {}),
        ([str(SOLUTION), "--jobs", "0"], "must be 1 or more", USAGE),
        ([str(SOLUTION), "--jobs", "two"], "not a whole number", USAGE),
        ([str(SOLUTION), "--resume"], "--resume needs --jsonl FILE or --csv FILE", {}),
        ([str(SOLUTION), str(SOLUTION), "--csv", "/no/such/folder/grades.csv"], "cannot be written", {}),
    ],
)
def test_bad_command_line_input_gets_one_line_and_a_non_zero_exit(
    args: list[str], reason: str, how: dict[str, Any], tmp_path: Path
) -> None:
    one_line_refusal(grade(*args, env={**os.environ, "BOOK_WORKSPACE": str(tmp_path)}), reason, **how)


def test_a_notebook_named_for_no_exercise_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "my-notes.ipynb"
    nbfiles.write(solution(), path)
    one_line_refusal(grade(path), "cannot tell which exercise this is", status=1, stderr_lines=0)


def refused_file(tmp_path: Path, make: Callable[[Path], object]) -> str:
    """Grade a path that `make` turned into something other than a notebook file; its one reason."""
    path = tmp_path / "sub" / f"{EXERCISE}.ipynb"
    path.parent.mkdir()
    make(path)
    started = time.monotonic()
    done = grade(path, "--json", timeout=60)
    assert time.monotonic() - started < 30, "the grader waited on the file"
    result = submissions(done)[0]
    assert done.returncode == 1 and result["score"] == 0
    error: str = result["error"]
    return error


def test_a_fifo_is_refused_at_once(tmp_path: Path) -> None:
    assert "is a FIFO, not a regular file" in refused_file(tmp_path, os.mkfifo)


def test_a_symlink_is_refused_even_to_the_solution(tmp_path: Path) -> None:
    assert "is a symbolic link" in refused_file(tmp_path, lambda path: path.symlink_to(SOLUTION))


def test_a_symlink_to_an_endless_device_is_refused_at_once(tmp_path: Path) -> None:
    assert "is a symbolic link" in refused_file(tmp_path, lambda path: path.symlink_to("/dev/zero"))


def test_a_device_and_a_folder_are_refused(tmp_path: Path) -> None:
    assert "is a folder" in refused_file(tmp_path, os.mkdir)


def test_an_oversized_file_is_refused_without_reading_it(tmp_path: Path) -> None:
    def huge(path: Path) -> None:
        with path.open("wb") as out:
            out.truncate(25_000_000)  # sparse: large, and nothing to read

    assert "too large for a notebook" in refused_file(tmp_path, huge)


def test_a_submission_past_the_time_limit_is_stopped_with_what_it_started(tmp_path: Path) -> None:
    marker = f"{time.time_ns() % 1_000_000}.5"
    nb = with_cell_after_given(f"import subprocess\nchild = subprocess.Popen(['sleep', '{marker}'])")
    for _ in range(3):  # 15 s of cells: past the 10 s limit, which leaves time to reach the cell above
        nb.cells.insert(5, nbfiles.new_code_cell("import time\ntime.sleep(5)"))
    path = tmp_path / f"{EXERCISE}.ipynb"
    nbfiles.write(nb, path)
    done = grade(path, "--time-limit", "10", "--json")
    result = submissions(done)[0]
    assert result["error"] == "stopped after the time limit of 10 s (an endless loop?)"
    assert result["score"] == 0 and done.returncode == 1
    assert not still_running(f"sleep {marker}"), "a process the stopped submission started is still running"
