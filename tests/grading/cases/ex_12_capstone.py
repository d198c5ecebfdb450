"""Exercise 12-capstone: the mistakes its checks must catch, and correct answers written differently."""

EX = "12-capstone"
DIFFERENTIAL = "test_behaves_as_specified_in_any_sequence"
KEPT_OUT = "test_strangers_and_other_spaces_are_kept_out"
SLOT = "test_a_slot_is_booked_once_even_at_once"
WHO_MAY = "test_hosts_add_rooms_and_members_cancel_their_own"
RESOURCES = "test_the_lifespan_owns_the_resources_and_a_request_one_session"
CACHE = "test_the_room_list_is_cached_per_space_and_survives_an_outage"

# (exercise, what the learner did wrong, (text of the solution, replaced by), checks that must fail)
MUTANTS = [
    (
        EX,
        "the room is found by its id alone, whatever the caller's space",
        ("    if room is None or room.space_id != me.space_id:", "    if room is None:"),
        {KEPT_OUT, DIFFERENTIAL},
    ),
    (
        EX,
        "a booking is found by its id alone: a host of another space may cancel it",
        (
            "            .where(Booking.id == booking_id, Room.space_id == me.space_id))",
            "            .where(Booking.id == booking_id))",
        ),
        {KEPT_OUT, DIFFERENTIAL},
    ),
    (
        EX,
        "any member adds rooms",
        ("async def add_room(new: NewRoom, host: Host,", "async def add_room(new: NewRoom, host: Me,"),
        {WHO_MAY, DIFFERENTIAL},
    ),
    (
        EX,
        "only the member who booked may cancel: the host's exception is missing",
        ("    if booking.member_id != me.id and not me.is_host:", "    if booking.member_id != me.id:"),
        {WHO_MAY, DIFFERENTIAL},
    ),
    (
        EX,
        "401 without WWW-Authenticate",
        (
            'raise HTTPException(401, "unknown key", headers={"WWW-Authenticate": "Bearer"})',
            'raise HTTPException(401, "unknown key")',
        ),
        {KEPT_OUT, DIFFERENTIAL},
    ),
    (EX, "the lifespan never closes Redis", ("            await store.aclose()\n", ""), {RESOURCES}),
    (
        EX,
        "the key check opens a session of its own: two sessions a request",
        (
            """],
    session: Db,
) -> Member:
    found = None
    if sent is not None:
        wanted = digest(sent.credentials)
        found = await session.scalar(select(Member).where(Member.key_digest == wanted))""",
            """],
    request: Request,
) -> Member:
    found = None
    if sent is not None:
        wanted = digest(sent.credentials)
        async with request.state.sessions() as own:
            found = await own.scalar(select(Member).where(Member.key_digest == wanted))""",
        ),
        {RESOURCES},
    ),
    (
        EX,
        "the session is returned, not yielded: nothing closes it",
        (
            """    async with request.state.sessions() as session:
        yield session""",
            """    return request.state.sessions()""",
        ),
        {RESOURCES},
    ),
    (
        EX,
        "the cache's TTL is a constant, not settings.room_list_ttl",
        ("json.dumps(rooms), ex=self.ttl)", "json.dumps(rooms), ex=60)"),
        {CACHE},
    ),
    (EX, "adding a room does not forget the cached list", ("    await cached.drop()\n", ""), {CACHE, DIFFERENTIAL}),
    (
        EX,
        "one cache key for every space",
        ('self.key, self.ttl = store, f"rooms:{space_id}", ttl', 'self.key, self.ttl = store, "rooms", ttl'),
        {KEPT_OUT, CACHE, DIFFERENTIAL},
    ),
    (
        EX,
        "the cache catches ConnectionError only, so a timeout escapes",
        (
            """            raw = await self.store.get(self.key)
        except redis.exceptions.RedisError:""",
            """            raw = await self.store.get(self.key)
        except redis.exceptions.ConnectionError:""",
        ),
        {CACHE},
    ),
]

