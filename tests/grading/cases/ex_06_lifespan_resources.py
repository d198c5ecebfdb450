"""Exercise 06-lifespan-resources: the mistakes its checks must catch, and correct answers written differently."""

EX = "06-lifespan-resources"

# (exercise, what the learner did wrong, (text of the solution, replaced by), checks that must fail)
MUTANTS = [
    (
        EX,
        "the file is read outside the try: a failed read leaves the carrier open",
        (
            """    carrier = open_carrier()
    try:
        sheet = Sheet(read_tariffs(TARIFF_FILE))
        yield {"carrier": carrier, "sheet": sheet}""",
            """    carrier = open_carrier()
    sheet = Sheet(read_tariffs(TARIFF_FILE))
    try:
        yield {"carrier": carrier, "sheet": sheet}""",
        ),
        {"test_a_failed_startup_leaves_no_carrier_open"},
    ),
    (
        EX,
        "the carrier client is never closed",
        ("""        await carrier.aclose()""", """        pass"""),
        {"test_the_carrier_is_closed_at_shutdown", "test_a_failed_startup_leaves_no_carrier_open"},
    ),
    (
        EX,
        "get_carrier opens a carrier client per request",
        ("""    return request.state.carrier""", """    return open_carrier()"""),
        {
            "test_one_carrier_and_one_read_per_run",
            "test_the_carrier_is_closed_at_shutdown",
            "test_reload_swaps_the_sheet_without_restart",
            "test_behaves_as_specified_in_any_sequence",
        },
    ),
    (
        EX,
        "the carrier client is made at import, not at startup",
        (
            """@asynccontextmanager
async def lifespan(app: FastAPI):
    carrier = open_carrier()""",
            """carrier = open_carrier()


@asynccontextmanager
async def lifespan(app: FastAPI):""",
        ),
        {
            "test_one_carrier_and_one_read_per_run",
            "test_the_carrier_is_closed_at_shutdown",
            "test_reload_swaps_the_sheet_without_restart",
        },
    ),
    (
        EX,
        "reload rebinds a name of its own: the new sheet lasts one request",
        ("""    sheet.current = fresh""", """    sheet = Sheet(fresh)"""),
        {"test_reload_swaps_the_sheet_without_restart", "test_behaves_as_specified_in_any_sequence"},
    ),
    (
        EX,
        "a broken file's TariffError escapes the reload (500, not 409)",
        (
            """    try:
        fresh = read_tariffs(TARIFF_FILE)
    except TariffError as exc:
        raise HTTPException(409, f"kept {sheet.current.version}: {exc}") from None""",
            """    fresh = read_tariffs(TARIFF_FILE)""",
        ),
        {"test_a_failed_reload_keeps_the_old_sheet", "test_behaves_as_specified_in_any_sequence"},
    ),
    (
        EX,
        "reload empties the old zones before it knows the new file reads",
        (
            """    try:
        fresh = read_tariffs(TARIFF_FILE)""",
            """    sheet.current.zones.clear()
    try:
        fresh = read_tariffs(TARIFF_FILE)""",
        ),
        {"test_a_failed_reload_keeps_the_old_sheet", "test_behaves_as_specified_in_any_sequence"},
    ),
    (
        EX,
        "anyone may reload: require_admin is not used",
        ("""@app.post("/admin/reload", dependencies=[Depends(require_admin)])""", """@app.post("/admin/reload")"""),
        {"test_reload_is_for_admins_only", "test_behaves_as_specified_in_any_sequence"},
    ),
    (
        EX,
        "/health reads request.state itself, so overrides do not reach it",
        (
            """async def health(tariffs: CurrentTariffs, carrier: Carrier) -> dict:""",
            """async def health(request: Request) -> dict:
    tariffs, carrier = request.state.sheet.current, request.state.carrier""",
        ),
        {"test_overrides_reach_every_route"},
    ),
    (
        EX,
        "/health says open without asking the client",
        ("""    return {"carrier": "closed" if carrier.is_closed else "open",""", """    return {"carrier": "open","""),
        {"test_overrides_reach_every_route"},
    ),
    (
        EX,
        "kg has no upper bound",
        ("""Query(ge=1, le=100)""", """Query(ge=1)"""),
        {"test_quotes_use_the_sheet_and_the_carrier", "test_behaves_as_specified_in_any_sequence"},
    ),
]

STEP1 = '''class Sheet:
    """The tariff sheet in use; reload replaces `current` in one assignment."""

    def __init__(self, tariffs: Tariffs) -> None:
        self.current = tariffs


@asynccontextmanager
async def lifespan(app: FastAPI):
    carrier = open_carrier()
    try:
        sheet = Sheet(read_tariffs(TARIFF_FILE))
        yield {"carrier": carrier, "sheet": sheet}
    finally:
        await carrier.aclose()


def get_carrier(request: Request) -> httpx.AsyncClient:
    return request.state.carrier


def get_sheet(request: Request) -> Sheet:
    return request.state.sheet


def get_tariffs(sheet: Annotated[Sheet, Depends(get_sheet)]) -> Tariffs:
    return sheet.current
'''

