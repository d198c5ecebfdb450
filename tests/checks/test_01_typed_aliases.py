"""Hidden checks for exercise 01, typed aliases: a train timetable on two routers.

They test what the lists answer, for queries made up per grade from its seed and compared with a
model of the given timetable; the 422s the learner's dependencies decide (a sort outside its named
values, a date range that ends before it starts, a page larger than the settings allow); and the
wiring: overriding get_settings, paging or DepartureQuery must reach every endpoint that uses it,
on both routers. A differential check then drives the learner's app and the reference with the
same sequences of queries and settings overrides (book.grader.differential).
"""

from random import Random
from typing import Any

from httpx import AsyncClient, Response
from hypothesis import strategies as st
from hypothesis.stateful import rule

from book.grader.checks import check, expect, expect_response
from book.grader.differential import Differential, Machine, differential  # noqa: F401  (a fixture)
from book.grader.remote_notebook import Notebook

EXERCISE = "01-typed-aliases"

# The given timetable: the model the answers are compared with.
RUNS = [
    (1, "IC 101", "Aldgate", "Brookfield", 4, "07:15"),
    (2, "RE 12", "Brookfield", "Coldharbour", 4, "06:40"),
    (3, "IC 102", "Aldgate", "Dunmore", 4, "09:05"),
    (4, "S 3", "Coldharbour", "Aldgate", 5, "08:20"),
    (5, "RE 14", "Dunmore", "Eastleigh", 5, "07:55"),
    (6, "IC 103", "Aldgate", "Brookfield", 5, "12:30"),
    (7, "S 5", "Eastleigh", "Fairhaven", 6, "05:50"),
    (8, "RE 16", "Brookfield", "Aldgate", 6, "18:10"),
    (9, "IC 104", "Fairhaven", "Dunmore", 6, "10:45"),
    (10, "S 7", "Coldharbour", "Brookfield", 7, "16:00"),
    (11, "RE 18", "Aldgate", "Eastleigh", 7, "06:05"),
    (12, "IC 105", "Dunmore", "Aldgate", 7, "21:35"),
    (13, "S 9", "Brookfield", "Fairhaven", 8, "11:20"),
    (14, "RE 20", "Eastleigh", "Coldharbour", 8, "13:40"),
    (15, "IC 106", "Aldgate", "Greywater", 8, "08:00"),
    (16, "S 11", "Fairhaven", "Brookfield", 9, "07:30"),
]
Run = dict[str, Any]  # a timetable entry, as the app answers it
TIMETABLE: list[Run] = [
    {
        "id": number,
        "train": train,
        "origin": origin,
        "destination": destination,
        "date": f"2026-05-{day:02d}",
        "time": time,
    }
    for number, train, origin, destination, day, time in RUNS
]
STATIONS = sorted({run[key] for run in TIMETABLE for key in ("origin", "destination")})
ORIGINS = sorted({run["origin"] for run in TIMETABLE})
DATES = [f"2026-05-{day:02d}" for day in range(3, 11)]
MAX_PAGE = 8
OPERATOR = "Platform Rail"
BAD_SORTS = ["train", "Time", "-time", "date", "id", ""]
UNKNOWN = ["Hollowmere", "Ivybridge", "Jarrow Cross", "Kestrel Halt", "Greywater"]  # Greywater: no train leaves


def select(
    runs: list[Run],
    destination: str | None = None,
    from_date: str | None = None,
    to_date: str | None = None,
    sort: str = "time",
) -> list[Run]:
    found = [
        run
        for run in runs
        if (destination is None or run["destination"] == destination)
        and (from_date is None or run["date"] >= from_date)
        and (to_date is None or run["date"] <= to_date)
    ]
    if sort == "destination":
        return sorted(found, key=lambda run: (run["destination"], run["date"], run["time"]))
    return sorted(found, key=lambda run: (run["date"], run["time"]))


def page(found: list[Any], offset: int = 0, size: int | None = None, largest: int = MAX_PAGE) -> dict[str, Any]:
    size = largest if size is None else size
    return {"total": len(found), "items": found[offset : offset + size]}


def expected(params: dict[str, Any], station: str | None = None, largest: int = MAX_PAGE) -> dict[str, Any]:
    """The answer to GET /departures (or a station's departures) with `params`, all of them valid."""
    runs = TIMETABLE if station is None else [run for run in TIMETABLE if run["origin"] == station]
    query = {key: params[key] for key in ("destination", "from_date", "to_date", "sort") if key in params}
    return page(select(runs, **query), params.get("offset", 0), params.get("size"), largest)


def query(params: dict[str, Any]) -> str:
    return "&".join(f"{key}={value}" for key, value in params.items())


