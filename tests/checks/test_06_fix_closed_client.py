"""Hidden checks for exercise 06-fix, the closed client.

Every run of the app (startup, requests, shutdown: what each test, or each server start, does)
answers like the first: it makes a client of its own at startup, sends each of its requests
through it, and closes it at shutdown, also when the run ends with an error. Two apps built from
the module, running at once, do not close each other's client. `get_rates_api` stays the way the
endpoints get the client (an override reaches every route), and the service's failures keep
their statuses (404, 502, 503 with Retry-After).

The clients are watched in the agent: a helper wraps httpx.AsyncClient's __init__ and send in the
check's own process, then runs the app's lifespan itself, several times in sequence. Each grade
makes up currency pairs and rates, and moves the rates between runs, so that answers cannot be
canned or served from a cache. A differential check drives the learner's app and the reference
with the same sequences of requests, restarts, service failures and overrides.
"""

import json
import string
from random import Random
from typing import Any

from httpx import AsyncClient
from hypothesis import strategies as st
from hypothesis.stateful import rule

from book.grader.checks import agent_side, check, expect, expect_response
from book.grader.differential import Differential, Machine, differential  # noqa: F401  (a fixture)
from book.grader.remote_notebook import Notebook

EXERCISE = "06-fix-closed-client"

# The given service's rates, as the notebook sets them.
PAIRS = {"EURUSD": 1.0842, "GBPUSD": 1.2718, "USDJPY": 151.37, "EURCHF": 0.9561}
RETRY = {"retry-after": "30"}


@agent_side
def set_rates(ctx: "Any", pairs: dict[str, float]) -> None:
    """Set (or move) rates in the simulated service's table: {"EURUSD": 1.08, ...}."""
    ctx.nb.PAIRS.update(pairs)


@agent_side
def set_service(ctx: "Any", status: str) -> None:
    ctx.nb.SERVICE["status"] = status


@agent_side
def pairs_asked(ctx: "Any") -> dict[str, list[str]]:
    """The pairs the notebook's service was asked for, and those the check's own service was."""
    return {"service": list(ctx.nb.ASKED), "flat": list(getattr(ctx, "flat_asked", []))}


@agent_side
def flat_rates_client(ctx: "Any", rate: float) -> "Any":
    """A client to another rates service, where every pair is worth `rate` (it keeps what it is
    asked in ctx.flat_asked)."""
    import httpx

    ctx.flat_asked = []

    def answer(request: "Any") -> "Any":
        pair = request.url.path.rsplit("/", 1)[-1]
        ctx.flat_asked.append(pair)
        return httpx.Response(200, json={"pair": pair, "mid": rate})

    return httpx.AsyncClient(transport=httpx.MockTransport(answer), base_url="https://flat.example/v2")


