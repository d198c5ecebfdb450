"""Hidden checks for exercise 11-fix, the unguarded v2.

The admin router is mounted twice, under /v1 and /v2. The checks establish that every admin route,
under both prefixes, refuses a request without a valid token (401 with WWW-Authenticate: Bearer,
before the article is even looked up) and an author (403), and changes nothing then; that admins
still manage articles under both prefixes; that the public routes still need no token; that the
admin guard runs once per admin request (one AUDIT line each); and that a route added to the admin
router later is guarded under both prefixes, which tells a guard on the router or on every include
from one pasted on each route. A differential check then drives the learner's app and the reference
with the same sequences of reads and admin actions by every kind of caller.

Staff (names, roles, tokens) and articles (ids, titles) are made up per grade and added to the
notebook's STAFF and ARTICLES, so that the answers cannot be known in advance.
"""

from random import Random
from typing import Any

from httpx import AsyncClient
from hypothesis import strategies as st
from hypothesis.stateful import invariant, rule

from book.grader.checks import agent_side, check, expect, expect_response
from book.grader.differential import Differential, Machine, differential  # noqa: F401  (a fixture)
from book.grader.remote_notebook import Notebook

EXERCISE = "11-fix-unguarded-v2"
VERSIONS = ("/v1", "/v2")
# The admin routes, as (method, what follows /admin/articles/{id}).
ACTIONS = {"publish": ("POST", "/publish"), "unpublish": ("POST", "/unpublish"), "delete": ("DELETE", "")}
NAMES = ["Amara", "Bruno", "Chen", "Dagny", "Emeka", "Farah", "Goran", "Hana", "Ivo", "Joelle"]
TITLES = [
    "Ferry timetable changes again",
    "Library opens on Sundays",
    "The last video shop in town",
    "Tram line B: the vote",
    "School lunches go local",
    "A heron on the town hall roof",
    "Rents up eight percent",
    "The marathon's new route",
    "Flood wall finished at last",
    "Street names for forgotten women",
]
# The notebook's own demo staff (given code), used by the differential check.
GIVEN_ADMIN, GIVEN_AUTHOR = "ines-9f2c41d7", "tomas-5b80e3aa"
# Who sends the differential check's requests, with which token.
CALLERS = {
    "nobody": None,
    "a stranger": "not-a-staff-token",
    "Tomas (author)": GIVEN_AUTHOR,
    "Ines (admin)": GIVEN_ADMIN,
}
# The articles the notebook starts with (given code): each differential example starts from them.
GIVEN_ARTICLES = [
    [1, "Night buses back on the harbour line", "published"],
    [2, "The bakery that never closes", "published"],
    [3, "Council budget: the leaked draft", "draft"],
    [4, "Meet the new museum director", "draft"],
]


@agent_side
def add_staff(ctx: "Any", name: str, role: str, token: str) -> None:
    """One more staff member, stored as the notebook stores its own: by the token's hash."""
    ctx.nb.STAFF[ctx.nb.token_hash(token)] = ctx.nb.Staff(name=name, role=role)


@agent_side
def add_articles(ctx: "Any", articles: "list[list[Any]]") -> None:
    """More articles, as [id, title, status], into the notebook's ARTICLES."""
    for article_id, title, status in articles:
        ctx.nb.ARTICLES[article_id] = ctx.nb.Article(id=article_id, title=title, status=status)


@agent_side
def article_states(ctx: "Any") -> "list[list[Any]]":
    """Every article in ARTICLES as [id, title, status], by id."""
    return [
        [article.id, article.title, article.status]
        for article in sorted(ctx.nb.ARTICLES.values(), key=lambda article: article.id)
    ]


@agent_side
def audit(ctx: "Any") -> list[str]:
    return [str(line) for line in ctx.nb.AUDIT]


@agent_side
def start_afresh(ctx: "Any", articles: "list[list[Any]]") -> None:
    """ARTICLES as the notebook starts, AUDIT empty: whatever the learner's own cells did to them."""
    ctx.nb.ARTICLES.clear()
    for article_id, title, status in articles:
        ctx.nb.ARTICLES[article_id] = ctx.nb.Article(id=article_id, title=title, status=status)
    ctx.nb.AUDIT.clear()


@agent_side
def add_admin_route(ctx: "Any", segment: str) -> None:
    """A new route on the notebook's admin router, as a colleague would add one later:
    POST /{article_id}/<segment>, which answers what it was asked."""

    async def extra_admin_action(article_id: int) -> dict:  # type: ignore[type-arg]  # a route: FastAPI reads this annotation, kept as written
        return {"article": article_id, "action": segment}

    ctx.nb.admin.add_api_route("/{article_id}/" + segment, extra_admin_action, methods=["POST"])


