"""Hidden checks for exercise 03, the current user.

Every shape of bad credentials gets 401 with WWW-Authenticate: Bearer; tokens are looked up by
hash, through the session dependency, and never come back in a response. Besides the notebook's two
given users, each grade adds users of its own (names, tokens and notes made up from its seed) to
the database, in the agent; the answers expected are computed here, from a model of the given data.
"""

import hashlib

from book.grader.checks import agent_side, check, expect, expect_response

EXERCISE = "03-current-user"

# The notebook's given users: (id, token, notes), as its given cell seeds them.
GIVEN = {
    "Ada": (1, "ada-exercise-token", ["Analytical engine", "Note G"]),
    "Grace": (2, "grace-exercise-token", ["COBOL", "Find the moth"]),
}
NAMES = ["Alan", "Barbara", "Edsger", "Frances", "Katherine", "Linus", "Margaret", "Radia", "Tim", "Yukihiro"]
WORDS = ["compiler", "lambda", "kernel", "punch card", "relay", "stack", "heap", "loom", "tape", "vacuum tube"]
BAD_HEADERS = {
    "no Authorization header": None,
    "another scheme (Basic)": "Basic YWRhOmV4ZXJjaXNl",
    "the scheme alone": "Bearer",
    "the scheme and a space": "Bearer ",
    "an unknown scheme": "Token ada-exercise-token",
    "an unknown token": "Bearer not-a-real-token",
    "an empty header": "",
}


def hash_of(token):
    """The exercise's hash_token, computed here."""
    return hashlib.sha256(token.encode()).hexdigest()


def auth(value):
    return {} if value is None else {"Authorization": value}


def refused(response, called):
    expect_response(response, status=401, headers={"WWW-Authenticate": "Bearer"}, called=called)


def made_up_token(rng, prefix):
    return f"{prefix}-{rng.getrandbits(64):016x}"


def made_up_user(rng):
    """A user for this grade: {id, name, token, notes}."""
    name = rng.choice(NAMES)
    notes = [f"{word.capitalize()} {rng.randint(1, 99)}" for word in rng.sample(WORDS, rng.randint(1, 3))]
    return {"id": rng.randint(10, 99), "name": name, "token": made_up_token(rng, name.lower()), "notes": notes}


@agent_side
async def add_users(ctx, users, elsewhere):
    """Add `users` ({id, name, token_hash, notes}) to the notebook's database; or, when `elsewhere`, to a
    new in-memory database with the notebook's tables, and override get_session with its sessions."""
    from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine
    from sqlalchemy.pool import StaticPool

    sessions = ctx.nb.SessionLocal
    if elsewhere:
        engine = create_async_engine("sqlite+aiosqlite://", poolclass=StaticPool)
        async with engine.begin() as connection:
            await connection.run_sync(ctx.nb.Base.metadata.create_all)
        sessions = ctx.other_sessions = async_sessionmaker(engine, expire_on_commit=False)

        async def other_session():
            async with ctx.other_sessions() as session:
                yield session

        ctx.app.dependency_overrides[ctx.nb.get_session] = other_session
    async with sessions() as session:
        for user in users:
            session.add(ctx.nb.User(id=user["id"], name=user["name"], token_hash=user["token_hash"]))
            await session.flush()
            session.add_all(ctx.nb.Note(owner_id=user["id"], title=title) for title in user["notes"])
        await session.commit()


async def add(nb, *users, elsewhere=False):
    await nb.call(add_users, [{**user, "token_hash": hash_of(user["token"])} for user in users], elsewhere)


@check(points=2, hint="""A known token gives the caller, and /me answers with their id and name. The
    database keeps a hash of each token, never the token: what must you do to the token the client
    sends before you can look it up?""")
async def test_known_tokens_give_the_caller(nb, client, rng):
    extra = made_up_user(rng)
    await add(nb, extra)
    callers = [(name, number, token) for name, (number, token, _) in GIVEN.items()]
    for name, number, token in [*callers, (extra["name"], extra["id"], extra["token"])]:
        expect_response(await client.get("/me", headers=auth(f"Bearer {token}")), status=200,
                        json={"id": number, "name": name}, called=f"GET /me with {name}'s token")


@check(points=2, hint="""Every request that cannot be tied to a user is 401 with the header
    WWW-Authenticate: Bearer, whatever is wrong with its Authorization header: missing, another
    scheme, no token, an unknown token. With auto_error=False, what does HTTPBearer give you for a
    header it cannot read, and what must you do with that?""")
