"""Hidden checks for exercise 13, staff logins for a tool-lending workshop.

A form login at POST /token gives a bearer token whose scopes are what was asked and the role
allows; failed logins are 401 with a bare Bearer challenge (403 for the right password of a disabled
account, 422 for a bad form); an unknown username runs Argon2 like a wrong password (the agent
counts argon2's hash and verify calls); passwords are stored as Argon2 hashes with the settings'
parameters; tokens expire by the overridable `clock`; logging out everywhere ends every earlier
token of that person, within the same second too; forged, unsigned and orphaned tokens are
`error="invalid_token"`; a disabled account is 403 everywhere; an override of `current_staff`
reaches every route. Each grade adds people with made-up names and passwords through the
notebook's own `hash_password`. A differential check then drives the learner's app and the
reference with the same sequences of logins, requests, logouts, disabled accounts and clock moves
(book.grader.differential); each side keeps the tokens its own app issued.
"""

import base64
import json
from random import Random
from typing import Any

import anyio.from_thread
import jwt
from httpx import AsyncClient, Response
from hypothesis import strategies as st
from hypothesis.stateful import initialize, rule

from book.grader.checks import agent_side, check, expect, expect_response
from book.grader.differential import Differential, Machine, differential  # noqa: F401  (a fixture)
from book.grader.remote_notebook import Notebook

EXERCISE = "13-login-tokens"
BARE = "Bearer"
INVALID = 'Bearer error="invalid_token"'
TOOLS = ["bandsaw", "drill press", "lathe", "router table", "soldering station"]
ROLES = {"lender": {"tools:read", "loans:write"}, "trainee": {"tools:read"}}
CREW = {"ada": ("anvil-and-oak", "lender"), "bo": ("bevel-gauge-22", "trainee"), "cy": ("chisel-cy-9", "lender")}
NAMES = ["hedda", "ivo", "juno", "kasimir", "lotte", "mats", "nell", "oskar", "pia", "quinn"]
WORDS = ["walnut", "mortise", "tenon", "dovetail", "spokeshave", "gouge", "rasp", "plane", "awl", "vise"]
EARLY = 2_000_000_000  # seconds since the epoch; every clock of these checks is near it


def insufficient(scope: str) -> str:
    return f'Bearer error="insufficient_scope", scope="{scope}"'


def bearer(token: str | None) -> dict[str, str]:
    return {} if token is None else {"Authorization": f"Bearer {token}"}


def made_up_person(rng: Random, role: str = "lender", active: bool = True) -> dict[str, Any]:
    name = f"{rng.choice(NAMES)}{rng.randint(100, 999)}"
    password = f"{rng.choice(WORDS)}-{rng.choice(WORDS)}-{rng.randint(10, 99)}"
    return {"username": name, "password": password, "role": role, "active": active}


@agent_side
async def add_staff(ctx: "Any", people: "list[dict[str, Any]]") -> None:
    """Add people ({username, password, role, active}) as the notebook stores them."""
    nb = ctx.nb
    async with nb.Sessions() as session:
        for person in people:
            session.add(
                nb.Staff(
                    username=person["username"],
                    password_hash=nb.hash_password(person["password"]),
                    role=person["role"],
                    active=person["active"],
                )
            )
        await session.commit()


@agent_side
async def set_active(ctx: "Any", username: str, active: bool) -> None:
    from sqlalchemy import update

    async with ctx.nb.Sessions() as session:
        await session.execute(update(ctx.nb.Staff).where(ctx.nb.Staff.username == username).values(active=active))
        await session.commit()


@agent_side
async def delete_staff(ctx: "Any", username: str) -> None:
    from sqlalchemy import delete

    async with ctx.nb.Sessions() as session:
        await session.execute(delete(ctx.nb.Staff).where(ctx.nb.Staff.username == username))
        await session.commit()


