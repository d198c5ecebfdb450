"""Hidden checks for exercise 12, the capstone: every pattern of the course in one app.

Each check has the agent build its own app with the learner's create_app, on a fresh database file
and with a cache TTL made up per grade, recording the engines and Redis clients its lifespan
creates; the app is then served with that lifespan, the given people added, and every request goes
through the agent. So no check depends on another's data. Tenants, roles, tokens, the lifespan's
resources, sessions and connections, the cache and an outage, where dependencies are declared,
aliases, and overrides; folder names, titles and tokens are made up per grade.
"""

import asyncio
import contextlib
import json
from dataclasses import dataclass

import httpx
import pytest

from book.grader.checks import agent_side, check, expect, expect_response

EXERCISE = "12-capstone"
FOLDER_ROUTES = ["GET /folders/{folder_id}", "GET /folders/{folder_id}/docs", "POST /folders/{folder_id}/docs",
                 "DELETE /folders/{folder_id}"]
EVERY_ROUTE = ["GET /folders", "POST /folders", *FOLDER_ROUTES]
STATE_KEYS = ("settings", "sessions", "redis")
WORDS = ["Plans", "Budget", "Roadmap", "Invoices", "Hiring", "Legal", "Design", "Minutes", "Travel", "Ideas"]


def made_up(rng, count=1):
    """Distinct names for folders or documents, different for each grade."""
    return [f"{word} {rng.randint(10, 99)}" for word in rng.sample(WORDS, count)]


# --- the agent's side: the app, its resources and the people, next to the learner's code ----------


@agent_side
def build_shelf(ctx, cache_ttl):
    """The learner's create_app on a fresh database file, recording what its lifespan creates.

    The app replaces the notebook's `app`, so that serving it (the judge's client) runs this one.
    """
    import tempfile

    from sqlalchemy import event

    nb = ctx.nb
    if ctx.served is not None:
        raise RuntimeError("the grader served the app before building it (a fault of the check)")
    made = ctx.made = {"engines": [], "disposed": [], "redis": [], "closed": []}
    real_engine, real_redis = nb.create_async_engine, nb.FakeAsyncRedis

    def create_async_engine(*args, **kwargs):
        # A request waits pool_timeout for a connection when sessions are never closed: 30 s by default.
        engine = real_engine(*args, **{"pool_timeout": 5, **kwargs})
        made["engines"].append(engine)
        event.listen(engine.sync_engine, "engine_disposed", lambda *_: made["disposed"].append(engine))
        return engine

    class RecordingRedis(real_redis):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            made["redis"].append(self)

        async def aclose(self, *args, **kwargs):
            made["closed"].append(self)
            return await super().aclose(*args, **kwargs)

    nb.create_async_engine, nb.FakeAsyncRedis = create_async_engine, RecordingRedis
    ctx.folder = tempfile.mkdtemp(prefix="shelf-")
    app = nb.create_app(nb.Settings(database_url=f"sqlite+aiosqlite:///{ctx.folder}/shelf.db", cache_ttl=cache_ttl))
    nb.app = app
    return {"app": type(app).__name__, "engines": len(made["engines"]), "redis": len(made["redis"])}


@agent_side
def remove_shelf(ctx):
    import shutil

    if getattr(ctx, "folder", None):
        shutil.rmtree(ctx.folder, ignore_errors=True)


@agent_side
async def add_people(ctx):
    """The given add_people on the lifespan's sessions; who was added, read back from the database."""
    from sqlalchemy import select

    nb, sessions = ctx.nb, ctx.state["sessions"]
    await nb.add_people(sessions)
    async with sessions() as session:
        users = (await session.scalars(select(nb.User))).all()
        return {user.name: {"org_id": user.org_id, "token_hash": user.token_hash} for user in users}


@agent_side
async def person(ctx, name):
    """A user as the database holds it (a handle: it stays in the agent)."""
    from sqlalchemy import select

    async with ctx.state["sessions"]() as session:
        return await session.scalar(select(ctx.nb.User).where(ctx.nb.User.name == name))


@agent_side
def resources(ctx):
    """What the lifespan created and closed so far, and the connections of its engine checked out."""
    made = ctx.made
    return {"engines": len(made["engines"]), "redis": len(made["redis"]),
            "disposed": len(made["disposed"]), "closed": len(made["closed"]),
            "all_disposed": made["disposed"] == made["engines"], "all_closed": made["closed"] == made["redis"],
            "checked_out": made["engines"][0].pool.checkedout() if made["engines"] else None}


