"""Hidden checks for exercise 08, forecasts in three languages, cached.

Cache-aside measured from outside: the office's call count, the TTLs of what is stored (taken
from overridden settings), one entry per language, a remembered "no such city", every language
fresh after an update, a new city found at once, and the office's answers while Redis refuses
connections or hangs. The cities, forecasts and TTLs are made up per grade: the cities are put in
the office's FORECASTS, the TTLs in a Settings that replaces get_settings. A differential check then
drives the learner's app and the reference with the same sequences of reads, updates and outages
(book.grader.differential).

Against a real server (REDIS_URL, which the agent inherits) each check starts from an empty
database, as it does with the notebook's fresh FakeServer.
"""

from collections.abc import Callable
from random import Random
from typing import Any

import anyio.from_thread
import pytest
from httpx import AsyncClient
from hypothesis import strategies as st
from hypothesis.stateful import rule

from book.grader.checks import agent_side, check, expect, expect_response
from book.grader.differential import Differential, Machine, differential  # noqa: F401  (a fixture)
from book.grader.remote_notebook import Notebook

EXERCISE = "08-redis-cache"
PLACES = ["tromso", "bergen", "graz", "nantes", "brno", "turku", "cork", "gent", "ulm", "lille"]
SKIES = ["sun", "rain", "snow"]
LANGUAGES = ["en", "de", "fr"]


@agent_side
async def empty_real_redis(ctx: "Any") -> None:
    """Flush the real server named by REDIS_URL, if any (a FakeServer is new with every notebook)."""
    import os

    from redis.asyncio import Redis

    url = os.environ.get("REDIS_URL")
    if url:
        async with Redis.from_url(url) as server:
            await server.flushdb()


@agent_side
def stock(ctx: "Any", city: str, high: int, sky: str) -> None:
    """Put a city's forecast in the office's FORECASTS."""
    ctx.nb.FORECASTS[city] = {"high": high, "sky": sky}


@agent_side
async def stored_ttls(ctx: "Any") -> dict[str, int]:
    """Every key in the app's Redis (fake or real, through make_redis) and its TTL."""
    store = ctx.nb.make_redis()
    try:
        return {key: await store.ttl(key) for key in await store.keys("*")}
    finally:
        await store.aclose()


@agent_side
async def cut_redis_off(ctx: "Any", how: str) -> None:
    """Swap the app's Redis client for one whose server is down ("refused": nothing listens on port
    1) or hung ("hung": a server that accepts and never answers, so every command times out). The
    lifespan's own client is kept as ctx.working. Requests from now on get the broken one."""
    import asyncio

    from redis.asyncio import Redis
    from redis.asyncio.retry import Retry
    from redis.backoff import NoBackoff

    if "redis" not in ctx.state:
        raise LookupError("the lifespan's state has no 'redis' client")
    if getattr(ctx, "working", None) is None:
        ctx.working = ctx.state["redis"]
    port = 1
    if how == "hung":

        async def never_answer(reader: "asyncio.StreamReader", writer: "asyncio.StreamWriter") -> None:
            await asyncio.sleep(3600)

        ctx.hung = await asyncio.start_server(never_answer, "127.0.0.1", 0)
        port = ctx.hung.sockets[0].getsockname()[1]
    ctx.state["redis"] = Redis(
        host="127.0.0.1", port=port, socket_timeout=0.1, socket_connect_timeout=0.1, retry=Retry(NoBackoff(), 0)
    )


@agent_side
async def redis_back(ctx: "Any") -> None:
    """Put the lifespan's own client back after an outage, emptied: Redis restarted."""
    working = getattr(ctx, "working", None)
    if working is not None:
        ctx.state["redis"] = working
        await working.flushdb()


