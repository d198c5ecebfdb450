"""Hidden checks for exercise 03, personal access tokens for a photo site.

A bearer token names its account, found by its fingerprint; no token is a bare `Bearer` challenge,
a bad, revoked or expired token is `Bearer error="invalid_token"` on every route, a deactivated
account is 403, time comes from the overridable `clock`, and the public photo route shows the
owner more. Besides the notebook's seeded accounts, each grade adds accounts, tokens and photos of
its own (made up from its seed) in the agent; the answers expected are computed here. A
differential check then drives the learner's app and the reference with the same sequences of
requests, revocations and clock moves (book.grader.differential).
"""

import hashlib
from random import Random
from typing import Any

from httpx import AsyncClient, Response
from hypothesis import strategies as st
from hypothesis.stateful import initialize, rule

from book.grader.checks import agent_side, check, expect, expect_response
from book.grader.differential import Differential, Machine, differential  # noqa: F401  (a fixture)
from book.grader.remote_notebook import Notebook

EXERCISE = "03-current-user"
BARE = "Bearer"
INVALID = 'Bearer error="invalid_token"'
EARLY = 1.8e9  # before every token of the notebook's seed expires
# The notebook's seed: handle -> (active, {token: expires_at}, [(caption, public), ...]).
SEEDED = {
    "mira": (
        True,
        {"pat-mira-laptop": 1.9e9, "pat-mira-phone": 2.1e9},
        [("Harbour at dawn", True), ("Draft: fog", False), ("Gulls", True)],
    ),
    "otto": (True, {"pat-otto-cli": 1.95e9}, [("Red kite", False), ("Moss", True)]),
    "pia": (False, {"pat-pia-old": 2.1e9}, [("Old mill", True), ("Attic", False)]),
}
NAMES = ["ansel", "dorothea", "vivian", "henri", "imogen", "robert", "diane", "sebastiao", "nan", "fan"]
SUBJECTS = ["lighthouse", "heron", "market", "glacier", "tram", "orchard", "dune", "bridge", "kiln", "reef"]
NO_TOKEN = {
    "no Authorization header": None,
    "another scheme (Basic)": "Basic bWlyYTpzZWNyZXQ=",
    "the scheme alone": "Bearer",
    "the scheme and a space": "Bearer ",
    "another scheme with a real token": "Token pat-mira-phone",
}


def fingerprint(secret: str) -> str:
    """The notebook's fingerprint, computed here."""
    return hashlib.sha256(secret.encode()).hexdigest()


def auth(value: str | None) -> dict[str, str]:
    return {} if value is None else {"Authorization": value}


def bearer(secret: str) -> dict[str, str]:
    return auth(f"Bearer {secret}")


def challenged(response: Response, challenge: str, called: str) -> None:
    expect_response(response, status=401, headers={"WWW-Authenticate": challenge}, called=called)


def made_up_account(rng: Random, *, active: bool = True, tokens: int = 2) -> dict[str, Any]:
    """An account for this grade: {handle, active, tokens: {secret: expires_at}, photos}."""
    name = rng.choice(NAMES)
    handle = f"{name}{rng.randint(100, 999)}"
    secrets = {
        f"pat-{name}-{rng.getrandbits(48):012x}": float(rng.randint(19_000, 22_000) * 100_000) for _ in range(tokens)
    }
    photos = [
        (f"{subject.capitalize()} {rng.randint(1, 99)}", public)
        for subject, public in zip(
            rng.sample(SUBJECTS, 4), [True, False, *rng.choices([True, False], k=2)], strict=True
        )
    ]
    return {"handle": handle, "active": active, "tokens": secrets, "photos": photos}


@agent_side
async def add_accounts(ctx: "Any", accounts: "list[dict[str, Any]]") -> None:
    """Add accounts ({handle, active, tokens: [[digest, expires_at]], photos}) to the notebook's database."""
    nb = ctx.nb
    async with nb.Sessions() as session:
        for account in accounts:
            owner = nb.Account(handle=account["handle"], active=account["active"])
            session.add(owner)
            await session.flush()
            for digest, until in account["tokens"]:
                session.add(nb.AccessToken(account_id=owner.id, digest=digest, expires_at=until))
            for caption, public in account["photos"]:
                session.add(nb.Photo(account_id=owner.id, caption=caption, public=public))
        await session.commit()


