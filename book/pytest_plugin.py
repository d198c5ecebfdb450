"""The pytest side of the hidden checks: which notebook, its app, a client, and a results file.

Every check module names its exercise (``EXERCISE = "01-typed-aliases"``); by default the checks
run against that exercise's solution, and ``--submission PATH`` points them at a learner's notebook.
``--book-report FILE`` writes each result as a JSON line the moment it is known, so a grader that
has to stop a runaway submission still has everything that finished before.

``--book-guard`` is how the grader runs it: the report's lines are signed with a key read from
stdin before any submission code runs (book.report_file), and a tripwire watches the code of
pytest, pluggy, nbval, anyio and the book package, and the builtins: a submission that replaces
any of them (to make every check pass, say) is reported as tampering, and scores nothing.
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
import types
from pathlib import Path

import pytest

from book import SOLUTIONS, notebooks, report_file

REPORT_KEY = pytest.StashKey[dict]()
LOAD_FAILURES = pytest.StashKey[dict]()
WRITER = pytest.StashKey[object]()
TRIPWIRE = pytest.StashKey[dict]()
EXIT_STATUS = pytest.StashKey[int]()
# Hooks pytest itself sets around each test.
PYTEST_SETS = ("_pytest.assertion.util._reprcompare", "_pytest.assertion.util._assertion_pass")
# Whose code a submission must leave alone: what runs the checks and writes the report.
GUARDED = ("pytest", "_pytest", "pluggy", "nbval", "anyio.pytest_plugin", "book", "builtins", "hmac", "hashlib", "json")
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def pytest_addoption(parser):
    group = parser.getgroup("book", "hidden checks of the FastAPI course")
    group.addoption("--submission", metavar="PATH", action="append", default=[],
                    help="run the checks against this notebook, not the solution; repeat it to run every "
                         "check against each notebook in turn, in one process")
    group.addoption("--book-report", metavar="FILE", help="append each result to FILE as a JSON line")
    group.addoption("--book-cell-timeout", metavar="SECONDS", type=float, default=None,
                    help="stop a notebook cell of the submission that runs longer than this")
    group.addoption("--book-guard", action="store_true",
                    help="as the grader runs it: sign the report with a key read from stdin, and report "
                         "a submission that replaces the code of pytest, the book package and the like")


def pytest_configure(config):
    config.addinivalue_line("markers", "check(points, hint): a graded hidden check")
    if "nbval.kernel" in sys.modules:  # this run starts kernels: on Unix sockets, which cannot collide
        from book import kernels

        kernels.use_in_nbval()
    config.stash[REPORT_KEY] = {}
    config.stash[LOAD_FAILURES] = {}
    key = _read_key() if config.getoption("--book-guard") else None
    config.stash[WRITER] = _writer(config.getoption("--book-report"), key)


def _read_key() -> bytes:
    """The grader's key, from stdin (fd 0, which pytest's capture leaves alone); stdin is then
    /dev/null, so nothing started later (a kernel) inherits the pipe."""
    data = b""
    while chunk := os.read(0, 1024):
        data += chunk
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    try:
        return bytes.fromhex(data.decode().strip())
    except ValueError:
        raise pytest.UsageError("--book-guard: no key on stdin") from None


def _writer(path: str | None, key: bytes | None):
    # The key lives in this closure only: not in a module global a notebook could read.
    def write(entry: dict) -> None:
        if path:
            with open(path, "a", encoding="utf-8") as out:
                out.write(report_file.line(entry, key))

    return write


def _code_of(modules=GUARDED) -> dict[str, int]:
    """The identity of every function, class, method and code object of the guarded modules."""
    found = {}
    for name, module in list(sys.modules.items()):
        if module is None or not any(name == root or name.startswith(f"{root}.") for root in modules):
            continue
        found[name] = id(module)
        for attr, value in list(vars(module).items()):
            if not isinstance(value, (types.FunctionType, type, types.ModuleType, types.BuiltinFunctionType)):
                continue  # data: a module's own state changes as it runs
            found[f"{name}.{attr}"] = id(value)
            if isinstance(value, types.FunctionType):
                found[f"{name}.{attr}.__code__"] = id(value.__code__)
            if isinstance(value, type) and value.__module__ == name:
                for member, inner in list(vars(value).items()):
                    if isinstance(inner, (types.FunctionType, staticmethod, classmethod, property)):
                        found[f"{name}.{attr}.{member}"] = id(inner)
                        if isinstance(inner, types.FunctionType):
                            found[f"{name}.{attr}.{member}.__code__"] = id(inner.__code__)
    return found


def _arm_tripwire(config) -> None:
    if config.getoption("--book-guard") and TRIPWIRE not in config.stash:
        from book import apps, checks  # noqa: F401  (imported now, so that they are guarded too)

        config.stash[TRIPWIRE] = {"code": _code_of(), "plugins": list(config.pluginmanager.get_plugins()),
                                  "reported": False}


def _check_tripwire(config) -> None:
    """Report, once, the first guarded name a submission replaced."""
    wire = config.stash.get(TRIPWIRE, None)
    if wire is None or wire["reported"]:
        return
    now = _code_of()
    changed = next((name for name, identity in wire["code"].items()
                    if now.get(name) != identity and not name.startswith(PYTEST_SETS)), None)
    if changed is None and config.pluginmanager.get_plugins() != set(wire["plugins"]):
        changed = "pytest's plugins (a plugin was registered or removed)"
    if changed is not None:
        wire["reported"] = True
        _write(config, {"kind": "tampered", "id": "tampered", "why": f"the submission replaced {changed}"})


def pytest_generate_tests(metafunc):
    chosen = metafunc.config.getoption("--submission")
    if len(chosen) > 1 and "submission_path" in metafunc.fixturenames:
        metafunc.parametrize("submission_path", [Path(path) for path in chosen], indirect=True,
                             ids=[f"submission{number}" for number in range(len(chosen))])


@pytest.fixture
def submission_path(request) -> Path:
    if hasattr(request, "param"):
        return request.param
    chosen = request.config.getoption("--submission")
    if chosen:
        return Path(chosen[0])
    exercise = getattr(request.module, "EXERCISE", None)
    if exercise is None:
        pytest.fail(f"{request.module.__name__} does not set EXERCISE", pytrace=False)
    return SOLUTIONS / f"{exercise}.ipynb"


@pytest.fixture
async def notebook(request, submission_path):
    """The notebook's code, run fresh for each check so no check sees another's leftovers.

    A notebook that failed to run fails the same way for every later check without running
    again: an endless loop costs its time limit once, not once per check.
    """
    failures = request.config.stash[LOAD_FAILURES]
    if submission_path in failures:
        pytest.fail(failures[submission_path], pytrace=False)
    _arm_tripwire(request.config)  # before any of the submission's code runs
    try:
        module = await notebooks.run(submission_path, cell_timeout=request.config.getoption("--book-cell-timeout"))
    except notebooks.NotebookError as exc:
        failures[submission_path] = f"the notebook did not run to the end: {exc}"
        pytest.fail(failures[submission_path], pytrace=False)
    finally:
        _check_tripwire(request.config)
    yield module
    sys.modules.pop(module.__name__, None)
    await _dispose_engines(module)


async def _dispose_engines(module) -> None:
    """Close the database engines a notebook opened, so no connection (or its thread) outlives a check."""
    if "sqlalchemy.ext.asyncio" not in sys.modules:
        return
    from sqlalchemy.ext.asyncio import AsyncEngine

    for value in list(vars(module).values()):
        if isinstance(value, AsyncEngine):
            await value.dispose()


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
async def served(app):
    """The app with its lifespan running: an ASGI app that hands each request the lifespan's state."""
    from book import apps  # httpx: only checks that send requests pay for it

    async with apps.serving(app) as asgi_app:
        yield asgi_app