@agent_side
async def watched_runs(ctx: "Any", runs: list[list[str]], end_with_error: bool) -> "dict[str, Any]":
    """Run the app's lifespan once per item of `runs` (the paths to GET in that run), in sequence;
    with `end_with_error`, one more run whose block raises after its requests, as a failing test
    does. Every httpx.AsyncClient is watched: when it was made, which client each request to the
    rates service went through (and whether it was open then), which are open after each run."""
    import httpx

    from book.apps import RecordingTransport, serving

    class TestFailed(Exception):
        pass

    made, sends, phase = [], [], ["loading"]
    original_init, original_send = httpx.AsyncClient.__init__, httpx.AsyncClient.send

    def init(self: "httpx.AsyncClient", *args: "Any", **kwargs: "Any") -> None:
        original_init(self, *args, **kwargs)
        made.append((self, phase[0]))

    async def send(self: "httpx.AsyncClient", request: "Any", *args: "Any", **kwargs: "Any") -> "Any":
        sends.append((self, not self.is_closed))
        return await original_send(self, request, *args, **kwargs)

    def number(client: "httpx.AsyncClient") -> int:
        return next((index for index, (seen, _) in enumerate(made) if seen is client), -1)

    async def get(served: "Any", path: str) -> "Any":
        response = await RecordingTransport(served).handle_async_request(httpx.Request("GET", "http://test" + path))
        await response.aread()
        return response.status_code

    async def one_run(label: str, paths: list[str], fail: bool) -> "dict[str, Any]":
        first_made, first_send, statuses = len(made), len(sends), []
        phase[0] = f"startup of {label}"
        try:
            async with serving(ctx.app) as served:
                phase[0] = f"a request of {label}"
                for path in paths:
                    statuses.append(await get(served, path))
                phase[0] = f"shutdown of {label}"
                if fail:
                    raise TestFailed("a test failed")
        except TestFailed:
            pass
        phase[0] = f"after {label}"
        mine, used = made[first_made:], sends[first_send:]
        involved = {id(client): client for client, _ in mine} | {id(client): client for client, _ in used}
        return {
            "label": label,
            "statuses": statuses,
            "at_startup": [number(client) for client, when in mine if when.startswith("startup")],
            "in_requests": sum(1 for _, when in mine if when.startswith("a request")),
            "through": [number(client) for client, _ in used],
            "closed_when_used": sum(1 for _, was_open in used if not was_open),
            "left_open": sum(1 for client in involved.values() if not client.is_closed),
        }

    httpx.AsyncClient.__init__, httpx.AsyncClient.send = init, send  # type: ignore[method-assign]  # every client watched
    try:
        report = [await one_run(f"run {index}", paths, False) for index, paths in enumerate(runs, start=1)]
        if end_with_error:
            report.append(await one_run(f"run {len(runs) + 1} (it ends with an error)", runs[0][:1], True))
    finally:
        httpx.AsyncClient.__init__, httpx.AsyncClient.send = original_init, original_send  # type: ignore[method-assign]  # put back
    return {"runs": report, "made": [when for _, when in made]}


@agent_side
async def two_apps_at_once(ctx: "Any", steps: list[list[str]]) -> "dict[str, Any]":
    """The notebook's app and a second app built from the same module (the same lifespan, routes and
    handlers, as a second worker or test client importing it has), run at once. `steps`: [which app
    ("first" or "second"), path]; "start second" and "stop second" in between. The answers, and how
    many clients the startups made and left open once both apps stopped."""
    import httpx
    from fastapi import FastAPI

    from book.apps import RecordingTransport, serving

    app = ctx.app
    second = FastAPI(lifespan=app.router.lifespan_context)
    second.router = app.router
    second.exception_handlers = dict(app.exception_handlers)
    second.user_middleware = list(app.user_middleware)

    made, starting = [], [False]
    original_init = httpx.AsyncClient.__init__

    def init(self: "httpx.AsyncClient", *args: "Any", **kwargs: "Any") -> None:
        original_init(self, *args, **kwargs)
        if starting[0]:
            made.append(self)

    async def get(served: "Any", path: str) -> "Any":
        response = await RecordingTransport(served).handle_async_request(httpx.Request("GET", "http://test" + path))
        body = (await response.aread()).decode("utf-8", "replace")
        error = response.extensions.get("app_error")
        return [response.status_code, body[:200], f"{type(error).__name__}: {error}"[:160] if error else ""]

    async def start(which: "Any") -> "Any":
        starting[0] = True
        try:
            return await which.__aenter__()
        finally:
            starting[0] = False

    answers, running, first_run, second_run = [], {}, serving(app), None
    httpx.AsyncClient.__init__ = init  # type: ignore[method-assign]  # every client watched
    try:
        running["first"] = await start(first_run)
        try:
            for which, path in steps:
                if which == "start second":
                    second_run = serving(second)
                    running["second"] = await start(second_run)
                elif which == "stop second":
                    del running["second"]
                    assert second_run is not None  # started by the step before
                    await second_run.__aexit__(None, None, None)
                else:
                    answers.append([which, path, *await get(running[which], path)])
        finally:
            await first_run.__aexit__(None, None, None)
    finally:
        httpx.AsyncClient.__init__ = original_init  # type: ignore[method-assign]  # put back
    return {"answers": answers, "made": len(made), "left_open": sum(1 for client in made if not client.is_closed)}


