"""Hidden checks for exercise 04, role checks.

Every caller against every endpoint; 401 before 403; the admin router protected as a whole; a
RequiresRole that works in any app; and a role check that runs once per request. Besides the three
given users, each grade adds users of its own (names, roles and tokens made up from its seed), in
the agent; which status each caller should get is computed here, from a model of the exercise's rules.
"""

import hashlib

from book.grader.checks import agent_side, check, expect, expect_response

EXERCISE = "04-role-checks"

GIVEN = {"Vera": "viewer", "Eddie": "editor", "Ada": "admin"}  # the notebook's users, ids 1 to 3
ROLES = ["viewer", "editor", "admin"]
ALLOWED = {  # (method, path): the roles that may call it, and the status they get
    ("GET", "/notes"): ({"viewer", "editor", "admin"}, 200),
    ("POST", "/notes"): ({"editor", "admin"}, 201),
    ("GET", "/admin/users"): ({"admin"}, 200),
    ("POST", "/admin/reset"): ({"admin"}, 200),
}
NAMES = ["Bruno", "Chiara", "Dmitri", "Ines", "Jun", "Kwame", "Lotte", "Mira", "Oskar", "Priya"]
WORDS = ["agenda", "budget", "draft", "memo", "release", "roadmap", "sketch", "summary"]


def token_of(name):
    """The given users' demo tokens, as the notebook makes them."""
    return f"{name.lower()}-demo-token"


def hash_of(token):
    return hashlib.sha256(token.encode()).hexdigest()


def expected_status(method, path, role):
    roles, ok = ALLOWED[(method, path)]
    return 401 if role is None else ok if role in roles else 403


def bearer(token):
    return {"Authorization": f"Bearer {token}"} if token else {}


def a_title(rng):
    return f"{rng.choice(WORDS).capitalize()} {rng.randint(10, 999)}"


def made_up_users(rng, roles):
    """One user of each role in `roles` for this grade: {id, name, role, token}."""
    names = rng.sample(NAMES, len(roles))
    return [{"id": 10 + number, "name": name, "role": role, "token": f"{name.lower()}-{rng.getrandbits(64):016x}"}
            for number, (name, role) in enumerate(zip(names, roles, strict=True))]


@agent_side
async def add_users(ctx, users):
    """Add `users` ({id, name, role, token_hash}) to the notebook's database."""
    async with ctx.nb.SessionLocal() as session:
        session.add_all(ctx.nb.User(id=user["id"], name=user["name"], role=user["role"],
                                    token_hash=user["token_hash"]) for user in users)
        await session.commit()


async def add(nb, users):
    rows = [{"id": user["id"], "name": user["name"], "role": user["role"], "token_hash": hash_of(user["token"])}
            for user in users]
    await nb.call(add_users, rows)


@agent_side
def role_checks_in(ctx, route):
    """The dependencies of `route` as FastAPI resolves them: where each was declared, and whether it is a
    RequiresRole; and the graph as text."""
    import inspect

    from book.dependency_graph import graph

    try:
        found = graph(ctx.app, route)
    except LookupError as exc:
        return {"error": str(exc)}
    kind = getattr(ctx.nb, "RequiresRole", None)
    return {"text": str(found),
            "nodes": [{"declared": node.declared,
                       "requires_role": inspect.isclass(kind) and isinstance(node.call, kind)}
                      for node in found.nodes()[1:]]}


