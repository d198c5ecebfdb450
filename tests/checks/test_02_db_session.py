"""Hidden checks for exercise 02, booking a place in a gym class.

Behaviour through HTTP, with classes and members made up per grade from its seed: a booking takes a
place, a full class and a double booking are refused with 409 and change nothing in either table,
a cancellation gives the place back. Wiring: every route gets its session from get_session, one per
request, and every connection goes back to the pool. The pool is watched, classes added and a second
database made in the agent (the ``@agent_side`` helpers). A differential check then drives the
learner's app and the reference with the same sequences of bookings and cancellations.
"""

from collections.abc import AsyncIterator, Callable
from random import Random
from typing import Any

from httpx import AsyncClient, Response
from hypothesis import strategies as st
from hypothesis.stateful import invariant, rule

from book.grader.checks import agent_side, check, expect, expect_response
from book.grader.differential import Differential, Machine, differential  # noqa: F401  (a fixture)
from book.grader.remote_notebook import Notebook

EXERCISE = "02-db-session"
SPORTS = ["Pilates", "Rowing", "Zumba", "Judo", "Climbing", "Barre", "Kettlebell", "Aqua fit"]
MEMBERS = ["ada", "kai", "noor", "ren", "tomas", "ines", "yuki", "grace", "mo", "lin", "femi", "sol"]


@agent_side
async def add_class(ctx: "Any", class_id: int, name: str, places: int) -> None:
    """A class added to the notebook's own database, as the gym's staff would."""
    async with ctx.nb.new_session() as session:
        session.add(ctx.nb.GymClass(id=class_id, name=name, places_left=places))
        await session.commit()


@agent_side
async def tables(ctx: "Any", which: str = "own") -> "dict[str, Any]":
    """What the tables hold: {"places": {class id: places left}, "bookings": [[class id, member], ...]}."""
    from sqlalchemy import select

    sessions = ctx.nb.new_session if which == "own" else ctx.other_sessions
    async with sessions() as session:
        classes = await session.scalars(select(ctx.nb.GymClass).order_by(ctx.nb.GymClass.id))
        places = {str(row.id): row.places_left for row in classes}
        bookings = await session.scalars(select(ctx.nb.Booking))
        held = sorted([row.class_id, row.member] for row in bookings)
    return {"places": places, "bookings": held}


@agent_side
def watch_pool(ctx: "Any") -> None:
    """Count the connections the notebook's engine hands out, gets back, and loses to the garbage collector."""
    from sqlalchemy import event

    counts = ctx.pool_counts = {"out": 0, "in": 0, "lost": 0}

    def counter(key: str) -> "Callable[..., None]":
        def count(*args: object) -> None:
            counts[key] += 1

        return count

    engine = ctx.nb.engine.sync_engine
    event.listen(engine, "checkout", counter("out"))
    event.listen(engine, "checkin", counter("in"))
    # A connection never closed is detached when its session is garbage collected: not given back.
    event.listen(engine, "detach", counter("lost"))


@agent_side
def pool_counts(ctx: "Any") -> dict[str, int]:
    return {**ctx.pool_counts, "checked_out": ctx.nb.engine.pool.checkedout()}


@agent_side
async def use_another_database(ctx: "Any", class_id: int, name: str, places: int) -> None:
    """An in-memory database with the notebook's tables and one class; get_session overridden by a
    yield dependency that hands out its sessions."""
    from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine
    from sqlalchemy.pool import StaticPool

    engine = create_async_engine("sqlite+aiosqlite://", poolclass=StaticPool)
    async with engine.begin() as connection:
        await connection.run_sync(ctx.nb.Model.metadata.create_all)
    ctx.other_sessions = async_sessionmaker(engine, expire_on_commit=False)
    async with ctx.other_sessions() as session:
        session.add(ctx.nb.GymClass(id=class_id, name=name, places_left=places))
        await session.commit()

    async def other_session() -> "AsyncIterator[Any]":
        async with ctx.other_sessions() as session:
            yield session

    ctx.app.dependency_overrides[ctx.nb.get_session] = other_session


@agent_side
def global_sessions(ctx: "Any") -> list[str]:
    """The notebook's global names that hold a session."""
    from sqlalchemy.ext.asyncio import AsyncSession
    from sqlalchemy.orm import Session

    return sorted(name for name, value in vars(ctx.nb).items() if isinstance(value, (AsyncSession, Session)))


