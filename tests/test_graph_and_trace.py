"""book.graph and book.trace against apps that exercise every corner of FastAPI's resolution.

Each trace is checked against what FastAPI really did (counters inside the app), so the
instruments cannot drift from the framework they show.
"""

import xml.etree.ElementTree as ElementTree
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Annotated, Any

import pytest
from fastapi import APIRouter, BackgroundTasks, Depends, FastAPI, HTTPException, Security
from fastapi.security import SecurityScopes

import book

pytestmark = pytest.mark.anyio


def build_app() -> tuple[FastAPI, dict[str, int], dict[str, Any]]:
    """A small app with one of everything; `counts` records the real calls."""
    counts: dict[str, int] = {}

    def count(name: str) -> None:
        counts[name] = counts.get(name, 0) + 1

    async def get_db() -> AsyncIterator[str]:
        count("get_db")
        yield "db"

    def get_settings() -> str:
        count("get_settings")
        return "settings"

    async def current_user(db: Annotated[str, Depends(get_db)]) -> str:
        count("current_user")
        return "ada"

    def read_scopes(scopes: SecurityScopes) -> list[str]:
        count("read_scopes")
        return scopes.scopes

    class Pagination:
        def __init__(self, skip: int = 0) -> None:
            count("Pagination")
            self.skip = skip

    @dataclass(frozen=True)
    class RequiresRole:
        role: str

        async def __call__(self, user: Annotated[str, Depends(current_user)]) -> str:
            count(f"RequiresRole({self.role})")
            return user

    def verify_key() -> None:
        count("verify_key")

    def audit() -> None:
        count("audit")

    def send_email() -> None:
        count("send_email")

    app = FastAPI(dependencies=[Depends(verify_key)])
    router = APIRouter(dependencies=[Depends(audit)])

    @router.get("/team", dependencies=[Depends(RequiresRole("admin"))])
    async def team(
        tasks: BackgroundTasks,
        user: Annotated[str, Depends(current_user)],
        db: Annotated[str, Depends(get_db)],
        page: Annotated[Pagination, Depends()],
        fresh: Annotated[str, Depends(get_settings, use_cache=False)],
        settings: Annotated[str, Depends(get_settings)],
        read: Annotated[list[str], Security(read_scopes, scopes=["read"])],
        write: Annotated[list[str], Security(read_scopes, scopes=["write"])],
        short: Annotated[str, Depends(get_db, scope="function")],
    ) -> dict[str, Any]:
        tasks.add_task(send_email)
        return {"read": read, "write": write}

    @app.get("/private")
    async def private(user: Annotated[str, Depends(current_user)]) -> dict[str, str]:
        raise HTTPException(403, "no")

    def refuse() -> None:
        raise HTTPException(401, "who are you?", headers={"WWW-Authenticate": "Bearer"})

    @app.get("/refused", dependencies=[Depends(refuse)])
    async def refused(settings: Annotated[str, Depends(get_settings)]) -> dict[str, str]:
        return {}

    app.include_router(router, prefix="/api", dependencies=[Depends(get_settings)])
    names = dict(
        get_db=get_db,
        get_settings=get_settings,
        current_user=current_user,
        Pagination=Pagination,
        RequiresRole=RequiresRole,
    )
    return app, counts, names


def lines(graph: object) -> list[str]:
    """The graph's lines below the endpoint, without the tree drawing."""
    return [line.lstrip(" │├└─") for line in str(graph).splitlines()[2:]]


def test_graph_shows_kinds_levels_sharing_and_scopes() -> None:
    app, _, _ = build_app()
    graph = book.graph(app, "GET /api/team")
    text = str(graph)
    assert text.splitlines()[:2] == ["GET /api/team", "team  [async function]"]
    expected = [
        "verify_key  [function, from app]",
        "get_settings  [function, from include_router, shared]",
        "audit  [function, from router]",
        "RequiresRole(role='admin')  [instance, async function, from decorator]",
        "user: current_user  [async function, shared]",
        "db: get_db  [async generator, request scope, shared]",
        "user: current_user  [async function, cached: reuses the value above]",
        "db: get_db  [async generator, request scope, cached: reuses the value above]",
        "db: get_db  [async generator, request scope, cached: reuses the value above]",
        "page: Pagination  (query skip)  [class]",
        "fresh: get_settings  [function, use_cache=False: fresh each time]",
        "settings: get_settings  [function, cached: reuses the value above]",
        "read: read_scopes  [function, scopes read]",
        "write: read_scopes  [function, scopes write]",
        "short: get_db  [async generator, function scope]",
    ]
    assert lines(graph) == expected
    assert "0x" not in text


