"""Hidden checks for exercise 05-fix, the tenant header.

Ledgerly's current company is named by the `X-Company` header, which the client controls. The
checks establish that the header only picks among the caller's companies: each member sees the
invoices of the company picked (a member of several switches with the header); a company the
caller is not a member of, at the time of the request, gets exactly the answer of a company that
does not exist on every invoice route, and changes nothing; a membership revoked or granted takes
effect at the next request; another company's invoice is indistinguishable from a missing one;
the validator guards every invoice route; the company comes from `get_current_company` (an
override of it reaches every route); one request opens one session. A differential check then
drives the learner's app and the reference with the same sequences of requests by every member
with every company header, while memberships are granted and revoked and invoices are added and
paid (book.grader.differential).

Besides the given companies and members, each grade adds three companies, three members (one of
them in two companies, one also in a given company) and their invoices, made up from its seed
(names, tokens, ids, customers, totals), so that the answers cannot be known in advance.
"""

from dataclasses import dataclass, field
from random import Random
from typing import Any, cast

import anyio.from_thread
from httpx import AsyncClient, Response
from hypothesis import strategies as st
from hypothesis.stateful import invariant, rule

from book.grader.checks import agent_side, check, expect, expect_response
from book.grader.differential import Differential, Machine, differential  # noqa: F401  (a fixture)
from book.grader.remote_notebook import Notebook

EXERCISE = "05-fix-tenant-header"

# The given data, as the notebook seeds it: the model the answers are compared with.
GIVEN_COMPANIES = {1: "Northwind Bakery", 2: "Bluebird Florists", 3: "Kestrel Bikes"}
GIVEN_MEMBERS = {"Priya": [1], "Tomas": [2], "Lena": [1, 3], "Omar": [3]}
GIVEN_INVOICES = {
    1: (1, "Cafe Aurora", 18450),
    2: (2, "Hotel Meridian", 96000),
    3: (3, "City Couriers", 240000),
    4: (1, "Green Leaf Deli", 7325),
    5: (2, "Okafor & Lee wedding", 125000),
    6: (3, "Riverside School", 58900),
    7: (1, "Hotel Meridian", 31200),
}
COMPANY_NAMES = [
    "Harbour Print",
    "Maple Dental",
    "Orbit Yoga",
    "Quill Legal",
    "Saffron Catering",
    "Tidewater Boats",
    "Urban Roots Garden",
    "Vesper Studio",
    "Willow Vets",
    "Zenith Roofing",
]
MEMBER_NAMES = ["Amara", "Bruno", "Chen", "Dagny", "Emeka", "Farah", "Goran", "Hana", "Idris", "Jude"]
CUSTOMERS = [
    "Atlas Gym",
    "Bright Dental",
    "Corner Books",
    "Delta Cargo",
    "Elm Street Cafe",
    "Fjord Travel",
    "Granite Labs",
    "Hilltop Inn",
    "Iris Salon",
    "Juniper School",
]
SLOTS = [
    "GET /invoices",
    "POST /invoices",
    "GET /invoices/{id}",
    "GET /invoices/{id}/download",
    "POST /invoices/{id}/pay",
]


@dataclass
class World:
    """Companies (id: name), members (name: token, company ids) and invoices (id: company,
    customer, total, paid), as the learner's database holds them."""

    companies: dict[int, str]
    tokens: dict[str, str]
    members: dict[str, list[int]]
    invoices: dict[int, list[Any]] = field(default_factory=dict)
    missing_company: int = 0
    made_up: list[str] = field(default_factory=list)  # the members this grade added

    def headers(self, who: str, company: int | None = None) -> dict[str, str]:
        found = {"Authorization": f"Bearer {self.tokens[who]}"}
        if company is not None:
            found["X-Company"] = str(company)
        return found

    def of(self, company: int) -> list[int]:
        return sorted(key for key, row in self.invoices.items() if row[0] == company)

    def listed(self, company: int) -> list[dict[str, Any]]:
        return [shown(key, self.invoices[key]) for key in self.of(company)]

    def me(self, who: str) -> dict[str, Any]:
        return {"name": who, "companies": [{"id": c, "name": self.companies[c]} for c in sorted(self.members[who])]}

    def rows(self) -> list[list[Any]]:
        return [[key, *row] for key, row in sorted(self.invoices.items())]

    def document(self, key: int) -> str:
        company, customer, total, paid = self.invoices[key]
        return (
            f"INVOICE {key}\nFrom: {self.companies[company]}\nTo: {customer}\n"
            f"Total: EUR {total // 100}.{total % 100:02d}\nStatus: {'paid' if paid else 'open'}\n"
        )


