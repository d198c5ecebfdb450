"""Run one real request and record what FastAPI did, in order.

``await trace(app, "GET", "/notes")`` records each dependency called or served from the per-request
cache, the endpoint, each yield dependency's teardown, the response (start and end) and background
tasks, relative to one another. ``print()`` it for text; display it in Jupyter for a timeline.

It needs no change to the app: for the one request it wraps every dependency through
``app.dependency_overrides`` (the public way to swap a dependency), the endpoint, and Starlette's
``BackgroundTask`` (every background task is one, however it was scheduled), and puts everything
back afterwards. Cache hits call nothing, so they
are placed from the graph: FastAPI resolves sub-dependencies before their parent, in order.
"""

from __future__ import annotations

import contextlib
import inspect
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, cast

import httpx
from fastapi import FastAPI
from starlette.background import BackgroundTask
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from book import apps
from book.learner import drawing
from book.learner.dependency_graph import Graph, Node, callable_kind, callable_label, graph, post_order

_ONE_AT_A_TIME = threading.Lock()  # the patches are process-wide: never two traces at once


@dataclass(frozen=True)
class Event:
    """One thing FastAPI did for the request."""

    kind: str  # "call", "cached", "endpoint", "returned", "raised", "exit", "response", "task", "lifespan"
    who: str
    detail: str = ""


@dataclass(repr=False)
class Trace(drawing.TextAndPicture):
    """What one request did, in order: its events and its response."""

    request: str
    graph: Graph
    events: list[Event] = field(default_factory=list)
    response: httpx.Response | None = None

    def calls(self, target: object) -> int:
        """How many times the request called `target` (a dependency, by its callable or its name)."""
        name = target if isinstance(target, str) else callable_label(target)
        return sum(1 for event in self.events if event.kind == "call" and event.who == name)

    def __str__(self) -> str:
        status = self.response.status_code if self.response is not None else "no response"
        width = max((len(event.kind) for event in self.events), default=4)
        lines = [f"{self.request} -> {status}"]
        for step, event in enumerate(self.events, start=1):
            text = f"{event.who} {event.detail}".rstrip()
            lines.append(f"{step:>3}  {event.kind:<{width}}  {text}")
        return "\n".join(lines)

    def _repr_svg_(self) -> str:
        lanes: list[str] = []
        open_bars: dict[str, list[tuple[str, int]]] = {}  # who -> stack of (lane, start step)
        marks: list[tuple[str, int, int, int, str]] = []

        def lane_of(name: str) -> int:
            if name not in lanes:
                lanes.append(name)
            return lanes.index(name)

        def begin(who: str, step: int) -> None:
            stack = open_bars.setdefault(who, [])
            busy = {lane for lane, _ in stack}
            lane = next(name for n in range(1, 99) if (name := who if n == 1 else f"{who} #{n}") not in busy)
            lane_of(lane)
            stack.append((lane, step))

        def end(who: str, step: int, style: str) -> None:
            lane, start = open_bars[who].pop() if open_bars.get(who) else (who, step)
            marks.append(("bar", lane_of(lane), start, step, style))

        for step, event in enumerate(self.events):
            node = self._node(event.who)
            if event.kind == "cached":
                marks.append(("ring", lane_of(event.who), step, step, "cached"))
            elif event.kind == "call" and node is not None and "generator" in node.kind:
                begin(event.who, step)  # a bar until its teardown (exit)
            elif event.kind == "call":
                marks.append(
                    ("dot", lane_of(event.who), step, step, node.kind.replace(" ", "-") if node else "function")
                )
            elif event.kind == "exit":
                end(event.who, step, "generator")
            elif event.kind == "endpoint":
                begin("endpoint " + event.who, step)
            elif event.kind in ("returned", "raised"):
                end("endpoint " + event.who, step, "endpoint")
            elif event.kind == "response":
                marks.append(("dot", lane_of("response"), step, step, "endpoint"))
            elif event.kind == "task" and event.detail == "started":
                begin("task " + event.who, step)
            elif event.kind == "task":
                end("task " + event.who, step, "async-function")
            elif event.kind == "lifespan":
                marks.append(("dot", lane_of("lifespan"), step, step, "class"))
        for stack in open_bars.values():  # entered, never left (a teardown that did not run)
            for lane, start in stack:
                marks.append(("bar", lane_of(lane), start, len(self.events) - 1, "overridden"))
        steps = [str(step) for step in range(1, len(self.events) + 1)]
        return drawing.timeline_svg(str(self).splitlines()[0], lanes or ["(nothing ran)"], steps, marks)

    def _node(self, label: str) -> Node | None:
        return next((node for node in self.graph.nodes()[1:] if callable_label(node.call) == label), None)