@agent_side
async def stored_hashes(ctx: "Any") -> dict[str, str]:
    from sqlalchemy import select

    async with ctx.nb.Sessions() as session:
        rows = await session.execute(select(ctx.nb.Staff.username, ctx.nb.Staff.password_hash))
        return {name: stored for name, stored in rows}


@agent_side
def settings_of(ctx: "Any") -> "dict[str, Any]":
    found = ctx.nb.get_settings()
    return {
        name: getattr(found, name)
        for name in ("argon2_time_cost", "argon2_memory_cost", "argon2_parallelism", "token_minutes")
    }


@agent_side
def hashed(ctx: "Any", password: str) -> "Any":
    return ctx.nb.hash_password(password)


@agent_side
def argon2_work(ctx: "Any") -> "Any":
    """How many Argon2 hashes and verifications ran in this process since the first call."""
    import argon2

    if not hasattr(ctx, "argon2_calls"):
        ctx.argon2_calls = [0]
        for name in ("hash", "verify"):
            original = getattr(argon2.PasswordHasher, name)

            def counting(self: "Any", *args: "Any", _original: "Any" = original, **kwargs: "Any") -> "Any":
                ctx.argon2_calls[0] += 1
                return _original(self, *args, **kwargs)

            setattr(argon2.PasswordHasher, name, counting)
    return ctx.argon2_calls[0]


@agent_side
async def override_caller(ctx: "Any", person: "dict[str, Any]") -> None:
    """Add `person` and override current_staff with a function that returns its row."""
    from sqlalchemy import select

    nb = ctx.nb
    async with nb.Sessions() as session:
        session.add(nb.Staff(username=person["username"], password_hash="not a hash", role=person["role"]))
        await session.commit()
        row = await session.scalar(select(nb.Staff).where(nb.Staff.username == person["username"]))

    def signed_in() -> "Any":
        return row

    ctx.app.dependency_overrides[nb.current_staff] = signed_in


async def add(nb: Notebook, *people: dict[str, Any]) -> None:
    await nb.call(add_staff, list(people))


async def stop_clock(nb: Notebook, now: int) -> None:
    await nb.override_value("clock", now)


async def log_in(client: AsyncClient, username: str, password: str, scope: str | None = None, **extra: str) -> Response:
    form = {"username": username, "password": password, **extra}
    if scope is not None:
        form["scope"] = scope
    return await client.post("/token", data=form)


async def token_of(client: AsyncClient, person: dict[str, Any], scope: str = "loans:write tools:read") -> Any:
    response = await log_in(client, person["username"], person["password"], scope)
    expect_response(response, status=200, called=f"POST /token as {person['username']} with the right password")
    return response.json()["access_token"]


def probe_routes(tool: str = "lathe") -> list[tuple[str, str, dict[str, str] | None]]:
    return [
        ("GET", "/me", None),
        ("GET", "/tools", None),
        ("POST", "/loans", {"tool": tool}),
        ("POST", "/logout/everywhere", None),
    ]


async def send(
    client: AsyncClient, method: str, path: str, token: str | None, body: dict[str, Any] | None = None
) -> Response:
    options: dict[str, Any] = {} if body is None else {"json": body}
    return await client.request(method, path, headers=bearer(token), **options)


def challenged(response: Response, challenge: str, called: str) -> None:
    expect_response(response, status=401, headers={"WWW-Authenticate": challenge}, called=called)


