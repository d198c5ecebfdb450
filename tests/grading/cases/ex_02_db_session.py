"""Exercise 02-db-session: the mistakes its checks must catch, and correct answers written differently."""

EX = "02-db-session"
DIFFERENTIAL = "test_behaves_as_specified_in_any_sequence"

# (exercise, what the learner did wrong, (text of the solution, replaced by), checks that must fail)
MUTANTS = [
    (
        EX,
        "get_session returns a session instead of yielding it, so nothing closes it",
        (
            """    session = new_session()
    try:
        yield session
    except Exception:
        await session.rollback()
        raise
    finally:
        await session.close()""",
            """    return new_session()""",
        ),
        {"test_one_fresh_session_per_request", "test_no_connection_is_left_checked_out"},
    ),
    (
        EX,
        "one session made at module level and shared by every request",
        (
            """async def get_session() -> AsyncIterator[AsyncSession]:
    session = new_session()""",
            """shared = new_session()


async def get_session() -> AsyncIterator[AsyncSession]:
    session = shared""",
        ),
        {"test_one_fresh_session_per_request"},
    ),
    (
        EX,
        "the dependency rolls back but swallows the error",
        (
            """        await session.rollback()
        raise
""",
            """        await session.rollback()
""",
        ),
        {
            "test_a_full_class_is_409_and_changes_nothing",
            "test_a_double_booking_is_409_and_changes_nothing",
            "test_a_cancellation_gives_the_place_back",
            "test_missing_class_or_booking_is_404",
            DIFFERENTIAL,
        },
    ),
    (
        EX,
        "GET /classes opens its own session instead of using the dependency",
        (
            """async def list_classes(db: Db) -> list[ClassOut]:
    rows = await db.scalars(select(GymClass).order_by(GymClass.id))
    return [ClassOut.model_validate(row) for row in rows]""",
            """async def list_classes() -> list[ClassOut]:
    async with new_session() as db:
        rows = await db.scalars(select(GymClass).order_by(GymClass.id))
        return [ClassOut.model_validate(row) for row in rows]""",
        ),
        {"test_overriding_the_session_reaches_every_route", "test_one_fresh_session_per_request"},
    ),
    (
        EX,
        "the place is committed before the booking is written, so a double booking still takes it",
        (
            """    gym_class.places_left -= 1
    booking = Booking(class_id=class_id, member=wanted.member)""",
            """    gym_class.places_left -= 1
    await db.commit()
    booking = Booking(class_id=class_id, member=wanted.member)""",
        ),
        {"test_a_double_booking_is_409_and_changes_nothing", DIFFERENTIAL},
    ),
    (
        EX,
        "a full class is not refused: places_left goes below zero",
        (
            """    if gym_class.places_left < 1:
        raise HTTPException(409, "this class is full")
""",
            "",
        ),
        {"test_a_full_class_is_409_and_changes_nothing", "test_a_cancellation_gives_the_place_back", DIFFERENTIAL},
    ),
    (
        EX,
        "the unique constraint's IntegrityError is not caught: a double booking is a 500",
        (
            """    try:
        await db.commit()  # both changes, or neither
    except IntegrityError:
        raise HTTPException(409, "this member already has a place in the class")""",
            """    await db.commit()  # both changes, or neither""",
        ),
        {"test_a_double_booking_is_409_and_changes_nothing", DIFFERENTIAL},
    ),
    (
        EX,
        "an unknown class is not looked for: 500 instead of 404",
        (
            """    if gym_class is None:
        raise HTTPException(404, "no such class")
""",
            "",
        ),
        {"test_missing_class_or_booking_is_404", DIFFERENTIAL},
    ),
    (
        EX,
        "a cancellation deletes the booking but does not give the place back",
        (
            """    gym_class = await db.get(GymClass, booking.class_id)
    gym_class.places_left += 1
    await db.delete(booking)""",
            """    await db.delete(booking)""",
        ),
        {"test_a_cancellation_gives_the_place_back", "test_overriding_the_session_reaches_every_route", DIFFERENTIAL},
    ),
    (
        EX,
        "a cancellation is flushed, never committed",
        (
            """    await db.delete(booking)
    await db.commit()""",
            """    await db.delete(booking)
    await db.flush()""",
        ),
        {"test_a_cancellation_gives_the_place_back", "test_overriding_the_session_reaches_every_route", DIFFERENTIAL},
    ),
]

# (exercise, what is written differently, [(text of the solution, replaced by), ...])
ALTERNATIVES = [
    (
        EX,
        "one conditional UPDATE takes the place, and a missing class is told from a full one after",
        [
            ("from sqlalchemy import select\n", "from sqlalchemy import select, update\n"),
            (
                """    gym_class = await db.get(GymClass, class_id)
    if gym_class is None:
        raise HTTPException(404, "no such class")
    if gym_class.places_left < 1:
        raise HTTPException(409, "this class is full")
    gym_class.places_left -= 1
""",
                """    taken = await db.execute(
        update(GymClass)
        .where(GymClass.id == class_id, GymClass.places_left > 0)
        .values(places_left=GymClass.places_left - 1)
    )
    if taken.rowcount == 0:
        if await db.get(GymClass, class_id) is None:
            raise HTTPException(404, "no such class")
        raise HTTPException(409, "this class is full")
""",
            ),
        ],
    ),
    (
        EX,
        "async with closes the session, and the routes answer with dicts",
        [
            (
                """    session = new_session()
    try:
        yield session
    except Exception:
        await session.rollback()
        raise
    finally:
        await session.close()""",
                """    async with new_session() as session:
        try:
            yield session
        except Exception:
            await session.rollback()
            raise""",
            ),
            (
                """async def list_classes(db: Db) -> list[ClassOut]:
    rows = await db.scalars(select(GymClass).order_by(GymClass.id))
    return [ClassOut.model_validate(row) for row in rows]""",
                """async def list_classes(db: Db) -> list[dict]:
    rows = await db.scalars(select(GymClass).order_by(GymClass.id))
    return [{"id": r.id, "name": r.name, "places_left": r.places_left} for r in rows]""",
            ),
            (
                "    return BookingOut.model_validate(booking)",
                '    return {"id": booking.id, "class_id": class_id, "member": booking.member}',
            ),
        ],
    ),
    (
        EX,
        "the routes return the rows and let the response models read them",
        [
            ("    return [ClassOut.model_validate(row) for row in rows]", "    return list(rows)"),
            ("    return BookingOut.model_validate(booking)", "    return booking"),
        ],
    ),
    (
        EX,
        "a double booking is looked for first, and the writes flushed before one commit",
        [
            (
                """    gym_class.places_left -= 1
    booking = Booking(class_id=class_id, member=wanted.member)""",
                """    held = select(Booking.id).where(
        Booking.class_id == class_id, Booking.member == wanted.member
    )
    if await db.scalar(held) is not None:
        raise HTTPException(409, "this member already has a place in the class")
    gym_class.places_left -= 1
    booking = Booking(class_id=class_id, member=wanted.member)""",
            ),
            (
                """    try:
        await db.commit()  # both changes, or neither
    except IntegrityError:
        raise HTTPException(409, "this member already has a place in the class")""",
                """    try:
        await db.flush()
    except IntegrityError:
        await db.rollback()
        raise HTTPException(409, "this member already has a place in the class")
    await db.commit()""",
            ),
        ],
    ),
]
