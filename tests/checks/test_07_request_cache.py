"""Hidden checks for exercise 07, feature flags evaluated once per request.

GET /home fetches the caller's account once per request, evaluates each flag at most once per
request (Flag("x") written in two places is one cache entry, two names are two), shares one request
number and hands each section a decision number of its own, and keeps nothing across requests: a
flag switched between requests shows at once, and customers asking at the same time see their own
flags. Each grade adds an account of its own (id, plan, flags made up from its seed); the calls are
counted in the agent by the notebook's own FETCHES and EVALUATIONS. A differential check then drives
the learner's app and the reference with the same sequences of requests, toggles and bursts
(book.grader.differential).
"""

from random import Random
from typing import Any

import anyio.from_thread
from httpx import AsyncClient, Response
from hypothesis import strategies as st
from hypothesis.stateful import invariant, rule

from book.grader.checks import agent_side, check, expect, expect_response
from book.grader.differential import Differential, Machine, differential  # noqa: F401  (a fixture)
from book.grader.remote_notebook import Notebook

EXERCISE = "07-request-cache"

FLAGS = ("dark_mode", "new_checkout", "search_v2")
# The given accounts: the model the answers are compared with.
GIVEN: dict[int, dict[str, Any]] = {
    10: {"plan": "free", "flags": {"dark_mode": True, "new_checkout": False, "search_v2": False}},
    11: {"plan": "team", "flags": {"dark_mode": False, "new_checkout": True, "search_v2": True}},
}
PLANS = ["starter", "growth", "enterprise", "nonprofit", "education", "trial"]
ONCE = {name: 1 for name in FLAGS}


@agent_side
def add_account(ctx: "Any", account_id: int, account: "dict[str, Any]") -> None:
    ctx.nb.ACCOUNTS[account_id] = {"plan": account["plan"], "flags": dict(account["flags"])}


@agent_side
def switch(ctx: "Any", account_id: int, name: str, on: bool) -> None:
    ctx.nb.toggle(account_id, name, on)


@agent_side
def counted(ctx: "Any", clear: bool = False) -> dict[str, dict[str, int]]:
    """fetch_account calls by account and flag_is_on calls by flag so far, then optionally cleared."""
    found = {
        "fetches": {str(key): count for key, count in ctx.nb.FETCHES.items() if count},
        "evaluations": {str(key): count for key, count in ctx.nb.EVALUATIONS.items() if count},
    }
    if clear:
        ctx.nb.FETCHES.clear()
        ctx.nb.EVALUATIONS.clear()
    return found