async def test_a_trace_counts_what_the_app_counted_and_orders_teardown_around_the_response() -> None:
    app, counts, names = build_app()
    trace = await book.trace(app, "GET", "/api/team")
    assert trace.response is not None
    assert trace.response.status_code == 200
    assert trace.response.json() == {"read": ["read"], "write": ["write"]}
    for name, target in names.items():
        if name != "RequiresRole":
            assert trace.calls(target) == counts.get(name, 0), name
    assert counts["get_db"] == 2 and counts["get_settings"] == 2 and counts["read_scopes"] == 2
    assert trace.graph.calls(names["get_db"]) == 2 and trace.graph.calls(names["get_settings"]) == 2

    kinds = [(event.kind, event.who) for event in trace.events]
    order = [kind for kind, who in kinds if kind in ("endpoint", "returned", "response", "task")]
    assert order == ["endpoint", "returned", "response", "response", "task", "task"]
    exits = [index for index, (kind, _) in enumerate(kinds) if kind == "exit"]
    response = kinds.index(("response", "200"))
    tasks_done = max(index for index, (kind, _) in enumerate(kinds) if kind == "task")
    # scope="function" tears down before the response; the request scope after the background task.
    assert exits[0] < response and exits[1] > tasks_done
    assert [event.kind for event in trace.events[:2]] == ["call", "call"]
    assert (trace.events[0].who, trace.events[1].who) == ("verify_key", "get_settings")
    cached = [event for event in trace.events if event.kind == "cached"]
    # In FastAPI's order: sub-dependencies before their parent, even under a cached parent.
    assert [event.who for event in cached] == ["get_db", "current_user", "get_db", "get_settings"]


async def test_a_trace_leaves_the_app_as_it_found_it() -> None:
    app, counts, names = build_app()

    def fake_db() -> str:
        return "fake"

    app.dependency_overrides[names["get_db"]] = fake_db
    before = dict(app.dependency_overrides)
    graph = book.graph(app, "GET /api/team")
    endpoint = graph.route.dependant.call
    add_task = BackgroundTasks.add_task
    trace = await book.trace(app, "GET", "/api/team")
    assert app.dependency_overrides == before
    assert book.graph(app, "GET /api/team").route.dependant.call is endpoint
    assert BackgroundTasks.add_task is add_task
    # The override ran, not the original; the graph says so.
    assert "get_db" not in counts and trace.calls("get_db") == 2
    assert "overridden by fake_db" in str(graph)


async def test_a_trace_stops_where_a_dependency_refuses() -> None:
    app, _, _ = build_app()
    trace = await book.trace(app, "GET", "/refused")
    assert trace.response is not None
    assert trace.response.status_code == 401
    kinds = [(event.kind, event.who) for event in trace.events]
    assert ("call", "refuse") in kinds
    assert not any(kind == "endpoint" for kind, _ in kinds)
    assert not any(kind == "cached" for kind, _ in kinds)


async def test_an_endpoint_that_raises_is_recorded_with_the_teardown_that_saw_it() -> None:
    app, _, _ = build_app()
    trace = await book.trace(app, "GET", "/private")
    assert trace.response is not None
    assert trace.response.status_code == 403
    assert ("raised", "private", "HTTPException") in [(e.kind, e.who, e.detail) for e in trace.events]
    assert ("exit", "get_db", "after HTTPException") in [(e.kind, e.who, e.detail) for e in trace.events]


async def test_lifespan_runs_around_a_traced_request_when_asked() -> None:
    app, _, _ = build_app()
    trace = await book.trace(app, "GET", "/private", lifespan=True)
    assert [e.who for e in trace.events if e.kind == "lifespan"] == ["startup", "shutdown"]


async def test_pictures_are_valid_svg_and_the_same_every_time() -> None:
    app, _, _ = build_app()
    graph = book.graph(app, "GET /api/team")
    first, second = await book.trace(app, "GET", "/api/team"), await book.trace(app, "GET", "/api/team")
    for svg in (graph._repr_svg_(), first._repr_svg_()):
        assert ElementTree.fromstring(svg).tag.endswith("svg")
    assert graph._repr_svg_() == book.graph(app, "GET /api/team")._repr_svg_()
    assert first._repr_svg_() == second._repr_svg_() and str(first) == str(second)


def test_an_unknown_route_is_named_with_the_ones_that_exist() -> None:
    app, _, _ = build_app()
    with pytest.raises(LookupError, match=r"no route GET /nope; the app has: GET /api/team, GET /private"):
        book.graph(app, "GET /nope")
    with pytest.raises(ValueError, match="say the method and the path"):
        book.graph(app, "/api/team")


@pytest.mark.anyio
@pytest.mark.parametrize("how", ["BackgroundTasks.add_task", "a response's background", "Starlette's BackgroundTasks"])
async def test_a_trace_sees_every_background_task_however_it_was_scheduled(how: str) -> None:
    from fastapi import BackgroundTasks
    from fastapi.responses import JSONResponse
    from starlette.background import BackgroundTask
    from starlette.background import BackgroundTasks as StarletteTasks

    sent = []

    def send_mail(to: str) -> None:
        sent.append(to)

    app = FastAPI()

    @app.post("/signup")
    async def signup(tasks: BackgroundTasks) -> Any:  # a dict or a JSONResponse: no response model
        if how == "BackgroundTasks.add_task":
            tasks.add_task(send_mail, "ada")
            return {"ok": True}
        if how == "a response's background":
            return JSONResponse({"ok": True}, background=BackgroundTask(send_mail, "ada"))
        several = StarletteTasks()
        several.add_task(send_mail, "ada")
        return JSONResponse({"ok": True}, background=several)

    traced = await book.trace(app, "POST", "/signup")
    kinds = [(event.kind, event.who, event.detail) for event in traced.events]
    assert ("task", "send_mail", "started") in kinds and ("task", "send_mail", "finished") in kinds
    assert kinds.index(("response", "body", "sent")) < kinds.index(("task", "send_mail", "started"))
    assert sent == ["ada"]