def shown(response: Response) -> object:
    try:
        body = response.json()
        return {"total": body.get("total"), "ids": [item.get("id", item) for item in body.get("items", [])]}
    except (AttributeError, TypeError, ValueError):
        return response.text[:200]


def summary(body: dict[str, Any]) -> dict[str, Any]:
    return {"total": body["total"], "ids": [item["id"] if isinstance(item, dict) else item for item in body["items"]]}


def valid_query(rng: Random, largest: int = MAX_PAGE) -> dict[str, Any]:
    params: dict[str, Any] = {}
    if rng.random() < 0.5:
        params["destination"] = rng.choice(STATIONS)
    first = rng.randrange(len(DATES))
    if rng.random() < 0.6:
        params["from_date"] = DATES[first]
    if rng.random() < 0.6:
        params["to_date"] = DATES[rng.randrange(first, len(DATES))]
    if rng.random() < 0.7:
        params["sort"] = rng.choice(["time", "destination"])
    if rng.random() < 0.6:
        params["offset"] = rng.randint(0, 6)
    if rng.random() < 0.6:
        params["size"] = rng.randint(1, largest)
    return params


async def expect_list(client: AsyncClient, url: str, params: dict[str, Any], wanted: dict[str, Any]) -> None:
    response = await client.get(url, params=params)
    expect(
        response.status_code == 200 and response.json() == wanted,
        called=f"GET {url}?{query(params)}",
        got=f"{response.status_code} {shown(response)}",
        expected=f"200 {summary(wanted)}",
    )


@check(
    points=1,
    hint="""GET /about answers the settings' operator and max_page_size. Does the endpoint take
    the settings through your settings alias, the one place a test can replace them?""",
    see="01-typed-aliases.ipynb#settings-from-the-environment",
)
async def test_about(client: AsyncClient) -> None:
    expect_response(await client.get("/about"), status=200, json={"operator": OPERATOR, "max_page_size": MAX_PAGE})


@check(
    points=2,
    hint="""GET /departures: keep the departures the query selects (destination exact, both
    dates inclusive), order them (by date and time, or by destination, then date and time), count them
    for total, then cut the page with offset and size. Without size, a page is max_page_size long.""",
    see="01-typed-aliases.ipynb#classes-as-dependencies",
)
async def test_departures_query(client: AsyncClient, rng: Random) -> None:
    cases = [{}, {"sort": "destination"}, {"from_date": "2026-05-06", "to_date": "2026-05-06"}]
    cases += [valid_query(rng) for _ in range(7)]
    for params in cases:
        await expect_list(client, "/departures", params, expected(params))


@check(
    points=2,
    hint="""The second router lists every station once, A to Z, paginated like the departures,
    and a station's departures are those leaving it, selected and ordered by the same query; a station
    no train leaves is a 404. Does the second router name the same aliases as the first?""",
    see="01-typed-aliases.ipynb#the-alias-write-the-dependency-once",
)
async def test_stations_router(client: AsyncClient, rng: Random) -> None:
    offset, size = rng.randint(0, 5), rng.randint(1, 4)
    await expect_list(client, "/stations", {}, page(STATIONS))
    await expect_list(client, "/stations", {"offset": offset, "size": size}, page(STATIONS, offset, size))
    for station in rng.sample(ORIGINS, 3):
        params = valid_query(rng)
        await expect_list(client, f"/stations/{station}/departures", params, expected(params, station))
    station = rng.choice(UNKNOWN)
    expect_response(
        await client.get(f"/stations/{station}/departures"),
        status=404,
        called=f"GET /stations/{station}/departures (no train leaves {station})",
    )


@check(
    points=1,
    hint="""sort accepts only its named values. An unknown value must be a 422 on both
    departure lists, not a default order and not a 500. Which type lets FastAPI refuse it for you?""",
    see="01-typed-aliases.ipynb#a-dependency-is-a-callable-fastapi-calls-for-you",
)
async def test_sort_is_restricted(client: AsyncClient, rng: Random) -> None:
    for sort in rng.sample(BAD_SORTS, 3):
        for url in ("/departures", f"/stations/{rng.choice(ORIGINS)}/departures"):
            expect_response(await client.get(url, params={"sort": sort}), status=422, called=f"GET {url}?sort={sort}")


