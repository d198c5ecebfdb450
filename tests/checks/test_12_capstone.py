"""Hidden checks for exercise 12, the capstone: Deskbook, room booking for co-working spaces.

The exercise gives a specification and a contract (`make_app(settings)`, the tables, `seed`, the
lifespan's state keys "sessions" and "redis"), not an app. Each check but the differential one has
the agent build its own app with the learner's make_app, on a fresh database file and with a cache
TTL made up per grade, recording the engines and Redis clients its lifespan creates; the app is then
served with that lifespan and every request goes through the agent. A member, room labels and slots
are made up per grade. A differential check then drives the learner's app and the reference with
the same sequences of bookings, cancellations, new rooms, races and strangers.
"""

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from random import Random
from typing import Any

import anyio.from_thread
import pytest
from httpx import AsyncClient
from hypothesis import strategies as st
from hypothesis.stateful import invariant, rule

from book.grader.checks import agent_side, check, expect, expect_response
from book.grader.differential import Differential, Machine, differential  # noqa: F401  (a fixture)
from book.grader.remote_notebook import Notebook

EXERCISE = "12-capstone"

# The given people, as the notebook seeds them: handle -> (member id, space, host?, key).
PEOPLE = {
    "noor": (1, 1, True, "noor-k3y"),
    "theo": (2, 1, False, "theo-k3y"),
    "ivy": (3, 1, False, "ivy-k3y"),
    "kemal": (4, 2, True, "kemal-k3y"),
}
GIVEN_ROOMS = {
    1: [{"id": 1, "label": "Quiet Room"}, {"id": 2, "label": "Board Room"}],
    2: [{"id": 3, "label": "Studio"}],
}
LABELS = ["Phone Booth", "Loft", "Garden Room", "Atelier", "Snug", "Library", "Deck", "Annex"]
HANDLES = ["mira", "oskar", "lena", "ravi", "sana", "juno"]


