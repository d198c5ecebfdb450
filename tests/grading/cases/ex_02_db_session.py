"""Exercise 02-db-session: the mistakes its checks must catch, and correct answers written differently."""

# (exercise, what the learner did wrong, (text of the solution, replaced by), checks that must fail)
MUTANTS = [
    ("02-db-session", "get_session returns a session instead of yielding it, so nothing closes it",
     ("""    async with SessionLocal() as session:
        try:
            yield session
        except Exception:
            await session.rollback()
            raise""", """    return SessionLocal()"""),
     {"test_one_fresh_session_per_request", "test_no_connection_is_left_checked_out"}),
    ("02-db-session", "one session made at module level and shared by every request",
     ("""async def get_session() -> AsyncIterator[AsyncSession]:
    async with SessionLocal() as session:""", """shared = SessionLocal()


async def get_session() -> AsyncIterator[AsyncSession]:
    async with shared as session:"""),
     {"test_one_fresh_session_per_request"}),
    ("02-db-session", "GET /notes opens its own session instead of using DBSession",
     ("""async def list_notes(session: DBSession) -> list[dict]:
    rows = await session.scalars(select(Note).order_by(Note.id))""", """async def list_notes() -> list[dict]:
    async with SessionLocal() as session:
        rows = list(await session.scalars(select(Note).order_by(Note.id)))"""),
     {"test_overriding_the_session_reaches_every_endpoint", "test_one_fresh_session_per_request"}),
    ("02-db-session", "the batch commits note by note",
     ("""    session.add_all(rows)
    try:
        await session.commit()""", """    try:
        for row in rows:
            session.add(row)
            await session.commit()"""),
     {"test_batch_is_all_or_nothing"}),
]

# (exercise, what is written differently, [(text of the solution, replaced by), ...])
ALTERNATIVES = [
]
