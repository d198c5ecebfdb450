"""Exercise 01-typed-aliases: the mistakes its checks must catch, and correct answers written differently."""

EX = "01-typed-aliases"
ANY = "test_behaves_as_specified_in_any_sequence"

# (exercise, what the learner did wrong, (text of the solution, replaced by), checks that must fail)
MUTANTS = [
    (
        EX,
        "the page limit is a fixed Query bound, not the settings'",
        (
            "    size: Annotated[int | None, Query(ge=1)] = None,\n) -> Window:\n    largest = settings.max_page_size",
            "    size: Annotated[int | None, Query(ge=1, le=8)] = None,\n) -> Window:\n    largest = 8",
        ),
        {"test_overriding_settings_reaches_every_endpoint", ANY},
    ),
    (
        EX,
        "paging makes its own Settings() instead of using the settings alias",
        ("    largest = settings.max_page_size", "    largest = Settings().max_page_size"),
        {"test_overriding_settings_reaches_every_endpoint", ANY},
    ),
    (
        EX,
        "a size over the maximum is cut down instead of refused",
        ('        raise HTTPException(422, f"size may be at most {largest}")', "        size = largest"),
        {"test_page_limits", "test_overriding_settings_reaches_every_endpoint", ANY},
    ),
    (
        EX,
        "a backwards date range answers an empty list instead of 422",
        ('            raise HTTPException(422, "to_date must not be before from_date")', "            pass"),
        {"test_date_range_is_validated", ANY},
    ),
    (
        EX,
        "sort is any string, an unknown one falls back to time",
        ('        sort: Literal["time", "destination"] = "time",\n', '        sort: str = "time",\n'),
        # ORDERS[sort] then raises KeyError: a 500, not the 422 asked for.
        {"test_sort_is_restricted", ANY},
    ),
    (
        EX,
        "the end date is exclusive",
        (
            '        return self.last is None or run["date"] <= self.last',
            '        return self.last is None or run["date"] < self.last',
        ),
        {"test_departures_query", "test_date_range_is_validated", "test_stations_router", ANY},
    ),
    (
        EX,
        "total counts the page, not every match",
        (
            '    return {"total": len(found), "items": found[window.offset : end]}',
            '    return {"total": len(found[window.offset : end]), "items": found[window.offset : end]}',
        ),
        {
            "test_departures_query",
            "test_stations_router",
            "test_overriding_settings_reaches_every_endpoint",
            "test_overriding_paging_reaches_every_list",
            ANY,
        },
    ),
    (
        EX,
        "the paging alias names a new callable made from paging, not paging itself",
        (
            "WindowDep = Annotated[Window, Depends(paging)]",
            "import functools\n\nWindowDep = Annotated[Window, Depends(functools.partial(paging))]",
        ),
        {"test_overriding_paging_reaches_every_list"},
    ),
    (
        EX,
        "a station's departures build the query from their own parameters",
        (
            "async def leaving(station: str, query: QueryDep, window: WindowDep) -> dict:",
            "async def leaving(\n    station: str, window: WindowDep, destination: str | None = None,\n"
            "    from_date: date | None = None, to_date: date | None = None,\n"
            '    sort: Literal["time", "destination"] = "time",\n) -> dict:\n'
            "    query = DepartureQuery(destination, from_date, to_date, sort)",
        ),
        {"test_overriding_query_reaches_both_departure_lists"},
    ),
    (
        EX,
        "the station list slices with its own fixed paging, not the alias",
        (
            "async def station_names(window: WindowDep) -> dict:",
            "async def station_names(\n    offset: Annotated[int, Query(ge=0)] = 0,\n"
            "    size: Annotated[int, Query(ge=1, le=8)] = 8,\n) -> dict:\n"
            "    window = Window(offset, size)",
        ),
        {"test_overriding_settings_reaches_every_endpoint", "test_overriding_paging_reaches_every_list", ANY},
    ),
    (
        EX,
        "a station no train leaves answers an empty list",
        ('        raise HTTPException(404, f"no train leaves {station}")', "        pass"),
        {"test_stations_router", ANY},
    ),
    (
        EX,
        "/about takes Settings as a class dependency of its own",
        (
            "async def about(settings: SettingsDep) -> dict:",
            "async def about(settings: Annotated[Settings, Depends()]) -> dict:",
        ),
        {"test_overriding_settings_reaches_every_endpoint", "test_openapi_parameters", ANY},
    ),
]