async def trace(app: FastAPI, method: str, path: str, *, lifespan: bool = False, **request: Any) -> Trace:
    """Send one request (httpx keywords: params, headers, json, ...) and record what happened.

    With ``lifespan=True`` the app's lifespan runs around the request, as a server would run it.
    """
    method = method.upper()
    url = httpx.URL(path)
    seen = graph(app, f"{method} {url.path}")
    recorder = _Recorder()
    result = Trace(f"{method} {path}", seen)
    with _ONE_AT_A_TIME, _instrumented(app, seen, recorder):
        async with contextlib.AsyncExitStack() as stack:
            target: ASGIApp = app
            if lifespan:
                recorder.add("lifespan", "startup")
                target = await stack.enter_async_context(apps.serving(app))
                stack.callback(recorder.add, "lifespan", "shutdown")
            recording = _recording_responses(target, recorder)
            client = await stack.enter_async_context(
                httpx.AsyncClient(
                    transport=httpx.ASGITransport(app=recording, raise_app_exceptions=False), base_url=apps.BASE_URL
                )
            )
            result.response = await client.request(method, path, **request)
    result.events = _with_cache_hits(recorder.events, seen)
    return result


class _Recorder:
    """The events of one request, as they happen."""

    def __init__(self) -> None:
        self.events: list[Event] = []

    def add(self, kind: str, who: str, detail: str = "") -> None:
        self.events.append(Event(kind, who, detail))  # list.append is atomic: safe from worker threads


@contextlib.contextmanager
def _instrumented(app: FastAPI, seen: Graph, recorder: _Recorder) -> Iterator[None]:
    overrides = app.dependency_overrides
    saved = dict(overrides)
    endpoint = seen.route.dependant
    original_endpoint = endpoint.call
    original_task_call = BackgroundTask.__call__
    wrappers: dict[int, Callable[..., Any]] = {}
    try:
        for node in seen.nodes()[1:]:
            call = cast("Callable[..., Any]", node.call)  # a dependency: FastAPI calls it
            if id(call) not in wrappers:
                runs = saved.get(call, call)
                wrappers[id(call)] = _wrapped(runs, callable_label(call), recorder, "call")
                overrides[call] = wrappers[id(call)]
        endpoint_call = cast("Callable[..., Any]", original_endpoint)  # a route's endpoint
        endpoint.call = _wrapped(endpoint_call, callable_label(endpoint_call), recorder, "endpoint")

        # Every background task is a Starlette BackgroundTask, however it was scheduled: through
        # FastAPI's BackgroundTasks.add_task, a response's background=..., or Starlette's own.
        async def run_task(self: BackgroundTask) -> None:
            name = callable_label(self.func)
            recorder.add("task", name, "started")
            try:
                await original_task_call(self)
            except BaseException as exc:
                recorder.add("task", name, f"failed: {type(exc).__name__}")
                raise
            recorder.add("task", name, "finished")

        BackgroundTask.__call__ = run_task  # type: ignore[method-assign]  # for this request only
        yield
    finally:
        BackgroundTask.__call__ = original_task_call  # type: ignore[method-assign]  # put back
        endpoint.call = original_endpoint
        overrides.clear()
        overrides.update(saved)