@agent_side
async def own_database(ctx: "Any", number: int) -> None:
    """Against a real server, the app's client moved to database `number`, emptied: the learner's app
    and the reference, run side by side by the differential check, then never share entries."""
    import os

    from redis.asyncio import ConnectionPool, Redis
    from redis.asyncio.connection import parse_url

    url = os.environ.get("REDIS_URL")
    if url:  # the URL's own database would win over a db= keyword: replaced in its options
        options: dict[str, Any] = {**parse_url(url), "db": number, "decode_responses": True}
        ctx.state["redis"] = Redis(connection_pool=ConnectionPool(**options))
        await ctx.state["redis"].flushdb()


@agent_side
def another_store(ctx: "Any") -> "Callable[[], Any]":
    """A second, empty fakeredis, kept as ctx.other; a dependency returning it, to override get_redis."""
    from fakeredis import FakeAsyncRedis, FakeServer

    ctx.other = FakeAsyncRedis(server=FakeServer(), decode_responses=True)

    def other_redis() -> "Any":
        return ctx.other

    return other_redis


@agent_side
async def keys_in_other_store(ctx: "Any") -> list[str]:
    return sorted(await ctx.other.keys("*"))


@pytest.fixture
async def fresh(nb: Notebook) -> Notebook:
    """The notebook, its Redis empty (a fixture of the checks that use nb: the differential check
    starts notebooks of its own, and an nb taken here would hold the learner's agent)."""
    await nb.call(empty_real_redis)
    return nb


async def office_calls(nb: Notebook) -> Any:
    return (await nb.value("OFFICE_CALLS"))["count"]


async def new_city(nb: Notebook, rng: Random, *, stocked: bool = True) -> tuple[str, int, str]:
    """A made-up city, with a made-up forecast in the office unless stocked is false: (city, high, sky)."""
    city = f"{rng.choice(PLACES)}-{rng.randint(100, 999)}"
    high, sky = rng.randint(-15, 38), rng.choice(SKIES)
    if stocked:
        await nb.call(stock, city, high, sky)
    return city, high, sky


def speaking(lang: str) -> dict[str, str]:
    return {"Accept-Language": lang}


async def answer_of(nb: Notebook, city: str, high: int, sky: str, lang: str) -> dict[str, Any]:
    """What the office answers for that forecast in that language."""
    words = await nb.value("WORDS")
    return {"city": city, "lang": lang, "high": high, "sky": words[sky][lang]}


@check(
    points=2,
    hint="""A forecast read again in the same language must come from Redis, without calling
    the office. What does your cache store on a miss, and does the next request look under the very same
    key?""",
    see="08-redis-cache.ipynb#miss-hit-ttl-invalidation",
)
async def test_a_second_read_is_served_from_the_cache(fresh: Notebook, client: AsyncClient, rng: Random) -> None:
    nb = fresh
    city, high, sky = await new_city(nb, rng)
    lang = rng.choice(LANGUAGES)
    wanted = await answer_of(nb, city, high, sky, lang)
    before = await office_calls(nb)
    for _ in range(3):
        expect_response(
            await client.get(f"/forecast/{city}", headers=speaking(lang)),
            status=200,
            json=wanted,
            called=f"GET /forecast/{city} in {lang}",
        )
    calls = await office_calls(nb) - before
    expect(
        calls == 1,
        called=f"GET /forecast/{city} three times in {lang}",
        got=f"the office was called {calls} times",
        expected="once",
    )


@check(
    points=2,
    hint="""Callers of different languages read the same city, and each must get its own words:
    what in the cache key tells them apart, and where does the language come from?""",
    see="08-redis-cache.ipynb#pitfall-a-key-without-the-tenant",
)
async def test_each_language_has_its_own_entry(fresh: Notebook, client: AsyncClient, rng: Random) -> None:
    nb = fresh
    city, high, sky = await new_city(nb, rng)
    first, second = rng.sample(LANGUAGES, 2)
    before = await office_calls(nb)
    for lang, after in ((first, ""), (second, f", after {first}"), (first, f", after {second}")):
        wanted = await answer_of(nb, city, high, sky, lang)
        expect_response(
            await client.get(f"/forecast/{city}", headers=speaking(lang)),
            status=200,
            json=wanted,
            called=f"GET /forecast/{city} in {lang}{after}",
        )
    calls = await office_calls(nb) - before
    expect(
        calls == 2,
        called=f"GET /forecast/{city} in {first}, {second}, {first}",
        got=f"the office was called {calls} times",
        expected="twice: once per language",
    )