def made_up_pairs(rng: Random, count: int) -> dict[str, float]:
    """`count` pairs of made-up currencies (never the given ones), each with a rate: {"ABCXYZ": 1.2345}."""
    codes: set[str] = set()
    while len(codes) < 2 * count:
        code = "".join(rng.choice(string.ascii_uppercase) for _ in range(3))
        if code not in {"EUR", "USD", "GBP", "JPY", "CHF"}:
            codes.add(code)
    ordered = sorted(codes)
    rng.shuffle(ordered)
    return {ordered[2 * n] + ordered[2 * n + 1]: rng.randint(5000, 2_000_000) / 10_000 for n in range(count)}


def slashed(pair: str) -> str:
    return f"{pair[:3]}/{pair[3:]}"


def rate_of(pair: str, rate: float) -> tuple[str, dict[str, Any]]:
    return f"/rates/{slashed(pair)}", {"pair": slashed(pair), "rate": rate}


def quote_of(pair: str, rate: float, amount: float) -> tuple[str, dict[str, Any]]:
    return (
        f"/quotes/{slashed(pair)}?amount={amount}",
        {"pair": slashed(pair), "amount": float(amount), "total": round(float(amount) * rate, 2)},
    )


async def expect_get(
    client: AsyncClient,
    path: str,
    status: int,
    json: Any = None,
    headers: dict[str, str] | None = None,
    called: str | None = None,
) -> None:
    response = await client.get(path)
    if json is None:
        expect_response(response, status=status, headers=headers, called=called)
    else:
        expect_response(response, status=status, json=json, headers=headers, called=called)


@check(
    points=1,
    hint="""GET /rates/{base}/{quote} answers the rates service's mid rate for the pair, GET
    /quotes/{base}/{quote}?amount=... the amount times that rate, rounded to cents; an unknown pair is a
    404, a currency that is not three capital letters or an amount not above 0 a 422. The starter did
    this: if your change broke it, which client does mid_rate get now?""",
    see="06-lifespan-resources.ipynb#overrides-swap-the-dependency-not-the-lifespan",
)
async def test_rates_and_quotes_come_from_the_service(nb: Notebook, client: AsyncClient, rng: Random) -> None:
    made_up = made_up_pairs(rng, 2)
    await nb.call(set_rates, made_up)
    for pair, rate in [*made_up.items(), *rng.sample(sorted(PAIRS.items()), 2)]:
        path, body = rate_of(pair, rate)
        await expect_get(client, path, 200, body)
        path, body = quote_of(pair, rate, rng.choice([rng.randint(1, 9999), rng.randint(1, 9999) / 100]))
        await expect_get(client, path, 200, body)
    unknown = next(iter(made_up))[3:] + next(iter(made_up))[:3]
    await expect_get(client, f"/rates/{slashed(unknown)}", 404)
    await expect_get(client, f"/quotes/{slashed(unknown)}?amount=5", 404)
    await expect_get(client, "/rates/eur/USD", 422)
    await expect_get(client, f"/quotes/EUR/USD?amount={rng.choice([0, -1, -250])}", 422)