async def add(nb: Notebook, *accounts: dict[str, Any]) -> None:
    await nb.call(
        add_accounts,
        [
            {**account, "tokens": [[fingerprint(secret), until] for secret, until in account["tokens"].items()]}
            for account in accounts
        ],
    )


async def stop_clock(nb: Notebook, now: float) -> None:
    await nb.override_value("clock", now)


@check(
    points=2,
    hint="""A valid bearer token gives its account, and GET /me answers {"handle": ...}. The
    database keeps each token's fingerprint, not the token: what must happen to the token the client
    sends before you look it up?""",
    see="03-current-user.ipynb#users-and-their-tokens",
)
async def test_a_token_names_its_account(nb: Notebook, client: AsyncClient, rng: Random) -> None:
    extra = made_up_account(rng)
    await add(nb, extra)
    await stop_clock(nb, EARLY)
    callers = [(handle, secret) for handle, (active, tokens, _) in SEEDED.items() if active for secret in tokens]
    for handle, secret in [*callers, *((extra["handle"], secret) for secret in extra["tokens"])]:
        expect_response(
            await client.get("/me", headers=bearer(secret)),
            status=200,
            json={"handle": handle},
            called=f"GET /me with a token of {handle}",
        )


@check(
    points=2,
    hint="""With no bearer token at all (no header, another scheme, nothing after Bearer),
    a private route answers 401 with exactly WWW-Authenticate: Bearer: there is no token to call
    invalid. What does HTTPBearer(auto_error=False) give you then?""",
    see="03-current-user.ipynb#the-dependency",
)
async def test_no_token_is_a_bare_bearer_challenge(client: AsyncClient) -> None:
    for label, value in NO_TOKEN.items():
        challenged(await client.get("/me", headers=auth(value)), BARE, f"GET /me with {label}")
        challenged(
            await client.delete("/tokens/current", headers=auth(value)), BARE, f"DELETE /tokens/current with {label}"
        )


@check(
    points=2,
    hint="""A bearer token that matches no stored fingerprint is 401 with
    WWW-Authenticate: Bearer error="invalid_token", on every route, the public one too: a client
    that sent a token wants to know it was refused. Look the token up by its fingerprint; the
    stored fingerprint is not a token, and no token belongs in a response.""",
    see="03-current-user.ipynb#the-dependency",
)
async def test_an_unknown_token_is_invalid_on_every_route(nb: Notebook, client: AsyncClient, rng: Random) -> None:
    extra = made_up_account(rng)
    await add(nb, extra)
    await stop_clock(nb, EARLY)
    known = next(iter(extra["tokens"]))
    secrets = {
        "an unknown token": f"pat-guess-{rng.getrandbits(48):012x}",
        f"the fingerprint stored for a token of {extra['handle']}": fingerprint(known),
        "the fingerprint stored for mira's phone token": fingerprint("pat-mira-phone"),
        f"a token of {extra['handle']} with a typo": known[:-1],
    }
    for label, secret in secrets.items():
        for method, path in (
            ("GET", "/me"),
            ("DELETE", "/tokens/current"),
            ("GET", f"/accounts/{extra['handle']}/photos"),
            ("GET", "/accounts/mira/photos"),
        ):
            response = await client.request(method, path, headers=bearer(secret))
            called = f"{method} {path} with {label}"
            challenged(response, INVALID, called)
            shown = response.text + " " + " ".join(f"{k}: {v}" for k, v in response.headers.items())
            expect(secret not in shown, called=called, got="the token, in the response", expected="no token in it")