@check(
    points=1,
    hint="""A to_date before from_date is a 422 (on both departure lists); the same day
    for both is a valid one-day range. The rule links two parameters: check it where both are known.""",
    see="01-typed-aliases.ipynb#classes-as-dependencies",
)
async def test_date_range_is_validated(client: AsyncClient, rng: Random) -> None:
    first = rng.randint(1, len(DATES) - 1)
    backwards = {"from_date": DATES[first], "to_date": DATES[rng.randrange(first)]}
    for url in ("/departures", "/stations/Aldgate/departures"):
        expect_response(await client.get(url, params=backwards), status=422, called=f"GET {url}?{query(backwards)}")
        expect_response(
            await client.get(url, params={"from_date": "2026-05-32"}),
            status=422,
            called=f"GET {url}?from_date=2026-05-32",
        )
    same = {"from_date": DATES[first], "to_date": DATES[first]}
    await expect_list(client, "/departures", same, expected(same))


@check(
    points=1,
    hint="""offset below 0, size below 1 and a size over max_page_size are 422 on every list; a
    size of exactly max_page_size is allowed. The upper bound is a setting: where can the paging
    dependency learn it, and refuse a size above it?""",
    see="01-typed-aliases.ipynb#a-dependency-is-a-callable-fastapi-calls-for-you",
)
async def test_page_limits(client: AsyncClient, rng: Random) -> None:
    station = rng.choice(ORIGINS)
    for url in ("/departures", "/stations", f"/stations/{station}/departures"):
        for params in ({"offset": -1}, {"size": 0}, {"size": MAX_PAGE + rng.randint(1, 5)}):
            expect_response(await client.get(url, params=params), status=422, called=f"GET {url}?{query(params)}")
        expect_response(
            await client.get(url, params={"size": MAX_PAGE}), status=200, called=f"GET {url}?size={MAX_PAGE}"
        )


@check(
    points=3,
    hint="""Overriding get_settings with a smaller max_page_size must change /about and
    every list: the default page and the largest size allowed. A bound written into Query(le=...) or a
    Settings() made by hand ignores the override: the limit has to come through the settings alias.""",
    see="01-typed-aliases.ipynb#settings-from-the-environment",
)
async def test_overriding_settings_reaches_every_endpoint(nb: Notebook, client: AsyncClient, rng: Random) -> None:
    largest, operator = rng.randint(2, 5), f"Night Rail {rng.randint(100, 999)}"
    await nb.override_instance("get_settings", "Settings", operator=operator, max_page_size=largest)
    called = f"with get_settings overridden to max_page_size={largest}"
    expect_response(
        await client.get("/about"),
        status=200,
        json={"operator": operator, "max_page_size": largest},
        called=f"GET /about {called}",
    )
    station = rng.choice(["Aldgate", "Brookfield"])
    lists = {
        "/departures": expected({}, largest=largest),
        "/stations": page(STATIONS, largest=largest),
        f"/stations/{station}/departures": expected({}, station, largest),
    }
    for url, wanted in lists.items():
        response = await client.get(url)
        expect(
            response.status_code == 200 and response.json() == wanted,
            called=f"GET {url} {called}",
            got=f"{response.status_code} {shown(response)}",
            expected=f"200 {summary(wanted)}",
            seen=await nb.graph(f"GET {url.replace(station, '{station}')}"),
        )
        expect_response(
            await client.get(url, params={"size": largest + 1}),
            status=422,
            called=f"GET {url}?size={largest + 1} {called}",
        )


@check(
    points=2,
    hint="""Overriding paging must change all three lists, on both routers. If one does not
    follow, look at how that endpoint gets its page: through your alias, and does the alias name paging
    itself?""",
    see="01-typed-aliases.ipynb#an-alias-names-the-callable-and-overrides-follow-it",
)
async def test_overriding_paging_reaches_every_list(nb: Notebook, client: AsyncClient, rng: Random) -> None:
    offset, size = rng.randint(1, 3), rng.randint(1, 3)
    await nb.override_instance("paging", "Window", offset=offset, size=size)
    called = f"with paging overridden to Window(offset={offset}, size={size})"
    station = rng.choice(["Aldgate", "Brookfield"])
    lists = {
        "/departures": expected({"offset": offset, "size": size}),
        "/stations": page(STATIONS, offset, size),
        f"/stations/{station}/departures": expected({"offset": offset, "size": size}, station),
    }
    for url, wanted in lists.items():
        response = await client.get(url, params={"offset": 0, "size": 1})
        expect(
            response.status_code == 200 and response.json() == wanted,
            called=f"GET {url}?offset=0&size=1 {called}",
            got=f"{response.status_code} {shown(response)}",
            expected=f"200 {summary(wanted)}",
        )