def bearer(token: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"} if token else {}


def target(version: str, action: str, article_id: int) -> tuple[str, str]:
    method, tail = ACTIONS[action]
    return method, f"{version}/admin/articles/{article_id}{tail}"


async def newsroom(nb: Notebook, rng: Random) -> dict[str, Any]:
    """This grade's staff (an admin, an author) and articles (two drafts, one published), added to
    the notebook; and a token nobody has."""
    first, second = rng.sample(NAMES, 2)
    admin = {"name": first, "token": f"{first.lower()}-{rng.getrandbits(48):012x}"}
    author = {"name": second, "token": f"{second.lower()}-{rng.getrandbits(48):012x}"}
    await nb.call(add_staff, admin["name"], "admin", admin["token"])
    await nb.call(add_staff, author["name"], "author", author["token"])
    ids = rng.sample(range(10, 99), 3)
    titles = rng.sample(TITLES, 3)
    articles = [[ids[0], titles[0], "draft"], [ids[1], titles[1], "draft"], [ids[2], titles[2], "published"]]
    await nb.call(add_articles, articles)
    missing = rng.randint(100, 999)
    return {
        "admin": admin,
        "author": author,
        "articles": articles,
        "missing": missing,
        "stranger": f"{rng.choice(NAMES).lower()}-{rng.getrandbits(48):012x}",
    }


@check(
    points=3,
    hint="""An admin route answers a request that has no token, or a token nobody
    has. Every admin route, under /v1 and under /v2, must answer 401 with WWW-Authenticate: Bearer
    first, even for an id that does not exist. Compare book.graph of the same admin route
    under both prefixes: which guard does each run, and where was it declared?""",
    see="11-app-router-scopes.ipynb#five-levels-one-order",
)
async def test_every_admin_route_refuses_callers_without_a_valid_token(
    nb: Notebook, client: AsyncClient, rng: Random
) -> None:
    made = await newsroom(nb, rng)
    before = await nb.call(article_states)
    ids = [made["articles"][0][0], made["articles"][2][0], made["missing"]]
    for version in VERSIONS:
        for action in ACTIONS:
            for article_id in ids:
                method, path = target(version, action, article_id)
                for who, token in (("no token", None), ("a token nobody has", made["stranger"])):
                    response = await client.request(method, path, headers=bearer(token))
                    refused = response.status_code == 401 and response.headers.get("www-authenticate") == "Bearer"
                    route = f"{method} {version}/admin/articles/{{article_id}}{ACTIONS[action][1]}"
                    expect_response(
                        response,
                        status=401,
                        headers={"www-authenticate": "Bearer"},
                        called=f"{method} {path} with {who}",
                        seen="" if refused else await nb.graph(route),
                    )
    after = await nb.call(article_states)
    expect(
        after == before,
        called="every admin route under /v1 and /v2, without a valid token",
        got=f"the articles changed: {after}",
        expected=f"the articles unchanged: {before}",
    )


@check(
    points=2,
    hint="""An author (a valid token, the role "author") must get 403 from every admin
    route, under /v1 and under /v2, and change nothing. Which dependency checks the role, and does
    every mount of the admin router run it?""",
    see="11-app-router-scopes.ipynb#five-levels-one-order",
)
async def test_every_admin_route_refuses_authors(nb: Notebook, client: AsyncClient, rng: Random) -> None:
    made = await newsroom(nb, rng)
    before = await nb.call(article_states)
    author = made["author"]
    for version in VERSIONS:
        for action in ACTIONS:
            for article_id, _, _ in made["articles"]:
                method, path = target(version, action, article_id)
                expect_response(
                    await client.request(method, path, headers=bearer(author["token"])),
                    status=403,
                    called=f"{method} {path} as {author['name']}, an author",
                )
    after = await nb.call(article_states)
    expect(
        after == before,
        called=f"every admin route under /v1 and /v2, as {author['name']}, an author",
        got=f"the articles changed: {after}",
        expected=f"the articles unchanged: {before}",
    )


@check(
    points=2,
    hint="""Admins manage articles under both prefixes: publish and unpublish answer 200 with
    the article {"id", "title", "status"}, delete answers 204, and an id that does not exist is 404. If
    /v2 breaks where /v1 works, what differs between the two ways the admin router is mounted?""",
    see="11-app-router-scopes.ipynb#five-levels-one-order",
)
async def test_admins_manage_articles_under_both_prefixes(nb: Notebook, client: AsyncClient, rng: Random) -> None:
    made = await newsroom(nb, rng)
    admin = made["admin"]
    (first, first_title, _), (second, second_title, _), _ = made["articles"]
    as_admin = bearer(admin["token"])
    steps = [
        ("/v1", "publish", first, 200, {"id": first, "title": first_title, "status": "published"}),
        ("/v2", "publish", second, 200, {"id": second, "title": second_title, "status": "published"}),
        ("/v2", "unpublish", first, 200, {"id": first, "title": first_title, "status": "draft"}),
        ("/v1", "unpublish", second, 200, {"id": second, "title": second_title, "status": "draft"}),
        ("/v2", "delete", first, 204, None),
        ("/v1", "delete", second, 204, None),
        ("/v1", "publish", first, 404, None),
        ("/v2", "unpublish", made["missing"], 404, None),
    ]
    for version, action, article_id, status, body in steps:
        method, path = target(version, action, article_id)
        response = await client.request(method, path, headers=as_admin)
        called = f"{method} {path} as {admin['name']}, an admin"
        if body is None:
            expect_response(response, status=status, called=called)
        else:
            expect_response(response, status=status, json=body, called=called)
    left = [article_id for article_id, _, _ in await nb.call(article_states)]
    expect(
        first not in left and second not in left,
        called=f"DELETE of articles {first} and {second}",
        got=f"ARTICLES holds the ids {left}",
        expected="both gone",
    )


@check(
    points=2,
    hint="""Reading articles needs no token: GET /v1/articles, /v2/articles and
    /v1/articles/{id}, /v2/articles/{id} answer anybody, whatever token they send. Is your guard
    declared at a level that also covers the public routes?""",
    see="11-app-router-scopes.ipynb#what-an-app-wide-dependency-does-not-guard",
)
async def test_public_routes_need_no_token(nb: Notebook, client: AsyncClient, rng: Random) -> None:
    made = await newsroom(nb, rng)
    states = await nb.call(article_states)
    listed = [{"id": article_id, "title": title} for article_id, title, status in states if status == "published"]
    draft = made["articles"][0][0]
    for version in VERSIONS:
        for who, token in (
            ("no token", None),
            ("a token nobody has", made["stranger"]),
            (f"{made['author']['name']}'s token (an author)", made["author"]["token"]),
        ):
            headers = bearer(token)
            expect_response(
                await client.get(f"{version}/articles", headers=headers),
                status=200,
                json=listed,
                called=f"GET {version}/articles with {who}",
            )
            one = rng.choice(listed)
            expect_response(
                await client.get(f"{version}/articles/{one['id']}", headers=headers),
                status=200,
                json=one,
                called=f"GET {version}/articles/{one['id']} with {who}",
            )
            expect_response(
                await client.get(f"{version}/articles/{draft}", headers=headers),
                status=404,
                called=f"GET {version}/articles/{draft} (a draft) with {who}",
            )


@check(
    points=2,
    hint="""Every admin action let through must write exactly one AUDIT line, under /v1
    and under /v2: the admin guard must run once per admin request, no less and no more. Trace one
    admin request under each prefix (book.trace) and count the guard's calls; a guard made a second
    time is a second dependency.""",
    see="04-role-checks.ipynb#pitfall-two-equal-instances-are-two-dependencies",
)
async def test_each_admin_action_writes_one_audit_line(nb: Notebook, client: AsyncClient, rng: Random) -> None:
    made = await newsroom(nb, rng)
    admin = made["admin"]
    (first, _, _), (second, _, _), (third, _, _) = made["articles"]
    steps = [
        ("/v1", "publish", first),
        ("/v2", "publish", second),
        ("/v2", "unpublish", first),
        ("/v1", "unpublish", third),
        ("/v1", "delete", second),
        ("/v2", "delete", third),
    ]
    earlier = len(await nb.call(audit))  # lines the notebook's own cells may have written
    wanted = []
    for version, action, article_id in steps:
        method, path = target(version, action, article_id)
        expect_response(
            await client.request(method, path, headers=bearer(admin["token"])),
            status=204 if action == "delete" else 200,
            called=f"{method} {path} as {admin['name']}",
        )
        wanted.append(f"{admin['name']} {method} {path}")
    lines = (await nb.call(audit))[earlier:]
    called = f"six admin actions as {admin['name']}, three under /v1, three under /v2"
    for (version, _, _), line in zip(steps, wanted, strict=True):
        if lines.count(line) != 1:
            method, path = target(version, "unpublish", first)  # still there, and a draft: harmless
            traced = await nb.trace(method, path, headers=bearer(admin["token"]))
            expect(
                False,
                called=called,
                got=f"{line.split(' ', 1)[1]} wrote {lines.count(line)} AUDIT line(s)",
                expected="one line per action",
                seen=traced.text,
            )
    expect(lines == wanted, called=called, got=f"AUDIT = {lines}", expected=f"one line per action: {wanted}")


@check(
    points=2,
    hint="""A colleague adds a route to the admin router: with no other change, it must
    be guarded wherever the router is mounted (401 without a token, 403 for an author, 200 for an
    admin, under /v1 and /v2). A guard pasted on each route, or on one path, does not guard the next
    route. Where can a guard be declared once for every route of a router?""",
    see="04-role-checks.ipynb#when-the-endpoint-does-not-need-the-user",
)
async def test_a_route_added_to_the_admin_router_is_guarded_everywhere(
    nb: Notebook, client: AsyncClient, rng: Random
) -> None:
    made = await newsroom(nb, rng)
    segment = rng.choice(["feature", "pin", "archive", "embargo", "syndicate"]) + f"-{rng.randint(10, 99)}"
    await nb.call(add_admin_route, segment)
    article_id = made["articles"][2][0]
    callers = [
        ("with no token", None, 401),
        (f"as {made['author']['name']}, an author", made["author"]["token"], 403),
        (f"as {made['admin']['name']}, an admin", made["admin"]["token"], 200),
    ]
    for version in VERSIONS:
        path = f"{version}/admin/articles/{article_id}/{segment}"
        graph = await nb.graph(f"POST {version}/admin/articles/{{article_id}}/{segment}")
        for who, token, status in callers:
            expect_response(
                await client.post(path, headers=bearer(token)),
                status=status,
                called=f"POST {path} {who} (a route just added to the admin router)",
                seen=graph,
            )


class Newsroom(Machine):
    """Any sequence of public reads and admin actions, under /v1 and /v2, by nobody, a stranger, an
    author or an admin, as the reference answers them; and the AUDIT lines, in order."""

    @rule(
        version=st.sampled_from(VERSIONS),
        action=st.sampled_from(sorted(ACTIONS)),
        article_id=st.integers(1, 5),
        caller=st.sampled_from(sorted(CALLERS)),
    )
    def manage(self, version: str, action: str, article_id: int, caller: str) -> None:
        method, path = target(version, action, article_id)
        self.same(*self.send(method, path, headers=bearer(CALLERS[caller])), headers=("www-authenticate",))

    @rule(version=st.sampled_from(VERSIONS), article_id=st.integers(0, 5))
    def read(self, version: str, article_id: int) -> None:
        path = f"{version}/articles" + (f"/{article_id}" if article_id else "")
        self.same(*self.send("GET", path))

    def __init__(self) -> None:
        super().__init__()
        self.call(lambda nb: nb.call(start_afresh, GIVEN_ARTICLES))

    def tour(self) -> None:
        self.manage("/v2", "publish", 3, "nobody")
        self.manage("/v1", "publish", 3, "nobody")
        self.manage("/v2", "unpublish", 1, "a stranger")
        self.manage("/v2", "delete", 2, "Tomas (author)")
        self.manage("/v2", "delete", 5, "nobody")
        self.read("/v2", 0)
        self.read("/v1", 1)
        self.manage("/v2", "publish", 4, "Ines (admin)")
        self.manage("/v1", "unpublish", 1, "Ines (admin)")
        self.audit_agrees()
        self.manage("/v2", "delete", 2, "Ines (admin)")
        self.read("/v1", 0)
        self.read("/v2", 2)
        self.audit_agrees()

    @invariant()
    def audit_agrees(self) -> None:
        learner, reference = self.call(lambda nb: nb.call(audit))
        self.agree("AUDIT", learner, reference)


@check(
    points=4,
    hint="""In some sequence of reads and admin actions, under /v1 and /v2, by nobody, a
    stranger, an author or an admin, your app answers (status, WWW-Authenticate, body) or audits
    differently from the reference. Replay the sequence shown in your notebook, one request at a
    time, and compare with what the exercise asks.""",
    see="11-app-router-scopes.ipynb#recap",
)
async def test_behaves_as_specified_in_any_sequence(differential: Differential) -> None:  # noqa: F811
    await differential.run(Newsroom, examples=3, steps=5)
