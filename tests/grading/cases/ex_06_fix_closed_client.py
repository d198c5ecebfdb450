"""Exercise 06-fix-closed-client: the mistakes its checks must catch, and correct fixes written differently."""

EX = "06-fix-closed-client"

# The fix as the solution writes it (the start of its region): what most mutants replace.
FIX = """### BEGIN SOLUTION
@asynccontextmanager
async def lifespan(app: FastAPI):
    async with httpx.AsyncClient(
        transport=RATES_SERVICE, base_url=RATES_URL, timeout=2.0
    ) as rates_api:
        yield {"rates_api": rates_api}  # this run's client, closed when the run ends


def get_rates_api(request: Request) -> httpx.AsyncClient:
    return request.state.rates_api
### BUGGY"""

# The fix and mid_rate's first lines, for mutants that also change how mid_rate asks.
FIX_TO_ASKING = (
    FIX
    + FIX[FIX.index("### BUGGY") + len("### BUGGY") :]
    + """
# rates_api = httpx.AsyncClient(  # one client, one connection pool, for every request
#     transport=RATES_SERVICE, base_url=RATES_URL, timeout=2.0
# )
#
#
# @asynccontextmanager
# async def lifespan(app: FastAPI):
#     try:
#         yield
#     finally:
#         await rates_api.aclose()  # its connections are closed when the app stops
#
#
# def get_rates_api() -> httpx.AsyncClient:
#     return rates_api
### END SOLUTION


RatesAPI = Annotated[httpx.AsyncClient, Depends(get_rates_api)]
Currency = Annotated[str, Path(pattern="^[A-Z]{3}$")]


async def mid_rate(base: Currency, quote: Currency, api: RatesAPI) -> float:
    try:
        answer = await api.get(f"/pairs/{base}{quote}")
    except httpx.TransportError:"""
)

SHIPPED = """rates_api = httpx.AsyncClient(  # one client, one connection pool, for every request
    transport=RATES_SERVICE, base_url=RATES_URL, timeout=2.0
)


@asynccontextmanager
async def lifespan(app: FastAPI):
    try:
        yield
    finally:
        await rates_api.aclose()  # its connections are closed when the app stops


def get_rates_api() -> httpx.AsyncClient:
    return rates_api"""


def region(code: str) -> tuple[str, str]:
    """Replace the fix by `code` (the commented-out shipped code stays as it is)."""
    return FIX, f"### BEGIN SOLUTION\n{code}\n### BUGGY"


def shipped_with_mid_rate(asking: str, extra: str = "") -> tuple[str, str]:
    """The shipped bug (and `extra` code after it), with mid_rate's first lines (up to its except)
    replaced by `asking`."""
    rest = FIX_TO_ASKING[len(FIX) : FIX_TO_ASKING.index("async def mid_rate")]
    head = "async def mid_rate(base: Currency, quote: Currency, api: RatesAPI) -> float:\n"
    return FIX_TO_ASKING, f"### BEGIN SOLUTION\n{SHIPPED}{extra}\n### BUGGY{rest}{head}{asking}"


BUG = {
    "test_every_run_of_the_app_answers",
    "test_each_run_makes_its_own_client",
    "test_each_run_closes_its_client",
    "test_two_apps_from_the_module_at_once",
    "test_behaves_as_specified_in_any_sequence",
}

