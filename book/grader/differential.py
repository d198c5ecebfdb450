"""Differential, stateful checks: the learner's app and the reference app, driven by the same requests.

An exercise's operations are a Hypothesis state machine, a subclass of `Machine`: each rule sends
the same request to both apps (`self.send`) and compares what the exercise fixes (`self.same`:
the status, the JSON, the headers it names); an invariant compares state read on both sides.
Hypothesis draws the sequences from the grade's seed (repeatable for one grade, not guessable
before it), runs each example on fresh processes of both apps, and shrinks a difference to its
shortest sequence, which the failure shows with what the reference answered and what came back.

The reference is the exercise's solution, run by a second agent of the judge's: the learner's code
never sees it (in the sandbox, neither agent sees the other). In a check::

    @check(points=3, hint="...")
    async def test_behaves_as_specified_in_any_sequence(differential):
        await differential.run(NotesMachine)
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
import anyio.from_thread
import anyio.to_thread
import httpx
import pytest
from hypothesis import HealthCheck, Phase, settings
from hypothesis import seed as with_seed
from hypothesis.stateful import RuleBasedStateMachine, get_state_machine_test

from book import SOLUTIONS
from book.grader.agent_link import Agent, AgentGone, Agents
from book.grader.checks import CheckFailed, describe_response, shorten
from book.grader.judge_report import MAX_MESSAGE
from book.grader.remote_notebook import AgentTransport, Notebook
from book.grader.submission_cells import code_cells

EXAMPLES = 6  # sequences drawn per grade; each runs on fresh processes of both apps
STEPS = 6  # requests and changes in a sequence, at most
MAX_SHOWN_STEPS = 12


@dataclass
class Side:
    """One app (the learner's or the reference) in a process of its own, for one example."""

    agent: Agent
    path: Path
    cell_timeout: float
    notebook: Notebook | None = None
    client: httpx.AsyncClient | None = None

    async def start(self) -> None:
        loaded, _ = code_cells(self.path)
        reply = await self.agent.take(loaded, self.path.name, self.cell_timeout)
        if not reply.get("ok") or not reply.get("loaded"):
            # Ended here: the machine's teardown never runs when its start fails, and a process
            # left behind would refuse the next submission's state machine.
            await self.agent.end()
            raise AgentGone(f"the notebook did not run to the end: {reply.get('error', 'no reason given')}")
        self.notebook = Notebook(self.agent, self.path)
        await self.notebook.serve()
        self.client = httpx.AsyncClient(transport=AgentTransport(self.agent), base_url="http://test")

    async def stop(self) -> None:
        if self.client is not None:
            await self.client.aclose()
        await self.agent.end()


@dataclass
class Run:
    """The two sides of one example, and the steps taken so far (what a failure shows)."""

    learner: Side
    reference: Side
    steps: list[str] = field(default_factory=list)


class Machine(RuleBasedStateMachine):
    """A state machine over both apps; subclasses add rules and invariants (see the module's docstring).

    A subclass may also define `tour()`: a fixed sequence, run first on fresh apps, that visits every
    rule with the usual arguments. Common mistakes are then caught the same way in every grade (and
    at once); Hypothesis's sequences, drawn from the grade's seed, look further.
    """

    run: Run  # set by Differential.run before each example

    def tour(self) -> None:
        """The fixed sequence; none by default."""

    def __init__(self) -> None:
        super().__init__()
        self.current = self.__class__.run
        self.current.steps.clear()
        anyio.from_thread.run(self._start)

    async def _start(self) -> None:
        await self.current.learner.start()
        await self.current.reference.start()

    def teardown(self) -> None:
        anyio.from_thread.run(self._stop)

    async def _stop(self) -> None:
        for side in (self.current.learner, self.current.reference):
            with contextlib.suppress(AgentGone):
                await side.stop()

    # --- what rules use -------------------------------------------------------------------------

    def step(self, text: str) -> None:
        self.current.steps.append(text)

    def send(self, method: str, url: str, **request: Any) -> tuple[httpx.Response, httpx.Response]:
        """The same request to the learner's app and to the reference; (learner's, reference's)."""
        self.step(_described(method, url, request))

        async def both() -> tuple[httpx.Response, httpx.Response]:
            learner = await self._client(self.current.learner).request(method, url, **request)
            reference = await self._client(self.current.reference).request(method, url, **request)
            return learner, reference

        return anyio.from_thread.run(both)

    def call(self, function: Callable[[Notebook], Any]) -> tuple[Any, Any]:
        """An async function of a Notebook, run on both sides (probes, agent_side helpers)."""

        async def both() -> tuple[Any, Any]:
            assert self.current.learner.notebook is not None and self.current.reference.notebook is not None
            return await function(self.current.learner.notebook), await function(self.current.reference.notebook)

        return anyio.from_thread.run(both)

    @staticmethod
    def _client(side: Side) -> httpx.AsyncClient:
        assert side.client is not None
        return side.client

    def same(
        self, learner: httpx.Response, reference: httpx.Response, *, json: bool = True, headers: tuple[str, ...] = ()
    ) -> None:
        """Fail unless the learner's response matches the reference's in status, `headers` and, where
        the reference succeeded (2xx), the JSON body: an error's wording is the learner's to choose."""
        json = json and reference.status_code < 300
        differs = learner.status_code != reference.status_code
        if not differs and json:
            differs = _json(learner) != _json(reference)
        for name in headers:
            differs = differs or learner.headers.get(name) != reference.headers.get(name)
        if differs:
            shown = "".join(f"  [{name}: {learner.headers.get(name, '(missing)')}]" for name in headers)
            wanted = "".join(f"  [{name}: {reference.headers.get(name, '(missing)')}]" for name in headers)
            self.fail(describe_response(learner) + shown, _described_status(reference, json) + wanted)

    def agree(self, what: str, learner: Any, reference: Any) -> None:
        """Fail unless a value read on the learner's side equals the reference's."""
        if learner != reference:
            self.fail(f"{what}: {shorten(learner)}", f"{what}: {shorten(reference)}")

    def fail(self, got: str, expected: str) -> None:
        # The report keeps MAX_MESSAGE characters: leave room for what came back and what was
        # expected, and drop the oldest steps rather than those.
        room = max(120, MAX_MESSAGE - len(got) - len(expected) - 100)
        steps: list[str] = []
        for step in reversed(self.current.steps[-MAX_SHOWN_STEPS:]):
            if steps and sum(len(s) + 8 for s in (*steps, step)) > room:
                break
            steps.insert(0, step)
        skipped = len(self.current.steps) - len(steps)
        called = "; then ".join(steps) or "the app, fresh"
        if skipped:
            called = f"({skipped} steps before) " + called
        raise CheckFailed(called=called, got=got, expected=expected + "  (as the exercise asks)")


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return response.text


def _described(method: str, url: str, request: dict[str, Any]) -> str:
    text = f"{method} {url}"
    params = request.get("params")
    if params:
        text += "?" + "&".join(f"{key}={value}" for key, value in params.items())
    if "json" in request:
        text += f" {shorten(request['json'], 60)}"
    auth = (request.get("headers") or {}).get("Authorization")
    if auth:
        text += f" as {shorten(auth, 40)}"
    return text


def _described_status(response: httpx.Response, json: bool) -> str:
    return describe_response(response) if json else str(response.status_code)


class Differential:
    """What a differential check asks for: run a state machine against both apps."""

    def __init__(
        self, learner: Agents, reference: Agents, submission: Path, exercise: str, seed: int, cell_timeout: float
    ) -> None:
        self.learner, self.reference = learner, reference
        self.submission, self.solution = submission, SOLUTIONS / f"{exercise}.ipynb"
        self.seed, self.cell_timeout = seed, cell_timeout

    async def run(self, machine: type[Machine], *, examples: int = EXAMPLES, steps: int = STEPS) -> None:
        """Draw `examples` sequences of up to `steps` steps; fail with the shortest one that differs."""
        code_cells(self.submission), code_cells(self.solution)  # read first: each agent imports their libraries
        machine.run = Run(
            Side(self.learner.get(), self.submission, self.cell_timeout),
            Side(self.reference.get(), self.solution, self.cell_timeout),
        )
        chosen = settings(
            max_examples=examples,
            stateful_step_count=steps,
            deadline=None,
            database=None,
            derandomize=False,
            phases=(Phase.generate, Phase.shrink),
            print_blob=False,
            suppress_health_check=list(HealthCheck),
        )
        test = with_seed(self.seed)(get_state_machine_test(machine, settings=chosen))

        def tour() -> None:
            visit = machine()
            try:
                visit.tour()
            finally:
                visit.teardown()

        try:
            await anyio.to_thread.run_sync(tour)
            await anyio.to_thread.run_sync(test)
        except AgentGone as exc:
            if str(exc).startswith("the notebook did not run to the end"):
                # Said as every other check says it, so the report shows the reason once.
                pytest.fail(str(exc), pytrace=False)
            raise CheckFailed(called="a sequence of requests", got=str(exc), expected="an answer to each") from None


REFERENCE = pytest.StashKey[Agents]()


@pytest.fixture
def differential(request: pytest.FixtureRequest, agents: Agents, submission_path: Path, seed: int) -> Differential:
    """The learner's app and the exercise's reference, for a differential check (see the module's docstring)."""
    config = request.config
    if REFERENCE not in config.stash:
        # Started from this (the main) thread: an agent dies with the thread that started it
        # (PR_SET_PDEATHSIG follows the thread, not the process).
        config.stash[REFERENCE] = reference = Agents(config)
        config.add_cleanup(reference.close)
    exercise = getattr(request.module, "EXERCISE", "")
    return Differential(
        agents, config.stash[REFERENCE], submission_path, exercise, seed, float(config.getoption("--book-cell-timeout"))
    )