def shown(key: int, row: list[Any]) -> dict[str, Any]:
    return {"id": key, "customer": row[1], "total_cents": row[2], "paid": row[3]}


@agent_side
async def add_world(
    ctx: "Any", companies: "list[list[Any]]", members: "list[list[Any]]", invoices: "list[list[Any]]"
) -> None:
    """Seed made-up companies, members (with their memberships) and invoices, as the notebook does."""
    nb = ctx.nb
    async with nb.SessionLocal() as session:
        session.add_all(nb.Company(id=key, name=name) for key, name in companies)
        for key, name, token, company_ids in members:
            session.add(nb.Member(id=key, name=name, token_digest=nb.digest(token)))
            session.add_all(nb.Membership(member_id=key, company_id=company) for company in company_ids)
        session.add_all(
            nb.Invoice(id=key, company_id=company, customer=customer, total_cents=total)
            for key, company, customer, total in invoices
        )
        await session.commit()


@agent_side
async def set_membership(ctx: "Any", member: str, company: int, member_of: bool) -> None:
    """Grant (member_of true) or revoke a member's membership of a company, as an admin would."""
    from sqlalchemy import delete, select

    nb = ctx.nb
    async with nb.SessionLocal() as session:
        key = await session.scalar(select(nb.Member.id).where(nb.Member.name == member))
        if member_of:
            await session.merge(nb.Membership(member_id=key, company_id=company))
        else:
            await session.execute(
                delete(nb.Membership).where(nb.Membership.member_id == key, nb.Membership.company_id == company)
            )
        await session.commit()


@agent_side
async def invoice_rows(ctx: "Any") -> "list[list[Any]]":
    """Every invoice in the database: [id, company, customer, total, paid], by id."""
    from sqlalchemy import select

    nb = ctx.nb
    async with nb.SessionLocal() as session:
        found = await session.scalars(select(nb.Invoice).order_by(nb.Invoice.id))
        return [[row.id, row.company_id, row.customer, row.total_cents, bool(row.paid)] for row in found]


@agent_side
async def load_company(ctx: "Any", key: int) -> "Any":
    """The Company row `key`, loaded with the notebook's session factory (it stays in the agent)."""
    async with ctx.nb.SessionLocal() as session:
        return await session.get(ctx.nb.Company, key)


@agent_side
def count_sessions(ctx: "Any") -> None:
    """From now on, count the sessions the notebook's SessionLocal makes (see sessions_made)."""
    nb = ctx.nb
    factory = nb.SessionLocal
    ctx.sessions_made = made = []

    def counting(*args: "Any", **kwargs: "Any") -> "Any":
        made.append(1)
        return factory(*args, **kwargs)

    nb.SessionLocal = counting


@agent_side
def sessions_made(ctx: "Any") -> int:
    """How many sessions were made since the last time this was asked."""
    made = len(ctx.sessions_made)
    ctx.sessions_made.clear()
    return made


@agent_side
def wiring(ctx: "Any", route: str) -> "dict[str, Any]":
    """How many times one request of `route` calls get_invoice and get_current_company, and its graph."""
    from book.learner.dependency_graph import graph

    try:
        found = graph(ctx.app, route)
    except LookupError as exc:
        return {"route": False, "error": str(exc)[:200]}
    return {
        "route": True,
        "invoice": found.calls(getattr(ctx.nb, "get_invoice", None)),
        "company": found.calls(getattr(ctx.nb, "get_current_company", None)),
        "text": str(found),
    }