RELOAD = """async def reload(sheet: Annotated[Sheet, Depends(get_sheet)]) -> dict:
    try:
        fresh = read_tariffs(TARIFF_FILE)
    except TariffError as exc:
        raise HTTPException(409, f"kept {sheet.current.version}: {exc}") from None
    sheet.current = fresh
    return {"tariffs": fresh.version, "zones": len(fresh.zones)}"""

# (exercise, what is written differently, [(text of the solution, replaced by), ...])
ALTERNATIVES = [
    (
        EX,
        "the sheet on app.state, the carrier in the lifespan state",
        [
            (
                STEP1,
                """@asynccontextmanager
async def lifespan(app: FastAPI):
    carrier = open_carrier()
    try:
        app.state.tariffs = read_tariffs(TARIFF_FILE)
        yield {"carrier": carrier}
    finally:
        await carrier.aclose()


def get_carrier(request: Request) -> httpx.AsyncClient:
    return request.state.carrier


def get_tariffs(request: Request) -> Tariffs:
    return request.app.state.tariffs
""",
            ),
            (
                RELOAD,
                """async def reload(request: Request) -> dict:
    try:
        fresh = read_tariffs(TARIFF_FILE)
    except TariffError:
        raise HTTPException(409, "the tariff file cannot be read; the old sheet stays") from None
    request.app.state.tariffs = fresh
    return {"tariffs": fresh.version, "zones": len(fresh.zones)}""",
            ),
        ],
    ),
    (
        EX,
        "an AsyncExitStack, a dict as holder, the file read before the carrier",
        [
            (
                STEP1,
                """from contextlib import AsyncExitStack


@asynccontextmanager
async def lifespan(app: FastAPI):
    async with AsyncExitStack() as stack:
        holder = {"tariffs": read_tariffs(TARIFF_FILE)}
        carrier = open_carrier()
        stack.push_async_callback(carrier.aclose)
        yield {"carrier": carrier, "holder": holder}


def get_carrier(request: Request) -> httpx.AsyncClient:
    return request.state.carrier


def get_sheet(request: Request) -> dict:
    return request.state.holder


def get_tariffs(request: Request) -> Tariffs:
    return request.state.holder["tariffs"]


Sheet = dict
""",
            ),
            ("""    sheet.current = fresh""", """    sheet["tariffs"] = fresh"""),
            (
                """raise HTTPException(409, f"kept {sheet.current.version}: {exc}") from None""",
                """raise HTTPException(409, str(exc)) from None""",
            ),
        ],
    ),
    (
        EX,
        "the carrier as an async context manager, a lock around reload",
        [
            (
                STEP1,
                """import asyncio


class Sheet:
    def __init__(self, tariffs: Tariffs) -> None:
        self.current = tariffs
        self.lock = asyncio.Lock()


@asynccontextmanager
async def lifespan(app: FastAPI):
    async with open_carrier() as carrier:
        yield {"carrier": carrier, "sheet": Sheet(read_tariffs(TARIFF_FILE))}


def get_carrier(request: Request) -> httpx.AsyncClient:
    return request.state.carrier


def get_sheet(request: Request) -> Sheet:
    return request.state.sheet


def get_tariffs(sheet: Annotated[Sheet, Depends(get_sheet)]) -> Tariffs:
    return sheet.current
""",
            ),
            (
                RELOAD,
                """async def reload(sheet: Annotated[Sheet, Depends(get_sheet)]) -> dict:
    async with sheet.lock:
        try:
            fresh = read_tariffs(TARIFF_FILE)
        except TariffError:
            raise HTTPException(status_code=409, detail="unreadable tariff file") from None
        sheet.current = fresh
    return {"tariffs": sheet.current.version, "zones": len(sheet.current.zones)}""",
            ),
        ],
    ),
    (
        EX,
        "routes take the resources without aliases, the zone checked after the surcharge",
        [
            (
                """async def quote(
    zone: str,
    kg: Annotated[int, Query(ge=1, le=100)],
    tariffs: CurrentTariffs,
    carrier: Carrier,
) -> dict:
    rate = tariffs.zones.get(zone)
    if rate is None:
        raise HTTPException(404, f"no tariff for zone {zone}")
    percent = (await carrier.get("/fuel")).json()["percent"]""",
                """async def quote(
    zone: str,
    tariffs: Annotated[Tariffs, Depends(get_tariffs)],
    carrier: Annotated[httpx.AsyncClient, Depends(get_carrier)],
    kg: int = Query(ge=1, le=100),
) -> dict:
    fuel_reply = await carrier.get("/fuel")
    percent = fuel_reply.json()["percent"]
    if zone not in tariffs.zones:
        raise HTTPException(status_code=404, detail="unknown zone")
    rate = tariffs.zones[zone]""",
            ),
            (
                """async def health(tariffs: CurrentTariffs, carrier: Carrier) -> dict:
    return {"carrier": "closed" if carrier.is_closed else "open",""",
                """async def health(
    tariffs: Annotated[Tariffs, Depends(get_tariffs)],
    carrier: Annotated[httpx.AsyncClient, Depends(get_carrier)],
) -> dict:
    state = "open"
    if carrier.is_closed:
        state = "closed"
    return {"carrier": state,""",
            ),
        ],
    ),
]
