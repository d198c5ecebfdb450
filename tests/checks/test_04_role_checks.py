"""Hidden checks for exercise 04, who may touch a repair ticket.

Roles are per shop and ranked (clerk < technician < manager); whoever opened a ticket may change
its status while a member of its shop; 401, then 404 for a shop the caller is not in (the same
answer as a shop that does not exist), 403 where the role alone decides, 404 for a ticket not in
the shop. `min_role(role)` works in any app; overriding `get_current_person` reaches every check;
one role check and one membership read per request. Besides the given people (Mara, Theo, Cleo,
Otto) and shops (1 and 2), each check adds people, a shop and tickets made up from the grade's
seed; what each caller should get is computed here from a model of the rules. A differential
check then drives the learner's app and the reference with the same sequences of requests
(book.grader.differential).
"""

from collections.abc import Callable, Iterable
from random import Random
from typing import Any, NoReturn

import anyio.from_thread
from httpx import AsyncClient, Response
from hypothesis import strategies as st
from hypothesis.stateful import invariant, rule

from book.grader.checks import CheckFailed, agent_side, check, expect, expect_response
from book.grader.differential import Differential, Machine, differential  # noqa: F401  (a fixture)
from book.grader.remote_notebook import Notebook

EXERCISE = "04-role-checks"

RANK = {"clerk": 1, "technician": 2, "manager": 3}
ROLES = list(RANK)
STATUSES = ["open", "repairing", "ready"]
GIVEN = {"Mara": 1, "Theo": 2, "Cleo": 3, "Otto": 4}  # name: person id
GIVEN_ROLES = {(1, 1): "manager", (2, 1): "clerk", (1, 2): "technician", (1, 3): "clerk", (2, 3): "manager"}
GIVEN_TICKETS = {1: (1, 3), 2: (1, 2), 3: (2, 1)}  # ticket id: (shop id, opener's person id)
NAMES = ["Bruno", "Chiara", "Dmitri", "Ines", "Jun", "Kwame", "Lotte", "Mira", "Oskar", "Priya", "Rosa", "Sven"]
SHOP_NAMES = ["Eastgate Repairs", "Quayside Clocks", "Mill Lane Radios", "Old Town Cameras", "Ferry Road Fixes"]
DEVICES = [
    "Laptop: hinge",
    "Kettle: switch",
    "Camera: shutter",
    "Radio: dial",
    "E-bike: battery",
    "Watch: strap",
    "Console: fan",
    "Tablet: port",
    "Drone: rotor",
    "Amp: hum",
]
WWW = ("www-authenticate",)
MISSING = 999  # an id no shop, ticket or person has


def token_of(name: str) -> str:
    return f"{name.lower()}-bench-token"


