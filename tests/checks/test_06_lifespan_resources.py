"""Hidden checks for exercise 06, app-scoped resources.

One HTTP client and one Redis client per run of the app, made in the lifespan, closed at shutdown,
and reaching endpoints only through overridable dependencies.

The clients are watched in the agent, through the given factories (make_http_client, make_redis):
`watched` wraps them before the app starts, so every client made afterwards is counted with its
closes. Each grade adds a currency of its own to the rates service, so answers cannot be canned.
"""

import asyncio
import string

import pytest

from book.grader.checks import agent_side, check, expect, expect_response

EXERCISE = "06-lifespan-resources"

RATES = {"EUR": 1.08, "GBP": 1.27, "JPY": 0.0067}  # the given rates service's


@agent_side
def watch_factories(ctx):
    """Wrap the notebook's two factories to keep each client they make, and count its aclose() calls.

    Returns what was made before (by loading the notebook), and whether the app was already served.
    """
    import httpx

    nb = ctx.nb
    ctx.watched = []  # [kind, client, closes]
    before = {"http": sum(isinstance(c, httpx.AsyncClient) for c in nb.MADE),
              "redis": len(nb.MADE) - sum(isinstance(c, httpx.AsyncClient) for c in nb.MADE)}

    def watching(kind, factory):
        def make(*args, **kwargs):
            client = factory(*args, **kwargs)
            entry = [kind, client, 0]
            ctx.watched.append(entry)
            original = client.aclose

            async def aclose(*args, **kwargs):
                entry[2] += 1
                return await original(*args, **kwargs)

            client.aclose = aclose
            return client

        return make

    nb.make_http_client = watching("http", nb.make_http_client)
    nb.make_redis = watching("redis", nb.make_redis)
    return {"before": before, "served": ctx.served is not None}


@agent_side
def watched_clients(ctx):
    """The clients the factories made since watch_factories: kind, closed (HTTP) and aclose() calls."""
    return [{"kind": kind, "closed": bool(getattr(client, "is_closed", False)), "closes": closes}
            for kind, client, closes in ctx.watched]


@agent_side
async def made_redis_value(ctx, key):
    """`key` in the Redis client make_redis made last (None if it made none)."""
    import httpx

    made = [client for client in ctx.nb.MADE if not isinstance(client, httpx.AsyncClient)]
    return await made[-1].get(key) if made else None


@agent_side
def add_rate(ctx, currency, rate):
    ctx.nb.RATES[currency] = rate


@agent_side
def flat_rates_client(ctx, rate):
    """An HTTP client to another rates service, where every currency is worth `rate` dollars."""
    import httpx
    from fastapi import FastAPI

    other = FastAPI()

    @other.get("/rates/{currency}")
    async def flat(currency: str) -> dict:
        return {"currency": currency, "usd": rate}

    return httpx.AsyncClient(transport=httpx.ASGITransport(app=other), base_url="http://other")


@agent_side
async def store_with(ctx, key, value):
    """A Redis store of its own, holding `key` = `value`."""
    from fakeredis import FakeAsyncRedis, FakeServer

    store = FakeAsyncRedis(server=FakeServer(), decode_responses=True)
    await store.set(key, value)
    return store


@pytest.fixture
async def watched(nb):
    """The factories watched, before the app starts: request it before `client`, which starts it."""
    found = await nb.call(watch_factories)
    if found["served"]:
        pytest.fail("the grader watched the clients too late (the app had started): not your mistake",
                    pytrace=False)
    return found["before"]


async def new_currency(nb, rng):
    """A currency made up for this grade, added to the rates service: (code, rate)."""
    code = "".join(rng.choice(string.ascii_uppercase) for _ in range(3))
    while code in RATES or code == "XYZ":
        code = "".join(rng.choice(string.ascii_uppercase) for _ in range(3))
    rate = rng.randint(101, 999) / 100
    await nb.call(add_rate, code, rate)
    return code, rate


def body(response):
    try:
        found = response.json()
    except ValueError:
        return None
    return found if isinstance(found, dict) else None


def in_dollars(got, amount, rate):
    """Whether `got` is amount * rate rounded to cents (a cent off is a tie rounded the other way)."""
    want = round(amount * rate, 2)
    return isinstance(got, (int, float)) and (got == want or (abs(got - want) < 0.0101 and got == round(got, 2)))


async def expect_conversion(client, currency, amount, rate, called=None):
    response = await client.get(f"/convert/{currency}", params={"amount": amount})
    want = {"currency": currency, "usd": round(amount * rate, 2)}
    found = body(response) or {}
    if not (response.status_code == 200 and found.get("currency") == currency
            and in_dollars(found.get("usd"), amount, rate)):
        expect_response(response, status=200, json=want, called=called)


@check(points=1, hint="""GET /convert/{currency}?amount=... asks the rates service for GET /rates/{currency}
    and answers {"currency": ..., "usd": amount * rate, rounded to 2 places}; a 404 from the service is a
    404.""")
async def test_converts_and_refuses_unknown_currencies(nb, client, rng):
    await expect_conversion(client, "GBP", 10, RATES["GBP"])
    await expect_conversion(client, "JPY", 1000, RATES["JPY"])
    currency = rng.choice(sorted(RATES))
    await expect_conversion(client, currency, rng.randint(1, 500), RATES[currency])
    code, rate = await new_currency(nb, rng)
    await expect_conversion(client, code, rng.randint(1, 500), rate)
    expect_response(await client.get("/convert/XYZ", params={"amount": 1}), status=404)


