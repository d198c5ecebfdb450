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
import base64
import contextlib
import hashlib
import json
import os
import random
import re
import subprocess
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from book import SOLUTIONS
from book.core import report_file
from book.grader import sandbox, wire
from book.grader.checks import AgentSide, CheckFailed

REPORT_WRITER = pytest.StashKey[Any]()
RESULTS = pytest.StashKey[dict[str, dict[str, Any]]]()
LOAD_FAILURES = pytest.StashKey[dict[Path, str]]()
OP_TIMEOUT = 20.0  # one operation; the slowest (a request that runs the learner's tests) takes ~2 s
READY_TIMEOUT = 60.0
MAX_MESSAGE = 600  # characters of a failure message, in the report
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("book", "hidden checks of the FastAPI course")
    group.addoption("--submission", metavar="PATH", action="append", default=[],
                    help="run the checks against this notebook, not the solution; repeat it to run every "
                         "check against each notebook in turn, in one process")
    group.addoption("--book-report", metavar="FILE", help="append each result to FILE (or fd:N) as a JSON line")
    group.addoption("--book-guard", action="store_true",
                    help="sign the report with a key read from stdin (its first line); what follows the key, "
                         "if anything, is the notebook to check (named by --submission-name)")
    group.addoption("--submission-name", default="submission.ipynb", help="the name of a notebook given on stdin")
    group.addoption("--book-seed", type=int, default=None, help="the seed of the data the checks make up")
    group.addoption("--book-cell-timeout", metavar="SECONDS", type=float, default=10.0,
                    help="stop a notebook cell that runs longer than this (default 10)")
    group.addoption("--book-mirror", action="store_true",
                    help="run every cell, check cells included, once per notebook, and report the result")
    group.addoption("--book-isolation", choices=(sandbox.SANDBOX, sandbox.CONTAINER, sandbox.NONE), default=None,
                    help="where the learner's code runs (default: a sandbox where bubblewrap works)")
    group.addoption("--book-limits", default="", help="memory_mb,processes,disk_mb for the learner's processes")
    group.addoption("--book-op-timeout", type=float, default=OP_TIMEOUT,
                    help=f"seconds one operation in the learner's process may take (default {OP_TIMEOUT:g})")
    group.addoption("--book-later", action="store_true",
                    help="with --book-guard: read stdin once the checks are collected and the agent is warm")
    group.addoption("--book-warm-imports", default="", help="libraries for the agent to import before any notebook")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "check(points, hint): a graded hidden check")
    config.stash[RESULTS] = {}
    config.stash[LOAD_FAILURES] = {}
    if config.getoption("--book-guard") and config.getoption("--book-later"):
        config.option.submission = [Path(config.getoption("--submission-name")).name]
        config.stash[REPORT_WRITER] = _later_writer(config)
    else:
        config.stash[REPORT_WRITER] = _writer(config.getoption("--book-report"), _take_stdin(config))


def _take_stdin(config: pytest.Config) -> bytes | None:
    """The key, under --book-guard (and the notebook that may follow it, kept for the checks)."""
    if not config.getoption("--book-guard"):
        return None
    key, notebook = _read_stdin()
    if notebook is not None:
        name = Path(config.getoption("--submission-name")).name
        _CELLS[Path(name)] = _cells_of(notebook)
        config.option.submission = [name]
    return key


def _later_writer(config: pytest.Config) -> Any:
    """A writer that takes the key from stdin the first time it is needed (or when the run begins)."""
    chosen: list[Any] = []

    def write(entry: dict[str, Any]) -> None:
        if not chosen:
            chosen.append(_writer(config.getoption("--book-report"), _take_stdin(config)))
        chosen[0](entry)

    write.ready = lambda: write({"kind": "start", "id": "start"})  # type: ignore[attr-defined]
    return write


def _read_stdin() -> tuple[bytes, dict[str, Any] | None]:
    """The grader's key (the first line of stdin) and the notebook that may follow it, as JSON."""
    data = b""
    while chunk := os.read(0, 1 << 20):
        data += chunk
    first, _, rest = data.partition(b"\n")
    try:
        key = bytes.fromhex(first.decode().strip())
    except ValueError:
        key = b""
    if len(key) < 16:  # pytest's fd capture (the default) gives stdin as /dev/null: use --capture=sys
        raise pytest.UsageError("--book-guard: no key on stdin (run with --capture=sys)")
    if not rest.strip():
        return key, None
    try:
        return key, json.loads(rest)
    except ValueError:
        raise pytest.UsageError("--book-guard: what follows the key is not a notebook") from None