@agent_side
async def redis_ttl(ctx, key):
    return await ctx.state["redis"].ttl(key)


@agent_side
async def redis_set(ctx, key, value):
    await ctx.state["redis"].set(key, value)


@agent_side
def redis_down(ctx, how):
    """A Redis client whose every command fails as when the server refuses connections ("refused")
    or never answers ("hung": a timeout)."""
    import redis.exceptions

    error = redis.exceptions.ConnectionError if how == "refused" else redis.exceptions.TimeoutError

    class RedisDown:
        """Every command (get, set, setex, delete, expire, ...) fails; so does a pipeline's."""

        def __getattr__(self, name):
            async def command(*args, **kwargs):
                raise error("Redis is down")

            return command

        def pipeline(self, *args, **kwargs):
            return self

        async def __aenter__(self):
            return self

        async def __aexit__(self, *exc):
            return False

    return RedisDown()


@agent_side
def where_declared(ctx, route, name):
    """Where each occurrence of the notebook's `name` in the route's graph was declared, and the graph."""
    from book.dependency_graph import graph

    found = graph(ctx.app, route)
    target = getattr(ctx.nb, name, None)
    return {"declared": sorted({node.declared for node in found.nodes()[1:] if node.call is target}),
            "text": str(found)}


@agent_side
def alias_targets(ctx, aliases):
    """For each alias: whether one of its Depends names the given function itself, and how it reads."""
    import typing

    found = {}
    for alias, function in aliases.items():
        declared = getattr(ctx.nb, alias, None)
        extras = typing.get_args(declared)[1:] if typing.get_origin(declared) is typing.Annotated else ()
        target = getattr(ctx.nb, function, None)
        found[alias] = {"ok": target is not None and any(getattr(extra, "dependency", None) is target
                                                         for extra in extras),
                        "shown": repr(declared)[:160]}
    return found


# --- the judge's side --------------------------------------------------------------------------------


@dataclass
class Shelf:
    nb: object
    client: httpx.AsyncClient
    people: dict  # name -> {"org_id", "token_hash"}
    cache_ttl: int
    before_startup: dict  # what create_app had created: "engines", "redis"

    @staticmethod
    def headers(name: str | None) -> dict:
        return {"Authorization": f"Bearer {name}-token"} if name else {}

    async def folder(self, name: str, owner: str = "ada") -> int:
        """Create a folder as an admin; its id."""
        called = f"POST /folders?name={name} as {owner}"
        response = await self.client.post("/folders", params={"name": name}, headers=self.headers(owner))
        expect_response(response, status=201, called=called)
        body = response.json()
        expect(isinstance(body, dict) and isinstance(body.get("id"), int) and body.get("name") == name,
               called=called, got=body, expected=f'{{"id": <an int>, "name": "{name}"}}')
        return body["id"]


@pytest.fixture
async def built(nb, rng):
    """The check's own app, built in the agent before the `client` fixture serves it."""
    cache_ttl = rng.randint(100, 999)
    try:
        before = await nb.call(build_shelf, cache_ttl)
        expect(before["app"] == "FastAPI", called="create_app(Settings(...))", got=f"a {before['app']}",
               expected="a FastAPI app with lifespan=make_lifespan(settings)")
        yield cache_ttl, before
    finally:
        # Best effort: a failure here would replace the check's own message (a failing shutdown is
        # the lifespan check's to report; a killed notebook process has nothing left to remove).
        with contextlib.suppress(Exception):
            await nb.unserve()
        with contextlib.suppress(Exception):
            await nb.call(remove_shelf)


@pytest.fixture
async def shelf(nb, built, client):
    """The built app, served with its lifespan (`client` after `built`), and the given people in it."""
    keys = await nb.probe("state_keys")
    expect(all(key in keys for key in STATE_KEYS), called="the lifespan's state", got=keys or "nothing yielded",
           expected='yield {"settings": ..., "sessions": ..., "redis": ...}')
    cache_ttl, before = built
    return Shelf(nb, client, await nb.call(add_people), cache_ttl, before)


@check(points=2, hint="""get_folder must look the folder up in the caller's organisation: another
    organisation's folder answers exactly like a missing one, 404 {"detail": "no such folder"}, on
    every route under /folders/{folder_id}; and GET /folders lists only the caller's organisation.""")
