"""Hidden checks for exercise 12, the capstone: every pattern of the course in one app.

Each check builds its own app with the learner's create_app on a fresh database file and runs it
with its lifespan, so no check depends on another's data. Tenants, roles, tokens, the lifespan's
resources, sessions and connections, the cache and an outage, where dependencies are declared,
aliases, and overrides.
"""

import functools
import json
import typing
from dataclasses import dataclass

import httpx
import pytest
import redis.exceptions

import book
from book import apps
from book.checks import check, expect, expect_response, resolved

EXERCISE = "12-capstone"
FOLDER_ROUTES = ["GET /folders/{folder_id}", "GET /folders/{folder_id}/docs", "POST /folders/{folder_id}/docs",
                 "DELETE /folders/{folder_id}"]
EVERY_ROUTE = ["GET /folders", "POST /folders", *FOLDER_ROUTES]


@dataclass
class Shelf:
    app: object
    state: dict
    client: httpx.AsyncClient
    people: dict
    made: dict  # what the lifespan created: "engines", "redis"

    def headers(self, name: str | None) -> dict:
        return {"Authorization": f"Bearer {name}-token"} if name else {}

    async def folder(self, name: str, owner: str = "ada") -> int:
        """Create a folder as an admin; its id."""
        response = await self.client.post("/folders", params={"name": name}, headers=self.headers(owner))
        expect_response(response, status=201, called=f"POST /folders?name={name} as {owner}")
        body = response.json()
        expect(isinstance(body, dict) and isinstance(body.get("id"), int) and body.get("name") == name,
               called=f"POST /folders?name={name} as {owner}", got=body, expected=f'{{"id": <an int>, "name": "{name}"}}')
        return body["id"]


@pytest.fixture
def made(notebook, monkeypatch):
    """Record the engines and Redis clients the learner's lifespan creates (by the given names)."""
    found = {"engines": [], "disposed": [], "redis": [], "closed": []}
    real_engine, real_redis = notebook.create_async_engine, notebook.FakeAsyncRedis

    def create_async_engine(*args, **kwargs):
        from sqlalchemy import event

        # A request waits pool_timeout for a connection when sessions are never closed: 30 s by default.
        engine = real_engine(*args, **{"pool_timeout": 5, **kwargs})
        found["engines"].append(engine)
        event.listen(engine.sync_engine, "engine_disposed", lambda *_: found["disposed"].append(engine))
        return engine

    class RecordingRedis(real_redis):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            found["redis"].append(self)

        async def aclose(self, *args, **kwargs):
            found["closed"].append(self)
            return await super().aclose(*args, **kwargs)

    monkeypatch.setattr(notebook, "create_async_engine", create_async_engine)
    monkeypatch.setattr(notebook, "FakeAsyncRedis", RecordingRedis)
    return found


@pytest.fixture
async def shelf(notebook, made, tmp_path):
    app = build(notebook, tmp_path)
    async with apps.serving(app) as asgi_app:
        state = lifespan_state(asgi_app)
        people = await notebook.add_people(state["sessions"])
        async with apps.client(asgi_app) as http:
            yield Shelf(app, state, http, people, made)
    app.dependency_overrides.clear()


def build(notebook, tmp_path, **settings):
    app = notebook.create_app(notebook.Settings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'shelf.db'}",
                                                **settings))
    expect(app.router.lifespan_context is not None, called="create_app(Settings(...))", got=app,
           expected="a FastAPI app with lifespan=make_lifespan(settings)")
    return app


def lifespan_state(asgi_app) -> dict:
    """The state the learner's lifespan yielded, which every request gets a copy of."""
    state = asgi_app.lifespan_state
    missing = [key for key in ("settings", "sessions", "redis") if key not in state]
    expect(not missing, called="the lifespan's state", got=sorted(state) or "nothing yielded",
           expected='yield {"settings": ..., "sessions": ..., "redis": ...}')
    return state


@check(points=2, hint="""get_folder must look the folder up in the caller's organisation: another
    organisation's folder answers exactly like a missing one, 404 {"detail": "no such folder"}, on
    every route under /folders/{folder_id}; and GET /folders lists only the caller's organisation.""")