async def world(nb: Notebook, rng: Random) -> World:
    """The given data and this grade's made-up companies, members and invoices, seeded in the notebook.

    Made up: companies X, Y, Z; members A (X), B (X and Y: a bookkeeper) and C (Z and Bluebird)."""
    keys = rng.sample(range(10, 99), 3)
    made = dict(zip(keys, rng.sample(COMPANY_NAMES, 3), strict=True))
    x, y, z = keys
    names = rng.sample(MEMBER_NAMES, 3)
    memberships = {names[0]: [x], names[1]: [x, y], names[2]: [z, 2]}
    tokens = {name: f"demo-{name.lower()}-4471" for name in GIVEN_MEMBERS}
    tokens.update({name: f"{name.lower()}-{rng.getrandbits(64):016x}" for name in names})
    invoices = {key: [company, customer, total, False] for key, (company, customer, total) in GIVEN_INVOICES.items()}
    found = World(
        {**GIVEN_COMPANIES, **made},
        tokens,
        {**GIVEN_MEMBERS, **memberships},
        invoices,
        missing_company=rng.choice(sorted(set(range(10, 99)) - set(keys))),
        made_up=names,
    )
    added = []
    for company in keys:
        for key in rng.sample(sorted(set(range(100, 999)) - set(found.invoices)), rng.randint(2, 3)):
            found.invoices[key] = [company, rng.choice(CUSTOMERS), rng.randint(100, 900_000), False]
            added.append([key, company, found.invoices[key][1], found.invoices[key][2]])
    await nb.call(
        add_world,
        list(made.items()),
        [[10 + n, name, tokens[name], memberships[name]] for n, name in enumerate(names)],
        added,
    )
    return found


async def send(
    client: AsyncClient, slot: str, key: int, headers: dict[str, str], rng: Random | None = None
) -> Response:
    """One request of an invoice route: `slot` with {id} = key, a made-up body for POST /invoices."""
    method, path = slot.split(" ")
    body = None
    if slot == "POST /invoices":
        body = {"customer": rng.choice(CUSTOMERS) if rng else "Atlas Gym", "total_cents": 4200}
    return await client.request(method, path.replace("{id}", str(key)), json=body, headers=headers)


def described(slot: str, key: int, who: str, company: object, why: str = "") -> str:
    text = f"{slot.replace('{id}', str(key))} as {who} with X-Company: {company}"
    return f"{text} ({why})" if why else text


@check(
    points=2,
    hint="""Each member lists the invoices of the company picked in X-Company, by id, and a
    member of several companies switches between them with the header. GET /me lists the member's
    companies. Does the company the routes use still follow the header, among the caller's companies?""",
    see="05-sub-dependencies.ipynb#the-organisation-derived",
)
async def test_each_member_lists_the_invoices_of_the_company_picked(
    nb: Notebook, client: AsyncClient, rng: Random
) -> None:
    found = await world(nb, rng)
    for who, companies in found.members.items():
        expect_response(
            await client.get("/me", headers=found.headers(who)),
            status=200,
            json=found.me(who),
            called=f"GET /me as {who}",
        )
        for company in companies:
            expect_response(
                await client.get("/invoices", headers=found.headers(who, company)),
                status=200,
                json=found.listed(company),
                called=described("GET /invoices", 0, who, company),
            )


