"""Hidden checks for exercise 02-fix, the refused order that came back.

Crumb & Co.'s app, as shipped, opens one AsyncSession when the module loads and hands it to every
request through a plain dependency. A refused order's rows (the order flushed for its id, the lines
taken before the one that could not be served, the stock they took) stay in that session, and the
next commit of anyone saves them; a quote's rows the same. Requests in flight at once share one
transaction, and the session keeps a connection checked out between requests (and, after a refused
order, the database locked for every other writer). The checks establish that:

- orders are placed, read back, priced by a quote and refused (404, 409, 422), and trays restocked,
  as the app promises (what the starter already does, so that a fix must not break it);
- a refused order (sold out or unknown, part-way through its lines) or a quote leaves nothing in
  the database, whatever is committed after it (an order, a restock);
- orders sent at the same moment, some refused, each get their own answer, and only the ones
  served are saved;
- every request gives its connection back to the pool (checkouts equal checkins, none left out);
- in any sequence of orders, quotes, restocks, stock written by the till's own program and bursts
  of orders at once, the app answers and saves what the reference does (book.grader.differential).

Pastries, prices, stocks, customers and quantities are made up per grade. The database is read and
written through an engine of the check's own on the notebook's database file, so only what was
committed is seen, and the notebook's pool counts only the app's connections. Each check first
turns off the cyclic garbage collector of the learner's process: a session nobody closed then keeps
its connection (and any lock it holds) for the rest of the check, as it may for an unpredictable
time in a server; with the collector on, whether it had let go would depend on when it ran, and a
grade on chance.
"""

import json
from collections.abc import Container
from random import Random
from typing import Any

from httpx import AsyncClient
from hypothesis import strategies as st
from hypothesis.stateful import invariant, rule

from book.grader.checks import agent_side, check, expect, expect_response, shorten
from book.grader.differential import Differential, Machine, differential  # noqa: F401  (a fixture)
from book.grader.remote_notebook import Notebook

EXERCISE = "02-fix-leaking-order"
PASTRIES = [
    "almond croissant",
    "apple turnover",
    "brioche",
    "eclair",
    "fig tart",
    "kouign-amann",
    "lemon tart",
    "madeleine",
    "palmier",
    "rye roll",
    "scone",
    "sticky bun",
    "focaccia",
    "pretzel",
    "danish",
    "canele",
    "financier",
    "bagel",
]
UNKNOWN = ["stollen", "baklava", "churro", "mochi", "strudel", "panettone", "kringle"]
FIRST_NAMES = [
    "Amara",
    "Bilal",
    "Chen",
    "Dagny",
    "Emeka",
    "Farah",
    "Goran",
    "Hana",
    "Idris",
    "Jonas",
    "Keiko",
    "Luca",
    "Maya",
    "Nils",
    "Oona",
    "Priya",
    "Quinn",
    "Rosa",
]


# --- the learner's side --------------------------------------------------------------------------

Shelf = dict[str, list[int]]  # {pastry: [price, stock]}
Order = tuple[str, str, dict[str, Any], int]  # method, path, body, the status expected


@agent_side
async def bake(ctx: "Any", pastries: "list[list[Any]]") -> None:
    """Put pastries on the shelf, [[name, price, count], ...], with the check's engine: its own, on the
    notebook's database file, so that the notebook's pool counts only the app's connections."""
    from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine
    from sqlalchemy.pool import NullPool

    nb = ctx.nb
    if getattr(ctx, "outside", None) is None:  # the check's own engine: a connection per session, closed with it
        ctx.outside = async_sessionmaker(
            create_async_engine(nb.engine.url, poolclass=NullPool, connect_args={"timeout": 1})
        )
    async with ctx.outside() as session:
        session.add_all(nb.Pastry(name=name, price_cents=price, in_stock=count) for name, price, count in pastries)
        await session.commit()


@agent_side
def keep_garbage(ctx: "Any") -> None:
    """Turn off the cyclic garbage collector of this process (see the module's docstring)."""
    import gc

    gc.disable()