async def test_folders_belong_to_the_organisation(shelf):
    folder = await shelf.folder("Plans")
    expect_response(await shelf.client.get("/folders", headers=shelf.headers("ada")), status=200,
                    json=[{"id": folder, "name": "Plans"}])
    expect_response(await shelf.client.get("/folders", headers=shelf.headers("gus")), status=200, json=[])
    missing = await shelf.client.get("/folders/999", headers=shelf.headers("gus"))
    expect_response(missing, status=404, json={"detail": "no such folder"})
    for method, path in (("GET", f"/folders/{folder}"), ("GET", f"/folders/{folder}/docs"),
                         ("POST", f"/folders/{folder}/docs?title=x"), ("DELETE", f"/folders/{folder}")):
        response = await shelf.client.request(method, path, headers=shelf.headers("gus"))
        expect(response.status_code == 404 and response.content == missing.content,
               called=f"{method} {path} as gus (another organisation)",
               got=f"{response.status_code} {response.text}", expected=f"404 {missing.text}, as for a missing folder")


@check(points=2, hint="""POST /folders takes AdminUser and DELETE /folders/{folder_id} declares
    dependencies=[Depends(require_admin)]: a member gets 403, an admin 201 and 204.""")
async def test_only_admins_create_and_delete_folders(shelf):
    expect_response(await shelf.client.post("/folders", params={"name": "X"}, headers=shelf.headers("bob")), status=403)
    folder = await shelf.folder("Plans")
    expect_response(await shelf.client.delete(f"/folders/{folder}", headers=shelf.headers("bob")), status=403)
    expect_response(await shelf.client.get(f"/folders/{folder}", headers=shelf.headers("bob")), status=200,
                    json={"id": folder, "name": "Plans"}, called=f"GET /folders/{folder} after bob's refused DELETE")
    await shelf.client.post(f"/folders/{folder}/docs", params={"title": "Q3"}, headers=shelf.headers("ada"))
    expect_response(await shelf.client.delete(f"/folders/{folder}", headers=shelf.headers("ada")), status=204)
    expect_response(await shelf.client.get(f"/folders/{folder}", headers=shelf.headers("ada")), status=404,
                    called=f"GET /folders/{folder} after ada deleted it")


@check(points=1, hint="""Any member adds documents to the organisation's folders: POST
    /folders/{folder_id}/docs?title=... answers 201 {"folder": <name>, "title": ...}; GET lists titles
    by id.""")
async def test_members_add_and_list_documents(shelf):
    folder = await shelf.folder("Plans")
    for title in ("Q3", "Q4"):
        expect_response(await shelf.client.post(f"/folders/{folder}/docs", params={"title": title},
                                                headers=shelf.headers("bob")),
                        status=201, json={"folder": "Plans", "title": title})
    expect_response(await shelf.client.get(f"/folders/{folder}/docs", headers=shelf.headers("bob")), status=200,
                    json=["Q3", "Q4"])


@check(points=2, hint="""get_current_user looks the token up by its hash (hash_token); no token, an
    unknown token, or the stored hash itself is 401 with WWW-Authenticate: Bearer, on every route.""")
async def test_tokens_are_checked_on_every_route(shelf):
    stored = shelf.people["ada"].token_hash
    for headers, label in (({}, "no Authorization header"), (shelf.headers("nobody"), "an unknown token"),
                           ({"Authorization": f"Bearer {stored}"}, "ada's stored hash as the token"),
                           ({"Authorization": "Basic YWRhOng="}, "Basic credentials")):
        for route in ("GET /folders", "POST /folders?name=x", "GET /folders/1/docs", "DELETE /folders/1"):
            method, path = route.split()
            expect_response(await shelf.client.request(method, path, headers=headers), status=401,
                            headers={"WWW-Authenticate": "Bearer"}, called=f"{route} with {label}")
    expect_response(await shelf.client.get("/folders", headers=shelf.headers("bob")), status=200, json=[])


@check(points=2, hint="""make_lifespan(settings) creates one engine (create_async_engine) and one Redis
    client (FakeAsyncRedis) at startup, never at import or in create_app, and closes both at shutdown:
    await cache.aclose() and await engine.dispose(), in a finally.""")