@check(
    points=1,
    hint="""Each invoice route works on the caller's invoices: GET answers the invoice,
    download a text file (Content-Disposition: attachment), pay marks it paid, POST /invoices adds one
    to the company picked (201). If one route breaks, where does it get its invoice and its company
    from?""",
    see="05-sub-dependencies.ipynb#a-validator-the-project-or-404",
)
async def test_every_invoice_route_works_on_invoices_of_the_company_picked(
    nb: Notebook, client: AsyncClient, rng: Random
) -> None:
    found = await world(nb, rng)
    for who, companies in found.members.items():
        for company in companies:
            key = rng.choice(found.of(company))
            headers = found.headers(who, company)
            expect_response(
                await client.get(f"/invoices/{key}", headers=headers),
                status=200,
                json=shown(key, found.invoices[key]),
                called=described("GET /invoices/{id}", key, who, company),
            )
            download = await client.get(f"/invoices/{key}/download", headers=headers)
            called = described("GET /invoices/{id}/download", key, who, company)
            disposition = f'attachment; filename="invoice-{key}.txt"'
            expect_response(download, status=200, headers={"content-disposition": disposition}, called=called)
            expect(
                download.text == found.document(key),
                called=called,
                got=repr(download.text),
                expected=repr(found.document(key)),
            )
    who = found.made_up[1]
    company = found.members[who][1]
    key = rng.choice(found.of(company))
    found.invoices[key][3] = True
    expect_response(
        await client.post(f"/invoices/{key}/pay", headers=found.headers(who, company)),
        status=200,
        json=shown(key, found.invoices[key]),
        called=described("POST /invoices/{id}/pay", key, who, company),
    )
    body = {"customer": rng.choice(CUSTOMERS), "total_cents": rng.randint(100, 900_000)}
    created = await client.post("/invoices", json=body, headers=found.headers(who, company))
    called = described("POST /invoices", 0, who, company) + f" {body}"
    expect_response(created, status=201, called=called)
    new = created.json().get("id") if isinstance(created.json(), dict) else None
    expect(
        isinstance(new, int) and new not in found.invoices,
        called=called,
        got=created.text,
        expected="201 with the new invoice's id",
    )
    found.invoices[cast(int, new)] = [company, body["customer"], body["total_cents"], False]
    expect_response(
        await client.get("/invoices", headers=found.headers(who, company)),
        status=200,
        json=found.listed(company),
        called=described("GET /invoices", 0, who, company, "after both"),
    )


@check(
    points=2,
    hint="""With an honest X-Company, an invoice of another company must get exactly the
    answer a missing invoice gets (404, same body) on every route under /invoices/{invoice_id}, and
    paying it must change nothing. Ask for "this id in this company" at once.""",
    see="05-sub-dependencies.ipynb#pitfall-403-for-someone-elses-data-leaks-that-it-exists",
)
async def test_an_invoice_of_another_company_is_indistinguishable_from_a_missing_one(
    nb: Notebook, client: AsyncClient, rng: Random
) -> None:
    found = await world(nb, rng)
    missing = rng.randint(1000, 9999)
    for who, companies in found.members.items():
        company = rng.choice(companies)
        headers = found.headers(who, company)
        others = [key for key, row in found.invoices.items() if row[0] not in companies]
        for slot in SLOTS[2:]:
            none = await send(client, slot, missing, headers)
            expect_response(none, status=404, called=described(slot, missing, who, company, "no such invoice"))
            for key in rng.sample(others, 2):
                foreign = await send(client, slot, key, headers)
                owner = found.companies[found.invoices[key][0]]
                expect(
                    foreign.status_code == 404 and foreign.content == none.content,
                    called=described(slot, key, who, company, f"an invoice of {owner}"),
                    got=f"{foreign.status_code} {foreign.text}",
                    expected=f"exactly what a missing invoice gets: {none.status_code} {none.text}",
                )
    rows = await nb.call(invoice_rows)
    expect(
        rows == found.rows(),
        called="the invoices in the database, after those requests",
        got=rows,
        expected=f"unchanged: {found.rows()}",
    )


@check(
    points=1,
    hint="""Every route under /invoices/{invoice_id} must get its invoice from InvoiceDep
    (get_invoice), and every invoice route its company from CurrentCompany (get_current_company), so
    that no route can forget a check: both are in each route's graph.""",
    see="05-sub-dependencies.ipynb#a-validator-the-project-or-404",
)
async def test_every_invoice_route_uses_the_validator_and_the_company(nb: Notebook) -> None:
    for slot in SLOTS:
        route = slot.replace("{id}", "{invoice_id}")
        found = await nb.call(wiring, route)
        expect(found["route"], called=f"book.graph(app, {route!r})", got=found.get("error"), expected="the route")
        wanted = {"company": 1, "invoice": 1 if "{id}" in slot else 0}
        got = {"company": found["company"], "invoice": found["invoice"]}
        expect(
            got == wanted,
            called=f"the dependencies of {route}",
            got=f"get_current_company runs {got['company']} time(s), get_invoice {got['invoice']}",
            expected=f"get_current_company once, get_invoice {'once' if wanted['invoice'] else 'not at all'}",
            seen=found["text"],
        )


