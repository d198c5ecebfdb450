"""Hidden checks for exercise 08, caching across requests.

Cache-aside measured from outside: the source's call count, the TTL of what is stored, fresh
answers after a write, separate entries per tenant, and answers (uncached) while Redis is down.
"""

import os

import pytest
from fakeredis import FakeAsyncRedis, FakeServer
from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from book.checks import check, expect, expect_response, resolved

EXERCISE = "08-redis-cache"
ACME, GLOBEX = {"X-Tenant": "acme"}, {"X-Tenant": "globex"}


@pytest.fixture(autouse=True)
async def empty_redis():
    """Against a real server (REDIS_URL), each check starts from an empty database, as with a new FakeServer."""
    url = os.environ.get("REDIS_URL")
    if url:
        async with Redis.from_url(url) as server:
            await server.flushdb()


async def keys_of(notebook):
    store = notebook.make_redis()  # the same server as the app's, fake or real
    try:
        return {key: await store.ttl(key) for key in await store.keys("*")}
    finally:
        await store.aclose()


@check(points=2, hint="""The second read of the same product must come from Redis: on a miss, store
    the source's answer (as JSON) with cache.put, and on the next request return what cache.get finds
    without calling the source.""")
async def test_a_second_read_is_served_from_the_cache(notebook, client):
    before = notebook.SOURCE_CALLS["count"]
    answers = [(await client.get("/products/anvil", headers=ACME)) for _ in range(3)]
    for response in answers:
        expect_response(response, status=200, json={"name": "anvil", "price": 120})
    calls = notebook.SOURCE_CALLS["count"] - before
    expect(calls == 1, called="GET /products/anvil three times as acme", got=f"the source was called {calls} times",
           expected="once")


@check(points=2, hint="""Store every entry with a time to live: await redis.set(key, json.dumps(value),
    ex=CACHE_TTL). Without one, a stale price lives forever.""")
async def test_entries_are_stored_with_a_ttl(notebook, client):
    await client.get("/products/rocket", headers=ACME)
    stored = await keys_of(notebook)
    ok = len(stored) == 1 and all(0 < ttl <= notebook.CACHE_TTL for ttl in stored.values())
    expect(ok, called="GET /products/rocket as acme, then the keys in Redis and their TTLs",
           got=stored or "no key at all", expected=f"one key, with a TTL of at most {notebook.CACHE_TTL} seconds")


@check(points=2, hint="""PUT must drop the cached entry (cache.forget) after updating the source, so the
    next read fetches the new price.""")
async def test_a_write_invalidates_the_entry(client):
    await client.get("/products/anvil", headers=ACME)
    expect_response(await client.put("/products/anvil", params={"price": 130}, headers=ACME), status=200,
                    json={"name": "anvil", "price": 130})
    expect_response(await client.get("/products/anvil", headers=ACME), status=200, json={"name": "anvil", "price": 130},
                    called="GET /products/anvil as acme, after PUT ?price=130")


@check(points=2, hint="""Put the tenant in every key (f"v1:{tenant}:product:{name}"): acme and globex
    both sell an anvil, at different prices, and one must never be served the other's.""")
async def test_tenants_never_share_an_entry(notebook, client):
    before = notebook.SOURCE_CALLS["count"]
    expect_response(await client.get("/products/anvil", headers=ACME), status=200, json={"name": "anvil", "price": 120},
                    called="GET /products/anvil as acme")
    expect_response(await client.get("/products/anvil", headers=GLOBEX), status=200, json={"name": "anvil", "price": 95},
                    called="GET /products/anvil as globex, after acme's")
    expect_response(await client.get("/products/anvil", headers=ACME), status=200, json={"name": "anvil", "price": 120},
                    called="GET /products/anvil as acme, after globex's")
    calls = notebook.SOURCE_CALLS["count"] - before
    expect(calls == 2, called="acme, globex, acme read the anvil", got=f"the source was called {calls} times",
           expected="twice: once per tenant")


@check(points=2, hint="""Redis down must not mean errors: catch redis.exceptions.ConnectionError in the
    cache; a failed read is a miss, a failed write or delete is skipped. The request then answers
    from the source.""")
async def test_a_redis_outage_gives_uncached_answers(notebook, client, lifespan_state):
    await client.get("/products/rocket", headers=ACME)
    # The app's client swapped for one whose server is down (nothing listens on port 1): the same
    # outage with fakeredis and with a real server.
    down = Redis(host="127.0.0.1", port=1, retry=Retry(NoBackoff(), 0))
    working, lifespan_state["redis"] = lifespan_state["redis"], down
    try:
        before = notebook.SOURCE_CALLS["count"]
        for _ in range(2):
            expect_response(await client.get("/products/rocket", headers=ACME), status=200,
                            json={"name": "rocket", "price": 900}, called="GET /products/rocket as acme, Redis down")
        expect_response(await client.put("/products/rocket", params={"price": 950}, headers=ACME), status=200,
                        json={"name": "rocket", "price": 950}, called="PUT /products/rocket?price=950 as acme, Redis down")
        calls = notebook.SOURCE_CALLS["count"] - before
    finally:
        lifespan_state["redis"] = working
        await down.aclose()
    expect(calls == 3, called="two reads and a write while Redis is down", got=f"{calls} source calls",
           expected="3: every request answered by the source")


@check(points=1, hint="""The cache must use the RedisClient dependency (get_redis), so that overriding
    get_redis, as tests do, moves every entry to another store.""")
async def test_the_cache_uses_the_redis_dependency(notebook, app, client):
    other = FakeAsyncRedis(server=FakeServer(), decode_responses=True)
    app.dependency_overrides[notebook.get_redis] = lambda: other
    try:
        await client.get("/products/anvil", headers=GLOBEX)
        moved = await other.keys("*")
    finally:
        await other.aclose()
    own = await keys_of(notebook)
    expect(len(moved) == 1 and not own, called="GET /products/anvil as globex, get_redis overridden by another store",
           got=f"{len(moved)} key(s) in the override, {len(own)} in the app's own Redis",
           expected="1 in the override, none in the app's own", seen=resolved(app, "GET /products/{name}"))