async def test_the_lifespan_owns_the_resources(notebook, made, tmp_path):
    app = build(notebook, tmp_path)
    expect(not made["engines"] and not made["redis"], called="create_app(Settings(...)), before startup",
           got=f"{len(made['engines'])} engine(s), {len(made['redis'])} Redis client(s)", expected="none yet")
    async with apps.serving(app) as asgi_app:
        async with apps.client(asgi_app) as http:
            for _ in range(5):
                await http.get("/folders", headers={"Authorization": "Bearer ada-token"})
        expect(len(made["engines"]) == 1 and len(made["redis"]) == 1, called="startup and 5 requests",
               got=f"{len(made['engines'])} engine(s), {len(made['redis'])} Redis client(s)", expected="one of each")
    expect(made["disposed"] == made["engines"] and made["closed"] == made["redis"], called="shutdown",
           got=f"{len(made['disposed'])} engine(s) disposed, {len(made['closed'])} Redis client(s) closed",
           expected="the engine disposed and the Redis client closed")


@check(points=2, hint="""get_session is a yield dependency: `async with request.state.sessions() as
    session: yield session` gives each request one session, closed after the response, so no
    connection stays checked out, whatever the requests answered.""")
async def test_one_session_per_request_and_no_connection_left(notebook, shelf):
    import anyio

    folder = await shelf.folder("Plans")
    routes = [("GET", "/folders", "ada"), ("GET", f"/folders/{folder}/docs", "bob"), ("GET", "/folders/77", "bob"),
              ("POST", "/folders?name=y", "bob"), ("POST", f"/folders/{folder}/docs?title=t", "gus"),
              ("GET", "/folders", None)]
    engine = shelf.made["engines"][0]
    # Connections that are never given back make the pool wait 30 s for each request over its size.
    with anyio.move_on_after(10) as waiting:
        async with anyio.create_task_group() as group:
            for number in range(30):
                method, path, who = routes[number % len(routes)]
                group.start_soon(functools.partial(shelf.client.request, method, path, headers=shelf.headers(who)))
    expect(not waiting.cancelled_caught, called="30 concurrent requests, some refused",
           got=f"still waiting for a database connection after 10 s: {engine.pool.checkedout()} checked out",
           expected="every connection given back")
    expect(engine.pool.checkedout() == 0, called="30 concurrent requests, some refused",
           got=f"{engine.pool.checkedout()} connection(s) still checked out", expected="none")
    trace = await book.trace(shelf.app, "POST", f"/folders/{folder}/docs", params={"title": "traced"},
                             headers=shelf.headers("ada"))
    expect(trace.calls(notebook.get_session) == 1, called=f"POST /folders/{folder}/docs, traced",
           got=f"get_session ran {trace.calls(notebook.get_session)} time(s)", expected="once", seen=str(trace))


@check(points=2, hint="""GET /folders goes through the cache: a hit is answered from Redis without the
    database; a miss stores the list as JSON under org:<org id>:folders with ex=settings.cache_ttl
    (from SettingsDep, not a constant). Each organisation has its own key.""")
async def test_the_folder_list_is_cached_per_organisation(notebook, made, tmp_path):
    app = build(notebook, tmp_path, cache_ttl=123)
    async with apps.serving(app) as asgi_app:
        state = lifespan_state(asgi_app)
        people = await notebook.add_people(state["sessions"])
        acme, globex = people["ada"].org_id, people["gus"].org_id
        async with apps.client(asgi_app) as http:
            await http.get("/folders", headers={"Authorization": "Bearer ada-token"})
            ttl = await state["redis"].ttl(f"org:{acme}:folders")
            expect(ttl == 123, called="GET /folders as ada, with Settings(cache_ttl=123)",
                   got=f"TTL of org:{acme}:folders: {ttl}", expected="123 (-2: no such key; -1: no TTL)")
            planted = [{"id": 42, "name": "from the cache"}]
            await state["redis"].set(f"org:{acme}:folders", json.dumps(planted))
            expect_response(await http.get("/folders", headers={"Authorization": "Bearer bob-token"}), status=200,
                            json=planted, called="GET /folders as bob, with a list planted in Redis")
            expect_response(await http.get("/folders", headers={"Authorization": "Bearer gus-token"}), status=200,
                            json=[], called=f"GET /folders as gus (organisation {globex})")


@check(points=1, hint="""Creating or deleting a folder calls cache.forget() after the commit, so the next
    GET /folders reads the database again.""")