@check(
    points=2,
    hint="""How long a forecast stays cached is a setting, and tests replace get_settings:
    where does your expiry come from, at which moment is it read, and does Redis get it when the entry
    is stored?""",
    see="08-redis-cache.ipynb#miss-hit-ttl-invalidation",
)
async def test_forecasts_live_as_long_as_the_settings_say(fresh: Notebook, client: AsyncClient, rng: Random) -> None:
    nb = fresh
    ttl, short = rng.randint(300, 5000), rng.randint(10, 90)
    await nb.override_instance("get_settings", "Settings", forecast_ttl=ttl, unknown_ttl=short)
    city, high, sky = await new_city(nb, rng)
    lang = rng.choice(LANGUAGES)
    expect_response(
        await client.get(f"/forecast/{city}", headers=speaking(lang)),
        status=200,
        json=await answer_of(nb, city, high, sky, lang),
    )
    stored = await nb.call(stored_ttls)
    # Redis rounds a TTL down to whole seconds: a few seconds' slack, never more than the setting.
    ok = bool(stored) and all(ttl - 5 <= left <= ttl for left in stored.values())
    expect(
        ok,
        called=f"GET /forecast/{city} in {lang}, settings forecast_ttl={ttl}, unknown_ttl={short}; "
        "then the keys in Redis and their TTLs",
        got=stored or "no key at all",
        expected=f"the forecast's key(s), each with a TTL of {ttl} seconds",
    )


@check(
    points=2,
    hint="""A city the office does not know is worth remembering too, but not for long:
    store something that says "no such city", that the next read can tell apart from a miss, with
    the settings' unknown_ttl.""",
    see="08-redis-cache.ipynb#miss-hit-ttl-invalidation",
)
async def test_an_unknown_city_is_remembered_for_a_shorter_time(
    fresh: Notebook, client: AsyncClient, rng: Random
) -> None:
    nb = fresh
    ttl, short = rng.randint(300, 5000), rng.randint(10, 90)
    await nb.override_instance("get_settings", "Settings", forecast_ttl=ttl, unknown_ttl=short)
    city, _, _ = await new_city(nb, rng, stocked=False)
    lang = rng.choice(LANGUAGES)
    before = await office_calls(nb)
    for again in ("", " again"):
        expect_response(
            await client.get(f"/forecast/{city}", headers=speaking(lang)),
            status=404,
            called=f"GET /forecast/{city}{again} (a city the office does not know)",
        )
    calls = await office_calls(nb) - before
    expect(
        calls == 1,
        called=f"GET /forecast/{city} twice in {lang}, an unknown city",
        got=f"the office was called {calls} times",
        expected="once: the second 404 from Redis",
    )
    stored = await nb.call(stored_ttls)
    ok = bool(stored) and all(short - 5 <= left <= short for left in stored.values())
    expect(
        ok,
        called=f"the same, settings forecast_ttl={ttl}, unknown_ttl={short}; then the keys in Redis and their TTLs",
        got=stored or "no key at all",
        expected=f"key(s) with a TTL of {short} seconds",
    )


