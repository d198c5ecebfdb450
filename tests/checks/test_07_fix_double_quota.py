"""Hidden checks for exercise 07-fix, a quota charged twice.

Resizer meters every image operation with a callable-class dependency, ConsumeQuota: the image
router declares it for every route, and the resize endpoint asks for it again to show what is
left. Declared as two instances, they are two keys of FastAPI's per-request cache, so one resize
is charged twice. The checks establish that:

- a resize costs one unit and X-Quota-Remaining (and the body's quota_remaining) goes down by one;
- a key gets its plan's whole quota, then 429 with Retry-After (seconds to the window's end) and
  X-Quota-Remaining: 0;
- one request of each image route charges the quota once (counted in the learner's process while
  the request is traced, so the trace shows what ran);
- keys do not share quotas, quotas renew when a window ends, every image route is metered and
  GET /quota is free (what the starter already does, so that a fix must not break it);
- in any sequence of resizes, thumbnails, reads, waits and bursts, over several keys, the app
  answers as the reference does (book.grader.differential).

Keys, plans, limits, images and clock times are made up per grade. The clock is the app's
`current_time` dependency, overridden by a clock the checks move.
"""

from collections.abc import Callable
from random import Random
from typing import Any

import anyio.from_thread
from httpx import AsyncClient, Response
from hypothesis import strategies as st
from hypothesis.stateful import invariant, rule

from book.grader.checks import agent_side, check, expect, expect_response
from book.grader.differential import Differential, Machine, differential  # noqa: F401  (a fixture)
from book.grader.remote_notebook import Notebook

EXERCISE = "07-fix-double-quota"
WINDOW = 60
PLAN_NAMES = ["hobby", "indie", "agency", "newsroom", "atelier", "gallery", "printshop", "archive"]
IMAGES = [
    "uploads/cat.jpg",
    "inbox/beach.png",
    "raw/portrait.tiff",
    "shop/shoe-42.webp",
    "press/launch.jpeg",
    "scans/receipt.png",
    "blog/header.jpg",
    "team/ada.png",
]


@agent_side
def add_customer(ctx: "Any", key: str, plan: str, limit: int) -> None:
    """A plan of `limit` operations per window, and an API key on it."""
    ctx.nb.PLANS[plan] = limit
    ctx.nb.API_KEYS[key] = plan


@agent_side
def held_clock(ctx: "Any", start: int) -> "Callable[[], float]":
    """A clock that stands still at `start` until the check moves it (see move_clock)."""
    ctx.clock = {"now": float(start)}

    def current_time_held() -> "Any":
        return ctx.clock["now"]

    return current_time_held


@agent_side
def move_clock(ctx: "Any", seconds: int) -> None:
    ctx.clock["now"] += seconds


@agent_side
async def charges_in_one_request(ctx: "Any", method: str, path: str, request: "dict[str, Any]") -> "dict[str, Any]":
    """One traced request; how many times it charged the quota (USAGE.charge), and the trace."""
    from book.learner.request_trace import trace

    store = ctx.nb.USAGE
    original = store.charge
    charged = []

    def counting(*args: "Any", **kwargs: "Any") -> "Any":
        charged.append(1)
        return original(*args, **kwargs)

    store.charge = counting
    try:
        found = await trace(ctx.app, method, path, **request)
    finally:
        del store.charge
    status = found.response.status_code if found.response is not None else None
    return {"charges": len(charged), "status": status, "text": str(found)}


@agent_side
def usage(ctx: "Any") -> "dict[str, list[Any]]":
    """Each key's window: when it opened and what it used."""
    return {key: [window.opened, window.used] for key, window in sorted(ctx.nb.USAGE.windows.items())}


async def new_customer(nb: Notebook, rng: Random, low: int = 4, high: int = 12) -> dict[str, Any]:
    key = f"pk-{rng.getrandbits(48):012x}"
    plan = f"{rng.choice(PLAN_NAMES)}-{rng.randint(10, 99)}"
    limit = rng.randint(low, high)
    await nb.call(add_customer, key, plan, limit)
    return {"key": key, "plan": plan, "limit": limit, "headers": {"X-API-Key": key}}


