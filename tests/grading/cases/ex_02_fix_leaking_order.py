"""Exercise 02-fix-leaking-order: the mistakes its checks must catch, and correct fixes written differently.

Most mistakes are other versions of `get_db` (the region of the fix). A workaround that keeps the
shipped session and patches the order code edits two places of one cell, the dependency and the
endpoints: such a mutant replaces the span of the cell from `get_db` to the last code it changes,
read from the solution (`_span`), with the edits applied to it (`_edited`).
"""

from book import SOLUTIONS
from book.core import nbfiles

EX = "02-fix-leaking-order"

_API = next(
    cell.source
    for cell in nbfiles.read(SOLUTIONS / f"{EX}.ipynb", as_version=4).cells
    if cell.cell_type == "code" and "### BEGIN SOLUTION" in cell.source
)

FIX = """async def get_db() -> AsyncIterator[AsyncSession]:
    async with new_session() as session:
        try:
            yield session
        except Exception:
            await session.rollback()
            raise
"""
SHIPPED = """shop_session = new_session()


async def get_db() -> AsyncSession:
    return shop_session
"""
SOLD_OUT = """        if pastry.in_stock < line.quantity:
            raise HTTPException(409, f"Sold out: {pastry.in_stock} {pastry.name} left")
"""
UNKNOWN = """        if pastry is None:
            raise HTTPException(404, f"We do not bake {line.pastry!r}")
"""
QUOTED = "    _, total = await take_order(db, wanted)  # and nothing is committed\n"


def _edited(last: str, *edits: tuple[str, str]) -> tuple[str, str]:
    """The cell from get_db to the end of `last`, and the same text with the shipped session back
    in place of the fix and `edits` applied (each old text once in the span)."""
    start = _API.index(FIX)
    end = _API.index(last, start) + len(last)
    old = _API[start:end]
    new = old.replace(FIX, SHIPPED, 1)
    for before, after in edits:
        if new.count(before) != 1:
            raise LookupError(f"{EX}: not once in the span of the mutant: {before!r}")
        new = new.replace(before, after)
    return old, new


LEAKS = "test_refused_orders_and_quotes_leave_nothing_behind"
AT_ONCE = "test_orders_in_flight_at_once_do_not_mix"
POOL = "test_every_request_gives_its_connection_back"
SEQUENCES = "test_behaves_as_specified_in_any_sequence"
ALL_BUG_CHECKS = {LEAKS, AT_ONCE, POOL, SEQUENCES}

