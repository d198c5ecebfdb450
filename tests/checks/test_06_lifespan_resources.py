"""Hidden checks for exercise 06, a shipping-quote service with a reloadable tariff sheet.

Two app-scoped resources: a carrier client (made by the given open_carrier) and a tariff sheet
(read by the given read_tariffs from TARIFF_FILE). The factories are watched in the agent before
the app starts, so the checks count clients made and file reads, and see which clients are closed.
Each grade writes tariff sheets and a fuel surcharge of its own, so answers cannot be canned. A
differential check drives the learner's app and the reference with the same quotes, health
requests and reloads (good files, broken files, no token).
"""

import string
from random import Random
from typing import Any

import pytest
from httpx import AsyncClient
from hypothesis import strategies as st
from hypothesis.stateful import invariant, rule

from book.grader.checks import agent_side, check, expect, expect_response
from book.grader.differential import Differential, Machine, differential  # noqa: F401  (a fixture)
from book.grader.remote_notebook import Notebook

EXERCISE = "06-lifespan-resources"
TOKEN = "ops-7f3a-reload"  # the given ADMIN_TOKEN
ADMIN = {"Authorization": f"Bearer {TOKEN}"}


def price(rate: dict[str, int], kg: int, percent: int) -> int:
    return (rate["base"] + rate["per_kg"] * kg) * (100 + percent) // 100


@agent_side
def watch_factories(ctx: "Any") -> "dict[str, Any]":
    """Wrap open_carrier and read_tariffs to keep every client made and count every read.

    Returns the carrier clients made before (by loading the notebook), and whether the app was
    already served.
    """
    nb = ctx.nb
    ctx.carriers, ctx.reads = [], [0]
    before = len(nb.OPENED)
    opener, reader = nb.open_carrier, nb.read_tariffs

    def open_carrier(*args: "Any", **kwargs: "Any") -> "Any":
        made = opener(*args, **kwargs)
        ctx.carriers.append(made)
        return made

    def read_tariffs(*args: "Any", **kwargs: "Any") -> "Any":
        ctx.reads[0] += 1
        return reader(*args, **kwargs)

    nb.open_carrier, nb.read_tariffs = open_carrier, read_tariffs
    return {"before": before, "served": ctx.served is not None}


@agent_side
def watched(ctx: "Any") -> "dict[str, Any]":
    """The carrier clients made since watch_factories (closed or not), and the reads of the file."""
    return {"closed": [made.is_closed for made in ctx.carriers], "reads": ctx.reads[0]}


@agent_side
def all_carriers_closed(ctx: "Any") -> list[bool]:
    """Whether every carrier client the notebook made is closed: [closed, ...]."""
    return [made.is_closed for made in ctx.nb.OPENED]


@agent_side
def write_sheet(ctx: "Any", version: str, zones: dict[str, dict[str, int]]) -> None:
    ctx.nb.write_tariffs(version, zones)


@agent_side
def break_sheet(ctx: "Any", how: str) -> None:
    """Make the tariff file unreadable: gone, not JSON, or without zones."""
    path = ctx.nb.TARIFF_FILE
    if how == "missing":
        path.unlink(missing_ok=True)
    elif how == "garbled":
        path.write_text('{"version": "x", "zones": {')
    else:
        path.write_text('{"version": "x"}')


@agent_side
def set_fuel(ctx: "Any", percent: int) -> None:
    ctx.nb.FUEL["percent"] = percent


@agent_side
async def fixed_fuel_carrier(ctx: "Any", percent: int, closed: bool) -> "Any":
    """A carrier client to another carrier whose surcharge is always `percent` (closed if asked)."""
    import httpx
    from fastapi import FastAPI

    other = FastAPI()

    @other.get("/fuel")
    async def fuel() -> dict:  # type: ignore[type-arg]  # a route: FastAPI reads this annotation, kept as written
        return {"percent": percent}

    made = httpx.AsyncClient(transport=httpx.ASGITransport(app=other), base_url="http://other")
    if closed:
        await made.aclose()
    return made


def made_up_sheet(rng: Random, count: int = 3) -> tuple[str, dict[str, dict[str, int]]]:
    """A version and `count` zones with made-up rates."""
    names: set[str] = set()
    while len(names) < count:
        names.add("".join(rng.choice(string.ascii_uppercase) for _ in range(2)))
    zones = {name: {"base": rng.randint(100, 2000), "per_kg": rng.randint(50, 500)} for name in sorted(names)}
    return (
        f"{rng.choice(['2026', '2027', '2028'])}-{rng.choice(['spring', 'summer', 'autumn'])}-{rng.randint(10, 99)}",
        zones,
    )


