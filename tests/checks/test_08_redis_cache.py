"""Hidden checks for exercise 08, caching across requests.

Cache-aside measured from outside: the source's call count, the TTL of what is stored, fresh
answers after a write, separate entries per tenant, and answers (uncached) while Redis is down.
The tenants, products and prices are made up per grade and put in the source's PRICES, so every
expected answer comes from that made-up data, not from the given catalogue.

Against a real server (REDIS_URL, which the agent inherits) each check starts from an empty
database, as it does with the notebook's fresh FakeServer.
"""

import pytest

from book.grader.checks import agent_side, check, expect, expect_response

EXERCISE = "08-redis-cache"
TENANTS = ["initech", "umbrella", "hooli", "stark", "wonka", "tyrell"]
PRODUCTS = ["magnet", "spring", "skates", "glue", "catapult", "bird-seed"]


@agent_side
async def empty_real_redis(ctx):
    """Flush the real server named by REDIS_URL, if any (a FakeServer is new with every notebook)."""
    import os

    from redis.asyncio import Redis

    url = os.environ.get("REDIS_URL")
    if url:
        async with Redis.from_url(url) as server:
            await server.flushdb()


@agent_side
def stock(ctx, tenant, name, price):
    """Put a product in the source's catalogue."""
    ctx.nb.PRICES[(tenant, name)] = price


@agent_side
async def stored_ttls(ctx):
    """Every key in the app's Redis (fake or real, through make_redis) and its TTL."""
    store = ctx.nb.make_redis()
    try:
        return {key: await store.ttl(key) for key in await store.keys("*")}
    finally:
        await store.aclose()


@agent_side
async def cut_redis_off(ctx, how):
    """Swap the app's Redis client for one whose server is down ("refused": nothing listens on port
    1) or hung ("hung": a server that accepts and never answers, so every command times out), the
    same outage with fakeredis and with a real server. Requests from now on get the broken one."""
    import asyncio

    from redis.asyncio import Redis
    from redis.asyncio.retry import Retry
    from redis.backoff import NoBackoff

    if "redis" not in ctx.state:
        raise LookupError("the lifespan's state has no 'redis' client")
    port = 1
    if how == "hung":
        async def never_answer(reader, writer):
            await asyncio.sleep(3600)

        ctx.hung = await asyncio.start_server(never_answer, "127.0.0.1", 0)
        port = ctx.hung.sockets[0].getsockname()[1]
    ctx.state["redis"] = Redis(host="127.0.0.1", port=port, socket_timeout=0.1, socket_connect_timeout=0.1,
                               retry=Retry(NoBackoff(), 0))


@agent_side
def another_store(ctx):
    """A second, empty fakeredis, kept as ctx.other; a dependency returning it, to override get_redis."""
    from fakeredis import FakeAsyncRedis, FakeServer

    ctx.other = FakeAsyncRedis(server=FakeServer(), decode_responses=True)

    def other_redis():
        return ctx.other

    return other_redis


@agent_side
async def keys_in_other_store(ctx):
    return sorted(await ctx.other.keys("*"))


@pytest.fixture(autouse=True)
async def empty_redis(nb):
    await nb.call(empty_real_redis)


async def source_calls(nb):
    return (await nb.value("SOURCE_CALLS"))["count"]


async def new_product(nb, rng, tenant=None, name=None):
    """A product of a made-up tenant in the source, at a made-up price: (tenant, name, price)."""
    tenant = tenant or f"{rng.choice(TENANTS)}-{rng.randint(10, 99)}"
    name = name or f"{rng.choice(PRODUCTS)}-{rng.randint(100, 999)}"
    price = rng.randint(5, 5000)
    await nb.call(stock, tenant, name, price)
    return tenant, name, price


def of(tenant):
    """The request headers of a tenant."""
    return {"X-Tenant": tenant}


@check(points=2, hint="""The second read of the same product must come from Redis: on a miss, store
    the source's answer (as JSON) in the cache, and on the next request return what the cache finds
    without calling the source.""")
async def test_a_second_read_is_served_from_the_cache(nb, client, rng):
    tenant, name, price = await new_product(nb, rng)
    before = await source_calls(nb)
    for _ in range(3):
        expect_response(await client.get(f"/products/{name}", headers=of(tenant)), status=200,
                        json={"name": name, "price": price}, called=f"GET /products/{name} as {tenant}")
    calls = await source_calls(nb) - before
    expect(calls == 1, called=f"GET /products/{name} three times as {tenant}",
           got=f"the source was called {calls} times", expected="once")


@check(points=2, hint="""Store every entry with a time to live of CACHE_TTL seconds: look at the
    arguments of Redis's set. Without one, a stale price lives forever.""")