@check(
    points=2,
    hint="""A token is valid while clock() is before its expires_at; at expires_at it has
    expired: 401 with error="invalid_token". Read the time through the clock dependency, so that
    overriding it moves time for your code; time.time() in your code cannot be stopped by a test.""",
    see="01-typed-aliases.ipynb#an-alias-names-the-callable-and-overrides-follow-it",
)
async def test_tokens_expire_by_the_clock(nb: Notebook, client: AsyncClient, rng: Random) -> None:
    extra = made_up_account(rng, tokens=1)
    await add(nb, extra)
    ((secret, until),) = extra["tokens"].items()
    for handle, token, expiry in ((extra["handle"], secret, until), ("otto", "pat-otto-cli", 1.95e9)):
        moments = ((expiry - rng.randint(1, 3600), True), (expiry, False), (expiry + rng.randint(1, 10**6), False))
        for now, valid in moments:
            await stop_clock(nb, now)
            called = f"GET /me with a token of {handle} expiring at {expiry:.0f}, clock() overridden to {now:.0f}"
            response = await client.get("/me", headers=bearer(token))
            if valid:
                expect_response(
                    response, status=200, json={"handle": handle}, called=called, seen=await nb.graph("GET /me")
                )
            else:
                expect_response(
                    response,
                    status=401,
                    headers={"WWW-Authenticate": INVALID},
                    called=called,
                    seen=await nb.graph("GET /me"),
                )


@check(
    points=2,
    hint="""DELETE /tokens/current revokes the token of that request (204): the next request
    with it is 401 with error="invalid_token", while the account's other tokens keep working. The
    endpoint needs the token row itself: what does your dependency hand it? Commit the change.""",
    see="03-current-user.ipynb#the-dependency",
)
async def test_a_revoked_token_is_refused_from_the_next_request(nb: Notebook, client: AsyncClient, rng: Random) -> None:
    extra = made_up_account(rng, tokens=2)
    await add(nb, extra)
    await stop_clock(nb, EARLY)
    lost, kept = extra["tokens"]
    who = extra["handle"]
    expect_response(
        await client.delete("/tokens/current", headers=bearer(lost)),
        status=204,
        called=f"DELETE /tokens/current with a token of {who}",
    )
    for method, path in (("GET", "/me"), ("DELETE", "/tokens/current"), ("GET", f"/accounts/{who}/photos")):
        challenged(
            await client.request(method, path, headers=bearer(lost)),
            INVALID,
            f"{method} {path} with the token of {who} just revoked",
        )
    expect_response(
        await client.get("/me", headers=bearer(kept)),
        status=200,
        json={"handle": who},
        called=f"GET /me with the other token of {who}, after the revocation",
    )
    expect_response(
        await client.get("/me", headers=bearer("pat-mira-phone")),
        status=200,
        json={"handle": "mira"},
        called="GET /me as mira, after another account revoked a token",
    )


@check(
    points=2,
    hint="""A valid token of a deactivated account is 403 on every route: the caller is
    known, the account may not use the API. A token that is not valid is still 401, whatever its
    account: check the token first, then the account.""",
    see="04-role-checks.ipynb#a-dependency-that-takes-arguments",
)
async def test_a_deactivated_account_is_forbidden(nb: Notebook, client: AsyncClient, rng: Random) -> None:
    extra = made_up_account(rng, active=False, tokens=1)
    await add(nb, extra)
    ((secret, until),) = extra["tokens"].items()
    await stop_clock(nb, EARLY)
    for handle, token in ((extra["handle"], secret), ("pia", "pat-pia-old")):
        for method, path in (
            ("GET", "/me"),
            ("DELETE", "/tokens/current"),
            ("GET", "/accounts/otto/photos"),
            ("GET", f"/accounts/{handle}/photos"),
        ):
            expect_response(
                await client.request(method, path, headers=bearer(token)),
                status=403,
                called=f"{method} {path} with a valid token of {handle}, whose account is deactivated",
            )
    await stop_clock(nb, until + rng.randint(1, 10**6))
    challenged(
        await client.get("/me", headers=bearer(secret)),
        INVALID,
        f"GET /me with an expired token of {extra['handle']}, whose account is deactivated",
    )