@pytest.fixture
async def sheet(nb: Notebook, rng: Random) -> dict[str, Any]:
    """A made-up tariff sheet and surcharge, written before the app starts: request it before `client`."""
    version, zones = made_up_sheet(rng)
    percent = rng.randint(3, 25)
    await nb.call(write_sheet, version, zones)
    await nb.call(set_fuel, percent)
    return {"version": version, "zones": zones, "percent": percent}


@pytest.fixture
async def watching(nb: Notebook) -> int:
    """The factories watched, before the app starts: request it before `client`, which starts it."""
    found = await nb.call(watch_factories)
    if found["served"]:
        pytest.fail("the grader watched the resources too late (the app had started): not your mistake", pytrace=False)
    return int(found["before"])  # a count


async def expect_quotes(
    client: AsyncClient, zones: dict[str, dict[str, int]], percent: int, version: str, rng: Random, called: str = ""
) -> None:
    for zone, rate in zones.items():
        kg = rng.randint(1, 100)
        expect_response(
            await client.get("/quote", params={"zone": zone, "kg": kg}),
            status=200,
            json={"zone": zone, "kg": kg, "price": price(rate, kg, percent), "tariffs": version},
            called=f"GET /quote?zone={zone}&kg={kg}{called}",
        )


@check(
    points=2,
    hint="""GET /quote takes the zone's rate from the tariff sheet and the surcharge from the
    carrier's GET /fuel, and answers with price_cents(rate, kg, percent) and the sheet's version; 404
    for a zone the sheet lacks, 422 for kg outside 1..100. If a price is off, compare each value you
    give price_cents with where it should come from.""",
    see="06-lifespan-resources.ipynb#running-it-with-its-lifespan",
)
async def test_quotes_use_the_sheet_and_the_carrier(
    nb: Notebook, sheet: dict[str, Any], client: AsyncClient, rng: Random
) -> None:
    await expect_quotes(
        client, sheet["zones"], sheet["percent"], sheet["version"], rng, called=f" (fuel surcharge {sheet['percent']}%)"
    )
    expect_response(await client.get("/quote", params={"zone": "ZZZ", "kg": 1}), status=404)
    zone = next(iter(sheet["zones"]))
    for kg in (0, 101, -rng.randint(1, 9)):
        expect_response(await client.get("/quote", params={"zone": zone, "kg": kg}), status=422)


@check(
    points=1,
    hint="""GET /health answers {"carrier": "open" or "closed", "tariffs": <version>, "zones":
    <how many>}. Does it look at the very carrier client and sheet the quotes use, or at objects of its
    own?""",
    see="06-lifespan-resources.ipynb#running-it-with-its-lifespan",
)
async def test_health_reports_what_is_in_use(sheet: dict[str, Any], client: AsyncClient) -> None:
    expect_response(
        await client.get("/health"),
        status=200,
        json={"carrier": "open", "tariffs": sheet["version"], "zones": len(sheet["zones"])},
    )


@check(
    points=2,
    hint="""Count the carrier clients made and the reads of the tariff file in one run of the
    app: one of each, at startup, shared by every request. Where does your code make the client and read
    the file: at import, in a dependency, in a route, or when the app starts?""",
    see="06-lifespan-resources.ipynb#pitfall-a-resource-per-request",
)
async def test_one_carrier_and_one_read_per_run(nb: Notebook, watching: int, client: AsyncClient) -> None:
    expect(
        watching == 0,
        called="loading the notebook, before the app starts",
        got=f"{watching} carrier client(s) made already",
        expected="none: they are made at startup",
    )
    for zone in ("EU", "UK", "US", "EU", "ZZ"):
        await client.get("/quote", params={"zone": zone, "kg": 2})
    await client.get("/health")
    seen = await nb.call(watched)
    expect(
        len(seen["closed"]) == 1 and seen["reads"] == 1,
        called="5 quotes and a health request in one run of the app",
        got=f"{len(seen['closed'])} carrier client(s) made, the file read {seen['reads']} time(s)",
        expected="1 carrier client, the file read once",
    )


@check(
    points=1,
    hint="""Once the app has stopped, the carrier client must be closed. What does your
    lifespan run after its yield, and does that still run when something failed while the app was
    serving?""",
    see="06-lifespan-resources.ipynb#the-lifespan",
)
async def test_the_carrier_is_closed_at_shutdown(nb: Notebook, watching: int, client: AsyncClient) -> None:
    await client.get("/quote", params={"zone": "EU", "kg": 1})
    serving = await nb.call(watched)
    await nb.unserve()
    after = await nb.call(watched)
    expect(
        serving["closed"] == [False] and after["closed"] == [True],
        called="one run of the app: startup, a quote, shutdown",
        got=f"carrier clients closed while serving: {serving['closed']}, after shutdown: {after['closed']}",
        expected="one client, open while serving, closed after shutdown",
    )