async def new_class(nb: Notebook, rng: Random, places: int) -> tuple[int, str]:
    """A class made up for this grade, with `places` places: (id, name)."""
    class_id, name = rng.randint(10, 99), f"{rng.choice(SPORTS)} {rng.randint(2, 9)}"
    await nb.call(add_class, class_id, name, places)
    return class_id, name


async def book(client: AsyncClient, class_id: int, member: str) -> Response:
    return await client.post(f"/classes/{class_id}/bookings", json={"member": member})


async def expect_tables(nb: Notebook, class_id: int, places: int, holders: list[str], after: str) -> None:
    state = await nb.call(tables)
    got = (state["places"].get(str(class_id)), sorted(m for c, m in state["bookings"] if c == class_id))
    expect(
        got == (places, sorted(holders)),
        called=f"the tables after {after}",
        got=f"class {class_id}: {got[0]} places left, bookings of {got[1]}",
        expected=f"{places} places left, bookings of {sorted(holders)}",
    )


@check(
    points=2,
    hint="""POST /classes/{class_id}/bookings answers 201 with the booking's id, class_id
    and member, and the class then has one place less in GET /classes. Is the change still there
    for the next request, which has a session of its own?""",
    see="02-db-session.ipynb#pitfall-committing-inside-the-dependency",
)
async def test_a_booking_takes_a_place(nb: Notebook, client: AsyncClient, rng: Random) -> None:
    places = rng.randint(3, 5)
    class_id, name = await new_class(nb, rng, places)
    members = rng.sample(MEMBERS, 2)
    for count, member in enumerate(members, start=1):
        response = await book(client, class_id, member)
        expect_response(response, status=201)
        answer = response.json()
        expect(
            isinstance(answer, dict)
            and isinstance(answer.get("id"), int)
            and {**answer, "id": 0} == {"id": 0, "class_id": class_id, "member": member},
            called=f"POST /classes/{class_id}/bookings {{member: {member}}}",
            got=answer,
            expected=f'{{"id": <a number>, "class_id": {class_id}, "member": "{member}"}}',
        )
        listed = await client.get("/classes")
        expect_response(listed, status=200)
        mine = [row for row in listed.json() if isinstance(row, dict) and row.get("id") == class_id]
        expect(
            mine == [{"id": class_id, "name": name, "places_left": places - count}],
            called=f"GET /classes after {count} booking(s) of class {class_id}",
            got=mine,
            expected=str([{"id": class_id, "name": name, "places_left": places - count}]),
        )
    await expect_tables(nb, class_id, places - 2, members, "two bookings")


@check(
    points=1,
    hint="""A class or a booking that does not exist is the client's mistake: which
    status says "not found"? What does session.get give for an id it cannot find?""",
    see="02-db-session.ipynb#the-dependency-and-its-alias",
)
async def test_missing_class_or_booking_is_404(nb: Notebook, client: AsyncClient, rng: Random) -> None:
    missing = rng.randint(100, 999)
    expect_response(await book(client, missing, rng.choice(MEMBERS)), status=404)
    expect_response(await client.delete(f"/bookings/{missing}"), status=404)
    class_id, _ = await new_class(nb, rng, 1)
    held = await book(client, class_id, rng.choice(MEMBERS))
    expect_response(held, status=201)
    expect_response(await client.delete(f"/bookings/{held.json()['id'] + missing}"), status=404)


@check(
    points=2,
    hint="""A class with no place left refuses the next member with 409, and nothing may
    change: its places_left stays at 0 and no booking is stored. Where do you look at the places
    before you write anything?""",
    see="02-db-session.ipynb#the-dependency-and-its-alias",
)
async def test_a_full_class_is_409_and_changes_nothing(nb: Notebook, client: AsyncClient, rng: Random) -> None:
    places = rng.randint(1, 3)
    class_id, _ = await new_class(nb, rng, places)
    members = rng.sample(MEMBERS, places + 2)
    for member in members[:places]:
        expect_response(await book(client, class_id, member), status=201)
    for member in members[places:]:
        expect_response(
            await book(client, class_id, member),
            status=409,
            called=f"POST /classes/{class_id}/bookings {{member: {member}}} to a full class",
        )
    await expect_tables(nb, class_id, 0, members[:places], "booking a full class")