async def test_folders_belong_to_the_organisation(shelf, rng):
    mine, theirs = made_up(rng, 2)
    folder = await shelf.folder(mine)
    other = await shelf.folder(theirs, owner="gus")
    expect_response(await shelf.client.get("/folders", headers=shelf.headers("ada")), status=200,
                    json=[{"id": folder, "name": mine}], called="GET /folders as ada")
    expect_response(await shelf.client.get("/folders", headers=shelf.headers("gus")), status=200,
                    json=[{"id": other, "name": theirs}], called="GET /folders as gus (another organisation)")
    absent = rng.randint(100, 999)
    missing = await shelf.client.get(f"/folders/{absent}", headers=shelf.headers("gus"))
    expect_response(missing, status=404, json={"detail": "no such folder"})
    for method, path in (("GET", f"/folders/{folder}"), ("GET", f"/folders/{folder}/docs"),
                         ("POST", f"/folders/{folder}/docs?title=x"), ("DELETE", f"/folders/{folder}")):
        response = await shelf.client.request(method, path, headers=shelf.headers("gus"))
        expect(response.status_code == 404 and response.content == missing.content,
               called=f"{method} {path} as gus (another organisation)",
               got=f"{response.status_code} {response.text}", expected=f"404 {missing.text}, as for a missing folder")


@check(points=2, hint="""Only admins may create or delete folders: a member gets 403 from POST /folders
    and from DELETE /folders/{folder_id}, an admin 201 and 204. Look at what guards each of these
    routes: an alias taken as a parameter, or a check in the route's own dependencies.""")
async def test_only_admins_create_and_delete_folders(shelf, rng):
    name, refused = made_up(rng, 2)
    expect_response(await shelf.client.post("/folders", params={"name": refused}, headers=shelf.headers("bob")),
                    status=403, called=f"POST /folders?name={refused} as bob (a member)")
    folder = await shelf.folder(name)
    expect_response(await shelf.client.delete(f"/folders/{folder}", headers=shelf.headers("bob")), status=403,
                    called=f"DELETE /folders/{folder} as bob (a member)")
    expect_response(await shelf.client.get(f"/folders/{folder}", headers=shelf.headers("bob")), status=200,
                    json={"id": folder, "name": name}, called=f"GET /folders/{folder} after bob's refused DELETE")
    await shelf.client.post(f"/folders/{folder}/docs", params={"title": made_up(rng)[0]}, headers=shelf.headers("ada"))
    expect_response(await shelf.client.delete(f"/folders/{folder}", headers=shelf.headers("ada")), status=204,
                    called=f"DELETE /folders/{folder} as ada (an admin), the folder holding a document")
    expect_response(await shelf.client.get(f"/folders/{folder}", headers=shelf.headers("ada")), status=404,
                    called=f"GET /folders/{folder} after ada deleted it")


@check(points=1, hint="""Any member adds documents to the organisation's folders: POST
    /folders/{folder_id}/docs?title=... answers 201 {"folder": <name>, "title": ...}; GET lists titles
    by id.""")
async def test_members_add_and_list_documents(shelf, rng):
    name = made_up(rng)[0]
    titles = made_up(rng, rng.randint(2, 4))
    folder = await shelf.folder(name)
    for title in titles:
        expect_response(await shelf.client.post(f"/folders/{folder}/docs", params={"title": title},
                                                headers=shelf.headers("bob")),
                        status=201, json={"folder": name, "title": title},
                        called=f"POST /folders/{folder}/docs?title={title} as bob (a member)")
    expect_response(await shelf.client.get(f"/folders/{folder}/docs", headers=shelf.headers("bob")), status=200,
                    json=titles, called=f"GET /folders/{folder}/docs as bob")


@check(points=2, hint="""get_current_user looks the token up by its hash (hash_token); no token, an
    unknown token, or the stored hash itself is 401 with WWW-Authenticate: Bearer, on every route.""")
async def test_tokens_are_checked_on_every_route(shelf, rng):
    stored = shelf.people["ada"]["token_hash"]
    unknown = f"{rng.choice(['eve', 'mallory', 'trent'])}-{rng.randint(1000, 9999)}-token"
    for headers, label in (({}, "no Authorization header"),
                           ({"Authorization": f"Bearer {unknown}"}, "an unknown token"),
                           ({"Authorization": f"Bearer {stored}"}, "ada's stored hash as the token"),
                           ({"Authorization": "Basic YWRhOng="}, "Basic credentials")):
        for route in ("GET /folders", "POST /folders?name=x", "GET /folders/1/docs", "DELETE /folders/1"):
            method, path = route.split()
            expect_response(await shelf.client.request(method, path, headers=headers), status=401,
                            headers={"WWW-Authenticate": "Bearer"}, called=f"{route} with {label}")
    expect_response(await shelf.client.get("/folders", headers=shelf.headers("bob")), status=200, json=[],
                    called="GET /folders as bob, with his token")