# (exercise, what is written differently, [(text of the solution, replaced by), ...])
ALTERNATIVES = [
    (
        EX,
        "sort as a str Enum, the date rule as a RequestValidationError",
        [
            ('        sort: Literal["time", "destination"] = "time",\n', "        sort: Order = Order.time,\n"),
            (
                "class DepartureQuery:\n",
                'class Order(str, Enum):\n    time = "time"\n    destination = "destination"\n\n\n'
                "class DepartureQuery:\n",
            ),
            (
                '            raise HTTPException(422, "to_date must not be before from_date")',
                "            raise RequestValidationError(\n"
                '                [{"type": "date_range", "loc": ("query", "to_date"),\n'
                '                  "msg": "to_date is before from_date", "input": str(to_date)}]\n'
                "            )",
            ),
            (
                "ORDERS = {",
                "from enum import Enum\n\nfrom fastapi.exceptions import RequestValidationError\n\nORDERS = {",
            ),
            ("        self.sort = sort\n", "        self.sort = Order(sort).value\n"),
        ],
    ),
    (
        EX,
        "paging as a class with explicit checks, and other alias names",
        [
            (
                """def paging(
    settings: SettingsDep,
    offset: Annotated[int, Query(ge=0)] = 0,
    size: Annotated[int | None, Query(ge=1)] = None,
) -> Window:
    largest = settings.max_page_size
    if size is None:
        size = largest
    elif size > largest:
        raise HTTPException(422, f"size may be at most {largest}")
    return Window(offset=offset, size=size)


WindowDep = Annotated[Window, Depends(paging)]""",
                """async def paging(
    settings: SettingsDep, offset: int = 0, size: int | None = None
) -> Window:
    chosen = settings.max_page_size if size is None else size
    if offset < 0 or not 1 <= chosen <= settings.max_page_size:
        raise HTTPException(status_code=422, detail="offset or size out of range")
    return Window(offset, chosen)


Paged = Annotated[Window, Depends(paging)]
WindowDep = Paged""",
            ),
        ],
    ),
    (
        EX,
        "the query as a dataclass with a model validator-like __post_init__, and sorting by a field list",
        [
            (
                """class DepartureQuery:
    def __init__(
        self,
        destination: str | None = None,
        from_date: date | None = None,
        to_date: date | None = None,
        sort: Literal["time", "destination"] = "time",
    ):
        if from_date and to_date and to_date < from_date:
            raise HTTPException(422, "to_date must not be before from_date")
        self.destination = destination
        self.first = from_date.isoformat() if from_date else None
        self.last = to_date.isoformat() if to_date else None
        self.sort = sort
""",
                """@dataclass
class DepartureQuery:
    destination: str | None = None
    from_date: date | None = None
    to_date: date | None = None
    sort: Literal["time", "destination"] = "time"

    def __post_init__(self):
        if self.from_date and self.to_date and self.to_date < self.from_date:
            raise HTTPException(422, "to_date must not be before from_date")
        self.first = self.from_date.isoformat() if self.from_date else None
        self.last = self.to_date.isoformat() if self.to_date else None
""",
            ),
            (
                """    "time": lambda run: (run["date"], run["time"]),
    "destination": lambda run: (run["destination"], run["date"], run["time"]),""",
                """    "time": ("date", "time"),
    "destination": ("destination", "date", "time"),""",
            ),
            (
                "        return sorted(filter(self.wants, runs), key=ORDERS[self.sort])",
                "        fields = ORDERS[self.sort]\n"
                "        return sorted(filter(self.wants, runs), key=lambda r: [r[f] for f in fields])",
            ),
        ],
    ),
    (
        EX,
        "the aliases on the routers' endpoints through a shared helper, stations read once at import",
        [
            (
                """    names = {run[end] for run in TIMETABLE for end in ("origin", "destination")}
    return one_page(sorted(names), window)""",
                """    return one_page(STATION_NAMES, window)""",
            ),
            (
                'board = APIRouter(prefix="/departures")',
                'STATION_NAMES = sorted({r["origin"] for r in TIMETABLE} | {r["destination"] for r in TIMETABLE})\n'
                'board = APIRouter(prefix="/departures")',
            ),
            (
                """    runs = [run for run in TIMETABLE if run["origin"] == station]
    if not runs:
        raise HTTPException(404, f"no train leaves {station}")
    return one_page(query.select(runs), window)""",
                """    if station not in {run["origin"] for run in TIMETABLE}:
        raise HTTPException(status_code=404, detail="unknown origin")
    chosen = query.select(TIMETABLE)
    return one_page([run for run in chosen if run["origin"] == station], window)""",
            ),
            (
                """@board.get("")
async def departures(""",
                """@board.get("", response_model=None)
async def departures(""",
            ),
        ],
    ),
]