@check(
    points=3,
    hint="""A member's second booking of the same class is refused with 409, and the class must
    keep its places: the place taken and the booking refused are one change that happens entirely or not
    at all. How many commits does your booking make, and when does the unique constraint speak?""",
    see="02-db-session.ipynb#pitfall-committing-inside-the-dependency",
)
async def test_a_double_booking_is_409_and_changes_nothing(nb: Notebook, client: AsyncClient, rng: Random) -> None:
    places = rng.randint(3, 5)
    class_id, _ = await new_class(nb, rng, places)
    member, other = rng.sample(MEMBERS, 2)
    expect_response(await book(client, class_id, member), status=201)
    for _ in range(2):
        expect_response(
            await book(client, class_id, member),
            status=409,
            called=f"POST /classes/{class_id}/bookings {{member: {member}}}, booked already",
        )
    await expect_tables(nb, class_id, places - 1, [member], f"{member} booked class {class_id} three times")
    expect_response(
        await book(client, class_id, other),
        status=201,
        called=f"POST /classes/{class_id}/bookings {{member: {other}}} after the refusals",
    )
    await expect_tables(nb, class_id, places - 2, [member, other], "a refusal, then another member's booking")


@check(
    points=2,
    hint="""DELETE /bookings/{booking_id} answers 204, deletes the booking and gives its place
    back, in one change; the member can then book the class again, and a second DELETE of the same
    booking is 404. Are the delete and the place given back in the same commit, made before the answer?""",
    see="02-db-session.ipynb#pitfall-committing-inside-the-dependency",
)
async def test_a_cancellation_gives_the_place_back(nb: Notebook, client: AsyncClient, rng: Random) -> None:
    class_id, _ = await new_class(nb, rng, 1)
    member, other = rng.sample(MEMBERS, 2)
    held = await book(client, class_id, member)
    expect_response(held, status=201)
    expect_response(await book(client, class_id, other), status=409, called="booking a full class")
    booking = held.json()["id"]
    expect_response(await client.delete(f"/bookings/{booking}"), status=204)
    await expect_tables(nb, class_id, 1, [], f"DELETE /bookings/{booking}")
    expect_response(await client.delete(f"/bookings/{booking}"), status=404, called="cancelling it again")
    expect_response(await book(client, class_id, other), status=201, called="booking the place given back")
    expect_response(await book(client, class_id, member), status=409, called="booking it while full again")
    await expect_tables(nb, class_id, 0, [other], "a cancellation and a new booking")


@check(
    points=2,
    hint="""Every request must give its connection back, the refused ones too (404, 409,
    422). What closes the session however the request ends, and what must happen to an error after
    you rolled back?""",
    see="02-db-session.ipynb#no-session-is-left-open",
)
async def test_no_connection_is_left_checked_out(nb: Notebook, client: AsyncClient, rng: Random) -> None:
    await nb.call(watch_pool)
    class_id, _ = await new_class(nb, rng, 2)
    members = rng.sample(MEMBERS, 3)
    statuses = []
    for member in members + members[:1]:  # 201, 201, 409 full, 409 twice
        statuses.append((await book(client, class_id, member)).status_code)
    statuses.append((await book(client, rng.randint(100, 999), members[0])).status_code)  # 404
    statuses.append((await client.post(f"/classes/{class_id}/bookings", json={"member": ""})).status_code)
    statuses.append((await client.delete(f"/bookings/{rng.randint(100, 999)}")).status_code)  # 404
    statuses.append((await client.get("/classes")).status_code)
    pool = await nb.call(pool_counts)
    lost = f", {pool['lost']} never closed (left to the garbage collector)" if pool["lost"] else ""
    expect(
        pool["out"] == pool["in"] and pool["lost"] == 0 and pool["checked_out"] == 0,
        called="8 requests: bookings, a full class, a double booking, 404s, a 422 and a list",
        got=f"{pool['out']} connections handed out, {pool['in']} given back{lost} (answers: {statuses})",
        expected="every connection given back",
    )