@check(
    points=1,
    hint="""The company must come from get_current_company on every route, and nothing
    else may decide it again: overriding get_current_company (as a test does) must change which
    company's invoices every invoice route serves.""",
    see="01-typed-aliases.ipynb#an-alias-names-the-callable-and-overrides-follow-it",
)
async def test_an_override_of_the_company_reaches_every_route(nb: Notebook, client: AsyncClient, rng: Random) -> None:
    found = await world(nb, rng)
    who = found.made_up[0]
    own = found.members[who][0]
    target = rng.choice([key for key in found.companies if key not in found.members[who]])
    await nb.override_value("get_current_company", await nb.call(load_company, target))
    why = f"get_current_company overridden to return {found.companies[target]}"
    headers = found.headers(who, own)
    expect_response(
        await client.get("/invoices", headers=headers),
        status=200,
        json=found.listed(target),
        called=described("GET /invoices", 0, who, own, why),
        seen=await nb.graph("GET /invoices"),
    )
    key = rng.choice(found.of(target))
    expect_response(
        await client.get(f"/invoices/{key}", headers=headers),
        status=200,
        json=shown(key, found.invoices[key]),
        called=described("GET /invoices/{id}", key, who, own, why),
    )
    download = await client.get(f"/invoices/{key}/download", headers=headers)
    called = described("GET /invoices/{id}/download", key, who, own, why)
    expect(
        download.status_code == 200 and download.text == found.document(key),
        called=called,
        got=f"{download.status_code} {download.text!r}",
        expected=f"200 {found.document(key)!r}",
    )
    mine = rng.choice(found.of(own))
    expect_response(
        await client.get(f"/invoices/{mine}", headers=headers),
        status=404,
        called=described("GET /invoices/{id}", mine, who, own, f"{why}; an invoice of {found.companies[own]}"),
    )
    created = await client.post("/invoices", json={"customer": "Atlas Gym", "total_cents": 4200}, headers=headers)
    expect_response(created, status=201, called=described("POST /invoices", 0, who, own, why))
    rows = await nb.call(invoice_rows)
    expect(
        rows[-1][1] == target,
        called=described("POST /invoices", 0, who, own, why),
        got=f"the invoice was added to company {rows[-1][1]}",
        expected=f"added to {found.companies[target]}",
    )


@check(
    points=1,
    hint="""One request, one session: the member, the company, the invoice and the
    endpoint must all share the session FastAPI opened for the request. What makes FastAPI call
    get_session a second time, and what opens a session without it?""",
    see="05-sub-dependencies.ipynb#pitfall-use_cachefalse-on-the-session-splits-the-request",
)
async def test_one_session_per_request(nb: Notebook, client: AsyncClient, rng: Random) -> None:
    found = await world(nb, rng)
    await nb.call(count_sessions)
    who = found.made_up[0]
    company = found.members[who][0]
    key = rng.choice(found.of(company))
    for slot in SLOTS:
        method, path = slot.split(" ")
        path = path.replace("{id}", str(key))
        body = {"customer": "Atlas Gym", "total_cents": 4200} if slot == "POST /invoices" else None
        called = described(slot, key, who, company)
        trace = await nb.trace(method, path, headers=found.headers(who, company), json=body)
        expect(
            trace.status in (200, 201) and trace.calls("get_session") == 1,
            called=called + ", traced",
            got=f"{trace.status}, get_session ran {trace.calls('get_session')} time(s)",
            expected="a success, get_session once",
            seen=trace.text,
        )
        await nb.call(sessions_made)
        await client.request(method, path, json=body, headers=found.headers(who, company))
        made = await nb.call(sessions_made)
        expect(made == 1, called=called, got=f"{made} sessions made by SessionLocal", expected="one")