@check(points=2, hint="""make_lifespan(settings) creates one engine (create_async_engine) and one Redis
    client (FakeAsyncRedis) at startup, never at import or in create_app, and closes both at shutdown,
    after its yield, in a way that still runs when the app stops on an error.""")
async def test_the_lifespan_owns_the_resources(shelf):
    before = shelf.before_startup
    expect(not before["engines"] and not before["redis"], called="create_app(Settings(...)), before startup",
           got=f"{before['engines']} engine(s), {before['redis']} Redis client(s)", expected="none yet")
    for _ in range(5):
        await shelf.client.get("/folders", headers=shelf.headers("ada"))
    made = await shelf.nb.call(resources)
    expect(made["engines"] == 1 and made["redis"] == 1, called="startup and 5 requests",
           got=f"{made['engines']} engine(s), {made['redis']} Redis client(s)", expected="one of each")
    await shelf.nb.unserve()
    made = await shelf.nb.call(resources)
    expect(made["all_disposed"] and made["all_closed"], called="shutdown",
           got=f"{made['disposed']} engine(s) disposed, {made['closed']} Redis client(s) closed",
           expected="the engine disposed and the Redis client closed")


@check(points=2, hint="""get_session is a yield dependency: each request gets one session from the
    lifespan's session factory, opened around the yield and closed after the response, so no
    connection stays checked out, whatever the requests answered.""")
async def test_one_session_per_request_and_no_connection_left(shelf, rng):
    folder = await shelf.folder(made_up(rng)[0])
    routes = [("GET", "/folders", "ada"), ("GET", f"/folders/{folder}/docs", "bob"),
              ("GET", f"/folders/{rng.randint(100, 999)}", "bob"), ("POST", "/folders?name=y", "bob"),
              ("POST", f"/folders/{folder}/docs?title=t", "gus"), ("GET", "/folders", None)]
    # Sessions that are never closed keep their connections: past the pool's size, requests wait.
    await asyncio.gather(*(shelf.client.request(method, path, headers=shelf.headers(who))
                           for method, path, who in (routes[number % len(routes)] for number in range(30))))
    checked_out = (await shelf.nb.call(resources))["checked_out"]
    expect(checked_out == 0, called="30 concurrent requests, some refused",
           got=f"{checked_out} connection(s) still checked out", expected="none")
    path = f"/folders/{folder}/docs"
    # lifespan=True: the traced request gets a lifespan's state, on the same database file.
    traced = await shelf.nb.trace("POST", path, params={"title": made_up(rng)[0]}, headers=shelf.headers("ada"),
                                  lifespan=True)
    calls, exits = traced.calls("get_session"), traced.exits("get_session")
    expect(calls == 1 and exits == 1, called=f"POST {path}, traced",
           got=f"get_session ran {calls} time(s) and was closed {exits} time(s)",
           expected="once, closed after the response", seen=traced.text)


@check(points=2, hint="""GET /folders goes through the cache: a hit is answered from Redis without the
    database; a miss stores the list as JSON under org:<org id>:folders, with the TTL of the settings
    (from SettingsDep, not a constant). Each organisation has its own key.""")
async def test_the_folder_list_is_cached_per_organisation(shelf, rng):
    acme, globex = shelf.people["ada"]["org_id"], shelf.people["gus"]["org_id"]
    key = f"org:{acme}:folders"
    await shelf.client.get("/folders", headers=shelf.headers("ada"))
    ttl = await shelf.nb.call(redis_ttl, key)
    # Redis counts a TTL down in whole seconds: a second or two may pass between the write and this read.
    expect(shelf.cache_ttl - 5 <= ttl <= shelf.cache_ttl,
           called=f"GET /folders as ada, with Settings(cache_ttl={shelf.cache_ttl})",
           got=f"TTL of {key}: {ttl}", expected=f"{shelf.cache_ttl}, give or take a few seconds "
                                               "(-2: no such key; -1: no TTL)")
    planted = [{"id": rng.randint(40, 99), "name": made_up(rng)[0]}]
    await shelf.nb.call(redis_set, key, json.dumps(planted))
    expect_response(await shelf.client.get("/folders", headers=shelf.headers("bob")), status=200,
                    json=planted, called="GET /folders as bob, with a list planted in Redis")
    expect_response(await shelf.client.get("/folders", headers=shelf.headers("gus")), status=200,
                    json=[], called=f"GET /folders as gus (organisation {globex})")