# (exercise, what the learner did wrong, (text of the solution, replaced by), checks that must fail)
MUTANTS = [
    (EX, "the shipped bug: one client made at import, closed by the first shutdown", region(SHIPPED), BUG),
    (
        EX,
        "the client made at import is never closed",
        region("""rates_api = httpx.AsyncClient(
    transport=RATES_SERVICE, base_url=RATES_URL, timeout=2.0
)


@asynccontextmanager
async def lifespan(app: FastAPI):
    yield


def get_rates_api() -> httpx.AsyncClient:
    return rates_api"""),
        {"test_each_run_makes_its_own_client", "test_each_run_closes_its_client"},
    ),
    (
        EX,
        "the lifespan re-creates a module global, which get_rates_api returns",
        region("""rates_api = None


@asynccontextmanager
async def lifespan(app: FastAPI):
    global rates_api
    rates_api = httpx.AsyncClient(transport=RATES_SERVICE, base_url=RATES_URL, timeout=2.0)
    try:
        yield
    finally:
        await rates_api.aclose()


def get_rates_api() -> httpx.AsyncClient:
    return rates_api"""),
        {"test_two_apps_from_the_module_at_once"},
    ),
    (
        EX,
        "the lifespan yields a module global it re-creates, and closes the global",
        region("""rates_api = None


@asynccontextmanager
async def lifespan(app: FastAPI):
    global rates_api
    rates_api = httpx.AsyncClient(transport=RATES_SERVICE, base_url=RATES_URL, timeout=2.0)
    try:
        yield {"rates_api": rates_api}
    finally:
        await rates_api.aclose()


def get_rates_api(request: Request) -> httpx.AsyncClient:
    return request.state.rates_api"""),
        {"test_two_apps_from_the_module_at_once"},
    ),
    (
        EX,
        "a new client for each request, never closed",
        region("""@asynccontextmanager
async def lifespan(app: FastAPI):
    yield


def get_rates_api() -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=RATES_SERVICE, base_url=RATES_URL, timeout=2.0)"""),
        {"test_each_run_makes_its_own_client", "test_each_run_closes_its_client"},
    ),
    (
        EX,
        "a new client for each request, closed after it (a yield dependency)",
        region("""@asynccontextmanager
async def lifespan(app: FastAPI):
    yield


async def get_rates_api():
    async with httpx.AsyncClient(transport=RATES_SERVICE, base_url=RATES_URL) as rates_api:
        yield rates_api"""),
        {"test_each_run_makes_its_own_client"},
    ),
    (
        EX,
        "get_rates_api opens a new client when the shared one is closed",
        region("""rates_api = httpx.AsyncClient(
    transport=RATES_SERVICE, base_url=RATES_URL, timeout=2.0
)


@asynccontextmanager
async def lifespan(app: FastAPI):
    try:
        yield
    finally:
        await rates_api.aclose()


def get_rates_api() -> httpx.AsyncClient:
    global rates_api
    if rates_api.is_closed:  # closed by an earlier run of the app: open another one
        rates_api = httpx.AsyncClient(transport=RATES_SERVICE, base_url=RATES_URL)
    return rates_api"""),
        {"test_each_run_makes_its_own_client"},
    ),
    (
        EX,
        "the closed client's error is caught and answered as a 502",
        shipped_with_mid_rate("""    try:
        answer = await api.get(f"/pairs/{base}{quote}")
    except RuntimeError:  # "the client has been closed": the service is not there
        raise HTTPException(502, "the rates service is not available") from None
    except httpx.TransportError:"""),
        BUG,
    ),
    (
        EX,
        "the closed client's error is caught and the last rate seen is answered",
        shipped_with_mid_rate(
            """    try:
        answer = await api.get(f"/pairs/{base}{quote}")
        if answer.status_code == 200:
            LAST_SEEN[base + quote] = answer.json()["mid"]
    except RuntimeError:  # the client was closed: answer from what we saw last
        if base + quote in LAST_SEEN:
            return LAST_SEEN[base + quote]
        raise HTTPException(502, "the rates service is not available") from None
    except httpx.TransportError:""",
            extra="\n\n\nLAST_SEEN: dict[str, float] = {}",
        ),
        BUG,
    ),
    (
        EX,
        "the lifespan closes the client before the app serves",
        region("""@asynccontextmanager
async def lifespan(app: FastAPI):
    async with httpx.AsyncClient(
        transport=RATES_SERVICE, base_url=RATES_URL, timeout=2.0
    ) as rates_api:
        state = {"rates_api": rates_api}
    yield state


def get_rates_api(request: Request) -> httpx.AsyncClient:
    return request.state.rates_api"""),
        {
            "test_rates_and_quotes_come_from_the_service",
            "test_the_services_failures_keep_their_statuses",
            *(BUG - {"test_each_run_makes_its_own_client"}),
        },
    ),
    (
        EX,
        "each run makes its client but never closes it",
        region("""@asynccontextmanager
async def lifespan(app: FastAPI):
    rates_api = httpx.AsyncClient(transport=RATES_SERVICE, base_url=RATES_URL, timeout=2.0)
    yield {"rates_api": rates_api}


def get_rates_api(request: Request) -> httpx.AsyncClient:
    return request.state.rates_api"""),
        {"test_each_run_closes_its_client", "test_two_apps_from_the_module_at_once"},
    ),
    (
        EX,
        "the client is closed after the yield without try/finally: not when a run ends with an error",
        region("""@asynccontextmanager
async def lifespan(app: FastAPI):
    rates_api = httpx.AsyncClient(transport=RATES_SERVICE, base_url=RATES_URL, timeout=2.0)
    yield {"rates_api": rates_api}
    await rates_api.aclose()


def get_rates_api(request: Request) -> httpx.AsyncClient:
    return request.state.rates_api"""),
        {"test_each_run_closes_its_client"},
    ),
    (
        EX,
        "mid_rate reads the client from request.state itself, not through get_rates_api",
        (
            "async def mid_rate(base: Currency, quote: Currency, api: RatesAPI) -> float:\n    try:\n"
            '        answer = await api.get(f"/pairs/{base}{quote}")',
            "async def mid_rate(base: Currency, quote: Currency, request: Request) -> float:\n    try:\n"
            '        answer = await request.state.rates_api.get(f"/pairs/{base}{quote}")',
        ),
        {"test_an_override_of_get_rates_api_reaches_every_route", "test_behaves_as_specified_in_any_sequence"},
    ),
    (
        EX,
        "mid_rate asks the service through a client of its own",
        (
            '        answer = await api.get(f"/pairs/{base}{quote}")\n',
            "        async with httpx.AsyncClient(transport=RATES_SERVICE, base_url=RATES_URL) as own:\n"
            '            answer = await own.get(f"/pairs/{base}{quote}")\n',
        ),
        {
            "test_an_override_of_get_rates_api_reaches_every_route",
            "test_each_run_makes_its_own_client",
            "test_behaves_as_specified_in_any_sequence",
        },
    ),
    (
        EX,
        "known pairs are answered from the table, without asking the service",
        (
            '    try:\n        answer = await api.get(f"/pairs/{base}{quote}")\n',
            "    if base + quote in PAIRS:  # no need to ask: the rates are right here\n"
            "        return PAIRS[base + quote]\n"
            '    try:\n        answer = await api.get(f"/pairs/{base}{quote}")\n',
        ),
        {
            "test_the_services_failures_keep_their_statuses",
            "test_an_override_of_get_rates_api_reaches_every_route",
            "test_each_run_makes_its_own_client",
            "test_behaves_as_specified_in_any_sequence",
        },
    ),
    (
        EX,
        "an unreachable service is answered 502, like a failing one",
        (
            """        raise HTTPException(
            503, "rates service unreachable", headers={"Retry-After": "30"}
        ) from None""",
            """        raise HTTPException(502, "rates service unreachable") from None""",
        ),
        {"test_the_services_failures_keep_their_statuses", "test_behaves_as_specified_in_any_sequence"},
    ),
    (
        EX,
        "the 503 of an unreachable service loses its Retry-After",
        (
            """            503, "rates service unreachable", headers={"Retry-After": "30"}""",
            '''            503, "rates service unreachable"''',
        ),
        {"test_the_services_failures_keep_their_statuses"},
    ),
]