async def test_writes_forget_the_cached_list(shelf):
    await shelf.client.get("/folders", headers=shelf.headers("ada"))
    first = await shelf.folder("Plans")
    expect_response(await shelf.client.get("/folders", headers=shelf.headers("bob")), status=200,
                    json=[{"id": first, "name": "Plans"}], called="GET /folders after a folder was created")
    await shelf.client.delete(f"/folders/{first}", headers=shelf.headers("ada"))
    expect_response(await shelf.client.get("/folders", headers=shelf.headers("bob")), status=200, json=[],
                    called="GET /folders after the folder was deleted")


class RedisDown:
    async def get(self, *args, **kwargs):
        raise redis.exceptions.ConnectionError("Redis is down")

    set = delete = ttl = get


@check(points=1, hint="""Catch redis.exceptions.ConnectionError in the cache's get (a miss), put and
    forget (nothing to do): with Redis down the API answers from the database.""")
async def test_a_redis_outage_costs_only_the_cache(notebook, shelf):
    shelf.app.dependency_overrides[notebook.get_redis] = RedisDown
    created = await shelf.client.post("/folders", params={"name": "Plans"}, headers=shelf.headers("ada"))
    expect_response(created, status=201, called="POST /folders with Redis down")
    expect_response(await shelf.client.get("/folders", headers=shelf.headers("ada")), status=200,
                    json=[{"id": created.json()["id"], "name": "Plans"}], called="GET /folders with Redis down")


@check(points=1, hint="""Declare the user check once, on the router:
    APIRouter(prefix="/folders", dependencies=[Depends(get_current_user)]). A route added later then
    cannot forget it.""")
async def test_the_router_requires_a_user_for_every_route(notebook, tmp_path):
    app = build(notebook, tmp_path)
    for route in EVERY_ROUTE:
        graph = book.graph(app, route)
        declared = {node.declared for node in graph.nodes()[1:] if node.call is notebook.get_current_user}
        expect("router" in declared, called=f"where {route} gets its user", got=sorted(declared) or "nowhere",
               expected="from the router's dependencies", seen=str(graph))


@check(points=2, hint="""Every route under /folders/{folder_id} takes FolderDep, so that get_folder (which
    checks the organisation) guards it, and the session and the user are resolved once per request.""")
async def test_folder_routes_go_through_the_validator(notebook, tmp_path):
    app = build(notebook, tmp_path)
    for route in FOLDER_ROUTES:
        graph = book.graph(app, route)
        expect(any(node.call is notebook.get_folder for node in graph.nodes()), called=f"the graph of {route}",
               got="no get_folder in it", expected="get_folder (FolderDep)", seen=str(graph))


@check(points=2, hint="""Use the aliases everywhere and build them on the named functions:
    SessionDep = Annotated[AsyncSession, Depends(get_session)], CurrentUser on get_current_user,
    AdminUser on require_admin, and so on. Then one override reaches every route: overriding
    get_current_user with Bob answers every route as Bob, without a token.""")
async def test_one_override_reaches_every_route(notebook, shelf):
    aliases = {"SettingsDep": "get_settings", "SessionDep": "get_session", "RedisDep": "get_redis",
               "CurrentUser": "get_current_user", "AdminUser": "require_admin", "FolderDep": "get_folder",
               "FolderCacheDep": "get_folder_cache"}
    for alias, function in aliases.items():
        declared = getattr(notebook, alias, None)
        extras = typing.get_args(declared)[1:] if typing.get_origin(declared) is typing.Annotated else ()
        target = getattr(notebook, function, None)
        expect(any(getattr(extra, "dependency", None) is target for extra in extras), called=alias,
               got=declared, expected=f"Annotated[..., Depends({function})]")
    folder = await shelf.folder("Plans")
    shelf.app.dependency_overrides[notebook.get_current_user] = lambda: shelf.people["bob"]
    for method, path, status in (("GET", "/folders", 200), ("POST", "/folders?name=x", 403),
                                 ("GET", f"/folders/{folder}", 200), ("POST", f"/folders/{folder}/docs?title=t", 201),
                                 ("GET", f"/folders/{folder}/docs", 200), ("DELETE", f"/folders/{folder}", 403)):
        expect_response(await shelf.client.request(method, path), status=status,
                        called=f"{method} {path} with get_current_user overridden to bob, no token",
                        seen=resolved(shelf.app, f"{method} {path.split('?')[0].replace(str(folder), '{folder_id}')}"))