@agent_side
async def till_sets_stock(ctx: "Any", name: str, count: int) -> str:
    """The till's own program writes a pastry's stock to the database (with the check's engine);
    whether it could, within a second ("written"), or found the database locked ("locked")."""
    from sqlalchemy import update
    from sqlalchemy.exc import OperationalError
    from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine
    from sqlalchemy.pool import NullPool

    nb = ctx.nb
    if getattr(ctx, "outside", None) is None:  # the check's own engine: a connection per session, closed with it
        ctx.outside = async_sessionmaker(
            create_async_engine(nb.engine.url, poolclass=NullPool, connect_args={"timeout": 1})
        )
    try:
        async with ctx.outside() as session:
            await session.execute(update(nb.Pastry).where(nb.Pastry.name == name).values(in_stock=count))
            await session.commit()
    except OperationalError:
        return "locked"
    return "written"


@agent_side
async def saved(ctx: "Any") -> "dict[str, Any]":
    """What the database holds (committed rows only), read with the check's engine:
    every pastry's stock, every order as [id, customer, [[pastry, quantity], ...]], orphan lines."""
    from sqlalchemy import select
    from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine
    from sqlalchemy.pool import NullPool

    nb = ctx.nb
    if getattr(ctx, "outside", None) is None:  # the check's own engine: a connection per session, closed with it
        ctx.outside = async_sessionmaker(
            create_async_engine(nb.engine.url, poolclass=NullPool, connect_args={"timeout": 1})
        )
    async with ctx.outside() as session:
        stock = {pastry.name: pastry.in_stock for pastry in await session.scalars(select(nb.Pastry))}
        orders = {
            order.id: [order.id, order.customer, []]
            for order in await session.scalars(select(nb.Order).order_by(nb.Order.id))
        }
        rows = await session.execute(
            select(nb.OrderLine.order_id, nb.Pastry.name, nb.OrderLine.quantity)
            .join(nb.Pastry, nb.Pastry.id == nb.OrderLine.pastry_id)
            .order_by(nb.OrderLine.id)
        )
        orphans: list[list[Any]] = []
        for order_id, name, quantity in rows:
            (orders[order_id][2] if order_id in orders else orphans).append([name, quantity])
    return {"stock": stock, "orders": list(orders.values()), "orphans": orphans}