@agent_side
async def flags_written_apart(ctx: "Any", first: str, second: str, flags: dict[str, bool]) -> "dict[str, Any]":
    """A probe app whose route writes Depends(Flag(first)) twice and Depends(Flag(second)) once,
    current_account overridden: its answer and the evaluations it made."""
    from typing import Annotated

    import httpx
    from fastapi import Depends, FastAPI

    nb = ctx.nb
    probe = FastAPI()

    async def probe_account() -> dict:  # type: ignore[type-arg]  # kept as written: the probe app's own code
        return {"plan": "probe", "flags": dict(flags)}

    probe.dependency_overrides[nb.current_account] = probe_account

    @probe.get("/probe")
    async def read(
        a: Annotated[bool, Depends(nb.Flag(first))],
        b: Annotated[bool, Depends(nb.Flag(first))],
        c: Annotated[bool, Depends(nb.Flag(second))],
    ) -> list:  # type: ignore[type-arg]  # a route: FastAPI reads this annotation, kept as written
        return [a, b, c]

    nb.EVALUATIONS.clear()
    transport = httpx.ASGITransport(app=probe, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://probe") as client:
        response = await client.get("/probe")
    body = response.json() if response.status_code == 200 else response.text[:200]
    found = {str(key): count for key, count in nb.EVALUATIONS.items() if count}
    nb.EVALUATIONS.clear()
    return {"status": response.status_code, "body": body, "evaluations": found}


def mixed_flags(rng: Random) -> dict[str, bool]:
    """Each flag on or off, some on and some off: so that two flags cannot pass for one."""
    flags = {name: rng.random() < 0.5 for name in FLAGS}
    while len(set(flags.values())) == 1:
        flags[rng.choice(FLAGS)] = not flags[FLAGS[0]]
    return flags


async def accounts(nb: Notebook, rng: Random) -> dict[int, dict[str, Any]]:
    """The given accounts and this grade's own (listed first), added to the notebook's: {id: account}."""
    account_id = rng.randint(100, 999)
    extra = {"plan": rng.choice(PLANS), "flags": mixed_flags(rng)}
    await nb.call(add_account, account_id, extra)
    given = {key: {"plan": value["plan"], "flags": dict(value["flags"])} for key, value in GIVEN.items()}
    return {account_id: extra, **given}


def shown(account: dict[str, Any]) -> dict[str, Any]:
    """What GET /home shows of an account, but its numbers."""
    flags = account["flags"]
    return {
        "plan": account["plan"],
        "theme": "dark" if flags["dark_mode"] else "light",
        "banner": flags["new_checkout"],
        "checkout": "new" if flags["new_checkout"] else "classic",
        "search": "v2" if flags["search_v2"] else "v1",
    }


def seen(response: Response) -> dict[str, Any] | str:
    """What a response shows, but its numbers (or its status and text when it is not such a page)."""
    try:
        body = response.json()
        return {
            "plan": body["plan"],
            "theme": body["theme"],
            "banner": body["banner"],
            "checkout": body["checkout"]["variant"],
            "search": body["search"]["variant"],
        }
    except (ValueError, KeyError, TypeError):
        return f"{response.status_code} {response.text[:200]}"


def numbers(response: Response) -> tuple[list[Any], list[Any]] | None:
    """(request numbers, decision numbers) of a page, or None when it has none."""
    try:
        body = response.json()
        return (
            [body["request"], body["checkout"]["request"], body["search"]["request"]],
            [body["checkout"]["decision"], body["search"]["decision"]],
        )
    except (ValueError, KeyError, TypeError):
        return None


async def home(client: AsyncClient, account_id: int) -> Response:
    return await client.get("/home", headers={"X-Account": str(account_id)})


@check(
    points=2,
    hint="""GET /home shows each account's plan and its flags: the theme from dark_mode,
    the banner and the checkout variant from new_checkout, the search variant from search_v2; an
    account fetch_account does not know is 404. Does each Flag ask for its own name?""",
    see="04-role-checks.ipynb#a-dependency-that-takes-arguments",
)
async def test_home_shows_each_accounts_flags(nb: Notebook, client: AsyncClient, rng: Random) -> None:
    everyone = await accounts(nb, rng)
    for account_id, account in everyone.items():
        response = await home(client, account_id)
        expect_response(response, status=200, called=f"GET /home with X-Account: {account_id}")
        expect(
            seen(response) == shown(account),
            called=f"GET /home with X-Account: {account_id}",
            got=seen(response),
            expected=f"{shown(account)} (with its numbers)",
        )
    nobody = rng.choice([key for key in range(1000, 2000) if key not in everyone])
    expect_response(await home(client, nobody), status=404, called=f"GET /home with X-Account: {nobody}")


@check(
    points=2,
    hint="""One request must fetch the account once, however many flags need it. Which
    dependencies call fetch_account, and could they take the account from current_account instead?""",
    see="07-request-cache.ipynb#one-call-per-request",
)
async def test_the_account_is_fetched_once_per_request(nb: Notebook, rng: Random) -> None:
    account_id = rng.choice(sorted(await accounts(nb, rng)))
    await nb.call(counted, True)
    trace = await nb.trace("GET", "/home", headers={"X-Account": str(account_id)})
    found = (await nb.call(counted))["fetches"]
    expect(
        trace.status == 200 and found == {str(account_id): 1},
        called=f"one GET /home with X-Account: {account_id}",
        got=f"status {trace.status}, fetch_account calls by account: {found}",
        expected=f"200, {{{account_id}: 1}}",
        seen=trace.text,
    )


@check(
    points=3,
    hint="""Each flag must be evaluated once per request, even where Depends(Flag("x")) is
    written in two places. FastAPI caches by the callable: are two Flag objects with the same name the
    same key for it? And are two with different names different keys?""",
    see="07-request-cache.ipynb#pitfall-class-instances-are-keys-by-identity",
)
async def test_each_flag_is_evaluated_once_per_request(nb: Notebook, rng: Random) -> None:
    account_id = rng.choice(sorted(await accounts(nb, rng)))
    await nb.call(counted, True)
    trace = await nb.trace("GET", "/home", headers={"X-Account": str(account_id)})
    found = (await nb.call(counted))["evaluations"]
    expect(
        trace.status == 200 and found == ONCE,
        called=f"one GET /home with X-Account: {account_id}",
        got=f"status {trace.status}, flag_is_on calls by flag: {found}",
        expected=f"200, {ONCE}",
        seen=trace.text,
    )
    first, second = rng.sample(FLAGS, 2)
    on = rng.random() < 0.5
    flags = {first: on, second: not on}
    probe = await nb.call(flags_written_apart, first, second, flags)
    called = (
        f"a route with Depends(Flag({first!r})) written twice and Depends(Flag({second!r})) once, "
        f"current_account overridden to flags {flags}"
    )
    ok = probe["body"] == [on, on, not on] and probe["evaluations"] == {first: 1, second: 1}
    expect(
        probe["status"] == 200 and ok,
        called=called,
        got=f"{probe['status']} {probe['body']}, flag_is_on calls: {probe['evaluations']}",
        expected=f"200 {[on, on, not on]}, {{{first!r}: 1, {second!r}: 1}}",
    )


@check(
    points=2,
    hint="""The three request numbers of a page are one number; each decision is a number of
    its own, new at every use. A dependency used with use_cache=False is still stored in the request's
    cache: what does a later use of the same callable, without it, get?""",
    see="07-request-cache.ipynb#a-fresh-value-use_cachefalse",
)
async def test_one_request_number_and_fresh_decisions(client: AsyncClient, rng: Random) -> None:
    pages = []
    for _ in range(3):
        account_id = rng.choice(sorted(GIVEN))
        response = await home(client, account_id)
        expect_response(response, status=200, called=f"GET /home with X-Account: {account_id}")
        pages.append(numbers(response))
    ok, last = True, 0
    for page in pages:
        if page is None:
            ok = False
            break
        requests, decisions = page
        everything = [requests[0], *decisions]
        ok = ok and len(set(requests)) == 1 and len(set(everything)) == 3 and min(everything) > last
        last = max(everything)
    expect(
        ok,
        called="GET /home three times",
        got="; ".join(f"request {page[0]}, decisions {page[1]}" if page else "no numbers" for page in pages),
        expected="in each page one request number and two other decisions, all new at each request",
    )


@check(
    points=2,
    hint="""Nothing may outlive the request: a flag switched between two requests shows in the
    second, and each request fetches its own account again. Is there a dict of accounts or flags at
    module level, or an lru_cache, that remembers the first request?""",
    see="07-request-cache.ipynb#nothing-is-cached-across-requests",
)
async def test_nothing_is_kept_across_requests(nb: Notebook, client: AsyncClient, rng: Random) -> None:
    everyone = await accounts(nb, rng)
    chosen = [next(iter(everyone))] + [rng.choice(sorted(everyone)) for _ in range(5)]
    await nb.call(counted, True)
    steps = []
    for number, account_id in enumerate(chosen):
        if number:  # the first view is before any switch
            name = rng.choice(FLAGS)
            on = not everyone[account_id]["flags"][name]
            await nb.call(switch, account_id, name, on)
            everyone[account_id]["flags"][name] = on
            steps.append(f"{name} switched {'on' if on else 'off'} for {account_id}")
        steps.append(f"GET /home as {account_id}")
        response = await home(client, account_id)
        expect(
            seen(response) == shown(everyone[account_id]),
            called="; then ".join(steps),
            got=seen(response),
            expected=f"{shown(everyone[account_id])} (with its numbers)",
        )
    found = (await nb.call(counted))["fetches"]
    wanted = {str(account_id): chosen.count(account_id) for account_id in dict.fromkeys(chosen)}
    expect(
        found == wanted,
        called="; then ".join(steps),
        got=f"fetch_account calls by account: {found}",
        expected=f"{wanted}: one per request",
    )


@check(
    points=2,
    hint="""Customers asking at the same time must each see their own flags. Where does a
    Flag find the account: from current_account, through its parameters, or from somewhere shared
    between requests?""",
    see="07-request-cache.ipynb#nothing-is-cached-across-requests",
)
async def test_customers_at_the_same_time_see_their_own_flags(nb: Notebook, client: AsyncClient, rng: Random) -> None:
    import asyncio

    everyone = await accounts(nb, rng)
    chosen = [rng.choice(sorted(everyone)) for _ in range(6)]
    chosen[:3] = rng.sample(sorted(everyone), 3)
    responses = await asyncio.gather(*(home(client, account_id) for account_id in chosen))
    got = [seen(response) for response in responses]
    wanted = [shown(everyone[account_id]) for account_id in chosen]
    expect(
        got == wanted, called=f"GET /home as {', '.join(map(str, chosen))}, all at once", got=got, expected=str(wanted)
    )


@check(
    points=1,
    hint="""Every flag must find the account through current_account, so that overriding it (as
    tests do) changes the plan and every flag, and fetches nothing. Which flag still reaches the account
    another way?""",
    see="01-typed-aliases.ipynb#an-alias-names-the-callable-and-overrides-follow-it",
)
async def test_overriding_the_account_reaches_every_flag(nb: Notebook, client: AsyncClient, rng: Random) -> None:
    account = {"plan": f"test-{rng.randint(100, 999)}", "flags": mixed_flags(rng)}
    await nb.override_value("current_account", account)
    await nb.call(counted, True)
    response = await client.get("/home")
    found = (await nb.call(counted))["fetches"]
    expect(
        seen(response) == shown(account) and not found,
        called=f"GET /home with current_account overridden to {account}, no X-Account header",
        got=f"{seen(response)}, fetch_account calls: {found}",
        expected=f"{shown(account)}, no fetch",
        seen=await nb.graph("GET /home"),
    )


@agent_side
def call_counts(ctx: "Any") -> dict[str, dict[str, int]]:
    """Every fetch_account and flag_is_on call so far (the work both apps must agree on)."""
    return {
        "fetches": {str(key): count for key, count in ctx.nb.FETCHES.items() if count},
        "evaluations": {str(key): count for key, count in ctx.nb.EVALUATIONS.items() if count},
    }


def page_shape(response: Response) -> object:
    """A response as the exercise fixes it: status, and for a page what it shows and how its numbers relate."""
    if response.status_code != 200:
        return response.status_code
    found = numbers(response)
    if found is None:
        return seen(response)
    requests, decisions = found
    return {
        "shows": seen(response),
        "one request number": len(set(requests)) == 1,
        "decisions of their own": len({requests[0], *decisions}) == 3,
    }


ACCOUNT = st.sampled_from([10, 11, 12])  # 12 is unknown


class Storefront(Machine):
    """Any sequence of page views by known and unknown accounts, alone or at once, while operators
    switch flags, as the reference answers it: what each page shows, and the fetches and evaluations."""

    def _compare(self, learner: Response, reference: Response) -> None:
        self.agree("the page", page_shape(learner), page_shape(reference))

    @rule(account=ACCOUNT)
    def view(self, account: int) -> None:
        self._compare(*self.send("GET", "/home", headers={"X-Account": str(account)}))

    @rule(account=st.sampled_from([10, 11]), name=st.sampled_from(FLAGS), on=st.booleans())
    def toggle(self, account: int, name: str, on: bool) -> None:
        self.step(f"{name} switched {'on' if on else 'off'} for account {account}")
        self.call(lambda nb: nb.call(switch, account, name, on))

    @rule(first=ACCOUNT)
    def at_once(self, first: int) -> None:
        chosen = [first, 11 if first == 10 else 10, first, 11]
        self.step("at once: " + ", ".join(f"GET /home as {account}" for account in chosen))

        async def burst(client: AsyncClient) -> list[Response]:
            import asyncio

            return await asyncio.gather(
                *(client.get("/home", headers={"X-Account": str(account)}) for account in chosen)
            )

        learner = anyio.from_thread.run(burst, self._client(self.current.learner))
        reference = anyio.from_thread.run(burst, self._client(self.current.reference))
        for mine, theirs in zip(learner, reference, strict=True):
            self._compare(mine, theirs)

    def tour(self) -> None:
        self.view(10)
        self.view(11)
        self.view(12)
        self.toggle(10, "search_v2", True)
        self.view(10)
        self.toggle(11, "dark_mode", True)
        self.at_once(10)
        self.calls_agree()

    @invariant()
    def calls_agree(self) -> None:
        learner, reference = self.call(lambda nb: nb.call(call_counts))
        self.agree("fetch_account and flag_is_on calls so far", learner, reference)


@check(
    points=3,
    hint="""In some sequence of page views, while flags are switched and customers ask at
    the same time, your app answers, or fetches and evaluates, differently from what the exercise
    asks. Replay the sequence shown in your notebook and compare each answer with the acceptance
    criteria.""",
    see="07-request-cache.ipynb#recap",
)
async def test_behaves_as_specified_in_any_sequence(differential: Differential) -> None:  # noqa: F811
    await differential.run(Storefront, examples=2, steps=5)