@check(
    points=3,
    hint="""Anyone can put any company id in X-Company: the browser's dev tools make it a
    two-second edit. On every invoice route (listing, adding, reading, downloading, paying), a company
    the caller is not a member of must get exactly the answer of a company that does not exist (404,
    same body), and change nothing. Which dependency turns the header into a company, and what does
    it check about the caller?""",
    see="05-sub-dependencies.ipynb#the-organisation-derived",
)
async def test_a_company_the_caller_is_not_in_is_refused_on_every_route(
    nb: Notebook, client: AsyncClient, rng: Random
) -> None:
    found = await world(nb, rng)
    for who, companies in found.members.items():
        strangers = [key for key in found.companies if key not in companies]
        for company in rng.sample(strangers, 2):
            key = rng.choice(found.of(company))
            for slot in SLOTS:
                none = await send(client, slot, key, found.headers(who, found.missing_company), rng)
                expect_response(
                    none, status=404, called=described(slot, key, who, found.missing_company, "no such company")
                )
                foreign = await send(client, slot, key, found.headers(who, company), rng)
                expect(
                    foreign.status_code == 404 and foreign.content == none.content,
                    called=described(slot, key, who, company, f"{found.companies[company]}, not one of theirs"),
                    got=f"{foreign.status_code} {foreign.text}",
                    expected=f"exactly what a company that does not exist gets: {none.status_code} {none.text}",
                )
    rows = await nb.call(invoice_rows)
    expect(
        rows == found.rows(),
        called="the invoices in the database, after those requests",
        got=rows,
        expected=f"unchanged: {found.rows()}",
    )


@check(
    points=2,
    hint="""Memberships change: a bookkeeper stops working for a client, or starts. Access must
    follow the memberships in the database at the time of each request: revoked, that company is refused
    (404) on every invoice route; granted, it works. Is anything about memberships kept from one request
    to the next?""",
    see="07-request-cache.ipynb#nothing-is-cached-across-requests",
)
async def test_a_membership_revoked_or_granted_takes_effect_at_once(
    nb: Notebook, client: AsyncClient, rng: Random
) -> None:
    found = await world(nb, rng)
    who = found.made_up[1]
    gone, kept = found.members[who]
    joined = found.members[found.made_up[2]][0]
    key = rng.choice(found.of(gone))
    expect_response(
        await client.get("/invoices", headers=found.headers(who, gone)),
        status=200,
        json=found.listed(gone),
        called=described("GET /invoices", 0, who, gone),
    )
    expect_response(
        await client.get(f"/invoices/{key}/download", headers=found.headers(who, gone)),
        status=200,
        called=described("GET /invoices/{id}/download", key, who, gone),
    )
    await nb.call(set_membership, who, gone, False)
    why = f"just after {who}'s membership of {found.companies[gone]} was revoked"
    for slot in SLOTS:
        response = await send(client, slot, key, found.headers(who, gone), rng)
        expect_response(response, status=404, called=described(slot, key, who, gone, why))
    found.members[who] = [kept]
    expect_response(
        await client.get("/me", headers=found.headers(who)),
        status=200,
        json=found.me(who),
        called=f"GET /me as {who} ({why})",
    )
    expect_response(
        await client.get("/invoices", headers=found.headers(who, kept)),
        status=200,
        json=found.listed(kept),
        called=described("GET /invoices", 0, who, kept, why),
    )
    expect_response(
        await client.get("/invoices", headers=found.headers(who, joined)),
        status=404,
        called=described("GET /invoices", 0, who, joined, "not a member yet"),
    )
    await nb.call(set_membership, who, joined, True)
    why = f"just after {who} was made a member of {found.companies[joined]}"
    expect_response(
        await client.get("/invoices", headers=found.headers(who, joined)),
        status=200,
        json=found.listed(joined),
        called=described("GET /invoices", 0, who, joined, why),
    )


# --- the differential check ----------------------------------------------------------------------

TOKENS = {name: f"demo-{name.lower()}-4471" for name in GIVEN_MEMBERS}
NO_SUCH_COMPANY = 77
ACTIONS = {
    "read": ("GET", "/invoices/{id}"),
    "download": ("GET", "/invoices/{id}/download"),
    "pay": ("POST", "/invoices/{id}/pay"),
}
members = st.sampled_from(sorted(GIVEN_MEMBERS))
headers_sent = st.sampled_from([*sorted(GIVEN_COMPANIES), NO_SUCH_COMPANY])