@check(
    points=2,
    hint="""Overriding DepartureQuery must change both departure lists. An endpoint that
    reads destination, dates or sort as its own parameters, or builds the query object itself, ignores
    the override.""",
    see="01-typed-aliases.ipynb#classes-as-dependencies",
)
async def test_overriding_query_reaches_both_departure_lists(nb: Notebook, client: AsyncClient, rng: Random) -> None:
    destination = rng.choice(["Brookfield", "Dunmore", "Eastleigh"])
    other = rng.choice([name for name in STATIONS if name != destination])
    await nb.override_instance("DepartureQuery", "DepartureQuery", destination=destination)
    called = f"with DepartureQuery overridden to DepartureQuery(destination={destination!r})"
    for station in (None, "Aldgate"):
        url = "/departures" if station is None else f"/stations/{station}/departures"
        wanted = expected({"destination": destination}, station)
        response = await client.get(url, params={"destination": other})
        expect(
            response.status_code == 200 and response.json() == wanted,
            called=f"GET {url}?destination={other} {called}",
            got=f"{response.status_code} {shown(response)}",
            expected=f"200 {summary(wanted)}",
        )


@check(
    points=1,
    hint="""The documented query parameters come from your dependencies: the departure lists
    have destination, from_date, to_date, sort, offset and size; /stations has offset and size; /about
    none. An extra one usually means a dependency's own parameter (settings?) leaked into the query.""",
    see="01-typed-aliases.ipynb#the-alias-write-the-dependency-once",
)
async def test_openapi_parameters(client: AsyncClient) -> None:
    schema = (await client.get("/openapi.json")).json()
    listing = {"destination", "from_date", "to_date", "sort", "offset", "size"}
    wanted = {
        "/departures": listing,
        "/stations": {"offset", "size"},
        "/stations/{station}/departures": listing | {"station"},
        "/about": set(),
    }
    for path, names in wanted.items():
        operation = schema.get("paths", {}).get(path, {}).get("get")
        found = None if operation is None else {p["name"] for p in operation.get("parameters", [])}
        expect(
            found == names,
            called=f"GET /openapi.json, parameters of GET {path}",
            got="no such route" if found is None else sorted(found),
            expected=str(sorted(names)),
        )


PARAMS = st.fixed_dictionaries(
    {},
    optional={
        "destination": st.sampled_from([*STATIONS, "Nowhere"]),
        "from_date": st.sampled_from(DATES),
        "to_date": st.sampled_from(DATES),
        "sort": st.sampled_from(["time", "destination", "train"]),
        "offset": st.integers(-1, 17),
        "size": st.integers(0, 9),
    },
)


class Timetable(Machine):
    """Any sequence of queries, valid or not, on both routers, with the settings overridden to other
    page limits and back, as the reference answers them."""

    @rule(params=PARAMS)
    def departures(self, params: dict[str, Any]) -> None:
        self.same(*self.send("GET", "/departures", params=params))

    @rule(station=st.sampled_from([*ORIGINS, "Greywater", "Hollowmere"]), params=PARAMS)
    def leaving(self, station: str, params: dict[str, Any]) -> None:
        self.same(*self.send("GET", f"/stations/{station}/departures", params=params))

    @rule(offset=st.integers(-1, 8), size=st.one_of(st.none(), st.integers(0, 9)))
    def stations(self, offset: int, size: int | None) -> None:
        params = {"offset": offset} if size is None else {"offset": offset, "size": size}
        self.same(*self.send("GET", "/stations", params=params))

    @rule()
    def about(self) -> None:
        self.same(*self.send("GET", "/about"))

    @rule(largest=st.integers(1, 6))
    def smaller_pages(self, largest: int) -> None:
        self.step(f"get_settings overridden to max_page_size={largest}")
        self.call(lambda nb: nb.override_instance("get_settings", "Settings", operator="Test", max_page_size=largest))

    @rule()
    def settings_back(self) -> None:
        self.step("the overrides cleared")
        self.call(lambda nb: nb.clear_overrides())

    def tour(self) -> None:
        self.departures({"sort": "destination", "from_date": DATES[2], "to_date": DATES[4], "size": 3})
        self.departures({"from_date": DATES[4], "to_date": DATES[2]})
        self.leaving("Aldgate", {"sort": "train"})
        self.leaving("Greywater", {})
        self.stations(2, 9)
        self.smaller_pages(3)
        self.about()
        self.departures({"offset": 1})
        self.leaving("Brookfield", {"size": 4})
        self.stations(0, None)
        self.settings_back()
        self.stations(1, 8)


@check(
    points=3,
    hint="""In some sequence of queries, valid or not, on both routers, with the settings
    overridden to other page limits and back, your app answers differently from what the exercise asks.
    Replay the sequence shown in your notebook, and compare each answer with the rules.""",
    see="01-typed-aliases.ipynb#recap",
)
async def test_behaves_as_specified_in_any_sequence(differential: Differential) -> None:  # noqa: F811
    await differential.run(Timetable, examples=3, steps=5)