@check(
    points=2,
    hint="""When the rates service fails, the API says so with its own status: a service
    that answers with an error is a 502, one that cannot be reached a 503 with Retry-After: 30, on
    both routes; a pair it does not know stays a 404. Look at how mid_rate turns the service's
    failures into answers.""",
    see="06-lifespan-resources.ipynb#the-lifespan",
)
async def test_the_services_failures_keep_their_statuses(nb: Notebook, client: AsyncClient, rng: Random) -> None:
    ((pair, rate),) = made_up_pairs(rng, 1).items()
    await nb.call(set_rates, {pair: rate})
    amount = rng.randint(1, 999)
    routes = [rate_of(pair, rate), quote_of(pair, rate, amount)]
    for status, answer, headers in (("failing", 502, None), ("unreachable", 503, RETRY)):
        await nb.call(set_service, status)
        for path, _ in routes:
            await expect_get(
                client, path, answer, headers=headers, called=f"GET {path} while the rates service is {status}"
            )
    await nb.call(set_service, "up")
    for path, body in routes:
        await expect_get(client, path, 200, body, called=f"GET {path} once the service is back")
    await expect_get(client, f"/rates/{slashed(pair[3:] + pair[:3])}", 404)


@check(
    points=2,
    hint="""Tests swap the rates service by overriding get_rates_api: every route must ask
    the client that dependency gives, and no other. Look at what the endpoints (and mid_rate) use to
    reach the service.""",
    see="06-lifespan-resources.ipynb#overrides-swap-the-dependency-not-the-lifespan",
)
async def test_an_override_of_get_rates_api_reaches_every_route(nb: Notebook, client: AsyncClient, rng: Random) -> None:
    flat = rng.randint(200, 900) / 100
    await nb.override_value("get_rates_api", await nb.call(flat_rates_client, flat))
    await nb.call(set_service, "failing")  # the real service: whatever reaches it fails
    pair = rng.choice(sorted(PAIRS))
    amount = rng.randint(1, 999)
    called = f"with get_rates_api overridden by a client to a service where every rate is {flat}"
    path, body = rate_of(pair, flat)
    await expect_get(client, path, 200, body, called=f"GET {path} {called}")
    path, body = quote_of(pair, flat, amount)
    await expect_get(client, path, 200, body, called=f"GET {path} {called}")
    asked = await nb.call(pairs_asked)
    expect(
        not asked["service"] and len(asked["flat"]) == 2,
        called=f"GET /rates and GET /quotes {called}",
        got=f"the override's service was asked {asked['flat']}, the notebook's RATES_SERVICE {asked['service']}",
        expected=f"the override's service asked [{pair!r}, {pair!r}], RATES_SERVICE nothing",
        seen=await nb.graph("GET /quotes/{base}/{quote}"),
    )


@check(
    points=3,
    hint="""Each run of the app (startup, requests, shutdown: what each test that starts
    the app does) must answer like the first one. Run the app twice in your notebook and compare:
    what does the second run send its requests through, and what did the first run's shutdown do
    to it?""",
    see="06-lifespan-resources.ipynb#the-lifespan",
)
async def test_every_run_of_the_app_answers(nb: Notebook, client: AsyncClient, rng: Random) -> None:
    runs = rng.randint(3, 5)
    for number in range(1, runs + 1):
        if number > 1:
            await nb.unserve()
            await nb.serve()
        pairs = made_up_pairs(rng, 1)
        moved = {pair: round(PAIRS[pair] * rng.randint(90, 110) / 100, 4) for pair in rng.sample(sorted(PAIRS), 2)}
        await nb.call(set_rates, {**pairs, **moved})
        for pair, rate in [*pairs.items(), *moved.items()]:
            amount = rng.randint(1, 5000)
            for path, body in (rate_of(pair, rate), quote_of(pair, rate, amount)):
                await expect_get(
                    client,
                    path,
                    200,
                    body,
                    called=f"run {number} of {runs} of the app (each starts and stops its "
                    f"lifespan, as each test does): GET {path}",
                )


def describe_made(made: list[str], index: int) -> str:
    return "when the notebook was loaded" if index < 0 else f"at the {made[index]}"


