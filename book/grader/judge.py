"""The judge: pytest with the hidden checks, in a process where no learner code ever runs.

The learner's notebook runs in the agent (book.grader.agent), a process of its own, in the sandbox
where there is one; the checks here talk to it over a pipe, with length-prefixed JSON and a time
limit on every operation. A check's `client` sends HTTP requests that the agent runs against the
learner's app and answers with bytes; `nb` asks the agent for data (probes, the check's own
``@agent_side`` helpers). No learner object ever comes here, so nothing the learner wrote can
reach the checks, ``expect`` or the report: the checks only compare data they decoded themselves.

Options (the grader passes them; a maintainer may too):
``--submission PATH`` the notebook (repeat it: each check runs against each, in one process);
``--book-report FILE`` each result as a JSON line the moment it is known (signed with a key read
from stdin under ``--book-guard``); ``--book-seed N`` the seed of the data the checks make up;
``--book-mirror`` run every cell, check cells included, once per notebook, and report it;
``--book-isolation sandbox|container|none`` where the agent runs (default: the best available);
``--book-later`` (with ``--book-guard``) read the key and the notebook only once the checks are
collected and the agent has started with ``--book-warm-imports`` imported, so that a grader can start
this process before the learner saves.

The checks that compare with the reference (the ``differential`` fixture) run last; a report line
``{"kind": "first"}`` says that every other check has reported, so a grader can show those at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import random
from pathlib import Path
from typing import Any

import httpx
import pytest

from book import SOLUTIONS
from book.grader import judge_report, sandbox
from book.grader.agent_link import OP_TIMEOUT, Agent, AgentGone, Agents
from book.grader.judge_report import MAX_MESSAGE, write
from book.grader.remote_notebook import AgentTransport, Notebook
from book.grader.submission_cells import code_cells

LOAD_FAILURES = pytest.StashKey[dict[Path, str]]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("book", "hidden checks of the FastAPI course")
    group.addoption(
        "--submission",
        metavar="PATH",
        action="append",
        default=[],
        help="run the checks against this notebook, not the solution; repeat it to run every "
        "check against each notebook in turn, in one process",
    )
    group.addoption("--book-report", metavar="FILE", help="append each result to FILE (or fd:N) as a JSON line")
    group.addoption(
        "--book-guard",
        action="store_true",
        help="sign the report with a key read from stdin (its first line); what follows the key, "
        "if anything, is the notebook to check (named by --submission-name)",
    )
    group.addoption("--submission-name", default="submission.ipynb", help="the name of a notebook given on stdin")
    group.addoption("--book-seed", type=int, default=None, help="the seed of the data the checks make up")
    group.addoption(
        "--book-cell-timeout",
        metavar="SECONDS",
        type=float,
        default=10.0,
        help="stop a notebook cell that runs longer than this (default 10)",
    )
    group.addoption(
        "--book-mirror",
        action="store_true",
        help="run every cell, check cells included, once per notebook, and report the result",
    )
    group.addoption(
        "--book-isolation",
        choices=(sandbox.SANDBOX, sandbox.CONTAINER, sandbox.NONE),
        default=None,
        help="where the learner's code runs (default: a sandbox where bubblewrap works)",
    )
    group.addoption("--book-limits", default="", help="memory_mb,processes,disk_mb for the learner's processes")
    group.addoption(
        "--book-op-timeout",
        type=float,
        default=OP_TIMEOUT,
        help=f"seconds one operation in the learner's process may take (default {OP_TIMEOUT:g})",
    )
    group.addoption(
        "--book-later",
        action="store_true",
        help="with --book-guard: read stdin once the checks are collected and the agent is warm",
    )
    group.addoption("--book-warm-imports", default="", help="libraries for the agent to import before any notebook")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "check(points, hint): a graded hidden check")
    config.stash[LOAD_FAILURES] = {}
    judge_report.start(config)


# --- fixtures ------------------------------------------------------------------------------------


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    chosen = metafunc.config.getoption("--submission")
    if len(chosen) > 1 and "submission_path" in metafunc.fixturenames:
        metafunc.parametrize(
            "submission_path",
            [Path(path) for path in chosen],
            indirect=True,
            ids=[f"submission{number}" for number in range(len(chosen))],
        )


@pytest.fixture
def submission_path(request: pytest.FixtureRequest) -> Path:
    if hasattr(request, "param"):
        return Path(request.param)
    chosen = request.config.getoption("--submission")
    if chosen:
        return Path(chosen[0])
    exercise = getattr(request.module, "EXERCISE", None)
    if exercise is None:
        pytest.fail(f"{request.module.__name__} does not set EXERCISE", pytrace=False)
    return SOLUTIONS / f"{exercise}.ipynb"


AGENTS = pytest.StashKey[Agents]()


def _agents(config: pytest.Config) -> Agents:
    if AGENTS not in config.stash:
        config.stash[AGENTS] = Agents(config)
    return config.stash[AGENTS]


@pytest.fixture(scope="session")
def agents(request: pytest.FixtureRequest) -> Agents:
    """The judge's connection to the learner's side, for the whole run."""
    return _agents(request.config)


def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
    """The checks that compare with the reference last (they take longest): the others report first."""
    items.sort(key=lambda item: "differential" in getattr(item, "fixturenames", ()))


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> None:
    if "differential" in getattr(item, "fixturenames", ()):
        judge_report.say_first_reported(item.config)


@pytest.hookimpl(tryfirst=True)
def pytest_runtestloop(session: pytest.Session) -> None:
    """With --book-later, warm the agent, then take the notebook; with --book-mirror, run every
    notebook once, check cells included, before the checks."""
    config = session.config
    if config.getoption("--book-guard") and config.getoption("--book-later"):
        warm = tuple(name for name in config.getoption("--book-warm-imports").split(",") if name.isidentifier())
        if not session.testsfailed and not config.option.collectonly:
            _agents(config).get(warm)
        judge_report.begin(config)  # reads the key and the notebook: the grade begins here
    if not config.getoption("--book-mirror") or session.testsfailed or config.option.collectonly:
        return
    chosen = [Path(path) for path in config.getoption("--submission")]
    if not chosen:
        exercise = next(
            (
                getattr(getattr(item, "module", None), "EXERCISE", None)
                for item in session.items
                if getattr(item, "module", None) is not None
            ),
            None,
        )
        chosen = [SOLUTIONS / f"{exercise}.ipynb"] if exercise else []
    cell_timeout = float(config.getoption("--book-cell-timeout"))
    for path in chosen:
        asyncio.run(_mirror(config, _agents(config).get(), path, cell_timeout))


@pytest.fixture
def seed(request: pytest.FixtureRequest) -> int:
    """This grade's seed, the same for every check (the grader logs it: a grade can be replayed)."""
    chosen = request.config.getoption("--book-seed")
    return int(chosen) if chosen is not None else 20261203