def keyed(key: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"} if key else {}


def as_member(handle: str) -> dict[str, str]:
    return keyed(PEOPLE[handle][3])


# --- the agent's side ------------------------------------------------------------------------------


@agent_side
def build_desk(ctx: "Any", ttl: int) -> "dict[str, Any]":
    """The learner's make_app on a fresh database file, recording what its lifespan creates."""
    import tempfile

    from sqlalchemy import event

    nb = ctx.nb
    made = ctx.made = {"engines": [], "disposed": [], "redis": [], "closed": [], "opened": 0}
    real_engine, real_redis = nb.create_async_engine, nb.FakeAsyncRedis

    def create_async_engine(*args: "Any", **kwargs: "Any") -> "Any":
        # Sessions never closed keep their connections: a request would wait 30 s for one.
        engine = real_engine(*args, **{"pool_timeout": 5, **kwargs})
        made["engines"].append(engine)
        event.listen(engine.sync_engine, "engine_disposed", lambda *_: made["disposed"].append(engine))
        return engine

    class RecordingRedis(real_redis):  # type: ignore[misc,valid-type]  # the notebook's class, untyped here
        def __init__(self, *args: "Any", **kwargs: "Any") -> None:
            super().__init__(*args, **kwargs)
            made["redis"].append(self)

        async def aclose(self, *args: "Any", **kwargs: "Any") -> "Any":
            made["closed"].append(self)
            return await super().aclose(*args, **kwargs)

    nb.create_async_engine, nb.FakeAsyncRedis = create_async_engine, RecordingRedis
    ctx.folder = tempfile.mkdtemp(prefix="desk-check-")
    built = nb.make_app(nb.Settings(database_url=f"sqlite+aiosqlite:///{ctx.folder}/desk.db", room_list_ttl=ttl))
    nb.app = built
    return {"app": type(built).__name__, "engines": len(made["engines"]), "redis": len(made["redis"])}


@agent_side
def remove_desk(ctx: "Any") -> None:
    import shutil

    if getattr(ctx, "folder", None):
        shutil.rmtree(ctx.folder, ignore_errors=True)


@agent_side
async def add_member(ctx: "Any", handle: str, key: str) -> "Any":
    """A member of space 1 (not a host), made up for this grade; their id."""
    nb = ctx.nb
    async with ctx.state["sessions"]() as session:
        member = nb.Member(space_id=1, handle=handle, is_host=False, key_digest=nb.digest(key))
        session.add(member)
        await session.commit()
        return member.id


@agent_side
async def booking_rows(ctx: "Any") -> "list[list[Any]]":
    """Every booking in the database, as [id, room, member, day, hour], by id."""
    from sqlalchemy import select

    nb = ctx.nb
    async with ctx.state["sessions"]() as session:
        return [
            [b.id, b.room_id, b.member_id, b.day, b.hour]
            for b in await session.scalars(select(nb.Booking).order_by(nb.Booking.id))
        ]


@agent_side
def resources(ctx: "Any") -> "dict[str, Any]":
    made = ctx.made
    return {
        "engines": len(made["engines"]),
        "redis": len(made["redis"]),
        "disposed": len(made["disposed"]),
        "closed": len(made["closed"]),
        "all_disposed": made["disposed"] == made["engines"],
        "all_closed": made["closed"] == made["redis"],
        "checked_out": made["engines"][0].pool.checkedout() if made["engines"] else None,
        "opened": made["opened"],
    }


@agent_side
def count_sessions(ctx: "Any") -> None:
    """Put a counting wrapper around the lifespan's session factory (state["sessions"])."""
    made, real = ctx.made, ctx.state["sessions"]

    class Counting:
        def __call__(self, *args: "Any", **kwargs: "Any") -> "Any":
            made["opened"] += 1
            return real(*args, **kwargs)

        def begin(self, *args: "Any", **kwargs: "Any") -> "Any":
            made["opened"] += 1
            return real.begin(*args, **kwargs)

        def __getattr__(self, name: str) -> "Any":
            return getattr(real, name)

    ctx.state["sessions"] = Counting()


@agent_side
def sessions_opened(ctx: "Any") -> "Any":
    """How many sessions were taken from the lifespan's factory since the last call."""
    opened, ctx.made["opened"] = ctx.made["opened"], 0
    return opened


@agent_side
async def redis_ttl(ctx: "Any", key: str) -> "Any":
    return await ctx.state["redis"].ttl(key)


@agent_side
async def redis_set(ctx: "Any", key: str, value: str) -> None:
    await ctx.state["redis"].set(key, value)


@agent_side
def redis_down(ctx: "Any", how: str) -> None:
    """Replace the lifespan's Redis (state["redis"]) by one whose every command fails, as when the
    server refuses connections ("refused") or never answers ("hung": a timeout)."""
    import redis.exceptions

    error = redis.exceptions.ConnectionError if how == "refused" else redis.exceptions.TimeoutError

    class RedisDown:
        def __getattr__(self, name: str) -> "Any":
            async def command(*args: "Any", **kwargs: "Any") -> None:
                raise error("Redis is down")

            return command

        def pipeline(self, *args: "Any", **kwargs: "Any") -> "Any":
            return self

        async def __aenter__(self) -> "Any":
            return self

        async def __aexit__(self, *exc: object) -> bool:
            return False

    ctx.made.setdefault("real_redis", ctx.state["redis"])
    ctx.state["redis"] = RedisDown()


# --- the judge's side --------------------------------------------------------------------------------


@dataclass
class Desk:
    nb: Notebook
    client: AsyncClient
    ttl: int
    before_startup: dict[str, Any]

    async def room(self, label: str, host: str = "noor") -> int:
        called = f'POST /rooms {{"label": "{label}"}} as {host} (a host)'
        response = await self.client.post("/rooms", json={"label": label}, headers=as_member(host))
        expect_response(response, status=201, called=called)
        body = response.json()
        expect(
            isinstance(body, dict) and isinstance(body.get("id"), int) and body.get("label") == label,
            called=called,
            got=body,
            expected=f'{{"id": <an int>, "label": "{label}"}}',
        )
        return int(body["id"])  # an int: checked above


@pytest.fixture
async def built(nb: Notebook, rng: Random) -> AsyncIterator[tuple[int, dict[str, Any]]]:
    ttl = rng.randint(100, 999)
    try:
        before = await nb.call(build_desk, ttl)
        expect(
            before["app"] == "FastAPI",
            called="make_app(Settings(...))",
            got=f"a {before['app']}",
            expected="a FastAPI app",
        )
        yield ttl, before
    finally:
        with contextlib.suppress(Exception):
            await nb.unserve()
        with contextlib.suppress(Exception):
            await nb.call(remove_desk)


@pytest.fixture
async def desk(nb: Notebook, built: tuple[int, dict[str, Any]], client: AsyncClient) -> Desk:
    """The built app, served with its lifespan (`client` after `built`)."""
    keys = await nb.probe("state_keys")
    expect(
        all(key in keys for key in ("sessions", "redis")),
        called="the lifespan's state",
        got=keys or "nothing yielded",
        expected='a state with the keys "sessions" and "redis"',
    )
    ttl, before = built
    return Desk(nb, client, ttl, before)


async def newcomer(desk: Desk, rng: Random) -> tuple[str, str]:
    """A member of Harbour Loft made up for this grade: (handle, key)."""
    handle = rng.choice(HANDLES)
    key = f"{handle}-{rng.getrandbits(48):012x}"
    await desk.nb.call(add_member, handle, key)
    return handle, key


@check(
    points=3,
    hint="""A room or a booking of another space must answer exactly like one that does not
    exist, 404 with the same body, on every route that names it, and GET /rooms lists only the caller's
    space: which dependency finds the room, and does it know the caller's space? Every route needs a key
    found by its digest: no key, an unknown key, the stored digest itself or another scheme answer 401
    with WWW-Authenticate: Bearer.""",
    see="12-capstone.ipynb#what-fastapi-resolves",
)
async def test_strangers_and_other_spaces_are_kept_out(desk: Desk, rng: Random) -> None:
    for who, space in (("theo", 1), ("kemal", 2)):
        expect_response(
            await desk.client.get("/rooms", headers=as_member(who)),
            status=200,
            json=GIVEN_ROOMS[space],
            called=f"GET /rooms as {who}",
        )
    absent = rng.randint(100, 999)
    slot = {"day": rng.randint(2, 365), "hour": rng.randint(8, 19)}
    for who, method, path, foreign, body in (
        ("kemal", "GET", "/rooms/{}/bookings", rng.choice([1, 2]), None),
        ("noor", "POST", "/rooms/{}/bookings", 3, slot),
        (rng.choice(["noor", "theo"]), "DELETE", "/bookings/{}", 2, None),
        ("kemal", "DELETE", "/bookings/{}", 1, None),
    ):
        missing = await desk.client.request(method, path.format(absent), json=body, headers=as_member(who))
        got = await desk.client.request(method, path.format(foreign), json=body, headers=as_member(who))
        expect(
            got.status_code == 404 and missing.status_code == 404 and got.content == missing.content,
            called=f"{method} {path.format(foreign)} as {who} (another space's)",
            got=f"{got.status_code} {got.text}",
            expected=f"what {path.format(absent)}, which does not exist, gets: "
            f"{missing.status_code} {missing.text}, and 404",
        )
    rows = await desk.nb.call(booking_rows)
    expect(
        rows == [[1, 1, 2, 1, 9], [2, 3, 4, 1, 10]],
        called="the bookings, after the requests across spaces",
        got=rows,
        expected="the two seeded bookings, unchanged",
    )
    from hashlib import sha256

    stored = sha256(PEOPLE["noor"][3].encode()).hexdigest()
    unknown = f"{rng.choice(['eve', 'mallory'])}-{rng.randint(1000, 9999)}-k3y"
    variants = [
        ({}, "no Authorization header"),
        (keyed(unknown), "an unknown key"),
        (keyed(stored), "noor's stored digest as the key"),
        ({"Authorization": "Basic bm9vcjp4"}, "Basic credentials"),
    ]
    rng.shuffle(variants)
    routes: list[tuple[str, str, dict[str, Any] | None]] = [
        ("GET", "/rooms", None),
        ("POST", "/rooms", {"label": "X"}),
        ("GET", "/rooms/1/bookings", None),
        ("POST", "/rooms/1/bookings", {"day": 5, "hour": 9}),
        ("DELETE", "/bookings/1", None),
    ]
    for number, (method, path, body) in enumerate(routes):
        headers, label = variants[number % len(variants)]
        expect_response(
            await desk.client.request(method, path, json=body, headers=headers),
            status=401,
            headers={"WWW-Authenticate": "Bearer"},
            called=f"{method} {path} with {label}",
        )
    rows = await desk.nb.call(booking_rows)
    expect(
        len(rows) == 2,
        called="the bookings, after requests without a valid key",
        got=rows,
        expected="the two seeded bookings",
    )


@check(
    points=2,
    hint="""A slot is booked once: the second request for it answers 409, even when
    several arrive at the same moment, and a day outside 1-365 or an hour outside 8-19 is 422.
    Between checking that a slot is free and inserting, another request can insert: what in the
    given tables makes the database refuse the second one, and what does your code do then?""",
    see="02-db-session.ipynb#the-dependency-and-its-alias",
)
async def test_a_slot_is_booked_once_even_at_once(desk: Desk, rng: Random) -> None:
    handle, key = await newcomer(desk, rng)
    room = rng.choice([1, 2])
    day, hour = rng.randint(2, 365), rng.randint(8, 19)
    slot = {"day": day, "hour": hour}
    path = f"/rooms/{room}/bookings"
    made = await desk.client.post(path, json=slot, headers=keyed(key))
    expect_response(made, status=201, called=f"POST {path} {slot} as {handle}")
    body = made.json()
    expect(
        isinstance(body, dict)
        and isinstance(body.get("id"), int)
        and {k: body.get(k) for k in ("room_id", "day", "hour", "member")}
        == {"room_id": room, "day": day, "hour": hour, "member": handle},
        called=f"POST {path} {slot} as {handle}",
        got=body,
        expected=f'{{"id": <an int>, "room_id": {room}, "day": {day}, "hour": {hour}, "member": "{handle}"}}',
    )
    expect_response(
        await desk.client.post(path, json=slot, headers=as_member("theo")),
        status=409,
        called=f"POST {path} {slot} as theo, after {handle} booked it",
    )
    for bad in (
        rng.choice([{"day": 0, "hour": hour}, {"day": 366, "hour": hour}]),
        rng.choice([{"day": day, "hour": 7}, {"day": day, "hour": 20}]),
    ):
        expect_response(
            await desk.client.post(path, json=bad, headers=as_member("theo")),
            status=422,
            called=f"POST {path} {bad} as theo",
        )
    other = {"day": day, "hour": 8 + (hour - 7) % 12}
    who = ["noor", "theo", "ivy", "theo"]
    answers = await asyncio.gather(*(desk.client.post(path, json=other, headers=as_member(name)) for name in who))
    statuses = sorted(answer.status_code for answer in answers)
    expect(
        statuses == [201] + [409] * (len(who) - 1),
        called=f"{len(who)} × POST {path} {other} at the same moment",
        got=statuses,
        expected=f"one 201 and {len(who) - 1} × 409",
    )
    listed = await desk.client.get(path, headers=as_member("ivy"))
    expect_response(listed, status=200, called=f"GET {path} as ivy")
    slots = [[entry.get("day"), entry.get("hour")] for entry in listed.json()]
    wanted = sorted([[day, hour], [other["day"], other["hour"]]] + ([[1, 9]] if room == 1 else []))
    expect(
        slots == wanted,
        called=f"GET {path} as ivy",
        got=listed.text,
        expected=f"the bookings of these slots, by day then hour: {wanted}",
    )


@check(
    points=3,
    hint="""Hosts add rooms (a member gets 403; a label of 1 to 40 characters, else
    422). A booking is cancelled by the member who made it or by a host of its space (204), and
    refused to the other members of the space (403); the slot is free again after. The chapter
    checks roles only: the cancellation rule also needs the booking's owner.""",
    see="04-role-checks.ipynb#a-dependency-that-takes-arguments",
)
async def test_hosts_add_rooms_and_members_cancel_their_own(desk: Desk, rng: Random) -> None:
    label, refused = rng.sample(LABELS, 2)
    expect_response(
        await desk.client.post("/rooms", json={"label": refused}, headers=as_member("ivy")),
        status=403,
        called=f'POST /rooms {{"label": "{refused}"}} as ivy (a member)',
    )
    for bad in (rng.choice(["", "x" * 41]),):
        expect_response(
            await desk.client.post("/rooms", json={"label": bad}, headers=as_member("noor")),
            status=422,
            called=f'POST /rooms {{"label": "{bad}"}} as noor',
        )
    room = await desk.room(label)
    expect_response(
        await desk.client.get("/rooms", headers=as_member("theo")),
        status=200,
        json=[*GIVEN_ROOMS[1], {"id": room, "label": label}],
        called="GET /rooms as theo, after noor's",
    )
    handle, key = await newcomer(desk, rng)
    room = rng.choice([1, 2])
    days = rng.sample(range(2, 366), 2)
    ids = []
    for day in days:
        made = await desk.client.post(f"/rooms/{room}/bookings", json={"day": day, "hour": 11}, headers=keyed(key))
        expect_response(
            made, status=201, called=f'POST /rooms/{room}/bookings {{"day": {day}, "hour": 11}} as {handle}'
        )
        ids.append(made.json()["id"])
    mine, hosted = ids
    expect_response(
        await desk.client.delete(f"/bookings/{mine}", headers=as_member("ivy")),
        status=403,
        called=f"DELETE /bookings/{mine} ({handle}'s) as ivy, a member of the same space",
    )
    expect_response(
        await desk.client.delete(f"/bookings/{mine}", headers=keyed(key)),
        status=204,
        called=f"DELETE /bookings/{mine} as {handle}, who booked it",
    )
    expect_response(
        await desk.client.delete(f"/bookings/{hosted}", headers=as_member("noor")),
        status=204,
        called=f"DELETE /bookings/{hosted} ({handle}'s) as noor, a host of the space",
    )
    expect_response(
        await desk.client.delete(f"/bookings/{mine}", headers=keyed(key)),
        status=404,
        called=f"DELETE /bookings/{mine} again",
    )
    again = {"day": days[0], "hour": 11}
    expect_response(
        await desk.client.post(f"/rooms/{room}/bookings", json=again, headers=as_member("theo")),
        status=201,
        called=f"POST /rooms/{room}/bookings {again} as theo, after the cancellation",
    )
    rows = await desk.nb.call(booking_rows)
    expect(
        [row[1:] for row in rows] == [[1, 2, 1, 9], [3, 4, 1, 10], [room, 2, days[0], 11]],
        called="the bookings in the database",
        got=rows,
        expected="the two seeded bookings and theo's new one",
    )


@check(
    points=4,
    hint="""make_app(settings) creates nothing: its lifespan creates one engine and one Redis
    client at startup and closes both at shutdown, in a way that still runs when the app stops on an
    error. Each request gets one session from the lifespan's factory, shared by every dependency that
    needs it (the key check included), and closed after the response, whatever the request answered.
    Where is each resource made, and in how many ways does your code get hold of a session?""",
    see="12-capstone.ipynb#the-app",
)
async def test_the_lifespan_owns_the_resources_and_a_request_one_session(desk: Desk, rng: Random) -> None:
    before = desk.before_startup
    expect(
        not before["engines"] and not before["redis"],
        called="make_app(Settings(...)), before startup",
        got=f"{before['engines']} engine(s), {before['redis']} Redis client(s)",
        expected="none yet",
    )
    await desk.nb.call(count_sessions)
    slot = {"day": rng.randint(2, 365), "hour": rng.randint(8, 19)}
    routes: list[tuple[str, str, dict[str, Any] | None, str | None]] = [
        ("GET", "/rooms", None, "ivy"),
        ("POST", "/rooms", {"label": rng.choice(LABELS)}, "noor"),
        ("POST", "/rooms", {"label": "Nope"}, "theo"),
        ("GET", "/rooms/2/bookings", None, "theo"),
        ("POST", "/rooms/2/bookings", slot, "theo"),
        ("POST", "/rooms/2/bookings", slot, "ivy"),
        ("DELETE", "/bookings/1", None, "ivy"),
        ("GET", "/rooms", None, None),
    ]
    for method, path, body, who in routes:
        response = await desk.client.request(method, path, json=body, headers=as_member(who) if who else {})
        opened = await desk.nb.call(sessions_opened)
        expect(
            opened == 1,
            called=f"{method} {path} as {who or 'nobody'} (answered {response.status_code})",
            got=f"{opened} session(s) taken from the lifespan's factory",
            expected="exactly one",
        )
    await asyncio.gather(
        *(
            desk.client.request(method, path, json=body, headers=as_member(who) if who else {})
            for method, path, body, who in (routes * 2)
        )
    )
    checked_out = (await desk.nb.call(resources))["checked_out"]
    expect(
        checked_out == 0,
        called=f"{len(routes) * 2} concurrent requests, some refused",
        got=f"{checked_out} connection(s) still checked out",
        expected="none",
    )
    made = await desk.nb.call(resources)
    expect(
        made["engines"] == 1 and made["redis"] == 1,
        called="startup and the requests above",
        got=f"{made['engines']} engine(s), {made['redis']} Redis client(s)",
        expected="one of each",
    )
    await desk.nb.unserve()
    made = await desk.nb.call(resources)
    expect(
        made["all_disposed"] and made["all_closed"],
        called="shutdown",
        got=f"{made['disposed']} engine(s) disposed, {made['closed']} Redis client(s) closed",
        expected="the engine disposed and the Redis client closed",
    )


@check(
    points=4,
    hint="""GET /rooms goes through the cache: a hit answers from Redis; a miss stores the list
    as JSON under rooms:<space id> for settings.room_list_ttl seconds (from the settings the app was
    made with, not a constant). Each space has its own key, adding a room forgets it once the room is
    committed, and with Redis down (refused or timing out) the API answers from the database: which
    exception class covers every way a Redis command fails?""",
    see="12-capstone.ipynb#the-cache-and-a-redis-outage",
)
async def test_the_room_list_is_cached_per_space_and_survives_an_outage(desk: Desk, rng: Random) -> None:
    await desk.client.get("/rooms", headers=as_member("theo"))
    ttl = await desk.nb.call(redis_ttl, "rooms:1")
    expect(
        desk.ttl - 5 <= ttl <= desk.ttl,
        called=f"GET /rooms as theo, with Settings(room_list_ttl={desk.ttl})",
        got=f"TTL of rooms:1: {ttl}",
        expected=f"{desk.ttl}, give or take a few seconds (-2: no such key)",
    )
    planted = [{"id": rng.randint(40, 99), "label": rng.choice(LABELS)}]
    await desk.nb.call(redis_set, "rooms:1", json.dumps(planted))
    expect_response(
        await desk.client.get("/rooms", headers=as_member("ivy")),
        status=200,
        json=planted,
        called="GET /rooms as ivy, with a list planted in Redis under rooms:1",
    )
    expect_response(
        await desk.client.get("/rooms", headers=as_member("kemal")),
        status=200,
        json=GIVEN_ROOMS[2],
        called="GET /rooms as kemal (space 2)",
    )
    label = rng.choice(LABELS)
    room = await desk.room(label)
    expect_response(
        await desk.client.get("/rooms", headers=as_member("theo")),
        status=200,
        json=[*GIVEN_ROOMS[1], {"id": room, "label": label}],
        called="GET /rooms after noor added a room",
    )
    rooms = [*GIVEN_ROOMS[1], {"id": room, "label": label}]
    for how, label in zip(("refused", "hung"), rng.sample(LABELS, 2), strict=True):
        await desk.nb.call(redis_down, how)
        down = "Redis down" + (" (a timeout)" if how == "hung" else "")
        created = await desk.client.post("/rooms", json={"label": label}, headers=as_member("noor"))
        expect_response(created, status=201, called=f'POST /rooms {{"label": "{label}"}} with {down}')
        rooms.append({"id": created.json()["id"], "label": label})
        expect_response(
            await desk.client.get("/rooms", headers=as_member("noor")),
            status=200,
            json=rooms,
            called=f"GET /rooms with {down}",
        )


# --- the differential check ------------------------------------------------------------------------


WHO = sorted(PEOPLE)
ROOM = st.integers(1, 4)  # room 4 exists only once a host added it
BOOKING = st.integers(1, 5)


class Bookings(Machine):
    """Any sequence of bookings, cancellations, new rooms, races and strangers, as the reference
    answers it: statuses, successful bodies and the bookings stored."""

    @rule(who=st.sampled_from(WHO))
    def list_rooms(self, who: str) -> None:
        self.same(*self.send("GET", "/rooms", headers=as_member(who)))

    @rule(who=st.sampled_from(WHO), valid=st.booleans())
    def add_room(self, who: str, valid: bool) -> None:
        label = "Snug" if valid or not PEOPLE[who][2] else ""
        self.same(*self.send("POST", "/rooms", json={"label": label}, headers=as_member(who)))

    @rule(who=st.sampled_from(WHO), room=ROOM)
    def list_bookings(self, who: str, room: int) -> None:
        self.same(*self.send("GET", f"/rooms/{room}/bookings", headers=as_member(who)))

    @rule(who=st.sampled_from(WHO), room=ROOM, day=st.integers(1, 2), hour=st.sampled_from([9, 10]))
    def book(self, who: str, room: int, day: int, hour: int) -> None:
        self.same(
            *self.send("POST", f"/rooms/{room}/bookings", json={"day": day, "hour": hour}, headers=as_member(who))
        )

    @rule(who=st.sampled_from(["theo", "noor"]), room=st.integers(1, 2), which=st.sampled_from(["day", "hour"]))
    def bad_slot(self, who: str, room: int, which: str) -> None:
        slot = {"day": 0, "hour": 9} if which == "day" else {"day": 1, "hour": 20}
        self.same(*self.send("POST", f"/rooms/{room}/bookings", json=slot, headers=as_member(who)))

    @rule(who=st.sampled_from(WHO), booking=BOOKING)
    def cancel(self, who: str, booking: int) -> None:
        self.same(*self.send("DELETE", f"/bookings/{booking}", headers=as_member(who)))

    @rule(key=st.sampled_from(["", "noor-k3", "not-a-key"]))
    def stranger(self, key: str) -> None:
        self.same(*self.send("GET", "/rooms", headers=keyed(key)), headers=("www-authenticate",))

    @rule(room=st.integers(1, 2), day=st.integers(1, 2))
    def race(self, room: int, day: int) -> None:
        """Theo asks for one slot four times at once: one 201, three 409, whatever the order."""
        slot = {"day": day, "hour": 10}
        self.step(f"at once: 4 × POST /rooms/{room}/bookings {slot} as theo")

        async def burst(client: AsyncClient) -> list[int]:
            answers = await asyncio.gather(
                *(client.post(f"/rooms/{room}/bookings", json=slot, headers=as_member("theo")) for _ in range(4))
            )
            return sorted(answer.status_code for answer in answers)

        learner = anyio.from_thread.run(burst, self._client(self.current.learner))
        reference = anyio.from_thread.run(burst, self._client(self.current.reference))
        self.agree("the statuses of the 4 requests, sorted", learner, reference)

    def tour(self) -> None:
        self.list_rooms("kemal")
        self.list_rooms("theo")  # cached per space
        self.add_room("theo", True)  # 403
        self.add_room("noor", False)  # 422
        self.add_room("noor", True)  # room 4, in space 1
        self.list_rooms("ivy")  # room 4 listed
        self.book("ivy", 4, 1, 9)  # booking 3
        self.bad_slot("theo", 2, "hour")
        self.list_bookings("theo", 3)  # another space's: 404
        self.cancel("theo", 3)  # ivy's: 403
        self.cancel("kemal", 3)  # another space's: 404
        self.cancel("noor", 3)  # a host: 204
        self.race(2, 1)
        self.stranger("not-a-key")
        self.bookings_agree()

    @invariant()
    def bookings_agree(self) -> None:
        learner, reference = self.call(lambda nb: nb.call(booking_rows))
        self.agree("bookings in the database", learner, reference)


@check(
    points=3,
    hint="""In some sequence of requests (new rooms, bookings, cancellations, races),
    your app answers, or stores bookings, differently from what the specification asks. Replay
    the sequence shown in your notebook and compare each answer with the acceptance criteria.""",
    see="12-capstone.ipynb#the-app",
)
async def test_behaves_as_specified_in_any_sequence(differential: Differential) -> None:  # noqa: F811
    await differential.run(Bookings, examples=2, steps=5)