@check(points=1, hint="""Count each successful lookup in Redis under lookups:{currency}, on the Redis
    client of the RedisClient dependency, and read it back in GET /stats/{currency} (0 when the key is
    missing).""")
async def test_lookups_are_counted_in_redis(nb, client, rng):
    code, _ = await new_currency(nb, rng)
    counts = {"EUR": rng.randint(1, 4), "GBP": 1, code: rng.randint(2, 4), "JPY": 0, "XYZ": 0}
    looked_up = [currency for currency, count in counts.items() for _ in range(count)] + ["XYZ"]
    rng.shuffle(looked_up)
    for currency in looked_up:
        await client.get(f"/convert/{currency}", params={"amount": 1})
    done = ", ".join(f"{currency} {looked_up.count(currency)}x" for currency in sorted(set(looked_up)))
    for currency, count in counts.items():
        expect_response(await client.get(f"/stats/{currency}"), status=200,
                        json={"currency": currency, "lookups": count},
                        called=f"GET /stats/{currency} after looking up {done}")
    stored = await nb.call(made_redis_value, "lookups:EUR")
    expect(stored == str(counts["EUR"]), called="the Redis client from make_redis(), key lookups:EUR",
           got=stored, expected=repr(str(counts["EUR"])))


@check(points=2, hint="""Make the clients in the lifespan, before its yield, and nowhere else: not at
    module level, not in a dependency, not in an endpoint. Every request then shares the same two.""")
async def test_one_client_of_each_for_many_requests(nb, watched, client):
    expect(watched == {"http": 0, "redis": 0}, called="loading the notebook, before the app starts",
           got=f"{watched['http']} HTTP client(s) and {watched['redis']} Redis client(s) made already",
           expected="none: clients are made at startup")
    responses = await asyncio.gather(*(client.get("/convert/EUR", params={"amount": n}) for n in range(30)))
    await client.get("/stats/EUR")
    statuses = sorted({response.status_code for response in responses})
    kinds = [made["kind"] for made in await nb.call(watched_clients)]
    expect(kinds.count("http") == 1 and kinds.count("redis") == 1,
           called=f"30 conversions and a stats request in one run of the app (answers: {statuses})",
           got=f"{kinds.count('http')} HTTP client(s), {kinds.count('redis')} Redis client(s)",
           expected="1 HTTP client and 1 Redis client")


@check(points=2, hint="""What comes after the lifespan's yield runs at shutdown: close both clients
    there (each has an aclose()). A try/finally around the yield makes sure it runs.""")
async def test_both_clients_are_closed_at_shutdown(nb, watched, client):
    await client.get("/convert/EUR", params={"amount": 1})
    serving = await nb.call(watched_clients)
    await nb.unserve()
    after = await nb.call(watched_clients)
    called = "one run of the app: startup, a request, shutdown"
    http = [made for made in after if made["kind"] == "http"]
    redis = [made for made in after if made["kind"] == "redis"]
    expect(len(http) == 1 and len(redis) == 1, called=called,
           got=f"{len(http)} HTTP client(s) and {len(redis)} Redis client(s) made by the factories in this run",
           expected="one of each")
    open_while_serving = [not made["closed"] for made in serving if made["kind"] == "http"]
    expect(all(open_while_serving) and http[0]["closed"], called=called,
           got=f"HTTP client open while serving: {open_while_serving}, closed after: {http[0]['closed']}",
           expected="open while serving, closed after shutdown")
    expect(redis[0]["closes"] == 1, called=called, got=f"Redis client closed {redis[0]['closes']} time(s)",
           expected="closed once, at shutdown")


@check(points=2, hint="""Endpoints must get the HTTP client from the HTTPClient alias (get_http), so that
    overriding get_http, as tests do, swaps the rates service.""")
async def test_the_http_client_comes_through_the_dependency(nb, client, rng):
    rate, amount, currency = rng.randint(3, 12) / 2, rng.randint(1, 99), rng.choice(sorted(RATES))
    await nb.override_value("get_http", await nb.call(flat_rates_client, rate))
    await expect_conversion(client, currency, amount, rate,
                            called=f"GET /convert/{currency}?amount={amount} with get_http overridden by a "
                                   f"service where every rate is {rate}")


@check(points=1, hint="""Endpoints must get Redis from the RedisClient alias (get_redis), so that
    overriding get_redis swaps the store the counts go to.""")
async def test_redis_comes_through_the_dependency(nb, client, rng):
    currency, count = rng.choice(sorted(RATES)), rng.randint(5, 90)
    await nb.override_value("get_redis", await nb.call(store_with, f"lookups:{currency}", count))
    await client.get(f"/convert/{currency}", params={"amount": 1})
    expect_response(await client.get(f"/stats/{currency}"), status=200,
                    json={"currency": currency, "lookups": count + 1},
                    called=f"GET /stats/{currency} after one lookup, with get_redis overridden by a store that had "
                           f"{count}",
                    seen=await nb.graph("GET /stats/{currency}"))