@check(
    points=2,
    hint="""A login with the right password answers {"access_token": ..., "token_type":
    "bearer", "scope": ...}, and GET /me with that token answers the person's username and role. The
    form arrives as OAuth2PasswordRequestForm; look the person up by username, verify the password
    against the stored hash.""",
    see="13-login.ipynb#the-login-endpoint",
)
async def test_a_login_gives_a_token_that_names_the_person(nb: Notebook, client: AsyncClient, rng: Random) -> None:
    lender, trainee = made_up_person(rng), made_up_person(rng, "trainee")
    await add(nb, lender, trainee)
    await stop_clock(nb, EARLY + rng.randint(0, 10**6))
    people = [
        *(dict(username=name, password=password, role=role) for name, (password, role) in CREW.items() if name != "cy"),
        lender,
        trainee,
    ]
    for person in people:
        who = person["username"]
        response = await log_in(client, who, person["password"], "tools:read")
        called = f"POST /token as {who} with the right password, asking for tools:read"
        expect_response(response, status=200, called=called)
        body = response.json() if response.headers.get("content-type", "").startswith("application/json") else {}
        expect(
            isinstance(body, dict)
            and body.get("token_type") == "bearer"
            and isinstance(body.get("access_token"), str)
            and body["access_token"],
            called=called,
            got=response.text[:200],
            expected='{"access_token": "<a token>", "token_type": "bearer", "scope": ...}',
        )
        expect(
            person["password"] not in response.text,
            called=called,
            got="the password, in the response",
            expected="no password in it",
        )
        expect_response(
            await client.get("/me", headers=bearer(body["access_token"])),
            status=200,
            json={"username": who, "role": person["role"]},
            called=f"GET /me with the token of {who}",
        )


@check(
    points=2,
    hint="""An unknown username and a wrong password are the same answer: 401 with
    WWW-Authenticate: Bearer. The right password of a disabled account is 403; a wrong one stays
    401 (say nothing about the account to someone who does not know its password). The form class
    already answers 422 for what is missing or malformed.""",
    see="13-login.ipynb#the-login-endpoint",
)
async def test_failed_logins_are_answered_as_specified(nb: Notebook, client: AsyncClient, rng: Random) -> None:
    person, other = made_up_person(rng), made_up_person(rng, "trainee")
    off = made_up_person(rng, active=False)
    await add(nb, person, other, off)
    await stop_clock(nb, EARLY)
    who = person["username"]
    for label, (name, password) in {
        f"{who} with a wrong password": (who, person["password"] + "x"),
        f"{who} with the password of {other['username']}": (who, other["password"]),
        "an unknown username": (f"nobody{rng.randint(100, 999)}", person["password"]),
        f"{off['username']}, disabled, with a wrong password": (off["username"], "not-" + off["password"]),
    }.items():
        response = await log_in(client, name, password)
        challenged(response, BARE, f"POST /token as {label}")
        expect(
            password not in response.text,
            called=f"POST /token as {label}",
            got="the password, in the response",
            expected="no password in it",
        )
    expect_response(
        await log_in(client, off["username"], off["password"]),
        status=403,
        called=f"POST /token as {off['username']}, disabled, with the right password",
    )
    for label, form in {
        "without a password": {"username": who},
        "without a username": {"password": person["password"]},
        "with grant_type=client_credentials": {
            "username": who,
            "password": person["password"],
            "grant_type": "client_credentials",
        },
    }.items():
        expect_response(await client.post("/token", data=form), status=422, called=f"POST /token {label}")
    expect_response(
        await log_in(client, who, person["password"], grant_type="password"),
        status=200,
        called=f"POST /token as {who} with grant_type=password",
    )


@check(
    points=1,
    hint="""Stored passwords must be Argon2id hashes made with the settings' costs
    (argon2_time_cost, argon2_memory_cost, argon2_parallelism): Argon2Hasher takes them as
    arguments. A hasher built with its defaults is slow on purpose, and not what the settings
    say.""",
    see="13-login.ipynb#hashing-passwords-with-argon2",
)
async def test_passwords_are_argon2_hashes_made_with_the_settings(nb: Notebook, rng: Random) -> None:
    costs = await nb.call(settings_of)
    prefix = (
        f"$argon2id$v=19$m={costs['argon2_memory_cost']},t={costs['argon2_time_cost']},p={costs['argon2_parallelism']}$"
    )
    person = made_up_person(rng)
    await add(nb, person)
    first, second = await nb.call(hashed, person["password"]), await nb.call(hashed, person["password"])
    for label, value in (("hash_password(<a password>)", first), ("hash_password(<the same password>)", second)):
        expect(
            isinstance(value, str) and value.startswith(prefix),
            called=label,
            got=str(value)[:60],
            expected=f"a hash starting {prefix}",
        )
    expect(
        first != second,
        called="hash_password twice on one password",
        got="the same hash twice",
        expected="two hashes (a new salt each time)",
    )
    stored = await nb.call(stored_hashes)
    for name, (password, _) in {**CREW, person["username"]: (person["password"], "")}.items():
        value = stored.get(name, "")
        expect(
            value.startswith(prefix) and password not in value,
            called=f"the stored password_hash of {name}",
            got=value[:60],
            expected=f"an Argon2 hash starting {prefix}, no password in it",
        )