@check(
    points=2,
    hint="""When the tariff file cannot be read at startup, the service must not start,
    and a carrier client made before must still be closed: what closes it must run when reading the
    file raises, not only at a normal shutdown.""",
    see="06-lifespan-resources.ipynb#the-lifespan",
)
async def test_a_failed_startup_leaves_no_carrier_open(nb: Notebook, rng: Random) -> None:
    how = rng.choice(["missing", "garbled", "no zones"])
    await nb.call(break_sheet, how)
    reply = await nb.agent.request("serve")
    closed = await nb.call(all_carriers_closed)
    called = f"starting the app with the tariff file {how}"
    expect(not reply.get("ok"), called=called, got="the app started", expected="startup fails")
    expect(
        all(closed),
        called=called,
        got=f"carrier clients made, closed: {closed}",
        expected="every carrier client closed",
    )


@check(
    points=2,
    hint="""POST /admin/reload must replace the sheet for every later request, with the app
    still running. Each request gets a shallow copy of the lifespan state: assigning to request.state
    lasts one request. Where can the sheet live so that a change outlives the request that made it?""",
    see="06-lifespan-resources.ipynb#lifespan-state-or-appstate",
)
async def test_reload_swaps_the_sheet_without_restart(
    nb: Notebook, sheet: dict[str, Any], watching: int, client: AsyncClient, rng: Random
) -> None:
    await client.get("/quote", params={"zone": next(iter(sheet["zones"])), "kg": 1})
    version, zones = made_up_sheet(rng, count=rng.choice([2, 4]))
    await nb.call(write_sheet, version, zones)
    called = f"POST /admin/reload after writing sheet {version} with zones {sorted(zones)}"
    expect_response(
        await client.post("/admin/reload", headers=ADMIN),
        status=200,
        json={"tariffs": version, "zones": len(zones)},
        called=called,
    )
    await expect_quotes(client, zones, sheet["percent"], version, rng, called=" after the reload")
    gone = next((zone for zone in sheet["zones"] if zone not in zones), None)
    if gone is not None:
        expect_response(
            await client.get("/quote", params={"zone": gone, "kg": 1}),
            status=404,
            called=f"GET /quote?zone={gone}&kg=1 after a reload without {gone}",
        )
    expect_response(
        await client.get("/health"),
        status=200,
        json={"carrier": "open", "tariffs": version, "zones": len(zones)},
        called="GET /health after the reload",
    )
    seen = await nb.call(watched)
    expect(
        seen["closed"] == [False] and seen["reads"] == 2,
        called=called,
        got=f"carrier clients made: {len(seen['closed'])} (closed: {seen['closed']}), "
        f"file read {seen['reads']} time(s)",
        expected="still the one carrier client, open; the file read twice (startup, reload)",
    )


@check(
    points=2,
    hint="""When the file cannot be read, POST /admin/reload answers 409 and the old sheet
    stays in use, whole: read the new sheet completely before replacing anything.""",
    see="06-lifespan-resources.ipynb#lifespan-state-or-appstate",
)
async def test_a_failed_reload_keeps_the_old_sheet(
    nb: Notebook, sheet: dict[str, Any], client: AsyncClient, rng: Random
) -> None:
    how = rng.choice(["missing", "garbled", "no zones"])
    await nb.call(break_sheet, how)
    expect_response(
        await client.post("/admin/reload", headers=ADMIN),
        status=409,
        called=f"POST /admin/reload with the tariff file {how}",
    )
    await expect_quotes(
        client, sheet["zones"], sheet["percent"], sheet["version"], rng, called=" after a failed reload"
    )
    expect_response(
        await client.get("/health"),
        status=200,
        json={"carrier": "open", "tariffs": sheet["version"], "zones": len(sheet["zones"])},
        called="GET /health after a failed reload",
    )


@check(
    points=1,
    hint="""Only the operations team may reload: without the right bearer token, POST
    /admin/reload answers 401 with WWW-Authenticate and changes nothing. Which of the given dependencies
    checks that token, and does the reload route run it?""",
    see="04-role-checks.ipynb#when-the-endpoint-does-not-need-the-user",
)
async def test_reload_is_for_admins_only(nb: Notebook, sheet: dict[str, Any], client: AsyncClient, rng: Random) -> None:
    version, zones = made_up_sheet(rng)
    await nb.call(write_sheet, version, zones)
    for headers in ({}, {"Authorization": f"Bearer ops-{rng.randint(1000, 9999)}"}):
        response = await client.post("/admin/reload", headers=headers)
        expect_response(response, status=401, called=f"POST /admin/reload with headers {headers}")
        expect(
            "www-authenticate" in response.headers,
            called=f"POST /admin/reload with headers {headers}",
            got=f"headers {dict(response.headers)}",
            expected="a WWW-Authenticate header",
        )
    expect_response(
        await client.get("/health"),
        status=200,
        json={"carrier": "open", "tariffs": sheet["version"], "zones": len(sheet["zones"])},
        called="GET /health after two refused reloads",
    )