async def test_every_bad_header_is_401_with_the_bearer_challenge(client, rng):
    cases = {**BAD_HEADERS, "another unknown token": f"Bearer {made_up_token(rng, 'guess')}"}
    for label, value in cases.items():
        for path in ("/me", "/notes"):
            refused(await client.get(path, headers=auth(value)), f"GET {path} with {label}")


@check(points=1, hint="""The scheme of an Authorization header is case-insensitive: "bearer <token>"
    is as valid as "Bearer <token>". HTTPBearer already accepts both; a hand-written
    startswith("Bearer ") does not.""")
async def test_the_scheme_is_case_insensitive(nb, client, rng):
    extra = made_up_user(rng)
    await add(nb, extra)
    grace, token, _ = GIVEN["Grace"]
    scheme = rng.choice(["BEARER", "bEaReR", "beaRER"])
    for name, number, header in (("Grace", grace, f"bearer {token}"),
                                 (extra["name"], extra["id"], f"{scheme} {extra['token']}")):
        expect_response(await client.get("/me", headers=auth(header)), status=200, json={"id": number, "name": name},
                        called=f"GET /me with '{header.split()[0]} <{name}'s token>'")


@check(points=2, hint="""Hash the token the client sends, and compare it with the stored hash. Comparing
    the sent token with token_hash directly turns the stored hash into a password: anyone who reads
    the table can log in.""")
async def test_the_stored_hash_is_not_a_token(nb, client, rng):
    extra = made_up_user(rng)
    await add(nb, extra)
    for name, token in (("Ada", GIVEN["Ada"][1]), (extra["name"], extra["token"])):
        refused(await client.get("/me", headers=auth(f"Bearer {hash_of(token)}")),
                f"GET /me with the hash stored for {name}'s token")


@check(points=2, hint="""get_current_user must look the user up through DBSession (the session
    dependency), so that overriding get_session, as tests do, changes where users come from.""")
async def test_the_user_lookup_goes_through_the_session_dependency(nb, client, rng):
    # Someone else, in another database, holds Ada's token: only a lookup through the override finds them.
    other = {**made_up_user(rng), "token": GIVEN["Ada"][1]}
    await add(nb, other, elsewhere=True)
    headers = auth(f"Bearer {other['token']}")
    called = "with Ada's token, get_session overridden by another database"
    expect_response(await client.get("/me", headers=headers), status=200,
                    json={"id": other["id"], "name": other["name"]}, called=f"GET /me {called}",
                    seen=await nb.graph("GET /me"))
    expect_response(await client.get("/notes", headers=headers), status=200, json=other["notes"],
                    called=f"GET /notes {called}", seen=await nb.graph("GET /notes"))


@check(points=1, hint="""GET /notes returns only the caller's notes, oldest first: which column ties a
    note to its owner?""")
async def test_notes_are_the_callers_own(nb, client, rng):
    extra = made_up_user(rng)
    await add(nb, extra)
    owners = [(name, token, notes) for name, (_, token, notes) in GIVEN.items()]
    for name, token, notes in [*owners, (extra["name"], extra["token"], extra["notes"])]:
        expect_response(await client.get("/notes", headers=auth(f"Bearer {token}")), status=200,
                        json=notes, called=f"GET /notes with {name}'s token")


@check(points=2, hint="""Never repeat a token in a response: not in the body, not in an error message
    (such as "unknown token ..."), not in a header. Error messages end up in logs.""")
async def test_no_token_comes_back_in_any_response(nb, client, rng):
    extra = made_up_user(rng)
    await add(nb, extra)
    secrets = [*(token for _, token, _ in GIVEN.values()), extra["token"], "not-a-real-token",
               "ada-exercise-token-typo", made_up_token(rng, "guess")]
    for path in ("/me", "/notes", "/nothing-here"):
        for value in [*BAD_HEADERS.values(), *(f"Bearer {secret}" for secret in secrets),
                      *(f"Token {secret}" for secret in secrets)]:
            response = await client.get(path, headers=auth(value))
            shown = response.text + " " + " ".join(f"{k}: {v}" for k, v in response.headers.items())
            leaked = [secret for secret in secrets if secret in shown]
            scheme = value.split(" ")[0] if value else "(none)"
            expect(not leaked, called=f"GET {path} with Authorization: {scheme} <token>",
                   got=f"{response.status_code}, and the token is in the response", expected="no token in the response")