@check(points=1, hint="""Creating or deleting a folder must forget the organisation's cached list once
    the change is committed, so the next GET /folders reads the database again.""")
async def test_writes_forget_the_cached_list(shelf, rng):
    name = made_up(rng)[0]
    await shelf.client.get("/folders", headers=shelf.headers("ada"))
    first = await shelf.folder(name)
    expect_response(await shelf.client.get("/folders", headers=shelf.headers("bob")), status=200,
                    json=[{"id": first, "name": name}], called="GET /folders after a folder was created")
    await shelf.client.delete(f"/folders/{first}", headers=shelf.headers("ada"))
    expect_response(await shelf.client.get("/folders", headers=shelf.headers("bob")), status=200, json=[],
                    called="GET /folders after the folder was deleted")


@check(points=1, hint="""With Redis down, refusing connections or timing out, the API answers from the
    database: the cache's get is a miss, its put and forget do nothing. Which exception class covers
    every way a Redis command fails?""")
async def test_a_redis_outage_costs_only_the_cache(shelf, rng):
    made = []
    for how in ("refused", "hung"):
        name = made_up(rng)[0]
        await shelf.nb.override_value("get_redis", await shelf.nb.call(redis_down, how))
        down = "Redis down" + (" (a timeout)" if how == "hung" else "")
        created = await shelf.client.post("/folders", params={"name": name}, headers=shelf.headers("ada"))
        expect_response(created, status=201, called=f"POST /folders with {down}")
        made.append({"id": created.json()["id"], "name": name})
        expect_response(await shelf.client.get("/folders", headers=shelf.headers("ada")), status=200,
                        json=made, called=f"GET /folders with {down}")


@check(points=1, hint="""Declare the user check once, on the router itself rather than on each of its
    routes: a route added later then cannot forget it.""")
async def test_the_router_requires_a_user_for_every_route(shelf):
    for route in EVERY_ROUTE:
        found = await shelf.nb.call(where_declared, route, "get_current_user")
        expect("router" in found["declared"], called=f"where {route} gets its user",
               got=found["declared"] or "nowhere", expected="from the router's dependencies", seen=found["text"])


@check(points=2, hint="""Every route under /folders/{folder_id} takes FolderDep, so that get_folder (which
    checks the organisation) guards it, and the session and the user are resolved once per request.""")
async def test_folder_routes_go_through_the_validator(shelf):
    for route in FOLDER_ROUTES:
        found = await shelf.nb.call(where_declared, route, "get_folder")
        expect(bool(found["declared"]), called=f"the graph of {route}", got="no get_folder in it",
               expected="get_folder (FolderDep)", seen=found["text"])


@check(points=2, hint="""Build each alias on the named dependency function itself (SessionDep on
    get_session, CurrentUser on get_current_user, AdminUser on require_admin, and so on) and use the
    aliases in every route. Then one override reaches every route: overriding get_current_user with
    Bob answers every route as Bob, without a token.""")
async def test_one_override_reaches_every_route(shelf, rng):
    aliases = {"SettingsDep": "get_settings", "SessionDep": "get_session", "RedisDep": "get_redis",
               "CurrentUser": "get_current_user", "AdminUser": "require_admin", "FolderDep": "get_folder",
               "FolderCacheDep": "get_folder_cache"}
    found = await shelf.nb.call(alias_targets, aliases)
    for alias, function in aliases.items():
        expect(found[alias]["ok"], called=alias, got=found[alias]["shown"],
               expected=f"Annotated[..., Depends({function})]")
    folder = await shelf.folder(made_up(rng)[0])
    await shelf.nb.override_value("get_current_user", await shelf.nb.call(person, "bob"))
    for method, route, query, status in (("GET", "/folders", "", 200), ("POST", "/folders", "?name=x", 403),
                                         ("GET", "/folders/{folder_id}", "", 200),
                                         ("POST", "/folders/{folder_id}/docs", "?title=t", 201),
                                         ("GET", "/folders/{folder_id}/docs", "", 200),
                                         ("DELETE", "/folders/{folder_id}", "", 403)):
        path = route.format(folder_id=folder) + query
        expect_response(await shelf.client.request(method, path), status=status,
                        called=f"{method} {path} with get_current_user overridden to bob, no token",
                        seen=await shelf.nb.graph(f"{method} {route}"))