@check(
    points=3,
    hint="""Count the clients: each run of the app should make exactly one, when that run
    starts, and send every request of the run through it; not one made when the notebook loads, not
    one per request, not a new one made when a request finds the old one closed.""",
    see="06-lifespan-resources.ipynb#running-it-with-its-lifespan",
)
async def test_each_run_makes_its_own_client(nb: Notebook, rng: Random) -> None:
    pairs = made_up_pairs(rng, 3)
    await nb.call(set_rates, pairs)
    paths = [rate_of(pair, rate)[0] for pair, rate in pairs.items()]
    runs = [rng.sample(paths, rng.randint(1, 3)) for _ in range(rng.randint(3, 4))]
    seen = await nb.call(watched_runs, runs, False)
    made = seen["made"]
    for run in seen["runs"]:
        called = f"{run['label']} of {len(runs)} of the app: startup, {len(run['statuses'])} request(s), shutdown"
        startup, through = run["at_startup"], run["through"]
        places = " and ".join(sorted({describe_made(made, index) for index in through})) or "(none: no request)"
        got = (
            f"{len(startup)} made at startup, {run['in_requests']} during requests; its requests went "
            f"through a client made {places}"
        )
        expect(
            len(startup) == 1 and not run["in_requests"] and through and set(through) == set(startup),
            called=called,
            got=got,
            expected="one client, made at this run's startup, and every request through it",
        )


@check(
    points=2,
    hint="""What a run of the app opens, its shutdown must close, also when the run ends
    with an error (a failing test); and its client must be open while the run serves requests. Look
    at what runs after the lifespan's yield, and whether it still runs when an exception arrives
    there.""",
    see="06-lifespan-resources.ipynb#the-lifespan",
)
async def test_each_run_closes_its_client(nb: Notebook, rng: Random) -> None:
    pairs = made_up_pairs(rng, 2)
    await nb.call(set_rates, pairs)
    paths = [quote_of(pair, rate, rng.randint(1, 99))[0] for pair, rate in pairs.items()]
    runs = [rng.sample(paths, rng.randint(1, 2)) for _ in range(rng.randint(2, 3))]
    seen = await nb.call(watched_runs, runs, True)
    for run in seen["runs"]:
        called = f"{run['label']} of the app: startup, {len(run['statuses'])} request(s), shutdown"
        expect(
            not run["closed_when_used"],
            called=called,
            got=f"{run['closed_when_used']} request(s) sent through a closed client (answers {run['statuses']})",
            expected="the run's client open while it serves",
        )
        expect(
            not run["left_open"],
            called=called,
            got=f"{run['left_open']} client(s) made or used in this run still open after its shutdown",
            expected="every client it made or used closed",
        )


@check(
    points=2,
    hint="""Two apps built from this module ran at once (as two test clients, or two
    workers in one process, that import it): when the second stopped, the first one broke. Whatever
    a run of the lifespan makes must belong to that run, not to everything that imports the
    module.""",
    see="06-lifespan-resources.ipynb#lifespan-state-or-appstate",
)
async def test_two_apps_from_the_module_at_once(nb: Notebook, rng: Random) -> None:
    pairs = made_up_pairs(rng, 4)
    await nb.call(set_rates, pairs)
    asked = [rate_of(pair, rate) for pair, rate in pairs.items()]
    plan = [
        ("first", 0),
        ("start second", None),
        ("second", 1),
        ("first", 2),
        ("stop second", None),
        ("first", 3),
        ("start second", None),
        ("second", 0),
        ("stop second", None),
        ("first", 1),
    ]
    steps = [[which, asked[index][0] if index is not None else None] for which, index in plan]
    seen = await nb.call(two_apps_at_once, steps)
    answers = iter(seen["answers"])
    done = []
    for which, index in plan:
        if index is None:
            done.append(f"the second app {which.split()[0]}s")
            continue
        app, path, status, body, error = next(answers)
        done.append(f"{app}: GET {path}")
        want = asked[index][1]
        try:
            ok = status == 200 and json.loads(body) == want
        except ValueError:
            ok = False
        expect(
            ok,
            called="; ".join(done[-6:]),
            got=f"{status} {body}" + (f"  (your code raised {error})" if error else ""),
            expected=f"200 {json.dumps(want)}",
        )
    expect(
        not seen["left_open"],
        called="; ".join(done[-4:]) + "; then the first app stops",
        got=f"{seen['left_open']} of the {seen['made']} client(s) the two apps' startups made still open",
        expected="every one closed, each by the shutdown of the app that made it",
    )