@check(
    points=2,
    hint="""GET /accounts/{handle}/photos is public: with no token it answers the public
    captions, by photo id; the owner, with a valid token, gets all captions; another account sees the
    public ones. An unknown handle is 404. Which caller dependency can say "nobody" instead of refusing?""",
    see="03-current-user.ipynb#the-dependency",
)
async def test_the_public_route_shows_the_owner_more(nb: Notebook, client: AsyncClient, rng: Random) -> None:
    extra, other = made_up_account(rng), made_up_account(rng)
    await add(nb, extra, other)
    await stop_clock(nb, EARLY)
    handle = extra["handle"]
    everything = [caption for caption, _ in extra["photos"]]
    public = [caption for caption, shown in extra["photos"] if shown]
    path = f"/accounts/{handle}/photos"
    for label, headers, wanted in (
        ("no token", {}, public),
        (f"a token of {handle}", bearer(next(iter(extra["tokens"]))), everything),
        (f"a token of {other['handle']}", bearer(next(iter(other["tokens"]))), public),
        ("mira's token", bearer("pat-mira-phone"), public),
    ):
        expect_response(
            await client.get(path, headers=headers), status=200, json=wanted, called=f"GET {path} with {label}"
        )
    expect_response(
        await client.get("/accounts/otto/photos", headers=bearer("pat-otto-cli")),
        status=200,
        json=["Red kite", "Moss"],
        called="GET /accounts/otto/photos as otto",
    )
    missing = f"nobody{rng.randint(100, 999)}"
    for label, headers in (("no token", {}), ("mira's token", bearer("pat-mira-phone"))):
        expect_response(
            await client.get(f"/accounts/{missing}/photos", headers=headers),
            status=404,
            called=f"GET /accounts/{missing}/photos with {label}",
        )


TOKENS = [
    None,
    "Basic bWlyYTpzZWNyZXQ=",
    "pat-mira-laptop",
    "pat-mira-phone",
    "pat-otto-cli",
    "pat-pia-old",
    "pat-nobody-0000",
]
HANDLES = ["mira", "otto", "pia", "nobody"]
TIMES = [1.8e9, 1.9e9, 1.93e9, 1.95e9, 2.2e9]
HEADER = ("www-authenticate",)


def header(token: str | None) -> dict[str, str]:
    if token is None or token.startswith("Basic"):
        return auth(token)
    return bearer(token)


class Tokens(Machine):
    """Any sequence of calls with the seeded tokens, revocations and clock moves, as the reference
    answers them: the status, the JSON of a success and the WWW-Authenticate challenge."""

    @initialize()
    def start_clock(self) -> None:
        self.clock_at(EARLY)

    @rule(token=st.sampled_from(TOKENS))
    def who_am_i(self, token: str | None) -> None:
        self.same(*self.send("GET", "/me", headers=header(token)), headers=HEADER)

    @rule(handle=st.sampled_from(HANDLES), token=st.sampled_from(TOKENS))
    def photos(self, handle: str, token: str | None) -> None:
        self.same(*self.send("GET", f"/accounts/{handle}/photos", headers=header(token)), headers=HEADER)

    @rule(token=st.sampled_from(TOKENS))
    def revoke(self, token: str | None) -> None:
        self.same(*self.send("DELETE", "/tokens/current", headers=header(token)), headers=HEADER)

    @rule(now=st.sampled_from(TIMES))
    def clock_at(self, now: float) -> None:
        self.step(f"clock() overridden to {now:.0f}")
        self.call(lambda nb: stop_clock(nb, now))

    def tour(self) -> None:
        self.start_clock()
        self.who_am_i("pat-mira-laptop")
        self.photos("otto", None)
        self.photos("otto", "pat-otto-cli")
        self.photos("otto", "pat-mira-phone")
        self.who_am_i("pat-pia-old")
        self.revoke("pat-mira-laptop")
        self.who_am_i("pat-mira-laptop")
        self.photos("mira", "pat-mira-phone")
        self.clock_at(1.95e9)
        self.photos("mira", "pat-otto-cli")
        self.who_am_i(None)
        self.revoke("Basic bWlyYTpzZWNyZXQ=")
        self.photos("nobody", None)


@check(
    points=3,
    hint="""In some sequence of requests, revocations and clock moves, your app answers
    differently from what the exercise asks. Replay the sequence shown in your notebook (override
    clock as it says) and compare each status and challenge with the acceptance criteria.""",
    see="03-current-user.ipynb#recap",
)
async def test_behaves_as_specified_in_any_sequence(differential: Differential) -> None:  # noqa: F811
    await differential.run(Tokens, examples=2, steps=5)