@check(
    points=2,
    hint="""Every route must get the carrier from get_carrier and the sheet from get_tariffs
    (through their dependencies), so that one override reaches both /quote and /health. Does any route
    read the lifespan state itself?""",
    see="06-lifespan-resources.ipynb#overrides-swap-the-dependency-not-the-lifespan",
)
async def test_overrides_reach_every_route(nb: Notebook, client: AsyncClient, rng: Random) -> None:
    version, zones = made_up_sheet(rng, count=2)
    await nb.override_instance("get_tariffs", "Tariffs", version=version, zones=zones)
    percent = rng.randint(30, 60)
    await nb.override_value("get_carrier", await nb.call(fixed_fuel_carrier, percent, False))
    await expect_quotes(
        client,
        zones,
        percent,
        version,
        rng,
        called=f" with get_tariffs and get_carrier overridden (sheet {version}, fuel {percent}%)",
    )
    expect_response(
        await client.get("/health"),
        status=200,
        json={"carrier": "open", "tariffs": version, "zones": 2},
        called="GET /health with get_tariffs overridden",
        seen=await nb.graph("GET /health"),
    )
    await nb.override_value("get_carrier", await nb.call(fixed_fuel_carrier, percent, True))
    expect_response(
        await client.get("/health"),
        status=200,
        json={"carrier": "closed", "tariffs": version, "zones": 2},
        called="GET /health with get_carrier overridden by a closed client",
        seen=await nb.graph("GET /health"),
    )


SHEETS = {
    "A": {"EU": {"base": 450, "per_kg": 120}, "UK": {"base": 600, "per_kg": 150}},
    "B": {"UK": {"base": 640, "per_kg": 170}, "US": {"base": 1250, "per_kg": 330}, "NZ": {"base": 1900, "per_kg": 410}},
    "C": {"EU": {"base": 390, "per_kg": 99}},
}


class Tariffs(Machine):
    """Quotes, health requests and reloads (good sheets, broken files, without the token) in any
    order, as the reference answers them."""

    @rule(zone=st.sampled_from(["EU", "UK", "US", "NZ"]), kg=st.sampled_from([1, 7, 100, 0, 101]))
    def quote(self, zone: str, kg: int) -> None:
        self.same(*self.send("GET", "/quote", params={"zone": zone, "kg": kg}))

    @rule()
    def health(self) -> None:
        self.same(*self.send("GET", "/health"))

    @rule(name=st.sampled_from(sorted(SHEETS)))
    def reload(self, name: str) -> None:
        self.step(f"the tariff file rewritten as sheet {name} {SHEETS[name]}")
        self.call(lambda nb: nb.call(write_sheet, f"sheet-{name}", SHEETS[name]))
        self.same(*self.send("POST", "/admin/reload", headers=ADMIN))

    @rule(how=st.sampled_from(["missing", "garbled", "no zones"]))
    def reload_broken(self, how: str) -> None:
        self.step(f"the tariff file {how}")
        self.call(lambda nb: nb.call(break_sheet, how))
        self.same(*self.send("POST", "/admin/reload", headers=ADMIN), json=False)

    @rule(name=st.sampled_from(sorted(SHEETS)))
    def reload_without_token(self, name: str) -> None:
        self.step(f"the tariff file rewritten as sheet {name}")
        self.call(lambda nb: nb.call(write_sheet, f"sheet-{name}", SHEETS[name]))
        self.same(*self.send("POST", "/admin/reload"), json=False)

    def tour(self) -> None:
        self.quote("EU", 7)
        self.reload("B")
        self.quote("EU", 1)
        self.quote("NZ", 100)
        self.reload_broken("garbled")
        self.health()
        self.quote("UK", 0)
        self.quote("EU", 101)
        self.reload_without_token("C")
        self.health()
        self.reload("C")
        self.health()

    @invariant()
    def one_carrier(self) -> None:
        learner, reference = self.call(lambda nb: nb.call(all_carriers_closed))
        self.agree("carrier clients made (closed or not)", learner, reference)


@check(
    points=3,
    hint="""In some sequence of quotes, health requests and reloads (good sheets, broken
    files, no token), your app answers differently from what the exercise asks. Replay the sequence
    shown in your notebook and compare each answer with the rules.""",
    see="06-lifespan-resources.ipynb#recap",
)
async def test_behaves_as_specified_in_any_sequence(differential: Differential) -> None:  # noqa: F811
    await differential.run(Tariffs, examples=3, steps=5)