@agent_side
async def at_once(ctx: "Any", requests: "list[list[Any]]") -> "list[list[Any]]":
    """Send [[method, path, body], ...] at the same moment, in the learner's process (so that they
    are truly in flight together); [[status, body], ...] in the same order."""
    import asyncio

    import httpx

    target = ctx.served if ctx.served is not None else ctx.app
    transport = httpx.ASGITransport(app=target, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        answers = await asyncio.gather(*(client.request(method, path, json=body) for method, path, body in requests))
    out = []
    for answer in answers:
        try:
            body = answer.json()
        except ValueError:
            body = answer.text[:200]
        out.append([answer.status_code, body])
    return out


@agent_side
def watch_pool(ctx: "Any") -> None:
    """Count the connections the notebook's engine hands out and gets back from now on."""
    from sqlalchemy import event

    counts = ctx.pool_counts = {"handed out": 0, "given back": 0}

    def out(*args: object) -> None:
        counts["handed out"] += 1

    def back(*args: object) -> None:
        counts["given back"] += 1

    event.listen(ctx.nb.engine.sync_engine, "checkout", out)
    event.listen(ctx.nb.engine.sync_engine, "checkin", back)


@agent_side
def pool_counts(ctx: "Any") -> dict[str, int]:
    return {**ctx.pool_counts, "checked out now": ctx.nb.engine.sync_engine.pool.checkedout()}


# --- made-up data --------------------------------------------------------------------------------


def new_customer(rng: Random, taken: Container[str] = ()) -> str:
    while True:
        name = f"{rng.choice(FIRST_NAMES)} {rng.choice('ABCDEFGHJKLMNPRSTVW')}."
        if name not in taken:
            return name


def made_up_shelf(rng: Random, count: int = 3, low: int = 6, high: int = 14) -> Shelf:
    """`count` pastries made up for this grade: {name: [price, stock]}."""
    return {name: [rng.randint(12, 65) * 10, rng.randint(low, high)] for name in rng.sample(PASTRIES, count)}


async def open_shop(nb: Notebook, shelf: Shelf) -> Shelf:
    """Turn the collector off (see the module's docstring) and bake `shelf` into the notebook's database."""
    await nb.call(keep_garbage)
    await nb.call(bake, [[name, price, stock] for name, (price, stock) in shelf.items()])
    return shelf


def order_of(customer: str, lines: list[list[Any]]) -> dict[str, Any]:
    return {"customer": customer, "lines": [{"pastry": name, "quantity": quantity} for name, quantity in lines]}


def total_of(shelf: Shelf, lines: list[list[Any]]) -> int:
    return sum(shelf[name][0] * quantity for name, quantity in lines)


def said(body: dict[str, Any]) -> str:
    """A request body as a failure shows it."""
    lines = ", ".join(f"{line['quantity']} {line['pastry']}" for line in body["lines"])
    return f"{body['customer']}: {lines}"


async def orders_after(nb: Notebook, first_id: int) -> tuple[dict[str, Any], list[list[Any]]]:
    """The saved orders with an id above `first_id`, as [customer, [[pastry, quantity], ...]]."""
    found = await nb.call(saved)
    return found, [[customer, lines] for order_id, customer, lines in found["orders"] if order_id > first_id]


async def last_id(nb: Notebook) -> int:
    found = await nb.call(saved)
    return max((order[0] for order in found["orders"]), default=0)


# --- what the starter already does ---------------------------------------------------------------


@check(
    points=2,
    hint="""POST /orders answers 201 with the order (id, customer, lines, total_cents)
    and takes each line from the stock; GET /orders/{order_id} and GET /orders show it, and
    POST /orders/quote prices an order the same way. The starter did this: if your change broke it,
    look at what your session does to its objects when it commits, and when it closes.""",
    see="02-db-session.ipynb#pitfall-expire_on_commit",
)
async def test_orders_are_placed_and_read_back(nb: Notebook, client: AsyncClient, rng: Random) -> None:
    shelf = await open_shop(nb, made_up_shelf(rng, low=8))
    placed: list[Any]  # the orders as the app answered them
    taken: set[str]
    names, placed, taken = list(shelf), [], set()
    for _ in range(3):
        customer = new_customer(rng, taken)
        taken.add(customer)
        lines: list[list[Any]] = [[name, rng.randint(1, 2)] for name in rng.sample(names, rng.randint(1, 3))]
        body = order_of(customer, lines)
        response = await client.post("/orders", json=body)
        answer = response.json() if response.status_code == 201 else None
        order_id = answer.get("id") if isinstance(answer, dict) else None
        expect_response(
            response,
            status=201,
            json={"id": order_id, **body, "total_cents": total_of(shelf, lines)},
            called=f"POST /orders ({said(body)})",
        )
        expect(
            isinstance(order_id, int) and order_id not in [order["id"] for order in placed],
            called=f"POST /orders ({said(body)})",
            got=f"id {order_id!r}",
            expected="a new order id (an integer)",
        )
        placed.append(answer)
        for name, quantity in lines:
            shelf[name][1] -= quantity
    for order in placed:
        expect_response(await client.get(f"/orders/{order['id']}"), status=200, json=order)
    listed = await client.get("/orders")
    expect_response(listed, status=200)
    expect(
        listed.json()[-3:] == placed,
        called="GET /orders, after the three orders",
        got=shorten(listed.json()[-3:]),
        expected=f"the three orders last, by id: {shorten(placed)}",
    )
    shown = {pastry["name"]: pastry for pastry in (await client.get("/pastries")).json()}
    for name, (price, stock) in shelf.items():
        expect(
            shown.get(name) == {"name": name, "price_cents": price, "in_stock": stock},
            called="GET /pastries, after the orders",
            got=shorten(shown.get(name)),
            expected=str({"name": name, "price_cents": price, "in_stock": stock}),
        )
    missing = max(order["id"] for order in placed) + rng.randint(100, 999)
    expect_response(await client.get(f"/orders/{missing}"), status=404)
    lines = [[name, 1] for name in rng.sample(names, 2)]
    body = order_of(new_customer(rng, taken), lines)
    expect_response(
        await client.post("/orders/quote", json=body),
        status=200,
        json={**body, "total_cents": total_of(shelf, lines)},
        called=f"POST /orders/quote ({said(body)})",
    )


@check(
    points=1,
    hint="""A pastry the bakery does not make is 404, one with too few left is 409, for
    an order and a quote alike; an invalid body (no lines, a quantity of 0, no customer) is 422;
    restocking an unknown pastry is 404. A refusal that turns into a 500 lost its way out: what do
    your dependencies do with an error raised in the endpoint?""",
    see="02-db-session.ipynb#the-dependency-and-its-alias",
)
async def test_sold_out_and_unknown_pastries_are_refused(nb: Notebook, client: AsyncClient, rng: Random) -> None:
    shelf = await open_shop(nb, made_up_shelf(rng, count=2))
    (name, (_, stock)), unknown = rng.choice(sorted(shelf.items())), rng.choice(UNKNOWN)
    customer = new_customer(rng)
    for path in ("/orders", "/orders/quote"):
        too_many = order_of(customer, [[name, stock + rng.randint(1, 9)]])
        expect_response(
            await client.post(path, json=too_many),
            status=409,
            called=f"POST {path} ({said(too_many)}; {stock} in stock)",
        )
        not_made = order_of(customer, [[unknown, 1]])
        expect_response(await client.post(path, json=not_made), status=404, called=f"POST {path} ({said(not_made)})")
    for body in (
        {"customer": customer, "lines": []},
        order_of(customer, [[name, 0]]),
        {"lines": [{"pastry": name, "quantity": 1}]},
    ):
        expect_response(await client.post("/orders", json=body), status=422, called=f"POST /orders {body}")
    expect_response(await client.post(f"/pastries/{unknown}/restock", json={"quantity": 3}), status=404)
    expect_response(await client.post(f"/pastries/{name}/restock", json={"quantity": 0}), status=422)


@check(
    points=1,
    hint="""Restocking adds the tray to the pastry's stock and answers {"name", "in_stock"};
    GET /pastries shows the new count, and an order can then take it to the last one. Is the restock
    committed before the answer, and does the next request read through a session of its own?""",
    see="02-db-session.ipynb#pitfall-committing-inside-the-dependency",
)
async def test_restocking_adds_to_the_shelf(nb: Notebook, client: AsyncClient, rng: Random) -> None:
    shelf = await open_shop(nb, made_up_shelf(rng, count=2))
    (name, (_, stock)), tray = rng.choice(sorted(shelf.items())), rng.randint(2, 20)
    expect_response(
        await client.post(f"/pastries/{name}/restock", json={"quantity": tray}),
        status=200,
        json={"name": name, "in_stock": stock + tray},
    )
    shown = {pastry["name"]: pastry["in_stock"] for pastry in (await client.get("/pastries")).json()}
    expect(
        shown.get(name) == stock + tray,
        called=f"GET /pastries, after restocking {tray} {name}",
        got=f"{name}: {shown.get(name)}",
        expected=f"{name}: {stock + tray}",
    )
    body = order_of(new_customer(rng), [[name, stock + tray]])
    expect_response(await client.post("/orders", json=body), status=201, called=f"POST /orders ({said(body)})")
    shown = {pastry["name"]: pastry["in_stock"] for pastry in (await client.get("/pastries")).json()}
    expect(
        shown.get(name) == 0,
        called=f"GET /pastries, after an order of every {name}",
        got=f"{name}: {shown.get(name)}",
        expected=f"{name}: 0",
    )


# --- the bug -------------------------------------------------------------------------------------


@check(
    points=3,
    hint="""A refused order (sold out or unknown, part-way through its lines) and a quote
    must leave nothing in the database, also once the next request commits (an order, a restock).
    Where do the rows of a refused request go when it ends, and which session does the next request
    get? book.graph shows how a request gets its session; book.trace of a quote shows what runs
    after the endpoint, or does not.""",
    see="02-db-session.ipynb#the-dependency-and-its-alias",
)
async def test_refused_orders_and_quotes_leave_nothing_behind(nb: Notebook, client: AsyncClient, rng: Random) -> None:
    shelf = made_up_shelf(rng, count=3, low=8, high=14)
    plenty, scarce, third = list(shelf)
    shelf[scarce][1] = rng.randint(1, 3)
    await open_shop(nb, shelf)
    taken: set[str]
    kept: list[Any]
    first_id, taken, kept = await last_id(nb), set(), []

    def customer() -> str:
        name = new_customer(rng, taken)
        taken.add(name)
        return name

    refusals = [
        ("/orders", 409, [[plenty, rng.randint(1, 2)], [third, 1], [scarce, shelf[scarce][1] + rng.randint(1, 5)]]),
        ("/orders", 404, [[third, rng.randint(1, 2)], [rng.choice(UNKNOWN), 1]]),
        ("/orders/quote", 200, [[plenty, 1], [third, rng.randint(1, 2)]]),
        ("/orders/quote", 409, [[third, 1], [scarce, shelf[scarce][1] + 1]]),
    ]
    rng.shuffle(refusals)
    for path, status, lines in refusals:
        body = order_of(customer(), lines)
        expect_response(await client.post(path, json=body), status=status, called=f"POST {path} ({said(body)})")
        what = f"POST {path} ({said(body)}), answered {status}"
        if rng.random() < 0.5:
            then = order_of(customer(), [[plenty, 1]])
            expect_response(
                await client.post("/orders", json=then), status=201, called=f"{what}; then POST /orders ({said(then)})"
            )
            kept.append([then["customer"], [[plenty, 1]]])
            shelf[plenty][1] -= 1
            what += f"; then {said(then)} ordered"
        else:
            tray = rng.randint(1, 5)
            expect_response(
                await client.post(f"/pastries/{third}/restock", json={"quantity": tray}),
                status=200,
                json={"name": third, "in_stock": shelf[third][1] + tray},
                called=f"{what}; then POST /pastries/{third}/restock ({tray})",
            )
            shelf[third][1] += tray
            what += f"; then {tray} {third} restocked"
        found, orders = await orders_after(nb, first_id)
        stock = {name: found["stock"].get(name) for name in shelf}
        wanted = {name: count for name, (_, count) in shelf.items()}
        orphans = f", lines of no order {found['orphans']}" if found["orphans"] else ""
        left = "the quote" if "quote" in path else "the refused order"
        expect(
            orders == kept and stock == wanted and not found["orphans"],
            called=what,
            got=f"saved orders {orders}, stock {stock}{orphans}",
            expected=f"saved orders {kept}, stock {wanted}: nothing of {left}",
        )
    listed = [order.get("customer") for order in (await client.get("/orders")).json()]
    ghosts = sorted(name for name in taken if name in listed and name not in [order[0] for order in kept])
    expect(
        not ghosts,
        called="GET /orders, after the refused orders and quotes",
        got=f"it lists {ghosts}",
        expected="none of the refused or quoted customers",
    )


@check(
    points=3,
    hint="""Orders sent at the same moment, some of them refused, must each get the
    answer they would get alone, and only the ones served may be saved. Two requests in flight must
    never share a transaction: which object do they share in your app, and what does one of them
    rolling back or committing do to the other?""",
    see="02-db-session.ipynb#no-session-is-left-open",
)
async def test_orders_in_flight_at_once_do_not_mix(nb: Notebook, rng: Random) -> None:
    shelf = made_up_shelf(rng, count=3, low=20, high=30)
    plenty, other, scarce = list(shelf)
    shelf[scarce][1] = rng.randint(0, 2)
    await open_shop(nb, shelf)
    taken: set[str]
    kept: list[Any]
    first_id, taken, kept = await last_id(nb), set(), []

    def customer() -> str:
        name = new_customer(rng, taken)
        taken.add(name)
        return name

    def good() -> Order:
        lines = [[plenty, rng.randint(1, 2)], [other, 1]]
        return "POST", "/orders", order_of(customer(), lines), 201

    def refused() -> Order:
        if rng.random() < 0.5:
            lines = [[plenty, 1], [rng.choice(UNKNOWN), 1]]
            return "POST", "/orders", order_of(customer(), lines), 404
        lines = [[other, 1], [scarce, shelf[scarce][1] + rng.randint(3, 6)]]
        return "POST", "/orders", order_of(customer(), lines), 409

    def quote() -> Order:
        return "POST", "/orders/quote", order_of(customer(), [[other, 1], [plenty, 1]]), 200

    for burst in ([refused(), good()], [good(), quote(), refused(), good()], [good(), refused()]):
        answers = await nb.call(at_once, [[method, path, body] for method, path, body, _ in burst])
        what = "at the same moment: " + "; ".join(f"POST {path} ({said(body)})" for _, path, body, _ in burst)
        got = [status for status, _ in answers]
        wanted = [status for *_, status in burst]
        errors = [shorten(body, 60) for status, body in answers if status >= 500]
        expect(
            got == wanted,
            called=what,
            got=f"statuses {got}" + (f" ({'; '.join(errors)})" if errors else ""),
            expected=f"statuses {wanted}",
        )
        for (_, path, body, status), (_, answer) in zip(burst, answers, strict=True):
            if path == "/orders" and status == 201:
                lines = [[line["pastry"], line["quantity"]] for line in body["lines"]]
                shown = {key: value for key, value in answer.items() if key != "id"}
                mine = {**body, "total_cents": total_of(shelf, lines)}
                expect(
                    shown == mine,
                    called=what,
                    got=f"{said(body)} answered {shorten(answer)}",
                    expected=f"the order {shorten(mine)}, with its id",
                )
                kept.append([body["customer"], lines])
                for name, quantity in lines:
                    shelf[name][1] -= quantity
        found, orders = await orders_after(nb, first_id)
        stock = {name: found["stock"].get(name) for name in shelf}
        wanted_stock = {name: count for name, (_, count) in shelf.items()}
        expect(
            sorted(orders) == sorted(kept) and stock == wanted_stock and not found["orphans"],
            called=what,
            got=f"saved orders {sorted(orders)}, stock {stock}",
            expected=f"saved orders {sorted(kept)}, stock {wanted_stock}",
        )


@check(
    points=3,
    hint="""Every request must give its database connection back to the pool when it ends,
    refused ones included. Count the pool's checkouts and checkins around a few requests: which session
    is never closed, and so keeps the connection it took?""",
    see="02-db-session.ipynb#no-session-is-left-open",
)
async def test_every_request_gives_its_connection_back(nb: Notebook, client: AsyncClient, rng: Random) -> None:
    shelf = await open_shop(nb, made_up_shelf(rng, count=2, low=10, high=14))
    name, other = list(shelf)
    await nb.call(watch_pool)
    body = order_of(new_customer(rng), [[name, rng.randint(1, 3)]])
    placed = await client.post("/orders", json=body)
    order_id = placed.json().get("id") if placed.status_code == 201 else 1
    requests: list[tuple[str, str, dict[str, Any] | None]] = [
        ("GET", "/pastries", None),
        ("GET", f"/orders/{order_id}", None),
        ("GET", "/orders", None),
        ("GET", f"/orders/{order_id + rng.randint(50, 99)}", None),
        ("POST", f"/pastries/{other}/restock", {"quantity": rng.randint(1, 9)}),
        ("POST", "/orders", order_of(new_customer(rng), [[other, 1], [name, shelf[name][1] + 5]])),
        ("GET", "/pastries", None),
    ]
    for method, path, payload in requests:
        await client.request(method, path, json=payload)
    counts = await nb.call(pool_counts)
    sent = f"POST /orders, then {', '.join(f'{method} {path}' for method, path, _ in requests)} (the last POST refused)"
    expect(
        counts["checked out now"] == 0 and counts["handed out"] == counts["given back"],
        called=sent,
        got=f"the pool handed out {counts['handed out']} connection(s) and got {counts['given back']} back; "
        f"{counts['checked out now']} still checked out",
        expected="every connection handed out given back, none checked out after the requests",
        seen=await nb.graph("GET /pastries"),
    )


# --- the differential check ----------------------------------------------------------------------

SHELF: list[list[Any]] = [["rye roll", 240, 5], ["fig tart", 390, 3], ["pretzel", 200, 8]]  # added to both apps
NAMES = [name for name, _, _ in SHELF] + ["croissant", "sourdough loaf"]
NOT_MADE = "stollen"
PEOPLE = FIRST_NAMES[:8]


class Bakery(Machine):
    """Orders and quotes (served, sold out, unknown), restocks, the till changing the stock, reads,
    and bursts of orders at once, as the reference answers and saves them."""

    def __init__(self) -> None:
        super().__init__()
        self.call(lambda nb: open_shop(nb, {name: [price, count] for name, price, count in SHELF}))

    @rule(
        who=st.sampled_from(PEOPLE),
        quote=st.booleans(),
        lines=st.lists(st.tuples(st.sampled_from([*NAMES, NOT_MADE]), st.integers(1, 6)), min_size=1, max_size=3),
    )
    def order(self, who: str, lines: list[list[Any]], quote: bool) -> None:
        self.same(*self.send("POST", "/orders/quote" if quote else "/orders", json=order_of(who, lines)))

    @rule(name=st.sampled_from([*NAMES, NOT_MADE]), tray=st.integers(1, 6))
    def restock(self, name: str, tray: int) -> None:
        self.same(*self.send("POST", f"/pastries/{name}/restock", json={"quantity": tray}))

    @rule(name=st.sampled_from(NAMES), count=st.integers(0, 6))
    def till(self, name: str, count: int) -> None:
        self.step(f"the till's own program sets {name} to {count} in the database")
        self.agree("the till's write", *self.call(lambda nb: nb.call(till_sets_stock, name, count)))

    @rule()
    def read_pastries(self) -> None:
        self.same(*self.send("GET", "/pastries"))

    @rule(name=st.sampled_from(NAMES), count=st.integers(2, 4))
    def burst(self, name: str, count: int) -> None:
        self.same(*self.send("POST", f"/pastries/{name}/restock", json={"quantity": count}))
        burst = [
            ["POST", "/orders", order_of(PEOPLE[index], [[name, 1], [NOT_MADE, 1]] if index == 0 else [[name, 1]])]
            for index in range(count)
        ] + [["POST", "/orders/quote", order_of(PEOPLE[count], [[name, 1]])]]
        self.step(f"at the same moment: {count} orders of one {name} (the first also of a {NOT_MADE}), and a quote")
        learner, reference = self.call(lambda nb: nb.call(at_once, burst))

        def answers(found: list[list[Any]]) -> list[list[Any]]:
            shown = [
                [
                    status,
                    {key: value for key, value in body.items() if key != "id"}
                    if status < 300 and isinstance(body, dict)
                    else None,
                ]
                for status, body in found
            ]
            return sorted(shown, key=json.dumps)

        self.agree("the answers (status, and the body but its id), sorted", answers(learner), answers(reference))

    def tour(self) -> None:
        self.order("Amara", [("croissant", 2), ("pretzel", 1)], False)
        self.order("Bilal", [("croissant", 2), ("sourdough loaf", 6)], False)
        self.order("Chen", [("fig tart", 1)], False)
        self.saved_agrees()
        self.order("Dagny", [("rye roll", 2), (NOT_MADE, 1)], True)
        self.order("Emeka", [("pretzel", 2), ("fig tart", 1)], True)
        self.restock("rye roll", 3)
        self.saved_agrees()
        self.read_pastries()
        self.till("pretzel", 1)
        self.order("Farah", [("pretzel", 2)], False)
        self.read_pastries()
        self.burst("rye roll", 3)
        self.saved_agrees()

    @invariant()
    def saved_agrees(self) -> None:
        learner, reference = self.call(lambda nb: nb.call(saved))
        self.agree("the stock saved", learner["stock"], reference["stock"])
        # Orders of a burst may be saved in any order: the exercise fixes which, not in what order.
        self.agree(
            "the orders saved (customer, lines), sorted",
            sorted(order[1:] for order in learner["orders"]),
            sorted(order[1:] for order in reference["orders"]),
        )
        self.agree("lines saved without their order", learner["orphans"], reference["orphans"])


@check(
    points=3,
    hint="""In some sequence of orders, quotes, restocks, changes made by the till and
    orders sent at once, your app answers or saves differently from the reference. Replay the
    sequence shown, and after each step read what is saved with a session of your own.""",
    see="02-db-session.ipynb#recap",
)
async def test_behaves_as_specified_in_any_sequence(differential: Differential) -> None:  # noqa: F811
    await differential.run(Bakery, examples=2, steps=5)