# (exercise, what the learner did wrong, (text of the solution, replaced by), checks that must fail)
MUTANTS = [
    (EX, "the exercise as shipped: one session, made once, for every request", (FIX, SHIPPED), ALL_BUG_CHECKS),
    (
        EX,
        "the shared session kept, yielded and rolled back on error",
        (
            FIX,
            """shop_session = new_session()


async def get_db() -> AsyncIterator[AsyncSession]:
    try:
        yield shop_session
    except Exception:
        await shop_session.rollback()
        raise
""",
        ),
        ALL_BUG_CHECKS,
    ),
    (
        EX,
        "the shared session kept, rolled back in the order code when a line is sold out",
        _edited(
            SOLD_OUT,
            (
                SOLD_OUT,
                """        if pastry.in_stock < line.quantity:
            refused = f"Sold out: {pastry.in_stock} {pastry.name} left"
            await db.rollback()
            raise HTTPException(409, refused)
""",
            ),
        ),
        ALL_BUG_CHECKS,
    ),
    (
        EX,
        "the shared session kept, rolled back on every refusal and after every quote",
        _edited(
            QUOTED,
            (
                UNKNOWN,
                """        if pastry is None:
            await db.rollback()
            raise HTTPException(404, f"We do not bake {line.pastry!r}")
""",
            ),
            (
                SOLD_OUT,
                """        if pastry.in_stock < line.quantity:
            refused = f"Sold out: {pastry.in_stock} {pastry.name} left"
            await db.rollback()
            raise HTTPException(409, refused)
""",
            ),
            (QUOTED, QUOTED + "    await db.rollback()\n"),
        ),
        {AT_ONCE, POOL, SEQUENCES},
    ),
    (
        EX,
        "the shared session kept, every line checked before anything is written",
        _edited(
            "    order = Order(customer=wanted.customer)\n",
            (
                "    order = Order(customer=wanted.customer)\n",
                """    for line in wanted.lines:  # refuse first
        pastry = await db.scalar(select(Pastry).where(Pastry.name == line.pastry))
        if pastry is None:
            raise HTTPException(404, f"We do not bake {line.pastry!r}")
        if pastry.in_stock < line.quantity:
            raise HTTPException(409, f"Sold out: {pastry.in_stock} {pastry.name} left")
    order = Order(customer=wanted.customer)
""",
            ),
        ),
        ALL_BUG_CHECKS,
    ),
    (
        EX,
        "the shared session kept, expunge_all before each request",
        (
            FIX,
            """shop_session = new_session()


async def get_db() -> AsyncSession:
    shop_session.expunge_all()
    return shop_session
""",
        ),
        ALL_BUG_CHECKS,
    ),
    (
        EX,
        "the shared session kept, rolled back at the start of each request",
        (
            FIX,
            """shop_session = new_session()


async def get_db() -> AsyncSession:
    await shop_session.rollback()  # forget what an earlier request left
    return shop_session
""",
        ),
        {AT_ONCE, POOL, SEQUENCES},
    ),
    (
        EX,
        "the shared session kept, committed after yield",
        (
            FIX,
            """shop_session = new_session()


async def get_db() -> AsyncIterator[AsyncSession]:
    yield shop_session
    await shop_session.commit()
""",
        ),
        {LEAKS, AT_ONCE, SEQUENCES},
    ),
    (
        EX,
        "the sold-out refusal taken out, the shared session kept",
        _edited(SOLD_OUT, (SOLD_OUT, "")),
        ALL_BUG_CHECKS | {"test_sold_out_and_unknown_pastries_are_refused"},
    ),
    (
        EX,
        "a new session per request, never closed",
        (
            FIX,
            """async def get_db() -> AsyncSession:
    return new_session()
""",
        ),
        ALL_BUG_CHECKS | {"test_sold_out_and_unknown_pastries_are_refused"},
    ),
    (
        EX,
        "a new session per request, yielded and rolled back on error, never closed",
        (
            FIX,
            """async def get_db() -> AsyncIterator[AsyncSession]:
    session = new_session()
    try:
        yield session
    except Exception:
        await session.rollback()
        raise
""",
        ),
        ALL_BUG_CHECKS,
    ),
    (
        EX,
        "a session per request, committed after yield whatever happened",
        (
            FIX,
            """async def get_db() -> AsyncIterator[AsyncSession]:
    async with new_session() as session:
        try:
            yield session
        finally:
            await session.commit()
""",
        ),
        {LEAKS, AT_ONCE, SEQUENCES},
    ),
    (
        EX,
        "a session per request, committed after yield when the request went well",
        (
            FIX,
            """async def get_db() -> AsyncIterator[AsyncSession]:
    async with new_session() as session:
        yield session
        await session.commit()
""",
        ),
        {LEAKS, AT_ONCE, SEQUENCES},
    ),
    (
        EX,
        "a session per request that swallows the error (no re-raise)",
        (
            """            await session.rollback()
            raise
""",
            """            await session.rollback()
""",
        ),
        {
            "test_orders_are_placed_and_read_back",
            "test_sold_out_and_unknown_pastries_are_refused",
            LEAKS,
            AT_ONCE,
            SEQUENCES,
        },
    ),
    (
        EX,
        "a session per request, made with AsyncSession(engine): expire_on_commit left on",
        (
            "    async with new_session() as session:\n        try:\n",
            "    async with AsyncSession(engine) as session:\n        try:\n",
        ),
        {"test_orders_are_placed_and_read_back", "test_restocking_adds_to_the_shelf", LEAKS, AT_ONCE, SEQUENCES},
    ),
]

# (exercise, what is written differently, [(text of the solution, replaced by), ...])
ALTERNATIVES = [
    (
        EX,
        "async with alone: closing the session rolls back what was not committed",
        [
            (
                FIX,
                """async def get_db() -> AsyncIterator[AsyncSession]:
    async with new_session() as session:
        yield session
""",
            ),
        ],
    ),
    (
        EX,
        "try, except and finally, the session closed by hand",
        [
            (
                FIX,
                """async def get_db() -> AsyncIterator[AsyncSession]:
    session = new_session()
    try:
        yield session
    except Exception:
        await session.rollback()
        raise
    finally:
        await session.close()
""",
            ),
        ],
    ),
    (
        EX,
        'the dependency with scope="function": closed right after the endpoint',
        [
            (
                "Db = Annotated[AsyncSession, Depends(get_db)]",
                'Db = Annotated[AsyncSession, Depends(get_db, scope="function")]',
            ),
        ],
    ),
    (
        EX,
        "an asynccontextmanager of the unit of work, entered by the dependency",
        [
            (
                FIX,
                """from contextlib import asynccontextmanager


@asynccontextmanager
async def unit_of_work() -> AsyncIterator[AsyncSession]:
    session = new_session()
    try:
        yield session
    except BaseException:
        await session.rollback()
        raise
    finally:
        await session.close()


async def get_db() -> AsyncIterator[AsyncSession]:
    async with unit_of_work() as session:
        yield session
""",
            ),
        ],
    ),
    (
        EX,
        "a callable class holding the factory, with an async generator __call__",
        [
            (
                FIX,
                """class SessionPerRequest:
    def __init__(self, factory: async_sessionmaker[AsyncSession]) -> None:
        self.factory = factory

    async def __call__(self) -> AsyncIterator[AsyncSession]:
        async with self.factory() as session:
            try:
                yield session
            except Exception:
                await session.rollback()
                raise


get_db = SessionPerRequest(new_session)
""",
            ),
        ],
    ),
    (
        EX,
        "AsyncSession made directly, expire_on_commit=False, rolled back if still in a transaction",
        [
            (
                FIX,
                """async def get_db() -> AsyncIterator[AsyncSession]:
    async with AsyncSession(engine, expire_on_commit=False) as session:
        try:
            yield session
        finally:
            if session.in_transaction():
                await session.rollback()
""",
            ),
        ],
    ),
]