async def test_entries_are_stored_with_a_ttl(nb, client, rng):
    tenant, name, price = await new_product(nb, rng)
    expect_response(await client.get(f"/products/{name}", headers=of(tenant)), status=200,
                    json={"name": name, "price": price})
    stored = await nb.call(stored_ttls)
    ttl = await nb.value("CACHE_TTL")
    # Redis rounds a TTL down to whole seconds: a few seconds' slack, never more than CACHE_TTL.
    ok = len(stored) == 1 and all(ttl - 5 <= left <= ttl for left in stored.values())
    expect(ok, called=f"GET /products/{name} as {tenant}, then the keys in Redis and their TTLs",
           got=stored or "no key at all", expected=f"one key, with a TTL of {ttl} seconds")


@check(points=2, hint="""A PUT must drop the cached entry after updating the source, so the next
    read fetches the new price.""")
async def test_a_write_invalidates_the_entry(nb, client, rng):
    tenant, name, price = await new_product(nb, rng)
    new_price = price + rng.randint(1, 500)
    expect_response(await client.get(f"/products/{name}", headers=of(tenant)), status=200,
                    json={"name": name, "price": price})
    expect_response(await client.put(f"/products/{name}", params={"price": new_price}, headers=of(tenant)), status=200,
                    json={"name": name, "price": new_price})
    expect_response(await client.get(f"/products/{name}", headers=of(tenant)), status=200,
                    json={"name": name, "price": new_price},
                    called=f"GET /products/{name} as {tenant}, after PUT ?price={new_price}")


@check(points=2, hint="""Two tenants may sell a product of the same name at different prices, and
    one must never be served the other's: what in the cache key tells them apart?""")
async def test_tenants_never_share_an_entry(nb, client, rng):
    first, name, first_price = await new_product(nb, rng)
    second, _, second_price = await new_product(nb, rng, tenant=f"{first}-eu", name=name)
    before = await source_calls(nb)
    for tenant, price, after in ((first, first_price, ""), (second, second_price, f", after {first}'s"),
                                 (first, first_price, f", after {second}'s")):
        expect_response(await client.get(f"/products/{name}", headers=of(tenant)), status=200,
                        json={"name": name, "price": price}, called=f"GET /products/{name} as {tenant}{after}")
    calls = await source_calls(nb) - before
    expect(calls == 2, called=f"{first}, {second}, {first} read {name}",
           got=f"the source was called {calls} times", expected="twice: once per tenant")


@check(points=2, hint="""Redis down must not mean errors, however it is down: refusing connections, or
    accepting them and never answering (a timeout). In the cache, a read that fails is a miss and a
    write or delete that fails is skipped; which exception class covers every failure of a Redis
    command?""")
async def test_a_redis_outage_gives_uncached_answers(nb, client, rng):
    for how in ("refused", "hung"):
        tenant, name, price = await new_product(nb, rng)
        new_price = price + rng.randint(1, 500)
        await nb.call(restore_redis)
        await client.get(f"/products/{name}", headers=of(tenant))
        await nb.call(cut_redis_off, how)
        down = f"Redis down ({'connections refused' if how == 'refused' else 'it never answers: a timeout'})"
        before = await source_calls(nb)
        for _ in range(2):
            expect_response(await client.get(f"/products/{name}", headers=of(tenant)), status=200,
                            json={"name": name, "price": price}, called=f"GET /products/{name} as {tenant}, {down}")
        expect_response(await client.put(f"/products/{name}", params={"price": new_price}, headers=of(tenant)),
                        status=200, json={"name": name, "price": new_price},
                        called=f"PUT /products/{name}?price={new_price} as {tenant}, {down}")
        calls = await source_calls(nb) - before
        expect(calls == 3, called=f"two reads and a write, {down}", got=f"{calls} source calls",
               expected="3: every request answered by the source")


@agent_side
def restore_redis(ctx):
    """Put back the lifespan's own client after an outage (the first time: remember it)."""
    ctx.working = getattr(ctx, "working", None) or ctx.state.get("redis")
    ctx.state["redis"] = ctx.working


@check(points=1, hint="""The cache must get its client from the RedisClient dependency (get_redis),
    so that overriding get_redis, as tests do, moves every entry to another store.""")
async def test_the_cache_uses_the_redis_dependency(nb, client, rng):
    tenant, name, _ = await new_product(nb, rng)
    await nb.override("get_redis", await nb.call(another_store))
    await client.get(f"/products/{name}", headers=of(tenant))
    moved, own = await nb.call(keys_in_other_store), await nb.call(stored_ttls)
    expect(len(moved) == 1 and not own,
           called=f"GET /products/{name} as {tenant}, get_redis overridden by another store",
           got=f"{len(moved)} key(s) in the override, {len(own)} in the app's own Redis",
           expected="1 in the override, none in the app's own", seen=await nb.graph("GET /products/{name}"))