def _wrapped(runs: Callable[..., Any], name: str, recorder: _Recorder, kind: str) -> Callable[..., Any]:
    """A stand-in of the same kind as `runs` (FastAPI decides how to call by kind) that records."""
    shape = callable_kind(runs)
    if kind == "endpoint":

        async def endpoint(*args: Any, **kwargs: Any) -> Any:
            recorder.add("endpoint", name, "called")
            try:
                value = runs(*args, **kwargs)
                if inspect.isawaitable(value):
                    value = await value
            except BaseException as exc:
                recorder.add("raised", name, type(exc).__name__)
                raise
            recorder.add("returned", name)
            return value

        def sync_endpoint(*args: Any, **kwargs: Any) -> Any:
            recorder.add("endpoint", name, "called")
            try:
                value = runs(*args, **kwargs)
            except BaseException as exc:
                recorder.add("raised", name, type(exc).__name__)
                raise
            recorder.add("returned", name)
            return value

        wrapper: Callable[..., Any] = endpoint if "async" in shape else sync_endpoint
    elif shape.endswith("async generator"):

        async def async_generator(*args: Any, **kwargs: Any) -> AsyncIterator[Any]:
            recorder.add("call", name)
            manager = contextlib.asynccontextmanager(lambda: runs(*args, **kwargs))()
            try:
                async with manager as value:
                    yield value
            except BaseException as exc:
                recorder.add("exit", name, f"after {type(exc).__name__}")
                raise
            recorder.add("exit", name)

        wrapper = async_generator
    elif shape.endswith("generator"):

        def generator(*args: Any, **kwargs: Any) -> Iterator[Any]:
            recorder.add("call", name)
            manager = contextlib.contextmanager(lambda: runs(*args, **kwargs))()
            try:
                with manager as value:
                    yield value
            except BaseException as exc:
                recorder.add("exit", name, f"after {type(exc).__name__}")
                raise
            recorder.add("exit", name)

        wrapper = generator
    elif shape.endswith("async function"):

        async def async_function(*args: Any, **kwargs: Any) -> Any:
            recorder.add("call", name)
            return await runs(*args, **kwargs)

        wrapper = async_function
    else:

        def function(*args: Any, **kwargs: Any) -> Any:
            recorder.add("call", name)
            return runs(*args, **kwargs)

        wrapper = function

    # FastAPI reads the signature (and classifies) through __wrapped__: the parameters stay the same.
    wrapper.__wrapped__ = runs  # type: ignore[attr-defined]  # a function takes any attribute
    wrapper.__name__ = wrapper.__qualname__ = name
    return wrapper


def _recording_responses(app: ASGIApp, recorder: _Recorder) -> ASGIApp:
    async def recording(scope: Scope, receive: Receive, send: Send) -> None:
        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                recorder.add("response", str(message["status"]), "started")
            elif message["type"] == "http.response.body" and not message.get("more_body"):
                recorder.add("response", "body", "sent")
            await send(message)

        await app(scope, receive, sending)

    return recording


def _with_cache_hits(events: list[Event], seen: Graph) -> list[Event]:
    """Insert the cache hits where FastAPI served them: between the calls it made, in graph order."""
    cut = next((index for index, event in enumerate(events) if event.kind == "endpoint"), None)
    resolving = events if cut is None else events[:cut]
    calls = [index for index, event in enumerate(resolving) if event.kind == "call"]
    placed: list[tuple[int, Event]] = []  # (index of the call it follows, or -1), event
    scoped: dict[int, str] = {}  # index of a call -> its yield scope, from the graph
    last = -1
    pointer = 0
    for node in post_order(seen.root)[:-1]:
        label = callable_label(node.call)
        if node.cached:
            placed.append((last, Event("cached", label, f"(for {node.name or 'dependencies=[...]'})")))
        elif pointer < len(calls) and resolving[calls[pointer]].who == label:
            last = calls[pointer]
            pointer += 1
            if node.scope:
                scoped[last] = f"({node.scope} scope)"
    reached_end = cut is not None
    result: list[Event] = []
    pending = [(after, event) for after, event in placed if reached_end or after < last]
    for index, event in enumerate(events):
        if index == 0:
            result += [hit for after, hit in pending if after == -1]
        result.append(Event(event.kind, event.who, scoped[index]) if index in scoped else event)
        result += [hit for after, hit in pending if after == index]
    if not events:
        result += [hit for _, hit in pending]
    return result