async def hold_clock(nb: Notebook, rng: Random) -> int:
    start = rng.randint(1_000, 900_000)
    await nb.override("current_time", await nb.call(held_clock, start))
    return start


def new_job(rng: Random) -> dict[str, Any]:
    return {"source": rng.choice(IMAGES), "width": rng.randint(16, 4000), "height": rng.randint(16, 4000)}


def output_of(source: str, width: int, height: int) -> str:
    stem = source.rsplit("/", 1)[-1].rsplit(".", 1)[0]
    return f"renders/{stem}-{width}x{height}.png"


def plan_of(customer: dict[str, Any]) -> str:
    return f"a new key on a plan of {customer['limit']} a minute"


@check(
    points=3,
    hint="""Each resize must cost one unit: X-Quota-Remaining and quota_remaining go
    down by one per resize. Trace one resize (book.trace) and count how many times the quota is
    charged; then ask why FastAPI's per-request cache did not answer the second time.""",
    see="07-request-cache.ipynb#pitfall-class-instances-are-keys-by-identity",
)
async def test_each_resize_costs_one_unit(nb: Notebook, client: AsyncClient, rng: Random) -> None:
    customer = await new_customer(nb, rng, 5, 12)
    await hold_clock(nb, rng)
    limit, count = customer["limit"], rng.randint(3, customer["limit"] - 1)
    seen = await nb.graph("POST /images/resize")
    for number in range(1, count + 1):
        job = new_job(rng)
        left = limit - number
        expect_response(
            await client.post("/images/resize", json=job, headers=customer["headers"]),
            status=200,
            json={"output": output_of(**job), "quota_remaining": left},
            headers={"X-Quota-Remaining": str(left)},
            seen=seen,
            called=f"resize {number} of {count} with {plan_of(customer)}",
        )
    expect_response(
        await client.get("/quota", headers=customer["headers"]),
        status=200,
        json={"plan": customer["plan"], "limit": limit, "remaining": limit - count},
        called=f"GET /quota after {count} resizes with {plan_of(customer)}",
    )