@check(
    points=2,
    hint="""Logging in with a username that does not exist must cost the same Argon2 work
    as a wrong password, or the time of an answer tells who has an account. When nobody is found,
    what hash can the password still be verified against?""",
    see="13-login.ipynb#an-unknown-user-costs-the-same-as-a-wrong-password",
)
async def test_an_unknown_username_costs_what_a_wrong_password_costs(
    nb: Notebook, client: AsyncClient, rng: Random
) -> None:
    person = made_up_person(rng)
    await add(nb, person)
    await stop_clock(nb, EARLY)
    await nb.call(argon2_work)
    work = {}
    for label, (name, password, status) in {
        "a wrong password": (person["username"], person["password"] + "!", 401),
        "an unknown username": (f"ghost{rng.randint(100, 999)}", person["password"], 401),
        "the right password": (person["username"], person["password"], 200),
    }.items():
        before = await nb.call(argon2_work)
        expect_response(await log_in(client, name, password), status=status, called=f"POST /token with {label}")
        work[label] = await nb.call(argon2_work) - before
    wrong, unknown = work["a wrong password"], work["an unknown username"]
    expect(
        wrong >= 1 and unknown == wrong,
        called="POST /token with a wrong password, then with an unknown username",
        got=f"{wrong} and {unknown} Argon2 hash or verify calls",
        expected="the same number for both, at least one",
    )


@check(
    points=2,
    hint="""The scopes granted are those asked for that the role allows (ROLES), the
    others left out; the token response lists them, alphabetical. A route's missing scope is 403
    with WWW-Authenticate: Bearer error="insufficient_scope", scope="...": what does SecurityScopes
    hold when the route declares Security(..., scopes=[...])?""",
    see="13-login.ipynb#scopes-granted-at-login",
)
async def test_scopes_granted_are_what_was_asked_and_the_role_allows(
    nb: Notebook, client: AsyncClient, rng: Random
) -> None:
    lender, trainee = made_up_person(rng), made_up_person(rng, "trainee")
    await add(nb, lender, trainee)
    await stop_clock(nb, EARLY)
    asked_for = [
        "",
        "tools:read",
        "loans:write",
        "loans:write tools:read",
        "tools:read loans:write shed:admin",
        "shed:admin",
    ]
    tool = rng.choice(TOOLS)
    for person in (lender, trainee):
        for asked in rng.sample(asked_for, len(asked_for)):
            granted = sorted(set(asked.split()) & ROLES[person["role"]])
            called = f"POST /token as {person['username']} ({person['role']}) asking for {asked!r}"
            response = await log_in(client, person["username"], person["password"], asked)
            expect_response(response, status=200, called=called)
            expect(
                response.json().get("scope") == " ".join(granted),
                called=called,
                got=f"scope {response.json().get('scope')!r}",
                expected=f"scope {' '.join(granted)!r}",
            )
            token = response.json()["access_token"]
            expect_response(
                await client.get("/me", headers=bearer(token)),
                status=200,
                called=f"GET /me with that token (granted {granted})",
            )
            for path, method, scope, body, status in (
                ("/tools", "GET", "tools:read", None, 200),
                ("/loans", "POST", "loans:write", {"tool": tool}, 201),
            ):
                answer = await send(client, method, path, token, body)
                called = f"{method} {path} with a token granted {granted}"
                if scope in granted:
                    expect_response(answer, status=status, called=called)
                else:
                    expect_response(
                        answer, status=403, headers={"WWW-Authenticate": insufficient(scope)}, called=called
                    )
    expect_response(
        await send(client, "POST", "/loans", await token_of(client, lender), {"tool": "anvil"}),
        status=404,
        called="POST /loans {'tool': 'anvil'}, a tool the shed does not have",
    )