class Ledger(Machine):
    """Any sequence of requests by any member with any X-Company header (theirs, another company's,
    one that does not exist), on every route, while memberships are granted and revoked and
    invoices are added and paid, as the reference answers them; the invoices in the database."""

    def ask(
        self, who: str, company: int | None, method: str, path: str, *, why: str = "", **request: Any
    ) -> tuple[Response, Response]:
        text = f"{method} {path} as {who}" + ("" if company is None else f" with X-Company: {company}")
        self.step(text + (f" {request['json']}" if "json" in request else "") + (f" ({why})" if why else ""))
        headers = {"Authorization": f"Bearer {TOKENS[who]}"}
        if company is not None:
            headers["X-Company"] = str(company)

        async def both() -> tuple[Response, Response]:
            learner = await self._client(self.current.learner).request(method, path, headers=headers, **request)
            reference = await self._client(self.current.reference).request(method, path, headers=headers, **request)
            return learner, reference

        return anyio.from_thread.run(both)

    @rule(who=members, company=headers_sent)
    def list_invoices(self, who: str, company: int | None) -> None:
        self.same(*self.ask(who, company, "GET", "/invoices"))

    @rule(who=members, company=headers_sent, key=st.integers(1, 10), action=st.sampled_from(sorted(ACTIONS)))
    def use_invoice(self, who: str, company: int | None, key: int, action: str) -> None:
        method, path = ACTIONS[action]
        self.same(*self.ask(who, company, method, path.replace("{id}", str(key))), headers=("content-disposition",))

    @rule(who=members, company=headers_sent, customer=st.sampled_from(CUSTOMERS), total=st.integers(1, 900_000))
    def add_invoice(self, who: str, company: int | None, customer: str, total: int) -> None:
        self.same(*self.ask(who, company, "POST", "/invoices", json={"customer": customer, "total_cents": total}))

    @rule(who=members)
    def me(self, who: str) -> None:
        self.same(*self.ask(who, None, "GET", "/me"))

    @rule(who=members, company=st.sampled_from(sorted(GIVEN_COMPANIES)), member_of=st.booleans())
    def membership(self, who: str, company: int, member_of: bool) -> None:
        change = "granted" if member_of else "revoked"
        self.step(f"{who}'s membership of company {company} {change}, in the database")
        self.call(lambda nb: nb.call(set_membership, who, company, member_of))

    @invariant()
    def invoices_agree(self) -> None:
        learner, reference = self.call(lambda nb: nb.call(invoice_rows))
        self.agree("the invoices in the database", learner, reference)

    def tour(self) -> None:
        self.list_invoices("Priya", 1)
        self.use_invoice("Priya", 1, 2, "read")
        self.list_invoices("Tomas", 1)  # the ticket
        self.use_invoice("Tomas", 1, 4, "download")
        self.use_invoice("Tomas", 1, 7, "read")
        self.use_invoice("Omar", 1, 1, "pay")
        self.add_invoice("Omar", 2, "Harbour Hotel", 4200)
        self.invoices_agree()
        self.list_invoices("Lena", 3)
        self.use_invoice("Lena", 1, 4, "download")
        self.use_invoice("Lena", 3, 3, "pay")
        self.add_invoice("Lena", 3, "Bike Fest", 9900)
        self.me("Lena")
        self.membership("Lena", 3, False)
        self.list_invoices("Lena", 3)
        self.use_invoice("Lena", 3, 6, "read")
        self.me("Lena")
        self.list_invoices("Lena", 1)
        self.membership("Tomas", 3, True)
        self.list_invoices("Tomas", 3)
        self.use_invoice("Tomas", 3, 6, "download")
        self.list_invoices("Priya", NO_SUCH_COMPANY)
        self.invoices_agree()


@check(
    points=4,
    hint="""In some sequence of requests by different members, with honest and edited
    X-Company headers, while memberships are granted and revoked, your app answers (or changes the
    invoices) differently from what Ledgerly promises. Replay the sequence shown in your notebook, and
    ask at each step which company the caller may act for at that moment.""",
    see="05-sub-dependencies.ipynb#recap",
)
async def test_behaves_as_specified_in_any_sequence(differential: Differential) -> None:  # noqa: F811
    await differential.run(Ledger, examples=5, steps=6)
