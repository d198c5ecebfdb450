"""Hidden checks for exercise 11, stock room scopes.

Every token on every route; scopes that imply others, however deep; the 401 and 403 challenges;
where each scope is declared; what OpenAPI shows; and the app-wide log running once per request.
Besides the given demo tokens, each grade grants made-up tokens made-up scopes (in GRANTS, through
the given digest), and the expected answers come from a model of the exercise's rules. A
differential check then drives the learner's app and the reference with the same sequences of
requests (book.grader.differential).
"""

from collections.abc import Iterable, Sequence
from random import Random
from typing import Any

from httpx import AsyncClient, Response
from hypothesis import strategies as st
from hypothesis.stateful import invariant, rule

from book.grader.checks import agent_side, check, expect, expect_response
from book.grader.differential import Differential, Machine, differential  # noqa: F401  (a fixture)
from book.grader.remote_notebook import Notebook

EXERCISE = "11-router-scopes"

READ, WRITE, ADMIN = "stock:read", "stock:write", "stock:admin"
SCOPES = [READ, WRITE, ADMIN]
IMPLIES = {WRITE: [READ], ADMIN: [WRITE]}
GIVEN_TOKENS: dict[str | None, list[str] | None] = {
    "clerk-token": [READ],
    "buyer-token": [WRITE],
    "manager-token": [ADMIN],
    "auditor-token": [],
}
# (method, the scope the route adds to the router's stock:read, its status when allowed)
ROUTES = [("GET", None, 200), ("POST", WRITE, 201), ("DELETE", ADMIN, 200)]
EXTRA = {method: extra for method, extra, _ in ROUTES}


@agent_side
def grant(ctx: "Any", token: str, scopes: list[str]) -> None:
    """Give a new demo token its scopes, stored as the notebook stores them."""
    ctx.nb.GRANTS[ctx.nb.digest(token)] = list(scopes)


@agent_side
def scopes_declared(ctx: "Any", route: str) -> "dict[str, Any]":
    """Where each scope of require_scopes is declared on `route`: [level, scope] pairs, and the graph."""
    from book.learner.dependency_graph import graph

    try:
        found = graph(ctx.app, route)
    except Exception:  # no such route: the check says what it expected
        return {"declared": [], "text": ""}
    target = getattr(ctx.nb, "require_scopes", None)
    declared = {(node.declared, scope) for node in found.nodes()[1:] if node.call is target for scope in node.scopes}
    return {"declared": sorted(map(list, declared)), "text": str(found)}