def _writer(target: str | None, key: bytes | None) -> Any:
    fd = int(target[3:]) if target and target.startswith("fd:") else None

    def write(entry: dict[str, Any]) -> None:
        if fd is not None:
            os.write(fd, report_file.line(entry, key).encode())
        elif target:
            with open(target, "a", encoding="utf-8") as out:
                out.write(report_file.line(entry, key))

    return write


def write(config: pytest.Config, entry: dict[str, Any]) -> None:
    config.stash[REPORT_WRITER](entry)


# --- the agent, from the judge's side ------------------------------------------------------------


class AgentGone(Exception):
    """The agent, or the notebook process of this check, ended or stopped answering."""


@dataclass
class Handle:
    """An object that stays in the agent, named by number; pass it back as an argument."""

    number: int
    type: str

    def wire(self) -> dict[str, Any]:
        return {"$handle": self.number, "type": self.type}


def _to_wire(value: Any) -> Any:
    if isinstance(value, Handle):
        return value.wire()
    if isinstance(value, dict):
        return {key: _to_wire(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_to_wire(item) for item in value]
    return value


def _from_wire(value: Any) -> Any:
    if isinstance(value, dict):
        if "$handle" in value and set(value) <= {"$handle", "type"}:
            return Handle(int(value["$handle"]), str(value.get("type", "")))
        return {key: _from_wire(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_from_wire(item) for item in value]
    return value


class Agent:
    """The warm agent process and the pipes to it: one notebook process at a time, forked on demand."""

    def __init__(self, isolation: sandbox.Isolation, limits: sandbox.Limits, op_timeout: float = OP_TIMEOUT,
                 warm: tuple[str, ...] = ()) -> None:
        self.isolation, self.limits, self.op_timeout = isolation, limits, op_timeout
        self.lock = threading.Lock()
        self.pending: dict[int, tuple[asyncio.AbstractEventLoop, asyncio.Future[dict[str, Any]]]] = {}
        self.numbers = iter(range(1, 1 << 62))
        self.ready = threading.Event()
        self.exited = threading.Event()
        self.exit_status: int | None = None
        self.gone = ""
        self.child_alive = False
        to_agent_read, self.to_agent = os.pipe()
        self.from_agent, from_agent_write = os.pipe()
        control_read, self.control = os.pipe()
        argv = [sys.executable, "-m", "book.grader.agent", "--control", str(control_read), "--warm", ",".join(warm)]
        self.process = sandbox.start(argv, isolation, limits, stdin=to_agent_read, stdout=from_agent_write,
                                     pass_fds=(control_read,))
        for fd in (to_agent_read, from_agent_write, control_read):
            os.close(fd)
        threading.Thread(target=self._read, daemon=True).start()
        if not self.ready.wait(READY_TIMEOUT) or self.gone:
            self.gone = self.gone or f"the agent did not start within {READY_TIMEOUT:g} s"

    def _read(self) -> None:
        while True:
            try:
                message = wire.receive(self.from_agent)
            except wire.WireError as exc:
                self._fail_all(f"the agent sent something that is not a message ({exc})")
                message = None
            if message is None:
                reason = self.process.exceeded or "the notebook's processes ended"
                self.gone = self.gone or reason
                self._fail_all(reason)
                self.exited.set()
                self.ready.set()
                return
            if message.get("ready"):
                self.ready.set()
            elif message.get("event") == "exited":
                self.exit_status = message.get("status")
                self.child_alive = False
                self._fail_all(self.process.exceeded or f"the notebook's process ended (exit status {self.exit_status}"
                               ": os._exit, a crash, or stopped at its time limit)")
                self.exited.set()
            else:
                number = message.get("id")
                with self.lock:
                    waiting = self.pending.pop(number, None) if isinstance(number, int) else None
                if waiting is not None:
                    loop, future = waiting
                    loop.call_soon_threadsafe(_settle, future, message)

    def _fail_all(self, reason: str) -> None:
        with self.lock:
            waiting, self.pending = self.pending, {}
        for loop, future in waiting.values():
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(_settle, future, AgentGone(reason))

    async def request(self, op: str, timeout: float | None = None, **fields: Any) -> dict[str, Any]:
        """Send one operation; its reply, or AgentGone (with the kill of a process that overran)."""
        timeout = self.op_timeout if timeout is None else timeout
        if self.gone:
            raise AgentGone(self.gone)
        loop = asyncio.get_running_loop()
        future: asyncio.Future[dict[str, Any]] = loop.create_future()
        number = next(self.numbers)
        with self.lock:
            self.pending[number] = (loop, future)
        try:
            with self.lock:
                wire.send(self.to_agent, {"id": number, "op": op, **_to_wire(fields)})
        except OSError:
            raise AgentGone(self.process.exceeded or "the agent has ended") from None
        try:
            return await asyncio.wait_for(future, timeout)
        except TimeoutError:
            with self.lock:
                self.pending.pop(number, None)
            self.kill_child()
            raise AgentGone(f"no answer within {timeout:g} s (an endless loop, or a wait that never ends?)") from None

    def kill_child(self) -> None:
        with contextlib.suppress(OSError):
            os.write(self.control, b"k")

    async def fork(self) -> None:
        """A notebook process with nothing loaded (to run every cell, or the notebook's own tests)."""
        self.exited.clear()
        await self.request("fork")
        self.child_alive = True

    async def take(self, cells: list[dict[str, Any]], name: str, cell_timeout: float) -> dict[str, Any]:
        """A notebook process with the notebook loaded (the agent loads the next one meanwhile)."""
        self.exited.clear()
        reply = await self.request("take", timeout=cell_timeout * (len(cells) + 1) + 5, cells=cells, name=name,
                                   cell_timeout=cell_timeout)
        self.child_alive = bool(reply.get("ok"))
        return reply

    async def end(self) -> None:
        """End the notebook process of this check, and wait until it is gone."""
        if self.child_alive and not self.gone:
            with contextlib.suppress(AgentGone):
                await self.request("end", timeout=10)
        if not await asyncio.to_thread(self.exited.wait, 10):
            self.kill_child()
            await asyncio.to_thread(self.exited.wait, 10)
        self.child_alive = False

    def close(self) -> None:
        for fd in (self.to_agent, self.control):
            with contextlib.suppress(OSError):
                os.close(fd)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.process.wait(timeout=5)
        self.process.kill()


def _settle(future: asyncio.Future[dict[str, Any]], outcome: dict[str, Any] | BaseException) -> None:
    if future.done():
        return
    if isinstance(outcome, BaseException):
        future.set_exception(outcome)
    else:
        future.set_result(outcome)


class Agents:
    """The judge's agent, started again when a submission's code killed it."""

    def __init__(self, config: pytest.Config) -> None:
        wanted = config.getoption("--book-isolation")
        self.isolation = (sandbox.choose(True) if wanted is None else
                          sandbox.choose(False) if wanted == sandbox.NONE else sandbox.choose(True))
        numbers = [int(part) for part in str(config.getoption("--book-limits") or "").split(",") if part.strip()]
        self.limits = sandbox.Limits(*numbers) if numbers else sandbox.Limits()
        self.op_timeout = float(config.getoption("--book-op-timeout"))
        self.submissions = [Path(path) for path in config.getoption("--submission")]
        self.current: Agent | None = None

    def get(self, warm: tuple[str, ...] | None = None) -> Agent:
        """The agent; a new one (importing `warm`, or what the notebooks import) if there is none or it died."""
        if warm is None:
            for path in self.submissions:  # what they import is imported once in the agent
                code_cells(path)
        if self.current is None or self.current.gone:
            if self.current is not None:
                self.current.close()
            self.current = Agent(self.isolation, self.limits, self.op_timeout,
                                 imported_libraries() if warm is None else warm)
        return self.current

    def close(self) -> None:
        if self.current is not None:
            self.current.close()


# --- what a check sees ---------------------------------------------------------------------------


@dataclass
class Traced:
    """A traced request, as data: its text (for a failure's "seen"), status and events."""

    text: str
    status: int | None
    events: list[dict[str, str]]

    def calls(self, name: str) -> int:
        return sum(1 for event in self.events if event["kind"] == "call" and event["who"] == name)

    def exits(self, name: str) -> int:
        return sum(1 for event in self.events if event["kind"] == "exit" and event["who"] == name)


MISSING = object()


class Notebook:
    """The learner's notebook, loaded in the agent for one check: ask it for data."""

    def __init__(self, agent: Agent, path: Path) -> None:
        self.agent, self.path = agent, path

    async def _value(self, reply: dict[str, Any]) -> Any:
        if not reply.get("ok"):
            raise CheckFailed(called="the notebook, in the grader's process", got=reply.get("error", "an error"),
                              expected="an answer")
        return _from_wire(reply.get("value"))

    async def probe(self, name: str, *args: Any) -> Any:
        return await self._value(await self.agent.request("probe", name=name, args=list(args)))

    async def call(self, helper: AgentSide, *args: Any, timeout: float | None = None) -> Any:
        """Run a check's ``@agent_side`` helper in the agent; what it returned, as data or a Handle."""
        reply = await self.agent.request("call", timeout=timeout, source=helper.source, name=helper.name,
                                         args=list(args))
        return await self._value(reply)

    async def value(self, name: str, default: Any = MISSING) -> Any:
        found = await self.probe("value", name)
        if isinstance(found, dict) and found.get("$missing"):
            if default is MISSING:
                raise CheckFailed(called=f"the name {name}", got="not defined in the notebook",
                                  expected=f"the exercise's {name}")
            return default
        return found

    async def override(self, name: str, replacement: Handle) -> None:
        await self.probe("override", name, replacement)

    async def override_value(self, name: str, result: Any) -> None:
        await self.probe("override_value", name, result)

    async def override_instance(self, name: str, class_name: str, **kwargs: Any) -> None:
        await self.probe("override_instance", name, class_name, kwargs)

    async def override_recorder(self, name: str, result: Any) -> None:
        """Override `name` with a dependency returning `result`; `recorded(name)` counts its calls."""
        await self.probe("override_recorder", name, result)

    async def recorded(self, name: str) -> int:
        return int(await self.probe("recorded", name))

    async def checked_out(self, engine_name: str = "engine") -> int:
        """Connections the notebook's engine has checked out of its pool right now."""
        return int(await self.probe("checked_out", engine_name))

    async def clear_overrides(self) -> None:
        await self.probe("clear_overrides")

    async def graph(self, route: str) -> str:
        try:
            return str(await self.probe("graph", route))
        except (CheckFailed, AgentGone):
            return ""

    async def trace(self, method: str, path: str, **request: Any) -> Traced:
        found = await self.probe("trace", method, path, request)
        return Traced(found["text"], found["status"], found["events"])

    async def serve(self) -> None:
        reply = await self.agent.request("serve")
        if not reply.get("ok"):
            pytest.fail(reply.get("error", "the app could not be served"), pytrace=False)

    async def unserve(self) -> None:
        reply = await self.agent.request("unserve")
        if not reply.get("ok"):
            raise CheckFailed(called="the app's lifespan, shutting down", got=reply.get("error", "an error"),
                              expected="a clean shutdown")


class AgentTransport(httpx.AsyncBaseTransport):
    """httpx's transport to the learner's app, through the agent: bytes there, bytes back."""

    def __init__(self, agent: Agent) -> None:
        self.agent = agent

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        body = await request.aread()
        try:
            reply = await self.agent.request("http", method=request.method, url=str(request.url),
                                             headers=[[k.decode("latin-1"), v.decode("latin-1")]
                                                      for k, v in request.headers.raw],
                                             body=base64.b64encode(body).decode())
        except AgentGone as exc:
            raise CheckFailed(called=f"{request.method} {request.url.raw_path.decode('ascii', 'replace')}",
                              got=str(exc), expected="an answer") from None
        if not reply.get("ok"):
            raise CheckFailed(called=f"{request.method} {request.url.raw_path.decode('ascii', 'replace')}",
                              got=reply.get("error", "no answer"), expected="an answer")
        try:
            content = base64.b64decode(reply["body"], validate=True)
            headers = [(str(k), str(v)) for k, v in reply["headers"]]
            status = int(reply["status"])
        except (KeyError, TypeError, ValueError):
            raise CheckFailed(called=request.method, got="a malformed answer", expected="an HTTP response") from None
        return httpx.Response(status, headers=headers, content=content, request=request,
                              extensions={"app_error": str(reply.get("app_error") or "")})


# --- fixtures ------------------------------------------------------------------------------------


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    chosen = metafunc.config.getoption("--submission")
    if len(chosen) > 1 and "submission_path" in metafunc.fixturenames:
        metafunc.parametrize("submission_path", [Path(path) for path in chosen], indirect=True,
                             ids=[f"submission{number}" for number in range(len(chosen))])


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


FIRST_REPORTED = pytest.StashKey[bool]()


def _say_first_reported(config: pytest.Config) -> None:
    if not config.stash.get(FIRST_REPORTED, False):
        config.stash[FIRST_REPORTED] = True
        write(config, {"kind": "first", "id": "first"})


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> None:
    if "differential" in getattr(item, "fixturenames", ()):
        _say_first_reported(item.config)


@pytest.hookimpl(tryfirst=True)
def pytest_runtestloop(session: pytest.Session) -> None:
    """With --book-later, warm the agent, then take the notebook; with --book-mirror, run every
    notebook once, check cells included, before the checks."""
    config = session.config
    if config.getoption("--book-guard") and config.getoption("--book-later"):
        warm = tuple(name for name in config.getoption("--book-warm-imports").split(",") if name.isidentifier())
        if not session.testsfailed and not config.option.collectonly:
            _agents(config).get(warm)
        config.stash[REPORT_WRITER].ready()  # reads the key and the notebook: the grade begins here
    if not config.getoption("--book-mirror") or session.testsfailed or config.option.collectonly:
        return
    chosen = [Path(path) for path in config.getoption("--submission")]
    if not chosen:
        exercise = next((getattr(getattr(item, "module", None), "EXERCISE", None) for item in session.items
                         if getattr(item, "module", None) is not None), None)
        chosen = [SOLUTIONS / f"{exercise}.ipynb"] if exercise else []
    cell_timeout = float(config.getoption("--book-cell-timeout"))
    for path in chosen:
        asyncio.run(_mirror(config, _agents(config).get(), path, cell_timeout))


_CELLS: dict[Path, tuple[list[dict[str, Any]], list[dict[str, Any]]]] = {}


def code_cells(path: Path) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(the code cells but check cells, every code cell) of a notebook, read here as plain JSON."""
    if path not in _CELLS:
        from book.core import notebooks

        _CELLS[path] = _cells_of(notebooks.load(path))
    return _CELLS[path]


def imported_libraries() -> tuple[str, ...]:
    """The top-level packages the notebooks known so far import (for the agent to import once)."""
    from book.grader import intake

    return tuple(intake.imports_of(cell for _, every in _CELLS.values() for cell in every))


def _cells_of(nb: dict[str, Any]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    from book.core import notebooks

    every = [{"index": cell.index, "source": cell.source} for cell in notebooks.code_cells(nb, skip_tags=frozenset())]
    loaded = [{"index": cell.index, "source": cell.source} for cell in notebooks.code_cells(nb)]
    return loaded, every


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
    entry: dict[str, Any] = {"kind": "mirror", "id": f"mirror:{path}", "submission": str(path), "passed": False,
                             "message": ""}
    try:
        await agent.fork()
        reply = await agent.request("run_all", timeout=cell_timeout * (len(every) + 1) + 5, cells=every,
                                    name=path.name, cell_timeout=cell_timeout)
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
        _record_check(item, report, marker)
    return report


def _record_check(item: pytest.Item, report: pytest.TestReport, marker: pytest.Mark) -> None:
    results = item.config.stash[RESULTS]
    if report.failed:
        report.sections.append(("hint", marker.kwargs["hint"]))
    if report.when == "call" or report.failed:  # a failure in setup or teardown fails the check too
        before = results.get(item.nodeid, {})
        params = getattr(getattr(item, "callspec", None), "params", {})
        results[item.nodeid] = entry = {
            "kind": "check",
            "id": item.nodeid,
            "submission": str(params["submission_path"]) if "submission_path" in params else "",
            "name": getattr(item, "originalname", item.name),
            "passed": report.passed and before.get("passed", True),
            "message": message_of(report) if report.failed else before.get("message", ""),
        }
        write(item.config, entry)


def message_of(report: pytest.TestReport) -> str:
    """The learner-facing part of a failure: a check's own message, or what went wrong in one line,
    never the check's source (no assertion rewriting, no traceback)."""
    excinfo = getattr(report, "_book_excinfo", None)
    longrepr = report.longrepr
    crash = getattr(longrepr, "reprcrash", None)
    if crash is not None:
        text = crash.message
    elif isinstance(longrepr, tuple):  # pytest.fail(pytrace=False) in a fixture
        text = str(longrepr[2])
    else:
        text = str(longrepr)
    del excinfo
    text = ANSI.sub("", text)
    for prefix in ("Failed: ", "book.grader.checks.CheckFailed: ", "CheckFailed: ", "book.grader.judge.AgentGone: ",
                   "AgentGone: "):
        text = text.removeprefix(prefix)
    if text.startswith(("AssertionError", "assert ")):  # a bare assert in a check: its expression is source
        text = "a check's assertion failed"
    if not text.startswith(("called ", "the notebook")) and "\n" in text:
        text = text.strip().splitlines()[0]
    text = text.strip()
    return text if len(text) <= MAX_MESSAGE else text[: MAX_MESSAGE - 3] + "..."


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    _say_first_reported(session.config)
    write(session.config, {"kind": "end", "id": "end"})
    if AGENTS in session.config.stash:
        session.config.stash[AGENTS].close()