@check(
    points=2,
    hint="""A token lasts token_minutes from the login's clock(); from that second on it
    is 401 with error="invalid_token". Both the login and the check must read the time through the
    clock dependency. If you use PyJWT, its own exp check reads the machine's time, which a test
    cannot stop.""",
    see="13-login.ipynb#signed-tokens-with-an-expiry",
)
async def test_tokens_expire_by_the_clock(nb: Notebook, client: AsyncClient, rng: Random) -> None:
    person = made_up_person(rng)
    await add(nb, person)
    lifetime = (await nb.call(settings_of))["token_minutes"] * 60
    start = EARLY + rng.randint(0, 10**6)
    await stop_clock(nb, start)
    token = await token_of(client, person)
    for now, valid in (
        (start + lifetime - rng.randint(1, 60), True),
        (start + lifetime, False),
        (start + lifetime + rng.randint(1, 10**5), False),
        (start + rng.randint(0, 60), True),
    ):
        await stop_clock(nb, now)
        for method, path, body in probe_routes()[:3]:
            called = (
                f"{method} {path} with a token issued at clock() = {start}, lasting {lifetime} s, clock() now {now}"
            )
            answer = await send(client, method, path, token, body)
            if valid:
                expect_response(answer, status=201 if method == "POST" else 200, called=called)
            else:
                challenged(answer, INVALID, called)


@check(
    points=2,
    hint="""POST /logout/everywhere must end every token of that person issued before it,
    from the next request on, while a login after it works, even within the same second (the clock
    may stand still). What can a token carry, or the database keep, that changes at each logout?
    Other people's tokens are not touched.""",
    see="13-login.ipynb#opaque-tokens-stored-hashed",
)
async def test_logging_out_everywhere_ends_every_earlier_token(nb: Notebook, client: AsyncClient, rng: Random) -> None:
    person, other = made_up_person(rng), made_up_person(rng, "trainee")
    await add(nb, person, other)
    await stop_clock(nb, EARLY + rng.randint(0, 1000))
    who = person["username"]
    phone, laptop = await token_of(client, person), await token_of(client, person, "tools:read")
    theirs = await token_of(client, other, "tools:read")
    expect_response(
        await client.post("/logout/everywhere", headers=bearer(phone)),
        status=204,
        called=f"POST /logout/everywhere with a token of {who}",
    )
    for label, token in (("the token logged out with", phone), ("an earlier token of the same person", laptop)):
        for method, path, body in probe_routes():
            challenged(
                await send(client, method, path, token, body),
                INVALID,
                f"{method} {path} with {label}, after {who} logged out everywhere",
            )
    expect_response(
        await client.get("/tools", headers=bearer(theirs)),
        status=200,
        called=f"GET /tools as {other['username']}, after {who} logged out everywhere",
    )
    fresh = await token_of(client, person)
    expect_response(
        await client.get("/me", headers=bearer(fresh)),
        status=200,
        called=f"GET /me with a token of {who} from a login in the same second as the logout",
    )
    expect_response(
        await client.post("/logout/everywhere", headers=bearer(fresh)),
        status=204,
        called=f"POST /logout/everywhere again, with {who}'s new token",
    )
    challenged(await client.get("/me", headers=bearer(fresh)), INVALID, f"GET /me with {who}'s token, logged out")
    challenged(await client.get("/me", headers=bearer(phone)), INVALID, f"GET /me with {who}'s first token")
    expect_response(
        await client.get("/me", headers=bearer(await token_of(client, person))),
        status=200,
        called=f"GET /me after {who} logged in again",
    )