def bearer(token: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"} if token else {}


def expected(role: str | None, allowed: str) -> int | None:
    """404 for a non-member, 403 for a member below `allowed` (a role), the success status else."""
    return 404 if role is None else 403 if RANK[role] < RANK[allowed] else None


def made_up_people(rng: Random, count: int, first_id: int = 10) -> list[dict[str, Any]]:
    names = rng.sample(NAMES, count)
    ids = sorted(rng.sample(range(first_id, first_id + 80), count))
    return [
        {"id": pid, "name": name, "token": f"{name.lower()}-{rng.getrandbits(48):012x}"}
        for pid, name in zip(ids, names, strict=True)
    ]


@agent_side
async def add_rows(
    ctx: "Any",
    shops: "list[dict[str, Any]]",
    people: "list[dict[str, Any]]",
    roles: "list[list[Any]]",
    tickets: "list[list[Any]]",
) -> None:
    """Add shops ({id, name}), people ({id, name, token}), roles ([shop, person, role]) and tickets
    ([id, shop, device, opener]) to the notebook's database."""
    import hashlib

    nb = ctx.nb
    async with nb.Sessions() as db:
        db.add_all(nb.Shop(id=shop["id"], name=shop["name"]) for shop in shops)
        db.add_all(
            nb.Person(
                id=person["id"], name=person["name"], token_sha256=hashlib.sha256(person["token"].encode()).hexdigest()
            )
            for person in people
        )
        db.add_all(nb.Membership(shop_id=shop, person_id=person, role=role) for shop, person, role in roles)
        db.add_all(
            nb.Ticket(id=number, shop_id=shop, device=device, status="open", opened_by=opener)
            for number, shop, device, opener in tickets
        )
        await db.commit()


async def add(
    nb: Notebook,
    shops: Iterable[Any] = (),
    people: Iterable[Any] = (),
    roles: Iterable[Any] = (),
    tickets: Iterable[Any] = (),
) -> None:
    await nb.call(add_rows, list(shops), list(people), [list(row) for row in roles], [list(row) for row in tickets])


async def grade_world(nb: Notebook, rng: Random) -> dict[str, Any]:
    """The given shops plus one made up (with two tickets), a ticket more in shop 2, and one made-up
    person with no role in shop 1, technician in shop 2 and manager in the new shop (Theo is its
    clerk): {"shop3", "person", "roles": {(shop, person id): role}, "tickets"}. The names, ids,
    tokens and devices are the grade's; who has which role is the same in every grade, so that each
    grade tries every rule."""
    shop3: dict[str, Any] = {"id": rng.randint(5, 60), "name": rng.choice(SHOP_NAMES)}
    person = made_up_people(rng, 1)[0]
    roles = dict(GIVEN_ROLES)
    roles.update(
        {(2, person["id"]): "technician", (shop3["id"], person["id"]): "manager", (shop3["id"], GIVEN["Theo"]): "clerk"}
    )
    first, second, third = rng.sample(range(100, 200), 3)
    tickets = dict(GIVEN_TICKETS)
    tickets[first] = (shop3["id"], person["id"])
    tickets[second] = (shop3["id"], GIVEN["Theo"])
    tickets[third] = (2, GIVEN["Cleo"])
    await add(
        nb,
        [shop3],
        [person],
        [(shop, pid, role) for (shop, pid), role in roles.items() if (shop, pid) not in GIVEN_ROLES],
        [(number, tickets[number][0], rng.choice(DEVICES), tickets[number][1]) for number in (first, second, third)],
    )
    return {"shop3": shop3, "person": person, "roles": roles, "tickets": tickets}


# --- edge probes ----------------------------------------------------------------------------------


@check(
    points=3,
    hint="""Each caller gets what their role in THAT shop allows: a clerk lists and opens
    tickets, a technician also changes anyone's ticket, a manager also deletes tickets and gives roles;
    a higher role may do all that a lower one may. Someone with no role in the shop gets 404, a member
    whose role is too low 403. Where is the caller's role for this shop read, and how do two roles
    compare?""",
    see="04-role-checks.ipynb#a-dependency-that-takes-arguments",
)
async def test_each_role_may_do_what_its_rank_allows(nb: Notebook, client: AsyncClient, rng: Random) -> None:
    world = await grade_world(nb, rng)
    person = world["person"]
    callers = [
        *((name, pid, token_of(name)) for name, pid in GIVEN.items()),
        (person["name"], person["id"], person["token"]),
    ]
    for name, pid, token in callers:
        for shop in (1, 2, world["shop3"]["id"]):
            role = world["roles"].get((shop, pid))
            who = f"as {name} ({role or 'no role'} in shop {shop})"
            other = next(
                number
                for number, (where, opener) in sorted(world["tickets"].items())
                if where == shop and opener != pid
            )
            status = rng.choice(STATUSES)
            requests = [
                ("GET", f"/shops/{shop}/tickets", None, expected(role, "clerk") or 200),
                ("POST", f"/shops/{shop}/tickets", {"device": rng.choice(DEVICES)}, expected(role, "clerk") or 201),
                ("PATCH", f"/shops/{shop}/tickets/{other}", {"status": status}, expected(role, "technician") or 200),
                ("DELETE", f"/shops/{shop}/tickets/{MISSING}", None, expected(role, "manager") or 404),
                (
                    "PUT",
                    f"/shops/{shop}/members/{MISSING}",
                    {"role": rng.choice(ROLES)},
                    expected(role, "manager") or 404,
                ),
            ]
            for method, path, body, wanted in requests:
                response = await client.request(method, path, json=body, headers=bearer(token))
                shown = f" {body}" if body else ""
                expect_response(response, status=wanted, called=f"{method} {path}{shown} {who}")


ROUTES = [
    ("GET", "/shops/{shop}/tickets", None),
    ("POST", "/shops/{shop}/tickets", {"device": "Radio: dial"}),
    ("PATCH", "/shops/{shop}/tickets/1", {"status": "ready"}),
    ("DELETE", "/shops/{shop}/tickets/2", None),
    ("PUT", "/shops/{shop}/members/4", {"role": "clerk"}),
    ("DELETE", "/shops/{shop}/members/2", None),
]


@check(
    points=1,
    hint="""Nobody you can identify gets 401 with WWW-Authenticate: Bearer on every route,
    in shops that exist and shops that do not, before anything about the shop is looked at: the
    person comes first in the chain your checks depend on.""",
    see="04-role-checks.ipynb#a-dependency-that-takes-arguments",
)
async def test_unknown_callers_get_401_everywhere(client: AsyncClient, rng: Random) -> None:
    headers = {
        "no Authorization header": {},
        "a token nobody has": bearer(f"{rng.choice(NAMES).lower()}-bench-token"),
        "another scheme (Basic)": {"Authorization": "Basic eA=="},
        "a made-up token": bearer(f"{rng.getrandbits(64):016x}"),
    }
    for number, (method, path, body) in enumerate(ROUTES):
        for label, header in headers.items():
            url = path.format(shop=(1, 2, MISSING)[number % 3])
            expect_response(
                await client.request(method, url, json=body, headers=header),
                status=401,
                headers={"WWW-Authenticate": "Bearer"},
                called=f"{method} {url} with {label}",
            )


@check(
    points=2,
    hint="""A shop where the caller has no role must answer exactly what a shop that does not
    exist answers (status and body), on every route; and a ticket of another shop, asked for through
    your own shop, exactly what a missing ticket answers. What does a 403 there tell the caller?""",
    see="05-sub-dependencies.ipynb#pitfall-403-for-someone-elses-data-leaks-that-it-exists",
)
async def test_a_shop_you_are_not_in_looks_missing(nb: Notebook, client: AsyncClient, rng: Random) -> None:
    world = await grade_world(nb, rng)
    outsider = made_up_people(rng, 1, first_id=200)[0]
    await add(nb, people=[outsider], roles=[(world["shop3"]["id"], outsider["id"], "manager")])
    callers = {
        "Otto (no shop)": (token_of("Otto"), 1),
        f"{outsider['name']} (a role in another shop only)": (outsider["token"], 2),
    }
    for who, (token, shop) in callers.items():
        for method, path, body in ROUTES:
            missing = await client.request(method, path.format(shop=MISSING), json=body, headers=bearer(token))
            expect_response(missing, status=404, called=f"{method} {path.format(shop=MISSING)} as {who}")
            url = path.format(shop=shop)
            foreign = await client.request(method, url, json=body, headers=bearer(token))
            expect(
                foreign.status_code == 404 and foreign.content == missing.content,
                called=f"{method} {url} as {who}",
                got=f"{foreign.status_code} {foreign.text}",
                expected=f"what shop {MISSING}, which does not exist, answered: {missing.status_code} {missing.text}",
            )
    through = [
        ("Theo", "PATCH", 1, {"status": "ready"}),
        ("Mara", "DELETE", 1, None),
        ("Cleo", "PATCH", 2, {"status": "open"}),
    ]
    for name, method, shop, body in through:
        missing = await client.request(
            method, f"/shops/{shop}/tickets/{MISSING}", json=body, headers=bearer(token_of(name))
        )
        for number in sorted(number for number, (where, _) in world["tickets"].items() if where != shop):
            url = f"/shops/{shop}/tickets/{number}"
            foreign = await client.request(method, url, json=body, headers=bearer(token_of(name)))
            expect(
                foreign.status_code == 404 and foreign.content == missing.content,
                called=f"{method} {url} as {name} (ticket {number} is another shop's)",
                got=f"{foreign.status_code} {foreign.text}",
                expected=f"what a missing ticket answered: {missing.status_code} {missing.text}",
            )
    listed = await client.get("/shops/2/tickets", headers=bearer(token_of("Mara")))
    expect(
        listed.status_code == 200 and 3 in [ticket.get("id") for ticket in listed.json()],
        called="GET /shops/2/tickets as Mara, after she tried to delete ticket 3 through shop 1",
        got=f"{listed.status_code} {listed.text}",
        expected="ticket 3 still there",
    )


@check(
    points=2,
    hint="""Whoever opened a ticket may change its status whatever their role, and only
    while they are a member of its shop; the exception is for changing a status, not for deleting.
    A min_role(...) on the route would refuse a clerk before anyone looked at who opened the ticket:
    which dependency knows both the ticket and the caller's membership?""",
    see="05-sub-dependencies.ipynb#a-validator-the-project-or-404",
)
async def test_the_opener_may_change_their_ticket(nb: Notebook, client: AsyncClient, rng: Random) -> None:
    clerk = made_up_people(rng, 1)[0]
    await add(nb, people=[clerk], roles=[(1, clerk["id"], "clerk")])
    device = f"{rng.choice(DEVICES)} #{rng.randint(10, 99)}"
    me, name = bearer(clerk["token"]), f"{clerk['name']} (clerk in shop 1)"
    opened = await client.post("/shops/1/tickets", json={"device": device}, headers=me)
    expect_response(opened, status=201, called=f"POST /shops/1/tickets {{device: {device}}} as {name}")
    number = opened.json().get("id") if isinstance(opened.json(), dict) else None
    ticket = {"id": number, "device": device, "status": "open", "opened_by": clerk["id"]}
    expect(
        isinstance(number, int) and opened.json() == ticket,
        called=f"POST /shops/1/tickets as {name}",
        got=opened.text,
        expected=f"{ticket} (with a new id)",
    )
    url = f"/shops/1/tickets/{number}"
    first, second = rng.sample(["repairing", "ready"], 2)
    expect_response(
        await client.patch(url, json={"status": first}, headers=me),
        status=200,
        json={**ticket, "status": first},
        called=f"PATCH {url} {{status: {first}}} as {name}, its opener",
    )
    for who, headers, method, target, body in [
        ("Cleo, a clerk, not its opener", bearer(token_of("Cleo")), "PATCH", url, {"status": second}),
        (f"{name}, not its opener", me, "PATCH", "/shops/1/tickets/2", {"status": second}),
        (f"{name}, its opener", me, "DELETE", url, None),
    ]:
        expect_response(
            await client.request(method, target, json=body, headers=headers),
            status=403,
            called=f"{method} {target} as {who}",
        )
    expect_response(
        await client.patch(url, json={"status": second}, headers=bearer(token_of("Theo"))),
        status=200,
        json={**ticket, "status": second},
        called=f"PATCH {url} as Theo (technician)",
    )
    expect_response(
        await client.delete(f"/shops/1/members/{clerk['id']}", headers=bearer(token_of("Mara"))),
        status=204,
        called=f"DELETE /shops/1/members/{clerk['id']} as Mara (manager)",
    )
    expect_response(
        await client.patch(url, json={"status": first}, headers=me),
        status=404,
        called=f"PATCH {url} as {clerk['name']}, its opener, no longer a member of shop 1",
    )
    listed = await client.get("/shops/1/tickets", headers=bearer(token_of("Cleo")))
    wanted = [
        {"id": 1, "device": "Cargo bike: brake pads", "status": "open", "opened_by": 3},
        {"id": 2, "device": "Road bike: gear cable", "status": "open", "opened_by": 2},
        {**ticket, "status": second},
    ]
    expect_response(listed, status=200, json=wanted, called="GET /shops/1/tickets as Cleo, at the end")


@check(
    points=2,
    hint="""A role is given, changed and taken away per shop, saved at once, and the very
    next request goes by it: read the caller's membership for the path's shop on every request, and
    commit a change before answering. Giving a role to someone who does not exist, or removing a
    non-member, is 404.""",
    see="02-db-session.ipynb#pitfall-committing-inside-the-dependency",
)
async def test_roles_are_per_shop_and_change_at_once(nb: Notebook, client: AsyncClient, rng: Random) -> None:
    person = made_up_people(rng, 1)[0]
    await add(nb, people=[person], roles=[(1, person["id"], "clerk")])
    pid, them, name = person["id"], bearer(person["token"]), person["name"]
    mara, cleo = bearer(token_of("Mara")), bearer(token_of("Cleo"))

    async def send(
        method: str,
        url: str,
        headers: dict[str, str],
        wanted: int,
        body: dict[str, Any] | None = None,
        answer: Any = None,
        who: str = "",
    ) -> None:
        response = await client.request(method, url, json=body, headers=headers)
        shown = f" {body}" if body else ""
        if answer is None:
            expect_response(response, status=wanted, called=f"{method} {url}{shown} {who}")
        else:
            expect_response(response, status=wanted, json=answer, called=f"{method} {url}{shown} {who}")

    await send(
        "PUT",
        f"/shops/1/members/{pid}",
        mara,
        200,
        {"role": "manager"},
        {"shop_id": 1, "person_id": pid, "role": "manager"},
        "as Mara (manager of shop 1)",
    )
    target = rng.choice([1, 2])
    await send("DELETE", f"/shops/1/tickets/{target}", them, 204, who=f"as {name}, just made manager of shop 1")
    await send("GET", "/shops/2/tickets", them, 404, who=f"as {name}, a manager of shop 1 with no role in shop 2")
    role = "technician"
    await send(
        "PUT",
        f"/shops/2/members/{pid}",
        cleo,
        200,
        {"role": role},
        {"shop_id": 2, "person_id": pid, "role": role},
        "as Cleo (manager of shop 2)",
    )
    await send("DELETE", "/shops/2/tickets/3", them, 403, who=f"as {name}: {role} in shop 2, manager in shop 1")
    await send(
        "PUT",
        "/shops/1/members/4",
        them,
        200,
        {"role": "clerk"},
        {"shop_id": 1, "person_id": 4, "role": "clerk"},
        f"as {name}, manager of shop 1",
    )
    await send("GET", "/shops/1/tickets", bearer(token_of("Otto")), 200, who="as Otto, just made clerk of shop 1")
    await send(
        "PUT",
        f"/shops/1/members/{pid}",
        mara,
        200,
        {"role": "technician"},
        {"shop_id": 1, "person_id": pid, "role": "technician"},
        "as Mara",
    )
    await send("DELETE", f"/shops/1/tickets/{3 - target}", them, 403, who=f"as {name}, now technician of shop 1")
    await send("DELETE", f"/shops/1/members/{pid}", mara, 204, who="as Mara")
    await send("GET", "/shops/1/tickets", them, 404, who=f"as {name}, removed from shop 1")
    await send("DELETE", f"/shops/1/members/{pid}", mara, 404, who=f"as Mara, {name} being no longer a member")
    await send("PUT", f"/shops/1/members/{MISSING}", mara, 404, {"role": "clerk"}, who="as Mara (no such person)")
    await send("GET", "/shops/2/tickets", them, 200, who=f"as {name}, still {role} in shop 2")


# --- wiring probes --------------------------------------------------------------------------------


@agent_side
async def gate_answers(ctx: "Any", roles: list[str], cases: "list[list[Any]]") -> "list[Any]":
    """A new app with one route per role, /shops/{shop_id}/gate/<role>, guarded by min_role(role) in
    its dependencies=[...]; what it answers each case ([shop, role, token])."""
    import httpx
    from fastapi import Depends, FastAPI

    other = FastAPI()

    def gate(role: str) -> None:
        async def let_through():  # type: ignore[no-untyped-def]  # a route: FastAPI would read a return type
            return {"passed": role}

        other.get(f"/shops/{{shop_id}}/gate/{role}", dependencies=[Depends(ctx.nb.min_role(role))])(let_through)

    for role in roles:
        gate(role)
    answers = []
    transport = httpx.ASGITransport(app=other, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        for shop, role, token in cases:
            response = await client.get(f"/shops/{shop}/gate/{role}", headers={"Authorization": f"Bearer {token}"})
            answers.append([response.status_code, response.text[:200]])
    return answers


@check(
    points=2,
    hint="""min_role(role) must work in any app whose path has a {shop_id}: used as
    Depends(min_role("technician")) in dependencies=[...] it lets a member with that role or a higher
    one through, and refuses others with 404 (not a member, or no such shop) or 403. Where does it get
    the shop, the caller and the session from?""",
    see="04-role-checks.ipynb#a-dependency-that-takes-arguments",
)
async def test_min_role_works_in_any_app(nb: Notebook, rng: Random) -> None:
    world = await grade_world(nb, rng)
    person = world["person"]
    shops = [1, 2, world["shop3"]["id"], MISSING]
    callers = [(person["name"], person["id"], person["token"])]
    cases = [[shop, role, token] for _, _, token in callers for shop in shops for role in ROLES]
    answers = await nb.call(gate_answers, ROLES, cases)
    index = 0
    for name, pid, _ in callers:
        for shop in shops:
            had = world["roles"].get((shop, pid))
            for role in ROLES:
                status, body = answers[index]
                index += 1
                wanted = expected(had, role) or 200
                expect(
                    status == wanted,
                    called=f"GET /shops/{shop}/gate/{role} of an app of the check's, guarded "
                    f"by min_role({role!r}), as {name} ({had or 'no role'} in shop {shop})",
                    got=f"{status} {body}",
                    expected=str(wanted),
                )


@agent_side
def acting_as(ctx: "Any", person: "dict[str, Any]") -> "Callable[[], Any]":
    """A dependency that gives the notebook's Person `person` ({id, name}), to override get_current_person."""
    found = ctx.nb.Person(id=person["id"], name=person["name"], token_sha256="")

    def the_test_person() -> "Any":
        return found

    return the_test_person


@check(
    points=2,
    hint="""Every check must get the caller from CurrentPerson (get_current_person), so
    that a test can override get_current_person once and act as anyone, without a token, on every
    route. Do not read the Authorization header or look the person up again yourself.""",
    see="04-role-checks.ipynb#pitfall-an-override-needs-the-same-instance",
)
async def test_overriding_the_current_person_reaches_every_check(
    nb: Notebook, client: AsyncClient, rng: Random
) -> None:
    person = made_up_people(rng, 1)[0]
    roles = {1: "manager", 2: "clerk"}
    await add(nb, people=[person], roles=[(shop, person["id"], role) for shop, role in roles.items() if role])
    await nb.override("get_current_person", await nb.call(acting_as, {"id": person["id"], "name": person["name"]}))
    for shop, role in roles.items():
        who = f"with no token, get_current_person overridden by {person['name']} ({role or 'no role'} in shop {shop})"
        other = next(number for number, (where, _) in GIVEN_TICKETS.items() if where == shop)
        for method, path, body, wanted in [
            ("GET", f"/shops/{shop}/tickets", None, expected(role, "clerk") or 200),
            ("PATCH", f"/shops/{shop}/tickets/{other}", {"status": "ready"}, expected(role, "technician") or 200),
            ("DELETE", f"/shops/{shop}/tickets/{MISSING}", None, expected(role, "manager") or 404),
            ("PUT", f"/shops/{shop}/members/{MISSING}", {"role": "clerk"}, expected(role, "manager") or 404),
        ]:
            response = await client.request(method, path, json=body)
            seen = await nb.graph(f"{method} {path}") if response.status_code != wanted else ""
            expect_response(response, status=wanted, called=f"{method} {path} {who}", seen=seen)
    opened = await client.post("/shops/1/tickets", json={"device": "Radio: dial"})
    called = f"POST /shops/1/tickets with no token, get_current_person overridden by {person['name']}"
    expect_response(opened, status=201, called=called)
    expect(
        opened.json().get("opened_by") == person["id"],
        called=called,
        got=opened.text,
        expected=f"opened_by {person['id']}, the overriding person's id",
    )


@agent_side
async def role_check_runs(
    ctx: "Any", method: str, path: str, headers: dict[str, str], body: "dict[str, Any] | None"
) -> "dict[str, Any]":
    """One traced request: its status, how many times a role check made by min_role ran, and the trace."""
    import functools
    import inspect

    from book.learner.request_trace import trace

    def origin(call: "Any") -> "tuple[str, Any]":
        while isinstance(call, functools.partial):
            call = call.func
        if inspect.ismethod(call):
            return ("method", call.__func__)
        if inspect.isfunction(call):
            return ("function", call.__code__)
        return ("instance", type(call))

    made = {origin(ctx.nb.min_role(role)) for role in ("clerk", "technician", "manager")}
    found = await trace(ctx.app, method, path, headers=headers, json=body)
    labels = {node.label for node in found.graph.nodes()[1:] if origin(node.call) in made}
    runs = sum(1 for event in found.events if event.kind == "call" and event.who in labels)
    return {
        "status": found.response.status_code if found.response is not None else None,
        "runs": runs,
        "text": str(found),
    }


@check(
    points=1,
    hint="""One request, one role check: each min_role(...) call that makes a new object makes
    a new dependency, which FastAPI runs again in the same request. What must min_role("manager") give
    the second time?""",
    see="04-role-checks.ipynb#pitfall-two-equal-instances-are-two-dependencies",
)
async def test_one_role_check_per_request(nb: Notebook, rng: Random) -> None:
    status = rng.choice(STATUSES)
    for method, path, name, body, wanted, most in [
        ("GET", "/shops/1/tickets", "Cleo", None, 200, 1),
        ("POST", "/shops/1/tickets", "Cleo", {"device": rng.choice(DEVICES)}, 201, 1),
        ("PATCH", "/shops/1/tickets/1", "Theo", {"status": status}, 200, 1),
        ("PUT", "/shops/1/members/4", "Mara", {"role": rng.choice(ROLES)}, 200, 1),
        ("DELETE", "/shops/2/members/1", "Cleo", None, 204, 1),
        ("DELETE", f"/shops/1/tickets/{rng.choice([1, 2])}", "Mara", None, 204, 1),
    ]:
        found = await nb.call(role_check_runs, method, path, bearer(token_of(name)), body)
        gated = method in ("DELETE", "PUT")
        ok = found["status"] == wanted and (found["runs"] == 1 if gated else found["runs"] <= most)
        expect(
            ok,
            called=f"{method} {path} as {name}, traced",
            got=f"{found['status']}, role checks made by min_role ran {found['runs']} times",
            expected=f"{wanted}, and one role check" if gated else f"{wanted}, and at most one role check",
            seen=found["text"],
        )


@agent_side
async def membership_reads(
    ctx: "Any", method: str, path: str, headers: dict[str, str], body: "dict[str, Any] | None"
) -> "dict[str, Any]":
    """One request; its status and how many SELECTs read the memberships table meanwhile."""
    import re

    import httpx
    from sqlalchemy import event

    statements = []

    def record(
        conn: "Any", cursor: "Any", statement: str, parameters: "Any", context: "Any", executemany: bool
    ) -> None:
        if re.search(r"\b(from|join)\s+\"?memberships\b", statement, re.IGNORECASE):
            statements.append(" ".join(statement.split())[:160])

    target = ctx.nb.engine.sync_engine
    event.listen(target, "before_cursor_execute", record)
    try:
        transport = httpx.ASGITransport(app=ctx.app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            response = await client.request(method, path, headers=headers, json=body)
    finally:
        event.remove(target, "before_cursor_execute", record)
    return {"status": response.status_code, "reads": statements}


@check(
    points=1,
    hint="""In one request the caller's membership is read from the database once: the
    role check, the ticket lookup and the opener's rule share it. Which dependency reads it, and how
    do the others get hold of what it found without asking the database again?""",
    see="07-request-cache.ipynb#one-call-per-request",
)
async def test_the_membership_is_read_once_per_request(nb: Notebook, rng: Random) -> None:
    for method, path, name, body, wanted in [
        ("GET", "/shops/1/tickets", "Cleo", None, 200),
        ("POST", "/shops/1/tickets", "Cleo", {"device": rng.choice(DEVICES)}, 201),
        ("PATCH", "/shops/1/tickets/1", "Theo", {"status": rng.choice(STATUSES)}, 200),
        ("PATCH", "/shops/1/tickets/2", "Cleo", {"status": "ready"}, 403),
        ("DELETE", f"/shops/1/tickets/{rng.choice([1, 2])}", "Mara", None, 204),
    ]:
        found = await nb.call(membership_reads, method, path, bearer(token_of(name)), body)
        expect(
            found["status"] == wanted and len(found["reads"]) == 1,
            called=f"{method} {path} as {name}",
            got=f"{found['status']}, the memberships table read {len(found['reads'])} times",
            expected=f"{wanted}, and one read",
            seen="\n".join(found["reads"]),
        )


# --- differential ---------------------------------------------------------------------------------

CALLERS = ["Mara", "Theo", "Cleo", "Otto", "nobody", "stranger"]  # stranger: a token nobody has
SHOPS = [1, 2, 3]  # shop 3 does not exist
SHOWN = 200  # characters of steps a failure shows, so that what came back still fits in the report


def as_caller(name: str) -> dict[str, str]:
    return {} if name == "nobody" else bearer(token_of(name))


@agent_side
async def read_records(ctx: "Any") -> "dict[str, list[list[Any]]]":
    """Every ticket and every role in the notebook's database, in order."""
    from sqlalchemy import select

    nb = ctx.nb
    async with nb.Sessions() as db:
        tickets = [
            [t.id, t.shop_id, t.device, t.status, t.opened_by]
            for t in await db.scalars(select(nb.Ticket).order_by(nb.Ticket.id))
        ]
        roles = sorted([m.shop_id, m.person_id, m.role] for m in await db.scalars(select(nb.Membership)))
    return {"tickets": tickets, "roles": roles}


class Bench(Machine):
    """Any sequence of requests by any caller in any shop (lists, new tickets, status changes,
    deletions, roles given and taken, bad bodies, changes at once), as the reference answers them;
    and the tickets and roles in the database after each step."""

    def __init__(self) -> None:
        super().__init__()
        self.roles = dict(GIVEN_ROLES)  # (shop, person id): role, as the reference has them
        self.tickets = {number: shop for number, (shop, _) in GIVEN_TICKETS.items()}

    def both(self, caller: str, method: str, url: str, body: dict[str, Any] | None = None) -> Response:
        """The same request to both apps, described in a few words; the reference's answer."""
        shown = "" if body is None else " " + " ".join(f"{key}={value!r}" for key, value in body.items())
        self.step(f"{caller}: {method} {url}{shown}")

        async def send() -> list[Response]:
            answers: list[Response] = []
            for side in (self.current.learner, self.current.reference):
                answers.append(await self._client(side).request(method, url, json=body, headers=as_caller(caller)))
            return answers

        learner, reference = anyio.from_thread.run(send)
        self.same(learner, reference, headers=WWW if reference.status_code == 401 else ())
        return reference

    def fail(self, got: str, expected: str) -> NoReturn:
        """As Machine.fail, with the last steps only, as many as fit: what came back must fit too."""
        shown: list[str]
        steps, shown = self.current.steps, []
        for text in reversed(steps):
            if shown and len("; then ".join([text, *shown])) > SHOWN:
                break
            shown.insert(0, text)
        called = "; then ".join(shown)
        if len(shown) < len(steps):
            called = f"({len(steps) - len(shown)} steps before) {called}"
        raise CheckFailed(called=called, got=got, expected=expected + "  (as the exercise asks)")

    @rule(caller=st.sampled_from(CALLERS), shop=st.sampled_from(SHOPS))
    def list_tickets(self, caller: str, shop: int) -> None:
        self.both(caller, "GET", f"/shops/{shop}/tickets")

    @rule(caller=st.sampled_from(CALLERS), shop=st.sampled_from(SHOPS), device=st.sampled_from(DEVICES))
    def open_ticket(self, caller: str, shop: int, device: str) -> None:
        reference = self.both(caller, "POST", f"/shops/{shop}/tickets", {"device": device})
        if reference.status_code == 201:
            self.tickets[reference.json()["id"]] = shop

    @rule(
        caller=st.sampled_from(CALLERS),
        shop=st.sampled_from(SHOPS),
        ticket=st.integers(1, 6),
        status=st.sampled_from(STATUSES),
    )
    def change_status(self, caller: str, shop: int, ticket: int, status: str) -> None:
        self.both(caller, "PATCH", f"/shops/{shop}/tickets/{ticket}", {"status": status})

    @rule(caller=st.sampled_from(CALLERS), shop=st.sampled_from(SHOPS), ticket=st.integers(1, 6))
    def delete_ticket(self, caller: str, shop: int, ticket: int) -> None:
        if self.both(caller, "DELETE", f"/shops/{shop}/tickets/{ticket}").status_code == 204:
            self.tickets.pop(ticket, None)

    @rule(
        caller=st.sampled_from(CALLERS),
        shop=st.sampled_from(SHOPS),
        person=st.integers(1, 5),
        role=st.sampled_from(ROLES),
    )
    def give_role(self, caller: str, shop: int, person: int, role: str) -> None:
        if self.both(caller, "PUT", f"/shops/{shop}/members/{person}", {"role": role}).status_code == 200:
            self.roles[(shop, person)] = role

    @rule(caller=st.sampled_from(CALLERS), shop=st.sampled_from(SHOPS), person=st.integers(1, 5))
    def remove_member(self, caller: str, shop: int, person: int) -> None:
        if self.both(caller, "DELETE", f"/shops/{shop}/members/{person}").status_code == 204:
            self.roles.pop((shop, person), None)

    @rule(shop=st.sampled_from([1, 2]), kind=st.sampled_from(["device", "status", "role", "shop"]))
    def bad_input(self, shop: int, kind: str) -> None:
        """A body or a path that does not fit, sent by a manager of the shop (so that only the input is wrong)."""
        managers = [name for name, pid in GIVEN.items() if self.roles.get((shop, pid)) == "manager"]
        tickets = sorted(number for number, where in self.tickets.items() if where == shop)
        if not managers or (kind == "status" and not tickets):
            self.step(f"(no manager or ticket left in shop {shop} to send a bad {kind} with)")
            return
        if kind == "device":
            self.both(managers[0], "POST", f"/shops/{shop}/tickets", {"device": ""})
        elif kind == "status":
            self.both(managers[0], "PATCH", f"/shops/{shop}/tickets/{tickets[0]}", {"status": "lost"})
        elif kind == "role":
            self.both(managers[0], "PUT", f"/shops/{shop}/members/4", {"role": "owner"})
        else:
            self.both(managers[0], "GET", "/shops/first/tickets")

    @rule(status=st.sampled_from(STATUSES))
    def at_once(self, status: str) -> None:
        sent = [
            ("Mara", 1, 1),
            ("Cleo", 1, 2),
            ("Theo", 1, 2),
            ("Cleo", 1, 1),
            ("Cleo", 2, 3),
            ("Otto", 1, 2),
            ("Mara", 2, 3),
        ]
        self.step(
            f"at once, PATCH status={status!r}: " + ", ".join(f"{name} {shop}/{ticket}" for name, shop, ticket in sent)
        )

        async def burst(client: AsyncClient) -> list[Response]:
            import asyncio

            return await asyncio.gather(
                *(
                    client.patch(f"/shops/{shop}/tickets/{ticket}", json={"status": status}, headers=as_caller(name))
                    for name, shop, ticket in sent
                )
            )

        learner = anyio.from_thread.run(burst, self._client(self.current.learner))
        reference = anyio.from_thread.run(burst, self._client(self.current.reference))
        for mine, theirs in zip(learner, reference, strict=True):
            self.same(mine, theirs, headers=WWW if theirs.status_code == 401 else ())

    @invariant()
    def records_agree(self) -> None:
        learner, reference = self.call(lambda nb: nb.call(read_records))
        self.agree("tickets in the database", learner["tickets"], reference["tickets"])
        self.agree("roles in the database", learner["roles"], reference["roles"])

    def tour(self) -> None:
        # The commonest mistakes first, so that a failure shows the few steps that led to it.
        self.list_tickets("nobody", 1)
        self.list_tickets("Otto", 1)
        self.list_tickets("Mara", 1)
        self.list_tickets("Theo", 2)
        self.change_status("Theo", 1, 3, "ready")
        self.delete_ticket("Theo", 1, 6)
        self.change_status("Cleo", 1, 2, "ready")
        self.change_status("Cleo", 1, 1, "repairing")
        self.give_role("Mara", 1, 5, "clerk")
        self.give_role("Cleo", 1, 4, "manager")
        self.give_role("Mara", 1, 4, "technician")
        self.change_status("Otto", 1, 2, "ready")
        self.records_agree()
        self.open_ticket("Mara", 2, DEVICES[0])
        self.change_status("Mara", 2, 4, "repairing")
        self.delete_ticket("Mara", 2, 3)
        self.delete_ticket("Mara", 1, 2)
        self.remove_member("Cleo", 2, 1)
        self.change_status("Mara", 2, 4, "ready")
        self.remove_member("Cleo", 2, 1)
        self.records_agree()
        self.bad_input(1, "status")
        self.bad_input(2, "role")
        self.at_once("ready")
        self.records_agree()


@check(
    points=3,
    hint="""In some sequence of requests (roles given and taken away, tickets opened,
    changed and deleted, bad bodies, several at once), your app answers or stores something else than
    the rules ask. The sequence starts from the given people, shops and tickets; replay its last steps
    in your notebook and compare each answer with the table and the order of refusals.""",
    see="04-role-checks.ipynb#recap",
)
async def test_behaves_as_specified_in_any_sequence(differential: Differential) -> None:  # noqa: F811
    await differential.run(Bench, examples=3, steps=5)
