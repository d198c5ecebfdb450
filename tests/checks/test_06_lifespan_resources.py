"""Hidden checks for exercise 06, app-scoped resources.

One HTTP client and one Redis client per run of the app, made in the lifespan, closed at shutdown,
and reaching endpoints only through overridable dependencies.
"""

import asyncio

import httpx
from fakeredis import FakeAsyncRedis, FakeServer
from fastapi import FastAPI

from book import apps
from book.checks import check, expect, expect_response, resolved

EXERCISE = "06-lifespan-resources"


def made(notebook, kind):
    return [client for client in notebook.MADE if isinstance(client, kind)]


@check(points=1, hint="""GET /convert/{currency}?amount=... asks the rates service for GET /rates/{currency}
    and answers {"currency": ..., "usd": round(amount * rate, 2)}; a 404 from the service is a 404.""")
async def test_converts_and_refuses_unknown_currencies(client):
    expect_response(await client.get("/convert/GBP", params={"amount": 10}), status=200,
                    json={"currency": "GBP", "usd": 12.7})
    expect_response(await client.get("/convert/JPY", params={"amount": 1000}), status=200,
                    json={"currency": "JPY", "usd": 6.7})
    expect_response(await client.get("/convert/XYZ", params={"amount": 1}), status=404)


@check(points=1, hint="""Count each successful lookup with await redis.incr(f"lookups:{currency}") on
    the RedisClient, and read it back in GET /stats/{currency} (0 when the key is missing).""")
async def test_lookups_are_counted_in_redis(notebook, client):
    for currency in ("EUR", "EUR", "EUR", "GBP", "XYZ"):
        await client.get(f"/convert/{currency}", params={"amount": 1})
    for currency, count in (("EUR", 3), ("GBP", 1), ("JPY", 0), ("XYZ", 0)):
        expect_response(await client.get(f"/stats/{currency}"), status=200,
                        json={"currency": currency, "lookups": count},
                        called=f"GET /stats/{currency} after looking up EUR 3 times, GBP once and XYZ once")
    redis = made(notebook, FakeAsyncRedis)
    stored = await redis[0].get("lookups:EUR") if redis else None
    expect(stored == "3", called="the lifespan's Redis client, key lookups:EUR", got=stored, expected="'3'")


@check(points=2, hint="""Make the clients in the lifespan, before its yield, and nowhere else: not at
    module level, not in a dependency, not in an endpoint. Every request then shares the same two.""")
async def test_one_client_of_each_for_many_requests(notebook, app):
    expect(not notebook.MADE, called="loading the notebook, before the app starts",
           got=f"{len(notebook.MADE)} clients made already", expected="none: clients are made at startup")
    async with apps.serving(app) as asgi_app, apps.client(asgi_app) as client:
        responses = await asyncio.gather(*(client.get("/convert/EUR", params={"amount": n}) for n in range(30)))
        await client.get("/stats/EUR")
    statuses = {response.status_code for response in responses}
    expect(len(made(notebook, httpx.AsyncClient)) == 1 and len(made(notebook, FakeAsyncRedis)) == 1,
           called=f"30 conversions and a stats request in one run of the app (answers: {sorted(statuses)})",
           got=f"{len(made(notebook, httpx.AsyncClient))} HTTP client(s), {len(made(notebook, FakeAsyncRedis))} Redis client(s)",
           expected="1 HTTP client and 1 Redis client")


@check(points=2, hint="""After the lifespan's yield, close both clients: await http.aclose() and
    await redis.aclose(). A try/finally around the yield closes them even when startup or a request failed.""")
async def test_both_clients_are_closed_at_shutdown(notebook, app):
    closed = []

    class RecordingRedis(FakeAsyncRedis):
        async def aclose(self, *args, **kwargs):
            closed.append("redis")
            return await super().aclose(*args, **kwargs)

    def make_redis():
        client = RecordingRedis(server=FakeServer(), decode_responses=True)
        notebook.MADE.append(client)
        return client

    notebook.make_redis = make_redis  # the lifespan looks the factory up when the app starts
    async with apps.serving(app) as asgi_app, apps.client(asgi_app) as client:
        await client.get("/convert/EUR", params={"amount": 1})
        open_while_serving = [not c.is_closed for c in made(notebook, httpx.AsyncClient)]
    http = made(notebook, httpx.AsyncClient)
    expect(bool(http) and all(open_while_serving) and all(c.is_closed for c in http),
           called="one run of the app: startup, a request, shutdown",
           got=f"HTTP client open while serving: {open_while_serving}, closed after: {[c.is_closed for c in http]}",
           expected="open while serving, closed after shutdown")
    expect(closed == ["redis"], called="one run of the app: startup, a request, shutdown",
           got=f"Redis client closed {len(closed)} time(s)", expected="closed once, at shutdown")


@check(points=2, hint="""Endpoints must get the HTTP client from the HTTPClient alias (get_http), so that
    overriding get_http, as tests do, swaps the rates service.""")
async def test_the_http_client_comes_through_the_dependency(notebook, app, client):
    other = FastAPI()

    @other.get("/rates/{currency}")
    async def flat(currency: str) -> dict:
        return {"currency": currency, "usd": 2.0}

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=other), base_url="http://other") as fake:
        app.dependency_overrides[notebook.get_http] = lambda: fake
        expect_response(await client.get("/convert/EUR", params={"amount": 10}), status=200,
                        json={"currency": "EUR", "usd": 20.0},
                        called="GET /convert/EUR?amount=10 with get_http overridden by a service where every rate is 2.0",
                        seen=resolved(app, "GET /convert/{currency}"))


@check(points=1, hint="""Endpoints must get Redis from the RedisClient alias (get_redis), so that
    overriding get_redis swaps the store the counts go to.""")
async def test_redis_comes_through_the_dependency(notebook, app, client):
    fake = FakeAsyncRedis(server=FakeServer(), decode_responses=True)
    await fake.set("lookups:GBP", 41)
    app.dependency_overrides[notebook.get_redis] = lambda: fake
    await client.get("/convert/GBP", params={"amount": 1})
    expect_response(await client.get("/stats/GBP"), status=200, json={"currency": "GBP", "lookups": 42},
                    called="GET /stats/GBP after one lookup, with get_redis overridden by a store that had 41",
                    seen=resolved(app, "GET /stats/{currency}"))
    await fake.aclose()