@agent_side
async def guarded_elsewhere(ctx, roles, callers):
    """A new app with one endpoint guarded by RequiresRole(*roles); what it answers each caller
    ([role, name]), get_current_user overridden to give that caller."""
    from typing import Annotated

    import httpx
    from fastapi import Depends, FastAPI

    other = FastAPI()
    guard = ctx.nb.RequiresRole(*roles)

    async def either(user):
        return {"name": user.name}

    # Set here, not written in the signature: the agent may compile this source with postponed
    # annotations, and FastAPI could not evaluate them (ctx and guard are not globals there).
    either.__annotations__ = {"user": Annotated[ctx.nb.User, Depends(guard)], "return": dict}

    def giving(user):
        def fake_current_user():
            return user
        return fake_current_user

    other.get("/either")(either)
    answers = []
    transport = httpx.ASGITransport(app=other, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        for role, name in callers:
            user = ctx.nb.User(id=90, name=name, role=role, token_hash="")
            other.dependency_overrides[ctx.nb.get_current_user] = giving(user)
            response = await client.get("/either")
            try:
                body = response.json()
            except ValueError:
                body = response.text[:200]
            answers.append([response.status_code, body])
    return answers


@agent_side
def user_dependency(ctx, role, name):
    """A dependency that gives a user with `role`, to override get_current_user with."""
    user = ctx.nb.User(id=90, name=name, role=role, token_hash="")

    def fake_current_user():
        return user

    return fake_current_user


@check(points=3, hint="""Viewers read notes; editors and admins also add them; only admins reach /admin.
    Nobody logged in gets 401 everywhere. A signed-in user whose role is not allowed is refused:
    which status says "I know who you are, and you may not"?""")
async def test_every_caller_on_every_endpoint(nb, client, rng):
    extra = made_up_users(rng, rng.sample(ROLES, 3))
    await add(nb, extra)
    callers = [("nobody", None, None), *((name, role, token_of(name)) for name, role in GIVEN.items()),
               *((user["name"], user["role"], user["token"]) for user in extra)]
    title = a_title(rng)
    for method, path in ALLOWED:
        for name, role, token in callers:
            response = await client.request(method, path, params={"title": title} if path == "/notes" and
                                            method == "POST" else None, headers=bearer(token))
            expect_response(response, status=expected_status(method, path, role),
                            called=f"{method} {path} as {name} ({role or 'no token'})")


@check(points=2, hint="""A request whose user is unknown is 401 with WWW-Authenticate: Bearer on every
    route, admin routes included. In which order must the user and the role be looked at, and how
    can RequiresRole make sure of that order? Never answer 403 to someone you could not identify.""")
async def test_nobody_is_401_before_any_role_check(client, rng):
    headers = {"no Authorization header": {}, "an unknown token": bearer("no-such-token"),
               "another scheme (Basic)": {"Authorization": "Basic eA=="},
               "another unknown token": bearer(f"{rng.choice(NAMES).lower()}-{rng.getrandbits(64):016x}")}
    for method, path in ALLOWED:
        for label, header in headers.items():
            expect_response(await client.request(method, path, headers=header), status=401,
                            headers={"WWW-Authenticate": "Bearer"}, called=f"{method} {path} with {label}")


@check(points=1, hint="""POST /notes answers 201 with the title and the name of the user who added it,
    and the note then shows in GET /notes, after the notes already there.""")
async def test_adding_a_note_says_who(nb, client, rng):
    writer = made_up_users(rng, [rng.choice(["editor", "admin"])])[0]
    await add(nb, [writer])
    first, second = a_title(rng), a_title(rng)
    for title, name, token in ((first, "Eddie", token_of("Eddie")), (second, writer["name"], writer["token"])):
        added = await client.post("/notes", params={"title": title}, headers=bearer(token))
        expect_response(added, status=201, json={"title": title, "by": name},
                        called=f"POST /notes?title={title} as {name}")
    expect_response(await client.get("/notes", headers=bearer(token_of("Vera"))), status=200,
                    json=["Welcome", first, second],
                    called=f"GET /notes as Vera, after {first!r} and {second!r} were added")
    expect_response(await client.post("/admin/reset", headers=bearer(token_of("Ada"))), status=200,
                    json={"reset": True})
    expect_response(await client.get("/notes", headers=bearer(token_of("Vera"))), status=200, json=["Welcome"],
                    called="GET /notes after POST /admin/reset")


@check(points=2, hint="""Protect the admin router as a whole, in the router's own declaration, rather
    than route by route. Then every route added to it is checked, even one whose author forgets.""")
async def test_the_admin_router_is_protected_as_a_whole(nb):
    for route in ("GET /admin/users", "POST /admin/reset"):
        found = await nb.call(role_checks_in, route)
        expect("error" not in found, called=f"the dependencies of {route}", got=found.get("error"),
               expected="the route")
        from_router = [node for node in found["nodes"] if node["requires_role"] and node["declared"] == "router"]
        expect(bool(from_router), called=f"the dependencies of {route}", got="no RequiresRole from the router",
               expected="a RequiresRole in the router's dependencies=[...]", seen=found["text"])


@check(points=2, hint="""RequiresRole must work in any app: RequiresRole("viewer", "editor") is a dependency
    that returns the current user when their role is one of the roles given, else refuses with 403.
    Where does its __call__ get the user from?""")
async def test_requires_role_works_in_any_app(nb, rng):
    roles = rng.sample([*ROLES, "auditor"], rng.randint(1, 3))
    callers = [[role, f"Test {role} {rng.randint(10, 99)}"] for role in [*ROLES, "auditor", "guest"]]
    answers = await nb.call(guarded_elsewhere, roles, callers)
    shown = ", ".join(map(repr, roles))
    for (role, name), (status, body) in zip(callers, answers, strict=True):
        wanted = (200, {"name": name}) if role in roles else (403, None)
        expect(status == wanted[0] and (wanted[1] is None or body == wanted[1]),
               called=f"GET /either, an endpoint guarded by RequiresRole({shown}), as a user with role {role!r}",
               got=f"{status} {body}", expected=f"{wanted[0]}" + (f" {wanted[1]}" if wanted[1] else ""))


@check(points=2, hint="""Every role check must get the user from CurrentUser (get_current_user), so
    that tests can override get_current_user once and act as any user, without tokens.""")
async def test_overriding_the_current_user_reaches_every_role_check(nb, client, rng):
    requests = [("GET", "/admin/users"), ("POST", "/notes"), ("GET", "/notes")]
    for role in rng.sample(ROLES, 3):
        name = f"Test {role} {rng.randint(10, 99)}"
        await nb.override("get_current_user", await nb.call(user_dependency, role, name))
        got = [(await client.request(method, path, params={"title": "x"} if method == "POST" else None)).status_code
               for method, path in requests]
        wanted = [expected_status(method, path, role) for method, path in requests]
        expect(got == wanted, called=f"GET /admin/users, POST /notes, GET /notes with no token, "
                                     f"get_current_user overridden by a user with role {role!r}",
               got=got, expected=str(wanted), seen=await nb.graph("GET /admin/users"))
        if role != "viewer":
            expect_response(await client.post("/notes", params={"title": "y"}), status=201,
                            json={"title": "y", "by": name},
                            called=f"POST /notes?title=y with get_current_user overridden by {name}")


@check(points=1, hint="""Each RequiresRole(...) you write is its own dependency, with its own cache key:
    an endpoint that gets one from its router and another from a parameter runs the check twice.
    How many instances does each set of roles need?""")
async def test_a_role_check_runs_once_per_request(nb, rng):
    for method, path, name in (("GET", "/admin/users", "Ada"), ("POST", "/admin/reset", "Ada"),
                               ("POST", "/notes", rng.choice(["Eddie", "Ada"]))):
        params = {"title": a_title(rng)} if path == "/notes" else None
        traced = await nb.trace(method, path, params=params, headers=bearer(token_of(name)))
        runs = sum(1 for event in traced.events if event["kind"] == "call" and event["who"].startswith("RequiresRole"))
        expect(runs == 1, called=f"{method} {path} as {name}, traced", got=f"role checks ran {runs} times",
               expected="once", seen=traced.text)