@pytest.fixture
async def client(served):
    from book import apps

    async with apps.client(served) as http:
        yield http


@pytest.fixture
def lifespan_state(served) -> dict:
    """The state the lifespan yielded: each request gets a copy, so a change reaches later requests."""
    return served.lifespan_state


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    marker = item.get_closest_marker("check")
    if marker is not None:
        _record_check(item, report, marker)
    elif type(item).__name__ == "IPyNbCell":  # a cell run by nbval (the visible checks)
        _record_cell(item, report, call)
    return report


def _record_check(item, report, marker) -> None:
    results = item.config.stash[REPORT_KEY]
    if report.failed:
        report.sections.append(("hint", marker.kwargs["hint"]))
    # A check counts once: a failure in setup or teardown fails it too.
    if report.when == "call" or report.failed:
        before = results.get(item.nodeid, {})
        results[item.nodeid] = entry = {
            "kind": "check",
            "id": item.nodeid,
            "submission": str(item.callspec.params["submission_path"]) if _parametrized(item) else "",
            "name": item.originalname,
            "points": marker.kwargs["points"],
            "hint": marker.kwargs["hint"],
            "passed": report.passed and before.get("passed", True),
            "message": _message(report) if report.failed else before.get("message", ""),
        }
        _write(item.config, entry)


def _parametrized(item) -> bool:
    return "submission_path" in getattr(getattr(item, "callspec", None), "params", {})


def _record_cell(item, report, call) -> None:
    if report.when != "call" and not report.failed:
        return
    entry = {"kind": "cell", "id": item.nodeid, "cell": item.cell_num, "passed": report.passed, "message": ""}
    if report.failed:
        error = call.excinfo.value if call.excinfo else None
        trace = ANSI.sub("", getattr(error, "inner_traceback", None) or "")
        lines = [line for line in trace.strip().splitlines() if line.strip()]
        entry["message"] = lines[-1].strip() if lines else ANSI.sub("", str(error)).strip().splitlines()[0]
    _write(item.config, entry)


def _write(config, entry: dict) -> None:
    config.stash[WRITER](entry)


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


def pytest_sessionfinish(session, exitstatus):
    _check_tripwire(session.config)
    # The last line: a report without it comes from a run that was stopped or killed.
    _write(session.config, {"kind": "end", "id": "end"})
    session.config.stash[EXIT_STATUS] = int(exitstatus)


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config):
    """As the grader runs it, end the process once the report is complete.

    The report file is all a grading process leaves behind, and its last line is written. What is
    left is pytest's garbage collections at clean-up and the interpreter tearing down some 1,500
    modules (fastapi, sqlalchemy, pydantic ...): 0.4 to 0.5 s a process, a fifth of a grade.
    """
    if not config.getoption("--book-guard") or EXIT_STATUS not in config.stash:
        return
    import psutil  # comes with ipykernel

    for stream in (sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__):
        with contextlib.suppress(Exception):
            stream.flush()
    for child in psutil.Process().children(recursive=True):  # a kernel or a process a cell started
        with contextlib.suppress(psutil.Error):
            child.kill()
    os._exit(config.stash[EXIT_STATUS])