def b64(data: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def forgeries(token: str, username: str, victim: str, now: int, rng: Random) -> dict[str, str]:
    """Tokens made from a real one that no app may accept: {label: token}."""
    parts = token.split(".")
    claims = None
    if len(parts) == 3:
        try:
            claims = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
        except ValueError:
            claims = None
    if not isinstance(claims, dict):
        claims = {"sub": username, "scope": "loans:write tools:read", "exp": now + 600}
    swapped = {key: victim if value == username else value for key, value in claims.items()}
    middle = len(token) // 2
    flipped = token[:middle] + ("A" if token[middle] != "A" else "B") + token[middle + 1 :]
    found = {
        "a character of a real token changed": flipped,
        "a made-up token": f"shed-{rng.getrandbits(64):016x}",
        "its claims signed with another key": jwt.encode(
            claims, f"another key, {rng.getrandbits(128):032x}", algorithm="HS256"
        ),
        "its claims unsigned, alg none": f"{b64({'alg': 'none', 'typ': 'JWT'})}.{b64(claims)}.",
        f"its claims with {victim} as the person, the signature kept": (
            f"{parts[0]}.{b64(swapped)}.{parts[2]}" if len(parts) == 3 else f"{victim}.{token}"
        ),
    }
    return found


@check(
    points=2,
    hint="""A token the app cannot trust is 401 with error="invalid_token": changed,
    signed with another key, not signed at all, or naming a person who no longer exists. With
    PyJWT, say which algorithms you accept and with which key; whatever the token, look its person
    up again. No token at all is a bare Bearer challenge.""",
    see="13-login.ipynb#pitfall-a-token-decoded-without-checking",
)
async def test_forged_and_orphaned_tokens_are_invalid(nb: Notebook, client: AsyncClient, rng: Random) -> None:
    person = made_up_person(rng)
    await add(nb, person)
    now = EARLY + rng.randint(0, 1000)
    await stop_clock(nb, now)
    who = person["username"]
    token = await token_of(client, person)
    for label, forged in forgeries(token, who, "ada", now, rng).items():
        for method, path, body in probe_routes():
            challenged(await send(client, method, path, forged, body), INVALID, f"{method} {path} with {label}")
    for label, headers in (
        ("no Authorization header", {}),
        ("another scheme (Basic)", {"Authorization": "Basic YTpi"}),
    ):
        for method, path, body in probe_routes():
            options: dict[str, Any] = {"json": body} if body else {}
            challenged(
                await client.request(method, path, headers=headers, **options),
                BARE,
                f"{method} {path} with {label}",
            )
    expect_response(await client.get("/me", headers=bearer(token)), status=200, called=f"GET /me as {who}")
    await nb.call(delete_staff, who)
    for method, path, body in probe_routes():
        challenged(
            await send(client, method, path, token, body),
            INVALID,
            f"{method} {path} with a token of {who}, whose row was deleted",
        )


@check(
    points=1,
    hint="""A valid token of a disabled account is 403 on every route, with no
    WWW-Authenticate: the caller is known and may not use the shed, whatever the token's scopes.
    Decide the account before the scopes; enabling the account again makes its token work.""",
    see="13-login.ipynb#the-current-user-then-the-active-user",
)
async def test_a_disabled_account_is_forbidden_on_every_route(nb: Notebook, client: AsyncClient, rng: Random) -> None:
    person = made_up_person(rng)
    await add(nb, person)
    await stop_clock(nb, EARLY)
    who = person["username"]
    full, bare = await token_of(client, person), await token_of(client, person, "")
    await nb.call(set_active, who, False)
    for label, token in (("all scopes", full), ("no scope", bare)):
        for method, path, body in probe_routes():
            answer = await send(client, method, path, token, body)
            called = f"{method} {path} with a token of {who} ({label}), whose account was then disabled"
            expect_response(answer, status=403, called=called)
            expect(
                answer.headers.get("www-authenticate") is None,
                called=called,
                got=f"WWW-Authenticate: {answer.headers.get('www-authenticate')}",
                expected="no WWW-Authenticate",
            )
    await nb.call(set_active, who, True)
    expect_response(
        await client.get("/tools", headers=bearer(full)),
        status=200,
        called=f"GET /tools with the same token, {who}'s account enabled again",
    )


@check(
    points=2,
    hint="""A test overrides current_staff to call the app as someone, with no token: every
    route must reach the caller through current_staff, and the checks that need the token (scopes
    included) must live inside it or below it, so that the override stands for all of them.""",
    see="13-login.ipynb#testing-an-override-and-one-real-login",
)
async def test_an_override_of_current_staff_reaches_every_route(nb: Notebook, client: AsyncClient, rng: Random) -> None:
    person = made_up_person(rng, "trainee")
    await nb.call(override_caller, person)
    who, tool = person["username"], rng.choice(TOOLS)
    expect_response(
        await client.get("/me"),
        status=200,
        json={"username": who, "role": "trainee"},
        called="GET /me, no token, current_staff overridden",
        seen=await nb.graph("GET /me"),
    )
    expect_response(
        await client.get("/tools"),
        status=200,
        json=TOOLS,
        called="GET /tools, no token, current_staff overridden",
        seen=await nb.graph("GET /tools"),
    )
    expect_response(
        await client.post("/loans", json={"tool": tool}),
        status=201,
        json={"tool": tool, "borrower": who},
        called="POST /loans, no token, current_staff overridden",
        seen=await nb.graph("POST /loans"),
    )


# --- the differential check ----------------------------------------------------------------------

PEOPLE = ["ada", "bo", "cy", "nobody"]
ASKED = ["", "tools:read", "loans:write tools:read", "tools:read loans:write shed:admin"]
ROUTES = [
    ("GET", "/me", None),
    ("GET", "/tools", None),
    ("POST", "/loans", {"tool": "lathe"}),
    ("POST", "/loans", {"tool": "anvil"}),
]
TIMES = [EARLY, EARLY + 600, EARLY + 1199, EARLY + 1200, EARLY + 1800, EARLY + 5000]
HEADER = ("www-authenticate",)


def login_body(response: Response) -> Any:
    try:
        body = response.json()
    except ValueError:
        return response.text
    if not isinstance(body, dict):
        return body
    return {
        "token_type": body.get("token_type"),
        "scope": body.get("scope"),
        "access_token": "<a token>" if isinstance(body.get("access_token"), str) else body.get("access_token"),
    }


class Logins(Machine):
    """Any sequence of logins, requests with the tokens issued, logouts, disabled accounts and
    clock moves, as the reference answers them: the status, the JSON of a success and the
    WWW-Authenticate challenge. Each app is called with the tokens it issued itself."""

    tokens: list[tuple[str, tuple[str | None, str | None]]]

    def both(
        self, text: str, method: str, url: str, tokens: tuple[str | None, str | None] = (None, None), **request: Any
    ) -> tuple[Response, Response]:
        self.step(text)

        async def run() -> tuple[Response, Response]:
            learner = await self._client(self.current.learner).request(
                method, url, headers=bearer(tokens[0]), **request
            )
            reference = await self._client(self.current.reference).request(
                method, url, headers=bearer(tokens[1]), **request
            )
            return learner, reference

        return anyio.from_thread.run(run)

    def chosen(self, pick: int) -> tuple[str, tuple[str | None, str | None]]:
        if not self.tokens:
            return "no token", (None, None)
        label, pair = self.tokens[pick % len(self.tokens)]
        return label, pair

    @initialize()
    def start(self) -> None:
        self.tokens = []
        self.clock_at(EARLY)

    @rule(who=st.sampled_from(PEOPLE), right=st.booleans(), asked=st.sampled_from(ASKED))
    def log_in(self, who: str, right: bool, asked: str) -> None:
        password = CREW.get(who, ("whatever-1",))[0] + ("" if right else "?")
        text = f"POST /token as {who}, {'right' if right else 'wrong'} password, scope {asked!r}"
        learner, reference = self.both(
            text, "POST", "/token", data={"username": who, "password": password, "scope": asked}
        )
        self.same(learner, reference, json=False, headers=HEADER)
        if reference.status_code == 200:
            self.agree("the login's answer", login_body(learner), login_body(reference))
            label = f"token #{len(self.tokens) + 1} ({who}, {asked!r})"
            self.tokens.append((label, (learner.json()["access_token"], reference.json()["access_token"])))
            self.step(f"-> {label}")

    @rule(pick=st.integers(0, 7), route=st.sampled_from(ROUTES))
    def use(self, pick: int, route: tuple[str, str, dict[str, Any] | None]) -> None:
        method, path, body = route
        label, pair = self.chosen(pick)
        shown = f" {json.dumps(body)}" if body else ""
        self.same(
            *self.both(f"{method} {path}{shown} with {label}", method, path, pair, **({"json": body} if body else {})),
            headers=HEADER,
        )

    @rule(pick=st.integers(0, 7))
    def log_out(self, pick: int) -> None:
        label, pair = self.chosen(pick)
        self.same(
            *self.both(f"POST /logout/everywhere with {label}", "POST", "/logout/everywhere", pair), headers=HEADER
        )

    @rule(who=st.sampled_from(["ada", "bo"]), active=st.booleans())
    def set_account(self, who: str, active: bool) -> None:
        self.step(f"{who}'s account {'enabled' if active else 'disabled'}")
        self.call(lambda nb: nb.call(set_active, who, active))

    @rule(now=st.sampled_from(TIMES))
    def clock_at(self, now: int) -> None:
        self.step(f"clock() overridden to {now}")
        self.call(lambda nb: stop_clock(nb, now))

    def tour(self) -> None:
        self.start()
        self.log_in("ada", True, "loans:write tools:read")
        self.use(0, ROUTES[1])
        self.use(0, ROUTES[2])
        self.use(0, ROUTES[3])
        self.log_in("bo", True, "tools:read loans:write shed:admin")
        self.use(1, ROUTES[2])
        self.log_in("nobody", True, "tools:read")
        self.log_in("ada", False, "")
        self.log_in("cy", True, "tools:read")
        self.log_in("cy", False, "tools:read")
        self.log_in("ada", True, "")
        self.use(2, ROUTES[0])
        self.use(2, ROUTES[1])
        self.log_out(0)
        self.use(0, ROUTES[0])
        self.use(2, ROUTES[0])
        self.log_in("ada", True, "tools:read")
        self.use(3, ROUTES[1])
        self.set_account("bo", False)
        self.use(1, ROUTES[0])
        self.use(1, ROUTES[2])
        self.set_account("bo", True)
        self.clock_at(EARLY + 1199)
        self.use(1, ROUTES[1])
        self.clock_at(EARLY + 1200)
        self.use(3, ROUTES[0])
        self.tokens.append(("no token", (None, None)))
        self.use(4, ROUTES[0])


@check(
    points=3,
    hint="""In some sequence of logins, requests, logouts, disabled accounts and clock
    moves, your app answers differently from what the exercise asks. Replay the sequence shown in
    your notebook (override clock as it says) and compare each status and challenge with the
    acceptance criteria.""",
    see="13-login.ipynb#the-current-user-then-the-active-user",
)
async def test_behaves_as_specified_in_any_sequence(differential: Differential) -> None:  # noqa: F811
    await differential.run(Logins, examples=2, steps=5)