@check(
    points=2,
    hint="""One PUT makes a city's forecast stale in every language, not only the caller's.
    Which entries does your PUT drop, and how does it find the entries of the other languages?""",
    see="08-redis-cache.ipynb#miss-hit-ttl-invalidation",
)
async def test_an_update_refreshes_every_language(fresh: Notebook, client: AsyncClient, rng: Random) -> None:
    nb = fresh
    city, high, sky = await new_city(nb, rng)
    for lang in LANGUAGES:
        expect_response(
            await client.get(f"/forecast/{city}", headers=speaking(lang)),
            status=200,
            json=await answer_of(nb, city, high, sky, lang),
        )
    new: dict[str, Any] = {
        "high": high + rng.randint(1, 9),
        "sky": rng.choice([other for other in SKIES if other != sky]),
    }
    writer = rng.choice(LANGUAGES)
    expect_response(
        await client.put(f"/forecast/{city}", json=new, headers=speaking(writer)),
        status=200,
        json={"city": city, **new},
        called=f"PUT /forecast/{city} {new} in {writer}",
    )
    for lang in LANGUAGES:
        expect_response(
            await client.get(f"/forecast/{city}", headers=speaking(lang)),
            status=200,
            json=await answer_of(nb, city, new["high"], new["sky"], lang),
            called=f"GET /forecast/{city} in {lang}, read in all three languages before PUT {new} (in {writer})",
        )


@check(
    points=1,
    hint="""A city that was unknown and is then created by a PUT must be found at once:
    does your PUT drop what the cache remembers about "no such city" too?""",
    see="08-redis-cache.ipynb#miss-hit-ttl-invalidation",
)
async def test_a_new_city_is_not_hidden_by_its_unknown_entry(fresh: Notebook, client: AsyncClient, rng: Random) -> None:
    nb = fresh
    city, high, sky = await new_city(nb, rng, stocked=False)
    first, second = rng.choice(LANGUAGES), rng.choice(LANGUAGES)
    expect_response(
        await client.get(f"/forecast/{city}", headers=speaking(first)),
        status=404,
        called=f"GET /forecast/{city} (unknown yet)",
    )
    new: dict[str, Any] = {"high": high, "sky": sky}
    expect_response(
        await client.put(f"/forecast/{city}", json=new, headers=speaking(first)),
        status=200,
        json={"city": city, **new},
        called=f"PUT /forecast/{city} {new}",
    )
    expect_response(
        await client.get(f"/forecast/{city}", headers=speaking(second)),
        status=200,
        json=await answer_of(nb, city, high, sky, second),
        called=f"GET /forecast/{city} in {second}: 404 in {first} before PUT {new}",
    )


@check(
    points=2,
    hint="""Redis down must not mean errors, however it is down: refusing connections, or
    accepting them and never answering (a timeout). A read that fails is a miss, a write or a delete
    that fails is skipped, and the office answers; which exception class covers every failure of a Redis
    command?""",
    see="08-redis-cache.ipynb#when-redis-is-down",
)
async def test_a_redis_outage_falls_back_to_the_office(fresh: Notebook, client: AsyncClient, rng: Random) -> None:
    nb = fresh
    for how in ("refused", "hung"):
        await nb.call(redis_back)
        city, high, sky = await new_city(nb, rng)
        nowhere, _, _ = await new_city(nb, rng, stocked=False)
        lang = rng.choice(LANGUAGES)
        await client.get(f"/forecast/{city}", headers=speaking(lang))
        await client.get(f"/forecast/{nowhere}", headers=speaking(lang))
        await nb.call(cut_redis_off, how)
        down = f"Redis down ({'connections refused' if how == 'refused' else 'it never answers: a timeout'})"
        before = await office_calls(nb)
        expect_response(
            await client.get(f"/forecast/{city}", headers=speaking(lang)),
            status=200,
            json=await answer_of(nb, city, high, sky, lang),
            called=f"GET /forecast/{city}, {down}",
        )
        expect_response(
            await client.get(f"/forecast/{nowhere}", headers=speaking(lang)),
            status=404,
            called=f"GET /forecast/{nowhere} (unknown), {down}",
        )
        new: dict[str, Any] = {"high": high - 1, "sky": sky}
        expect_response(
            await client.put(f"/forecast/{city}", json=new, headers=speaking(lang)),
            status=200,
            json={"city": city, **new},
            called=f"PUT /forecast/{city} {new}, {down}",
        )
        calls = await office_calls(nb) - before
        expect(
            calls == 3,
            called=f"two reads and a write, {down}",
            got=f"{calls} office calls",
            expected="3: every request answered by the office",
        )