@check(
    points=2,
    hint="""Every route must take its session from get_session, so that overriding it (as
    tests do) changes the database of every route. A route that opens new_session() itself ignores
    the override.""",
    see="10-testing-overrides.ipynb#fixtures",
)
async def test_overriding_the_session_reaches_every_route(nb: Notebook, client: AsyncClient, rng: Random) -> None:
    class_id, name = rng.randint(10, 99), f"{rng.choice(SPORTS)} {rng.randint(2, 9)}"
    member = rng.choice(MEMBERS)
    await nb.call(use_another_database, class_id, name, 2)
    called = "with get_session overridden by another database"
    expect_response(
        await client.get("/classes"),
        status=200,
        json=[{"id": class_id, "name": name, "places_left": 2}],
        called=f"GET /classes {called}",
        seen=await nb.graph("GET /classes"),
    )
    held = await book(client, class_id, member)
    expect_response(held, status=201, called=f"POST /classes/{class_id}/bookings {called}")
    other = await nb.call(tables, "other")
    expect(
        other == {"places": {str(class_id): 1}, "bookings": [[class_id, member]]},
        called="the overriding database after the booking",
        got=other,
        expected=f"class {class_id} with 1 place left and {member}'s booking",
    )
    expect_response(
        await client.delete(f"/bookings/{held.json()['id']}"),
        status=204,
        called=f"DELETE /bookings/{held.json()['id']} {called}",
    )
    other = await nb.call(tables, "other")
    expect(
        other == {"places": {str(class_id): 2}, "bookings": []},
        called="the overriding database after the cancellation",
        got=other,
        expected=f"class {class_id} with 2 places left and no booking",
    )
    own = await nb.call(tables)
    expect(
        own["bookings"] == [],
        called="the notebook's own database after those requests",
        got=f"{len(own['bookings'])} bookings",
        expected="0 bookings: every write went to the override",
    )


@check(
    points=2,
    hint="""get_session must hand out a session and take it back after the request, and each
    request must get a session of its own. Where is your session made: once, when the module loads, or
    by the dependency at every request? And what ends it when the request is over?""",
    see="02-db-session.ipynb#the-dependency-and-its-alias",
)
async def test_one_fresh_session_per_request(nb: Notebook, rng: Random) -> None:
    found = await nb.call(global_sessions)
    expect(
        not found,
        called="the notebook's global names",
        got=f"sessions in {found}",
        expected="no session outside a request",
    )
    member = rng.choice(MEMBERS)
    for method, path, body in (
        ("GET", "/classes", None),
        ("POST", "/classes/2/bookings", {"member": member}),
        ("POST", "/classes/2/bookings", {"member": member}),
        ("DELETE", "/bookings/1", None),
    ):
        traced = await nb.trace(method, path, json=body)
        opened, closed = traced.calls("get_session"), traced.exits("get_session")
        expect(
            opened == 1 and closed == 1,
            called=f"{method} {path} {body or ''}, traced",
            got=f"get_session opened {opened} time(s), torn down {closed} time(s)",
            expected="opened once and torn down once",
            seen=traced.text,
        )


class Bookings(Machine):
    """Any sequence of bookings (of open, full, unknown classes; twice; invalid), cancellations (of
    held, cancelled, unknown bookings) and timetable reads, as the reference handles it: the answers,
    then what the two tables hold."""

    @rule(class_id=st.sampled_from([1, 2, 3, 7]), member=st.sampled_from(MEMBERS[:4]))
    def book(self, class_id: int, member: str) -> None:
        self.same(*self.send("POST", f"/classes/{class_id}/bookings", json={"member": member}))

    @rule(booking=st.integers(1, 5))
    def cancel(self, booking: int) -> None:
        self.same(*self.send("DELETE", f"/bookings/{booking}"), json=False)

    @rule()
    def timetable(self) -> None:
        self.same(*self.send("GET", "/classes"))

    @rule(class_id=st.sampled_from([1, 3]))
    def invalid(self, class_id: int) -> None:
        self.same(*self.send("POST", f"/classes/{class_id}/bookings", json={"member": ""}))

    def tour(self) -> None:
        self.book(3, "ada")
        self.book(3, "kai")
        self.book(1, "ada")
        self.book(1, "ada")
        self.book(7, "noor")
        self.invalid(1)
        self.tables_agree()
        self.cancel(1)
        self.cancel(1)
        self.book(3, "kai")
        self.timetable()
        self.tables_agree()

    @invariant()
    def tables_agree(self) -> None:
        learner, reference = self.call(lambda nb: nb.call(tables))
        self.agree("places left per class", learner["places"], reference["places"])
        self.agree("bookings held [class, member]", learner["bookings"], reference["bookings"])


@check(
    points=3,
    hint="""In some sequence of bookings and cancellations (full classes, double bookings,
    unknown ids, invalid bodies), your app answers, or leaves the tables, differently from what the
    exercise asks. Replay the sequence shown, and compare each answer and the tables with the
    acceptance criteria.""",
    see="02-db-session.ipynb#recap",
)
async def test_behaves_as_specified_in_any_sequence(differential: Differential) -> None:  # noqa: F811
    await differential.run(Bookings, examples=2, steps=5)
