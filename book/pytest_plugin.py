"""The pytest side of the hidden checks: which notebook, its app, a client, and a results file.

Every check module names its exercise (``EXERCISE = "01-typed-aliases"``); by default the checks
run against that exercise's solution, and ``--submission PATH`` points them at a learner's notebook.
``--book-report FILE`` writes each check's outcome, points and hint as JSON for the grader.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from book import SOLUTIONS, apps, notebooks

REPORT_KEY = pytest.StashKey[dict]()


def pytest_addoption(parser):
    group = parser.getgroup("book", "hidden checks of the FastAPI course")
    group.addoption("--submission", metavar="PATH", help="run the checks against this notebook, not the solution")
    group.addoption("--book-report", metavar="FILE", help="write each check's result as JSON to FILE")


def pytest_configure(config):
    config.addinivalue_line("markers", "check(points, hint): a graded hidden check")
    config.stash[REPORT_KEY] = {}


@pytest.fixture
def submission_path(request) -> Path:
    chosen = request.config.getoption("--submission")
    if chosen:
        return Path(chosen)
    exercise = getattr(request.module, "EXERCISE", None)
    if exercise is None:
        pytest.fail(f"{request.module.__name__} does not set EXERCISE", pytrace=False)
    return SOLUTIONS / f"{exercise}.ipynb"


@pytest.fixture
async def notebook(submission_path):
    """The notebook's code, run fresh for each check so no check sees another's leftovers."""
    try:
        module = await notebooks.run(submission_path)
    except notebooks.NotebookError as exc:
        pytest.fail(f"the notebook did not run to the end: {exc}", pytrace=False)
    yield module
    sys.modules.pop(module.__name__, None)


@pytest.fixture
def app(notebook):
    from fastapi import FastAPI

    found = getattr(notebook, "app", None)
    if not isinstance(found, FastAPI):
        got = "nothing" if found is None else type(found).__name__
        pytest.fail(f"the notebook must define `app = FastAPI(...)`; `app` is {got}", pytrace=False)
    yield found
    found.dependency_overrides.clear()


@pytest.fixture
async def client(app):
    async with apps.serving(app) as asgi_app, apps.client(asgi_app) as http:
        yield http


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    marker = item.get_closest_marker("check")
    if marker is None:
        return report
    results = item.config.stash[REPORT_KEY]
    if report.failed:
        report.sections.append(("hint", marker.kwargs["hint"]))
    # A check counts once: a failure in setup or teardown fails it too.
    if report.when == "call" or report.failed:
        results[item.nodeid] = {
            "id": item.nodeid,
            "name": item.originalname,
            "points": marker.kwargs["points"],
            "hint": marker.kwargs["hint"],
            "passed": report.passed and results.get(item.nodeid, {}).get("passed", True),
            "message": _message(report) if report.failed else results.get(item.nodeid, {}).get("message", ""),
        }
    return report


def _message(report) -> str:
    """The learner-facing part of a failure: the check's own message, never the check's source."""
    longrepr = report.longrepr
    crash = getattr(longrepr, "reprcrash", None)
    if crash is not None:
        text = crash.message
    elif isinstance(longrepr, tuple):  # pytest.fail(pytrace=False) in a fixture
        text = longrepr[2]
    else:
        text = str(longrepr)
    for prefix in ("Failed: ", "book.checks.CheckFailed: ", "CheckFailed: "):
        text = text.removeprefix(prefix)
    return text.strip()


def pytest_sessionfinish(session):
    path = session.config.getoption("--book-report")
    if path:
        results = list(session.config.stash[REPORT_KEY].values())
        Path(path).write_text(json.dumps(results, indent=1), encoding="utf-8")