# (exercise, what is written differently, [(text of the solution, replaced by), ...])
ALTERNATIVES = [
    (
        EX,
        "the user is asked for by each route, not by the routers; the host check in a route's dependencies",
        [
            (
                'rooms = APIRouter(prefix="/rooms", dependencies=[Depends(signed_in)])',
                'rooms = APIRouter(prefix="/rooms")',
            ),
            (
                'bookings = APIRouter(prefix="/bookings", dependencies=[Depends(signed_in)])',
                'bookings = APIRouter(prefix="/bookings")',
            ),
            (
                '@rooms.post("", status_code=201)\nasync def add_room(new: NewRoom, host: Host,',
                '@rooms.post("", status_code=201, dependencies=[Depends(host_only)])\n'
                "async def add_room(new: NewRoom, host: Me,",
            ),
            (
                "async def cancel(booking: Cancellable, session: Db) -> None:",
                "async def cancel(booking: Cancellable, me: Me, session: Db) -> None:",
            ),
        ],
    ),
    (
        EX,
        "the cancellation rule in the endpoint, the booking loaded with session.get and its room",
        [
            (
                """    query = (select(Booking).join(Room, Room.id == Booking.room_id)
             .where(Booking.id == booking_id, Room.space_id == me.space_id))
    booking = await session.scalar(query)
    if booking is None:
        raise HTTPException(404, "no such booking")
    if booking.member_id != me.id and not me.is_host:
        raise HTTPException(403, "only its member or a host may cancel it")
    return booking""",
                """    booking = await session.get(Booking, booking_id)
    room = None if booking is None else await session.get(Room, booking.room_id)
    if room is None or room.space_id != me.space_id:
        raise HTTPException(404, "no such booking")
    return booking""",
            ),
            (
                """async def cancel(booking: Cancellable, session: Db) -> None:
""",
                """async def cancel(booking: Cancellable, me: Me, session: Db) -> None:
    if me.id != booking.member_id and not me.is_host:
        raise HTTPException(403, "not yours to cancel")
""",
            ),
        ],
    ),
    (
        EX,
        "a quick check for a taken slot before the insert, and the constraint still caught",
        [
            (
                """    booking = Booking(room_id=room.id, member_id=me.id, day=slot.day, hour=slot.hour)
    session.add(booking)""",
                """    taken = select(Booking.id).where(
        Booking.room_id == room.id, Booking.day == slot.day, Booking.hour == slot.hour)
    if await session.scalar(taken) is not None:
        raise HTTPException(409, "booked already")
    booking = Booking(room_id=room.id, member_id=me.id, day=slot.day, hour=slot.hour)
    session.add(booking)""",
            )
        ],
    ),
    (
        EX,
        "the cache as two functions on the Redis client, setex, and the session rolled back on errors",
        [
            (
                """    async with request.state.sessions() as session:
        yield session""",
                """    async with request.state.sessions() as session:
        try:
            yield session
        except Exception:
            await session.rollback()
            raise""",
            ),
            (
                "            await self.store.set(self.key, json.dumps(rooms), ex=self.ttl)",
                "            await self.store.setex(self.key, self.ttl, json.dumps(rooms))",
            ),
            (
                """        try:
            await self.store.delete(self.key)
        except redis.exceptions.RedisError:
            pass""",
                """        with contextlib.suppress(redis.exceptions.RedisError):
            await self.store.delete(self.key)""",
            ),
            ("import json\n", "import contextlib\nimport json\n"),
        ],
    ),
    (
        EX,
        "the lifespan with an AsyncExitStack, Redis closed by a callback",
        [
            (
                """        engine = create_async_engine(settings.database_url)
        if settings.redis_url:
            store = Redis.from_url(settings.redis_url, decode_responses=True)
        else:
            store = FakeAsyncRedis(decode_responses=True)
        try:
            async with engine.begin() as connection:
                await connection.run_sync(Table.metadata.create_all)
            sessions = async_sessionmaker(engine, expire_on_commit=False)
            await seed(sessions)
            yield {"settings": settings, "sessions": sessions, "redis": store}
        finally:
            await store.aclose()
            await engine.dispose()""",
                """        async with AsyncExitStack() as stack:
            engine = create_async_engine(settings.database_url)
            stack.push_async_callback(engine.dispose)
            store = FakeAsyncRedis(decode_responses=True)
            stack.push_async_callback(store.aclose)
            async with engine.begin() as connection:
                await connection.run_sync(Table.metadata.create_all)
            sessions = async_sessionmaker(engine, expire_on_commit=False)
            await seed(sessions)
            yield {"settings": settings, "sessions": sessions, "redis": store}""",
            ),
            (
                "from contextlib import asynccontextmanager\n",
                "from contextlib import AsyncExitStack, asynccontextmanager\n",
            ),
        ],
    ),
]