@check(
    points=3,
    hint="""A key may make as many resizes as its plan allows in a window, and only
    then is refused: 429, Retry-After (the seconds until its window ends) and X-Quota-Remaining: 0.
    If the refusal comes early, count what one resize charges.""",
    see="07-request-cache.ipynb#one-call-per-request",
)
async def test_a_key_gets_its_whole_quota_then_429(nb: Notebook, client: AsyncClient, rng: Random) -> None:
    customer = await new_customer(nb, rng, 4, 12)
    limit = customer["limit"]
    await hold_clock(nb, rng)
    step = rng.choice([0.5, 1, 2, 3])
    for number in range(1, limit + 1):
        if number > 1:
            await nb.call(move_clock, step)
        response = await client.post("/images/resize", json=new_job(rng), headers=customer["headers"])
        expect_response(
            response,
            status=200,
            called=f"resize {number} of the {limit} allowed, with "
            f"{plan_of(customer)}, {(number - 1) * step:g} s into its window",
        )
    extra = rng.randint(1, 10)
    await nb.call(move_clock, extra)
    into = (limit - 1) * step + extra
    wait = -int(-(WINDOW - into) // 1)  # rounded up
    expect_response(
        await client.post("/images/resize", json=new_job(rng), headers=customer["headers"]),
        status=429,
        headers={"Retry-After": str(wait), "X-Quota-Remaining": "0"},
        called=f"resize {limit + 1}, {into:g} s into the window of {plan_of(customer)}",
    )
    expect_response(
        await client.get("/quota", headers=customer["headers"]),
        status=200,
        json={"plan": customer["plan"], "limit": limit, "remaining": 0},
        called=f"GET /quota after the {limit} resizes of {plan_of(customer)}",
    )


@check(
    points=2,
    hint="""One request must charge the quota once. Trace a resize and a thumbnail
    (book.trace), and look at the graph of the resize (book.graph): which dependencies are called, and
    which are served from the per-request cache? What is the cache key of each?""",
    see="07-request-cache.ipynb#what-the-cache-key-is",
)
async def test_one_request_charges_the_quota_once(nb: Notebook, rng: Random) -> None:
    customer = await new_customer(nb, rng, 6, 12)
    for method, path, body in (
        ("POST", "/images/resize", new_job(rng)),
        ("POST", "/images/thumbnail", {"source": rng.choice(IMAGES)}),
    ):
        found = await nb.call(charges_in_one_request, method, path, {"json": body, "headers": customer["headers"]})
        seen = found["text"] + "\n" + await nb.graph(f"{method} {path}")
        expect(
            found["status"] == 200 and found["charges"] == 1,
            called=f"{method} {path} with {plan_of(customer)}, traced",
            got=f"{found['status']}, the quota charged {found['charges']} time(s)",
            expected="200, the quota charged once",
            seen=seen,
        )


@check(
    points=2,
    hint="""Each key has a quota of its own: using up one key's quota must not touch another's,
    even on the same plan; an unknown or missing key is 401 and charges nothing. What is the usage
    counted by, and does the key check run before anything is charged?""",
    see="04-role-checks.ipynb#a-dependency-that-takes-arguments",
)
async def test_keys_do_not_share_quotas(nb: Notebook, client: AsyncClient, rng: Random) -> None:
    first = await new_customer(nb, rng, 3, 8)
    second = {"key": f"pk-{rng.getrandbits(48):012x}", "plan": first["plan"], "limit": first["limit"]}
    second["headers"] = {"X-API-Key": second["key"]}
    await nb.call(add_customer, second["key"], second["plan"], second["limit"])
    await hold_clock(nb, rng)
    limit = first["limit"]
    for number in range(1, limit + 1):
        expect_response(
            await client.post("/images/thumbnail", json={"source": rng.choice(IMAGES)}, headers=first["headers"]),
            status=200,
            headers={"X-Quota-Remaining": str(limit - number)},
            called=f"thumbnail {number} of {limit} with the first of two keys on one plan",
        )
    expect_response(
        await client.post("/images/thumbnail", json={"source": rng.choice(IMAGES)}, headers=first["headers"]),
        status=429,
        called=f"thumbnail {limit + 1} with the first key",
    )
    expect_response(
        await client.get("/quota", headers=second["headers"]),
        status=200,
        json={"plan": second["plan"], "limit": limit, "remaining": limit},
        called="GET /quota with the second key, on the same plan, unused",
    )
    expect_response(
        await client.post("/images/thumbnail", json={"source": rng.choice(IMAGES)}, headers=second["headers"]),
        status=200,
        headers={"X-Quota-Remaining": str(limit - 1)},
        called="a thumbnail with the second key",
    )
    unknown = {"X-API-Key": f"pk-{rng.getrandbits(48):012x}"}
    for headers, who in ((unknown, "an unknown key"), ({}, "no key")):
        for method, path, body in (
            ("POST", "/images/thumbnail", {"source": rng.choice(IMAGES)}),
            ("POST", "/images/resize", new_job(rng)),
            ("GET", "/quota", None),
        ):
            expect_response(
                await client.request(method, path, json=body, headers=headers),
                status=401,
                called=f"{method} {path} with {who}",
            )
    used = {key: window[1] for key, window in (await nb.call(usage)).items()}
    expect(
        used.get(first["key"]) == limit and used.get(second["key"]) == 1 and unknown["X-API-Key"] not in used,
        called="the usage store (USAGE), after the requests above",
        got=f"used: {used}",
        expected=f"{limit} for the first key, 1 for the second, nothing for the unknown one",
    )


@check(
    points=2,
    hint="""A window lasts 60 seconds from a key's first operation: until then a used-up key is
    refused with Retry-After counting down; from then on it has its whole quota again. The check moves
    the clock by overriding current_time: does every charge read the time through it?""",
    see="01-typed-aliases.ipynb#an-alias-names-the-callable-and-overrides-follow-it",
)
async def test_the_quota_renews_when_the_window_ends(nb: Notebook, client: AsyncClient, rng: Random) -> None:
    customer = await new_customer(nb, rng, 2, 6)
    limit = customer["limit"]
    await hold_clock(nb, rng)
    for number in range(1, limit + 1):
        expect_response(
            await client.post("/images/thumbnail", json={"source": rng.choice(IMAGES)}, headers=customer["headers"]),
            status=200,
            called=f"thumbnail {number} of {limit} with {plan_of(customer)}",
        )
    late = rng.choice([40, 45, 50, 55])
    await nb.call(move_clock, late)
    expect_response(
        await client.post("/images/thumbnail", json={"source": rng.choice(IMAGES)}, headers=customer["headers"]),
        status=429,
        headers={"Retry-After": str(WINDOW - late), "X-Quota-Remaining": "0"},
        called=f"a thumbnail {late} s into the window, the quota used up",
    )
    await nb.call(move_clock, WINDOW - late)
    expect_response(
        await client.post("/images/thumbnail", json={"source": rng.choice(IMAGES)}, headers=customer["headers"]),
        status=200,
        headers={"X-Quota-Remaining": str(limit - 1)},
        called="a thumbnail 60 s after the window opened",
    )
    await nb.call(move_clock, rng.randint(1, 59))
    expect_response(
        await client.get("/quota", headers=customer["headers"]),
        status=200,
        json={"plan": customer["plan"], "limit": limit, "remaining": limit - 1},
        called="GET /quota, later in the new window",
    )


@check(
    points=2,
    hint="""Every image operation is metered, the resize and the thumbnail alike, and answers
    what is left in X-Quota-Remaining; GET /quota shows the same count and costs nothing. Which
    dependency charges and sets the header, and at which level is it declared for the image routes?""",
    see="11-app-router-scopes.ipynb#a-dependency-that-writes-to-the-response",
)
async def test_every_image_route_is_metered(nb: Notebook, client: AsyncClient, rng: Random) -> None:
    customer = await new_customer(nb, rng, 6, 12)
    await hold_clock(nb, rng)

    async def shown() -> Any:
        response = await client.get("/quota", headers=customer["headers"])
        expect_response(response, status=200, called="GET /quota")
        return response.json()["remaining"]

    left = customer["limit"]
    reads = [await shown(), await shown()]
    expect(
        reads == [left, left],
        called="GET /quota twice with a new key",
        got=f"remaining {reads[0]}, then {reads[1]}",
        expected=f"remaining {left} both times (a read is free)",
    )
    operations = [("thumbnail", {"source": rng.choice(IMAGES)}), ("resize", new_job(rng))]
    rng.shuffle(operations)
    for name, body in operations:
        response = await client.post(f"/images/{name}", json=body, headers=customer["headers"])
        expect_response(response, status=200, called=f"POST /images/{name} with {plan_of(customer)}")
        now = await shown()
        header = response.headers.get("X-Quota-Remaining")
        expect(
            now < left and header == str(now),
            called=f"POST /images/{name}, then GET /quota",
            got=f"X-Quota-Remaining: {header}, then GET /quota: remaining {now} (before: {left})",
            expected="fewer units left than before, the same count in the header and in GET /quota",
        )
        left = now


# --- the differential check ----------------------------------------------------------------------

KEYS = {"pk-alpha": 3, "pk-bravo": 4}  # each on a plan of its own, added to both apps
UNKNOWN = "pk-nobody"
SHOWN = ("x-quota-remaining", "retry-after")


@agent_side
def set_up_customers(ctx: "Any", keys: dict[str, int], start: int) -> None:
    for key, limit in keys.items():
        ctx.nb.PLANS[f"plan-{key}"] = limit
        ctx.nb.API_KEYS[key] = f"plan-{key}"
    ctx.clock = {"now": float(start)}

    def current_time_held() -> "Any":
        return ctx.clock["now"]

    ctx.app.dependency_overrides[ctx.nb.current_time] = current_time_held


class Metering(Machine):
    """Resizes, thumbnails and reads over two keys and an unknown one, the clock moving, and bursts
    of resizes at once, as the reference answers them: status, JSON, X-Quota-Remaining, Retry-After."""

    def __init__(self) -> None:
        super().__init__()
        self.call(lambda nb: nb.call(set_up_customers, KEYS, 5_000))

    def ask(self, text: str, method: str, url: str, **request: Any) -> tuple[Response, Response]:
        self.step(text)

        async def both() -> tuple[Response, Response]:
            learner = await self._client(self.current.learner).request(method, url, **request)
            reference = await self._client(self.current.reference).request(method, url, **request)
            return learner, reference

        return anyio.from_thread.run(both)

    @rule(
        key=st.sampled_from([*KEYS, UNKNOWN]),
        image=st.sampled_from(IMAGES),
        width=st.integers(16, 2000),
        height=st.integers(16, 2000),
    )
    def resize(self, key: str, image: str, width: int, height: int) -> None:
        job = {"source": image, "width": width, "height": height}
        self.same(
            *self.ask(
                f"resize {width}x{height} as {key}", "POST", "/images/resize", json=job, headers={"X-API-Key": key}
            ),
            headers=SHOWN,
        )

    @rule(key=st.sampled_from([*KEYS, UNKNOWN]), image=st.sampled_from(IMAGES))
    def thumbnail(self, key: str, image: str) -> None:
        self.same(
            *self.ask(
                f"thumbnail as {key}", "POST", "/images/thumbnail", json={"source": image}, headers={"X-API-Key": key}
            ),
            headers=SHOWN,
        )

    @rule(key=st.sampled_from(list(KEYS)))
    def read_quota(self, key: str) -> None:
        self.same(*self.ask(f"GET /quota as {key}", "GET", "/quota", headers={"X-API-Key": key}))

    @rule(seconds=st.sampled_from([1, 20, 45, 59, 60, 61]))
    def wait(self, seconds: int) -> None:
        self.step(f"{seconds} s later")
        self.call(lambda nb: nb.call(move_clock, seconds))

    @rule(key=st.sampled_from(list(KEYS)), count=st.integers(2, 5))
    def burst(self, key: str, count: int) -> None:
        self.step(f"{count} resizes at once as {key}")
        jobs = [{"source": IMAGES[index], "width": 100 + index, "height": 100} for index in range(count)]

        async def at_once(client: AsyncClient) -> list[Response]:
            import asyncio

            return await asyncio.gather(
                *(client.post("/images/resize", json=job, headers={"X-API-Key": key}) for job in jobs)
            )

        learner = anyio.from_thread.run(at_once, self._client(self.current.learner))
        reference = anyio.from_thread.run(at_once, self._client(self.current.reference))

        def answers(responses: list[Response]) -> list[tuple[Any, ...]]:
            return sorted(
                (
                    response.status_code,
                    *(response.headers.get(name, "") for name in SHOWN),
                    str(response.json().get("quota_remaining")) if response.status_code == 200 else "",
                )
                for response in responses
            )

        self.agree(
            "the answers (status, X-Quota-Remaining, Retry-After, quota_remaining), sorted",
            answers(learner),
            answers(reference),
        )

    def tour(self) -> None:
        self.resize("pk-alpha", IMAGES[0], 640, 480)
        self.thumbnail("pk-alpha", IMAGES[1])
        self.read_quota("pk-alpha")
        self.resize("pk-alpha", IMAGES[2], 320, 200)
        self.resize("pk-alpha", IMAGES[3], 800, 600)
        self.usage_agrees()
        self.read_quota("pk-bravo")
        self.burst("pk-bravo", 5)
        self.resize(UNKNOWN, IMAGES[4], 10, 10)
        self.wait(59)
        self.thumbnail("pk-bravo", IMAGES[5])
        self.wait(1)
        self.resize("pk-bravo", IMAGES[6], 1024, 768)
        self.read_quota("pk-bravo")
        self.usage_agrees()

    @invariant()
    def usage_agrees(self) -> None:
        learner, reference = self.call(lambda nb: nb.call(usage))
        mine = {key: window for key, window in learner.items() if key in KEYS}
        theirs = {key: window for key, window in reference.items() if key in KEYS}
        self.agree("each key's window (opened, used)", mine, theirs)


@check(
    points=4,
    hint="""In some sequence of resizes, thumbnails, reads of GET /quota, waits and
    bursts of resizes at once, over several keys, your app answers differently from the reference
    (a status, X-Quota-Remaining, Retry-After or the body). Replay the sequence shown, counting what
    each request charges.""",
    see="07-request-cache.ipynb#recap",
)
async def test_meters_as_specified_in_any_sequence(differential: Differential) -> None:  # noqa: F811
    await differential.run(Metering, examples=5, steps=6)