async def restart(nb: Notebook) -> None:
    await nb.unserve()
    await nb.serve()


async def override_flat(nb: Notebook, rate: float) -> None:
    await nb.override_value("get_rates_api", await nb.call(flat_rates_client, rate))


CODES = ["EUR", "USD", "GBP", "JPY", "CHF", "SEK", "NZD"]
CURRENCIES = st.sampled_from([*CODES, "eur"])


class RatesOverTime(Machine):
    """Requests for rates and quotes, mixed with restarts of the app (a shutdown and a startup, as
    between two tests), rates that move, the service failing or unreachable, and get_rates_api
    overridden and restored: the learner's app must answer as the reference does."""

    @rule(base=CURRENCIES, quote=CURRENCIES)
    def ask_rate(self, base: str, quote: str) -> None:
        self.same(*self.send("GET", f"/rates/{base}/{quote}"))

    @rule(base=CURRENCIES, quote=CURRENCIES, amount=st.integers(1, 5000))
    def ask_quote(self, base: str, quote: str, amount: float) -> None:
        self.same(*self.send("GET", f"/quotes/{base}/{quote}", params={"amount": amount}))

    @rule()
    def restart(self) -> None:
        self.step("the app stopped and started again (its lifespan's shutdown, then its startup)")
        self.call(restart)

    @rule(base=st.sampled_from(CODES), quote=st.sampled_from(CODES), rate=st.integers(5000, 2_000_000))
    def move_rate(self, base: str, quote: str, rate: float) -> None:
        self.step(f"the service's rate for {base}{quote} set to {rate / 10_000}")
        self.call(lambda nb: nb.call(set_rates, {base + quote: rate / 10_000}))

    @rule(status=st.sampled_from(["up", "failing", "unreachable"]))
    def service(self, status: str) -> None:
        self.step(f"the rates service is {status}")
        self.call(lambda nb: nb.call(set_service, status))

    @rule(rate=st.integers(100, 999))
    def override(self, rate: float) -> None:
        self.step(f"get_rates_api overridden by a client to a service where every rate is {rate / 100}")
        self.call(lambda nb: override_flat(nb, rate / 100))

    @rule()
    def clear_override(self) -> None:
        self.step("the override of get_rates_api cleared")
        self.call(lambda nb: nb.clear_overrides())

    def tour(self) -> None:
        self.ask_rate("EUR", "USD")
        self.ask_quote("GBP", "USD", 250)
        self.restart()
        self.ask_rate("EUR", "USD")
        self.ask_quote("USD", "JPY", 3)
        self.move_rate("SEK", "NZD", 1_587)
        self.restart()
        self.ask_quote("SEK", "NZD", 1200)
        self.service("failing")
        self.ask_rate("EUR", "CHF")
        self.service("unreachable")
        self.ask_quote("EUR", "USD", 10)
        self.service("up")
        self.override(425)
        self.ask_rate("GBP", "USD")
        self.restart()
        self.ask_quote("JPY", "SEK", 40)
        self.clear_override()
        self.ask_rate("JPY", "USD")
        self.ask_rate("eur", "USD")


@check(
    points=3,
    hint="""In some sequence of requests, restarts of the app, moving rates, failures of
    the rates service and overrides of get_rates_api, your app answers differently from the
    reference. Replay the sequence shown in your notebook (running(app) once per run) and compare
    each answer with what the exercise describes.""",
    see="06-lifespan-resources.ipynb#recap",
)
async def test_behaves_as_specified_in_any_sequence(differential: Differential) -> None:  # noqa: F811
    await differential.run(RatesOverTime, examples=3, steps=6)