@check(
    points=1,
    hint="""The cache must get its client from RedisClient (get_redis) and the language from
    Language (get_language), so that overriding them, as tests do, moves the entries to another store
    and changes the language. Does your cache make a client, or read the header, by itself?""",
    see="08-redis-cache.ipynb#the-cache-as-a-dependency",
)
async def test_the_cache_follows_the_dependencies(fresh: Notebook, client: AsyncClient, rng: Random) -> None:
    nb = fresh
    city, high, sky = await new_city(nb, rng)
    lang = rng.choice(["de", "fr"])
    await nb.override("get_redis", await nb.call(another_store))
    await nb.override_value("get_language", lang)
    called = f"GET /forecast/{city} in en, get_redis overridden by another store, get_language by '{lang}'"
    expect_response(
        await client.get(f"/forecast/{city}", headers=speaking("en")),
        status=200,
        json=await answer_of(nb, city, high, sky, lang),
        called=called,
    )
    moved, own = await nb.call(keys_in_other_store), await nb.call(stored_ttls)
    expect(
        bool(moved) and not own,
        called=called,
        got=f"{len(moved)} key(s) in the override, {len(own)} in the app's own Redis",
        expected="the entry in the override, none in the app's own",
        seen=await nb.graph("GET /forecast/{city}"),
    )


CITIES = ["oslo", "lyon", "quito", "atlantis"]  # the first two are given; the others unknown at first


class Forecasts(Machine):
    """Any sequence of reads in any language, updates and new cities, with Redis refusing connections
    for a while and coming back empty, as the reference handles it: every answer."""

    def __init__(self) -> None:
        super().__init__()

        async def apart() -> None:
            learner, reference = self.current.learner.notebook, self.current.reference.notebook
            assert learner is not None and reference is not None  # started by Machine.__init__
            await learner.call(own_database, 1)
            await reference.call(own_database, 2)

        anyio.from_thread.run(apart)

    @rule(city=st.sampled_from(CITIES), lang=st.sampled_from(LANGUAGES))
    def read(self, city: str, lang: str) -> None:
        self.step(f"in {lang}:")
        self.same(*self.send("GET", f"/forecast/{city}", headers=speaking(lang)))

    @rule(city=st.sampled_from(CITIES), high=st.integers(-20, 40), sky=st.sampled_from(SKIES))
    def update(self, city: str, high: int, sky: str) -> None:
        self.same(*self.send("PUT", f"/forecast/{city}", json={"high": high, "sky": sky}))

    @rule()
    def redis_down(self) -> None:
        self.step("Redis down (connections refused)")
        self.call(lambda nb: nb.call(cut_redis_off, "refused"))

    @rule()
    def redis_up(self) -> None:
        self.step("Redis back, restarted empty")
        self.call(lambda nb: nb.call(redis_back))

    def tour(self) -> None:
        self.read("oslo", "en")
        self.read("oslo", "de")
        self.read("quito", "fr")
        self.update("oslo", 5, "rain")
        self.read("oslo", "de")
        self.read("quito", "de")
        self.update("quito", 30, "sun")
        self.read("quito", "fr")
        self.redis_down()
        self.read("lyon", "en")
        self.update("lyon", 3, "snow")
        self.read("atlantis", "en")
        self.redis_up()
        self.read("lyon", "en")


@check(
    points=3,
    hint="""In some sequence of reads in several languages, updates, new cities and Redis
    outages, your app answers differently from what the exercise asks. Replay the sequence shown in
    your notebook and compare each answer with the acceptance criteria.""",
    see="08-redis-cache.ipynb#the-cache-as-a-dependency",
)
async def test_behaves_as_specified_in_any_sequence(differential: Differential) -> None:  # noqa: F811
    await differential.run(Forecasts, examples=3, steps=5)