# (exercise, what is written differently, [(text of the solution, replaced by), ...])
ALTERNATIVES = [
    (
        EX,
        "the client in the app's state, closed in a finally",
        [
            region("""@asynccontextmanager
async def lifespan(app: FastAPI):
    app.state.rates_api = httpx.AsyncClient(
        transport=RATES_SERVICE, base_url=RATES_URL, timeout=2.0
    )
    try:
        yield
    finally:
        await app.state.rates_api.aclose()


def get_rates_api(request: Request) -> httpx.AsyncClient:
    return request.app.state.rates_api""")
        ],
    ),
    (
        EX,
        "try/finally, and an async dependency that says when the lifespan did not run",
        [
            region("""@asynccontextmanager
async def lifespan(app: FastAPI):
    rates_api = httpx.AsyncClient(transport=RATES_SERVICE, base_url=RATES_URL, timeout=2.0)
    try:
        yield {"rates_api": rates_api}
    finally:
        await rates_api.aclose()


async def get_rates_api(request: Request) -> httpx.AsyncClient:
    found = getattr(request.state, "rates_api", None)
    if found is None:
        raise RuntimeError("no rates client in request.state: is the app's lifespan running?")
    return found""")
        ],
    ),
    (
        EX,
        "a factory for the client, entered on an AsyncExitStack",
        [
            region("""from contextlib import AsyncExitStack


def make_rates_api() -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=RATES_SERVICE, base_url=RATES_URL, timeout=2.0)


@asynccontextmanager
async def lifespan(app: FastAPI):
    async with AsyncExitStack() as stack:
        rates_api = await stack.enter_async_context(make_rates_api())
        yield {"rates_api": rates_api}


def get_rates_api(request: Request) -> httpx.AsyncClient:
    return request.state.rates_api""")
        ],
    ),
    (
        EX,
        "a typed lifespan state, read from the request's scope",
        [
            region("""from collections.abc import AsyncIterator
from typing import TypedDict


class LifespanState(TypedDict):
    rates_api: httpx.AsyncClient


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[LifespanState]:
    async with httpx.AsyncClient(transport=RATES_SERVICE, base_url=RATES_URL) as client:
        yield {"rates_api": client}


def get_rates_api(request: Request) -> httpx.AsyncClient:
    return request.scope["state"]["rates_api"]""")
        ],
    ),
    (
        EX,
        "the shipped client kept as a template: each run opens its own with the same settings",
        [
            region("""RATES_SETTINGS = {"transport": RATES_SERVICE, "base_url": RATES_URL, "timeout": 2.0}


@asynccontextmanager
async def lifespan(app: FastAPI):
    client = httpx.AsyncClient(**RATES_SETTINGS)
    async with client:
        yield {"rates_api": client}


def get_rates_api(request: Request) -> httpx.AsyncClient:
    rates_api: httpx.AsyncClient = request.state.rates_api
    return rates_api""")
        ],
    ),
]