def bearer(token: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"} if token else {}


def held(granted: Iterable[str]) -> set[str]:
    """The granted scopes and all they imply."""
    out, pending = set(), list(granted)
    while pending:
        scope = pending.pop()
        if scope not in out:
            out.add(scope)
            pending.extend(IMPLIES.get(scope, []))
    return out


def shown(token: str | None, granted: list[str] | None) -> str:
    if token is None:
        return "no token"
    return f"{token} (granted {', '.join(granted) or 'nothing'})" if granted is not None else f"the unknown {token}"


def expected_refusal(granted: list[str] | None, extra: str | None) -> tuple[int, str] | None:
    """(status, WWW-Authenticate) a token with `granted` scopes (None: unknown) gets on a route that
    adds `extra`, or None when it is let in. The router's check runs before the route's."""
    if granted is None:
        return 401, "Bearer"
    scopes = held(granted)
    if READ not in scopes:
        return 403, f'Bearer scope="{READ}"'
    if extra and extra not in scopes:
        return 403, f'Bearer scope="{extra}"'
    return None


async def send(client: AsyncClient, method: str, token: str | None, rng: Random) -> Response:
    """One request to /items (POST with a name) with `token`."""
    params = {"name": f"item {rng.randint(1, 999)}"} if method == "POST" else None
    return await client.request(method, "/items", params=params, headers=bearer(token))


async def made_up_tokens(nb: Notebook, rng: Random) -> dict[str | None, list[str] | None]:
    """Two tokens granted some scopes for this grade, and one unknown token: {token: scopes or None}."""
    tokens: dict[str | None, list[str] | None] = {}
    for _ in range(2):
        token = f"token-{rng.randint(10**5, 10**6 - 1)}"
        tokens[token] = sorted(rng.sample(SCOPES, rng.randint(0, 2)), key=SCOPES.index)
        await nb.call(grant, token, tokens[token])
    tokens[f"stolen-{rng.randint(10**5, 10**6 - 1)}"] = None
    return tokens


@check(
    points=3,
    hint="""Every route needs stock:read (from the router); POST also needs stock:write and
    DELETE stock:admin (from the route's own Security). No token or an unknown one is 401; a known token
    missing a scope, after what its scopes imply, is 403. Which scopes reach your check on each route:
    the router's and the route's together?""",
    see="11-app-router-scopes.ipynb#scopes-security-and-securityscopes",
)
async def test_every_token_on_every_route(nb: Notebook, client: AsyncClient, rng: Random) -> None:
    tokens: dict[str | None, list[str] | None] = {None: None, **GIVEN_TOKENS, **await made_up_tokens(nb, rng)}
    for method, extra, allowed in ROUTES:
        for token, granted in tokens.items():
            refused = expected_refusal(granted, extra)
            expect_response(
                await send(client, method, token, rng),
                status=refused[0] if refused else allowed,
                called=f"{method} /items with {shown(token, granted)}",
            )


@check(
    points=2,
    hint="""A token granted only stock:admin can add items and read them too: stock:admin
    implies stock:write, which implies stock:read. Does your check follow IMPLIES more than one step?""",
    see="11-app-router-scopes.ipynb#scopes-security-and-securityscopes",
)
async def test_a_scope_grants_what_it_implies(nb: Notebook, client: AsyncClient, rng: Random) -> None:
    token = f"chief-{rng.randint(10**5, 10**6 - 1)}"
    await nb.call(grant, token, [ADMIN])
    for method in rng.sample(["GET", "POST"], 2):
        allowed = 201 if method == "POST" else 200
        expect_response(
            await send(client, method, token, rng),
            status=allowed,
            called=f"{method} /items with {token} (granted stock:admin only)",
        )


@check(
    points=2,
    hint="""A 403 for a missing scope carries WWW-Authenticate: Bearer scope="..." with the
    scopes that the refusing check asked for (SecurityScopes knows them, ready joined); a 401 carries
    WWW-Authenticate: Bearer.""",
    see="11-app-router-scopes.ipynb#scopes-security-and-securityscopes",
)
async def test_refusals_carry_the_right_challenge(nb: Notebook, client: AsyncClient, rng: Random) -> None:
    granted = rng.choice([[READ], [WRITE]])
    lacking = rng.choice([method for method, extra in EXTRA.items() if extra and extra not in held(granted)])
    made_up = f"token-{rng.randint(10**5, 10**6 - 1)}"
    await nb.call(grant, made_up, granted)
    cases = [
        ("POST", "clerk-token"),
        ("DELETE", "buyer-token"),
        ("GET", "auditor-token"),
        ("DELETE", None),
        ("POST", f"stolen-{rng.randint(10**5, 10**6 - 1)}"),
        (lacking, made_up),
    ]
    scopes: dict[str | None, list[str] | None] = {**GIVEN_TOKENS, made_up: granted}
    for method, token in cases:
        status, challenge = expected_refusal(scopes.get(token), EXTRA[method])  # type: ignore[misc]  # all refused
        expect_response(
            await send(client, method, token, rng),
            status=status,
            headers={"WWW-Authenticate": challenge},
            called=f"{method} /items with {shown(token, scopes.get(token))}",
        )


@check(
    points=1,
    hint="""Adding and clearing change ITEMS: POST answers 201 {"name": ...}, DELETE answers
    {"cleared": true}, and GET /items shows the result. If the checks let a request through, what does
    each endpoint itself change and answer?""",
    see="11-app-router-scopes.ipynb#recap",
)
async def test_the_routes_do_their_job(client: AsyncClient, rng: Random) -> None:
    manager = bearer("manager-token")
    items = ["pallet jack"]  # the given ITEMS
    for _ in range(rng.randint(1, 3)):
        name = f"crate {rng.randint(1, 999)}"
        items.append(name)
        expect_response(
            await client.post("/items", params={"name": name}, headers=manager), status=201, json={"name": name}
        )
    expect_response(await client.get("/items", headers=manager), status=200, json=items)
    expect_response(await client.delete("/items", headers=manager), status=200, json={"cleared": True})
    expect_response(await client.get("/items", headers=manager), status=200, json=[], called="GET /items after DELETE")


@check(
    points=2,
    hint="""Declare each scope where it belongs: what every route of the router needs,
    once, on the router; what one route adds, on that route (its decorator or its parameters). Then a
    route added to the router later cannot forget the read check.""",
    see="11-app-router-scopes.ipynb#five-levels-one-order",
)
async def test_each_scope_is_declared_where_it_belongs(nb: Notebook) -> None:
    for method, extra, _ in ROUTES:
        route = f"{method} /items"
        found = await nb.call(scopes_declared, route)
        declared = {tuple(pair) for pair in found["declared"]}
        on_the_route = {level for level, scope in declared if scope == extra}
        ok = ("router", READ) in declared and (not extra or bool(on_the_route & {"decorator", "parameter"}))
        wanted = f"('router', '{READ}')" + (f" and ('decorator' or 'parameter', '{extra}')" if extra else "")
        expect(
            ok,
            called=f"where the scopes of {route} are declared",
            got=sorted(declared) or "no Security(require_scopes, ...) at all",
            expected=wanted,
            seen=found["text"],
        )


@check(
    points=1,
    hint="""Security(...) puts the scopes into the OpenAPI schema: every operation lists the
    OAuth2PasswordBearer scopes it needs. Is each scope declared where the schema can see it, or checked
    by hand inside a function?""",
    see="11-app-router-scopes.ipynb#scopes-security-and-securityscopes",
)
async def test_openapi_lists_the_scopes(client: AsyncClient) -> None:
    schema = (await client.get("/openapi.json")).json()
    for method, extra, _ in ROUTES:
        wanted = {READ} | ({extra} if extra else set())
        operation = schema.get("paths", {}).get("/items", {}).get(method.lower(), {})
        listed = {
            scope
            for requirement in operation.get("security", [])
            for scopes in requirement.values()
            for scope in scopes
        }
        expect(
            listed == wanted,
            called=f"GET /openapi.json, security of {method} /items",
            got=sorted(listed),
            expected=str(sorted(wanted)),
        )


@agent_side
def add_a_route_to_the_app(ctx: "Any", path: str) -> str:
    """A route of the app's own, outside the router, as a later feature would add it."""

    @ctx.app.get(path)  # type: ignore[untyped-decorator]  # the notebook's app
    async def probe() -> dict:  # type: ignore[type-arg]  # a route: FastAPI reads this annotation, kept as written
        return {"ok": True}

    return path


@check(
    points=2,
    hint="""log_call must run once for every request to every route, refused ones included,
    routes outside the router too: where can a dependency be declared so that it runs before any route's
    own?""",
    see="11-app-router-scopes.ipynb#five-levels-one-order",
)
async def test_every_call_is_logged_once(nb: Notebook, client: AsyncClient, rng: Random) -> None:
    sent = [(method, token) for method, _, _ in ROUTES for token in ("manager-token", "clerk-token", None)]
    sent += [(rng.choice(ROUTES)[0], rng.choice([*GIVEN_TOKENS, None])) for _ in range(rng.randint(0, 4))]
    rng.shuffle(sent)
    before = len(await nb.value("CALLS"))
    for method, token in sent:
        await send(client, method, token, rng)
    counted = len(await nb.value("CALLS")) - before
    expect(
        counted == len(sent),
        called=f"{len(sent)} requests to the three routes, some refused",
        got=f"log_call ran {counted} times",
        expected=f"{len(sent)} times",
    )
    path = await nb.call(add_a_route_to_the_app, f"/health-{rng.randint(100, 999)}")
    before = len(await nb.value("CALLS"))
    expect_response(await client.get(path), status=200, called=f"GET {path}, a route added to the app itself")
    counted = len(await nb.value("CALLS")) - before
    expect(
        counted == 1,
        called=f"GET {path}, a route added to the app, outside the router",
        got=f"log_call ran {counted} times",
        expected="once: every request to the app is logged",
    )


class Stock(Machine):
    """Any sequence of requests, made-up tokens granted made-up scopes along the way, as the reference
    answers them: statuses, bodies, challenges, the items kept, the calls logged."""

    def __init__(self) -> None:
        super().__init__()
        self.granted: list[str] = []

    @rule(
        name=st.text(alphabet="abcdefghijkmnpqrstuvwxyz", min_size=3, max_size=8),
        scopes=st.lists(st.sampled_from(SCOPES), unique=True, max_size=2),
    )
    def grant_a_token(self, name: str, scopes: list[str]) -> None:
        token = f"made-up-{name}"
        self.step(f"{token!r} granted {scopes}")
        self.call(lambda nb: nb.call(grant, token, scopes))
        self.granted.append(token)

    @rule(
        method=st.sampled_from(["GET", "POST", "DELETE"]),
        who=st.sampled_from(["given", "given", "granted", "granted", "none", "unknown"]),
        pick=st.integers(0, 50),
        name=st.text(alphabet="abcdefghij XYZ0123456789-", min_size=1, max_size=12),
    )
    def request(self, method: str, who: str, pick: int, name: str) -> None:
        choices: dict[str, Sequence[str | None]] = {
            "given": list(GIVEN_TOKENS),
            "granted": self.granted,
            "none": [None],
            "unknown": [f"nobody-{pick}"],
        }
        tokens = choices[who] or [None]
        token = tokens[pick % len(tokens)]
        params = {"name": name} if method == "POST" else None
        learner, reference = self.send(method, "/items", params=params, headers=bearer(token))
        self.same(learner, reference, headers=("www-authenticate",))
        if method != "GET" and reference.status_code < 300:  # what changed, read back
            self.same(*self.send("GET", "/items", headers=bearer("manager-token")))

    def tour(self) -> None:
        self.grant_a_token("chief", [ADMIN])
        for method in ("GET", "POST", "DELETE", "POST"):
            for who in ("given", "granted", "none", "unknown"):
                for pick in range(len(GIVEN_TOKENS) if who == "given" else 1):
                    self.request(method, who, pick, f"Item {method} {pick}")
        self.calls_logged()

    @invariant()
    def calls_logged(self) -> None:
        learner, reference = self.call(lambda nb: nb.value("CALLS", default=[]))
        self.agree("calls logged", len(learner), len(reference))


@check(
    points=3,
    hint="""In some sequence of requests, tokens and scopes, your app answers differently from
    what the exercise asks. The sequence shown is the shortest found: replay it in your notebook and
    compare each answer, its status and its WWW-Authenticate header, with the acceptance criteria.""",
    see="11-app-router-scopes.ipynb#recap",
)
async def test_behaves_as_specified_in_any_sequence(differential: Differential) -> None:  # noqa: F811
    await differential.run(Stock, examples=3, steps=5)