@pytest.fixture
def rng(request: pytest.FixtureRequest, seed: int) -> random.Random:
    """Random data for this check: from the grade's seed and the check's name, so repeatable."""
    digest = hashlib.sha256(f"{seed}:{request.node.name}".encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


async def _mirror(config: pytest.Config, agent: Agent, path: Path, cell_timeout: float) -> None:
    """Every cell, check cells included, in a fresh process of the agent: the judge's own run."""
    _, every = code_cells(path)
    entry: dict[str, Any] = {
        "kind": "mirror",
        "id": f"mirror:{path}",
        "submission": str(path),
        "passed": False,
        "message": "",
    }
    try:
        await agent.fork()
        reply = await agent.request(
            "run_all",
            timeout=cell_timeout * (len(every) + 1) + 5,
            cells=every,
            name=path.name,
            cell_timeout=cell_timeout,
        )
        cells = reply.get("cells") if reply.get("ok") else None
        if not isinstance(cells, list) or not cells:
            entry["message"] = str(reply.get("error", "the notebook did not run"))[:MAX_MESSAGE]
        else:
            failed = next((cell for cell in cells if isinstance(cell, dict) and not cell.get("ok")), None)
            complete = len(cells) == len(every) and all(isinstance(c, dict) and c.get("ok") for c in cells)
            entry["passed"] = complete
            entry["message"] = "" if complete else str((failed or {}).get("error", "it stopped early"))[:MAX_MESSAGE]
    except AgentGone as exc:
        entry["message"] = str(exc)[:MAX_MESSAGE]
    finally:
        with contextlib.suppress(AgentGone):
            await agent.end()
    write(config, entry)


@pytest.fixture
async def nb(request: pytest.FixtureRequest, submission_path: Path, agents: Agents) -> Any:
    """The learner's notebook, loaded fresh in a process of the agent for this check alone."""
    config = request.config
    failures = config.stash[LOAD_FAILURES]
    cell_timeout = float(config.getoption("--book-cell-timeout"))
    if submission_path in failures:
        pytest.fail(failures[submission_path], pytrace=False)
    loaded, _ = code_cells(submission_path)
    agent = agents.get()
    if agent.gone:
        pytest.fail(f"the notebook could not be run: {agent.gone}", pytrace=False)
    try:
        reply = await agent.take(loaded, submission_path.name, cell_timeout)
    except AgentGone as exc:
        failures[submission_path] = f"the notebook did not run to the end: {exc}"
        await agent.end()
        pytest.fail(failures[submission_path], pytrace=False)
    if not reply.get("ok") or not reply.get("loaded"):
        failures[submission_path] = f"the notebook did not run to the end: {reply.get('error', 'no reason given')}"
        await agent.end()
        pytest.fail(failures[submission_path], pytrace=False)
    yield Notebook(agent, submission_path)
    await agent.end()


@pytest.fixture
async def client(nb: Notebook) -> Any:
    """An httpx client to the learner's app, its lifespan running, every request through the agent."""
    await nb.serve()
    async with httpx.AsyncClient(transport=AgentTransport(nb.agent), base_url="http://test") as http:
        yield http


# --- the report ----------------------------------------------------------------------------------


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    marker = item.get_closest_marker("check")
    if marker is not None:
        judge_report.record_check(item, report, marker)
    return report


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    judge_report.say_first_reported(session.config)
    write(session.config, {"kind": "end", "id": "end"})
    if AGENTS in session.config.stash:
        session.config.stash[AGENTS].close()
