"""A grader that cannot be fooled: attacks on it earn a submission nothing it did not earn.

Each attack is a code cell put first in a wrong answer to exercise 01 (its solution cutting a page
size over the maximum down instead of refusing it, one of its listed mistakes), so that it runs
before anything else, in the kernel and in the agent. The hidden checks run in the judge, a
process where no learner code runs: what the attacks change is in the learner's own processes, so
the wrong answer keeps exactly the score it had without them. All of them are graded in one batch.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from book import ROOT, SOLUTIONS
from book.core import manifest, nbfiles
from book.grader.report_file import ForgedReport, line, read_report
from tests.support import MUTANTS, Entry, mutant, output, submissions

EXERCISE = "01-typed-aliases"
FULL = manifest.find(EXERCISE).points
# One of exercise 01's listed mistakes (tests/grading/cases), and the checks that catch it.
(WRONG_MUTANT,) = [
    entry for entry in MUTANTS if entry[0] == EXERCISE and entry[1].startswith("a size over the maximum")
]
_, _, WRONG, CAUGHT_BY = WRONG_MUTANT

# Each rewrote the result in the old design, where the checks ran beside the learner's code.
ATTACKS = {
    "no attack": "print('no attack')",
    "pytest's runtest replaced": """\
        import _pytest.python
        _pytest.python.Function.runtest = lambda self: None  # every check "passes" without running
        """,
    "the checks' expect replaced": """\
        import book.grader.checks
        book.grader.checks.expect = lambda *args, **kwargs: None
        book.grader.checks.expect_response = lambda *args, **kwargs: None
        """,
    "a report writer found through the garbage collector": """\
        import gc
        for found in gc.get_objects():
            if callable(found) and getattr(found, "__name__", "") == "write":
                try:
                    found({"kind": "check", "id": "x", "name": sorted(CAUGHT_BY)[0], "passed": True, "message": ""})
                except Exception:
                    pass
        """,
    "a plugin that passes every report": """\
        import gc
        import _pytest.config
        import pytest
        class Passing:
            @pytest.hookimpl(wrapper=True)
            def pytest_runtest_makereport(self, item, call):
                report = yield
                report.outcome = "passed"
                return report
        for found in gc.get_objects():
            if isinstance(found, _pytest.config.Config):
                found.pluginmanager.register(Passing())
        """,
    "sys.settrace rewriting comparisons": """\
        import sys
        def tracer(frame, event, arg):
            if frame.f_code.co_name in ("expect", "expect_response"):
                frame.f_locals["ok"] = True
            return tracer
        sys.settrace(tracer)
        """,
    "httpx.Response patched so every comparison holds": """\
        import httpx
        httpx.Response.json = lambda self, **kw: [{"id": n} for n in range(1, 11)]
        httpx.Response.status_code = property(lambda self: 200)
        """,
    "a report printed and an early exit with status 0": f"""\
        import json, os
        print(json.dumps({{"score": {FULL}, "max_score": {FULL}, "passed": True}}))
        """,
}


def attacked(folder: Path, attack: str) -> Path:
    path = mutant(folder, EXERCISE, WRONG)
    notebook = nbfiles.read(path, as_version=4)
    notebook.cells.insert(0, nbfiles.new_code_cell(textwrap.dedent(attack)))
    nbfiles.write(notebook, path)
    return path


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Entry]:
    root = tmp_path_factory.mktemp("attacks")
    paths = [attacked(root / f"a{number:02d}", attack) for number, attack in enumerate(ATTACKS.values())]
    done = subprocess.run(
        [sys.executable, "-m", "book", "grade", *map(str, paths), "--jobs", "2", "--json", "--seed", "11"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 1, output(done)  # every submission is a wrong answer: it loses points
    return dict(zip(ATTACKS, submissions(done), strict=True))


def scores(result: Entry) -> dict[str, int]:
    return {check["name"]: check["points"] for check in result["checks"]}


def test_the_wrong_answer_alone_loses_points(graded: dict[str, Entry]) -> None:
    result = graded["no attack"]
    assert not result["error"] and 0 < result["score"] < result["max_score"]
    assert {name for name, points in scores(result).items() if not points} == {
        "runs top to bottom in a fresh kernel, check cells included",  # the check cell asks for a page too big
        *CAUGHT_BY,
    }


@pytest.mark.parametrize("attack", [name for name in ATTACKS if name != "no attack"])
def test_an_attack_in_the_learners_process_earns_nothing(graded: dict[str, Entry], attack: str) -> None:
    honest, result = graded["no attack"], graded[attack]
    gained = {name: points for name, points in scores(result).items() if points > scores(honest)[name]}
    assert not gained, f"{attack} earned {gained}"


def test_canned_answers_fail_when_the_data_is_made_up_per_grade(tmp_path: Path) -> None:
    """An app that replays the answers of one grade (as a learner who read public checks might)
    fails another grade, whose seed makes up other queries."""
    recorded = {
        "/departures?destination=Fairhaven&sort=destination": [6, 7],
    }
    canned = textwrap.dedent(f"""\
        from fastapi import FastAPI, Request
        recorded = {recorded!r}
        app = FastAPI()

        @app.get("/departures")
        async def departures(request: Request):
            key = request.url.path + ("?" + request.url.query if request.url.query else "")
            found = recorded.get(key, list(range(1, 9)))
            return {{"total": len(found), "items": [{{"id": n}} for n in found]}}
        """)
    notebook = nbfiles.read(SOLUTIONS / f"{EXERCISE}.ipynb", as_version=4)
    notebook.cells.insert(len(notebook.cells) - 2, nbfiles.new_code_cell(canned))
    path = tmp_path / f"{EXERCISE}.ipynb"
    nbfiles.write(notebook, path)
    failed_in = []
    for seed in (1, 2):
        done = subprocess.run(
            [sys.executable, "-m", "book", "grade", str(path), "--json", "--seed", str(seed)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=300,
        )
        result = submissions(done)[0]
        failed_in.append({check["name"] for check in result["checks"] if not check["passed"]})
    for failed in failed_in:
        assert "test_departures_query" in failed


def test_a_signed_report_refuses_a_line_it_did_not_sign(tmp_path: Path) -> None:
    key, report = b"k" * 32, tmp_path / "report.jsonl"
    entry = {"kind": "check", "id": "x", "name": "x", "points": 1, "hint": "", "passed": True, "message": ""}
    report.write_text(line(entry, key) + line({"kind": "end", "id": "end"}, key))
    assert read_report(report, key) == ([entry], True)
    for forged in (line(entry), line(entry, b"another key"), json.dumps({"entry": entry, "mac": "0" * 64}) + "\n"):
        report.write_text(line(entry, key) + forged)
        with pytest.raises(ForgedReport):
            read_report(report, key)


def test_a_fake_test_runner_in_exercise_10_catches_no_mutant(tmp_path: Path) -> None:
    """The learner's tests run in the agent, where a notebook can replace the runner and claim any
    verdict; but every variant runs under the same names, in an order drawn per grade, so a runner
    that does not run the tests cannot tell the mutants from the given app."""
    fake = textwrap.dedent("""\
        import book.learner.suite as suite
        from book.learner.suite_result import Outcome, SuiteResult
        def run_pytest(namespaces, stop_early=()):
            return {key: SuiteResult(tests=[Outcome("test_everything", True)]) for key in namespaces}
        suite.run_pytest = run_pytest
        """)
    notebook = nbfiles.read(SOLUTIONS / "10-testing-overrides.ipynb", as_version=4)
    notebook.cells.insert(0, nbfiles.new_code_cell(fake))
    path = tmp_path / "10-testing-overrides.ipynb"
    nbfiles.write(notebook, path)
    done = subprocess.run(
        [sys.executable, "-m", "book", "grade", str(path), "--json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    result = submissions(done)[0]
    caught = [
        check["name"] for check in result["checks"] if check["name"].startswith("test_you_catch") and check["passed"]
    ]
    # at most the points of the checks that are not about catching a mutant, from the manifest
    ten = manifest.find("10")
    without_catching = ten.points - sum(check.points for check in ten.checks if check.name.startswith("test_you_catch"))
    assert not caught and result["score"] <= without_catching, (caught, result["score"], without_catching)
