"""Hidden checks for exercise 09, tickets that get through.

A ticket order starts one piece of work after the response; the work calls the overridable
courier up to ATTEMPTS times, stops at the first success, and records the attendee when every
attempt failed; GET /tickets/undelivered reports the record. The attendees are made up per grade;
the calls of the couriers are read in the learner's process. A differential check then drives the
learner's app and the reference with the same sequences of orders and courier troubles
(book.grader.differential).
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

EXERCISE = "09-background-work"
NAMES = ["lin", "kai", "mo", "ren", "ada", "grace", "noor", "tomas", "ines", "yuki"]
DOMAINS = ["example.com", "example.org", "mail.test", "school.example"]
REPORT = "/tickets/undelivered"


@agent_side
def courier_calls(ctx: "Any") -> "dict[str, Any]":
    """Who the notebook's COURIER delivered to, and the calls the check's own courier got (if any)."""
    own = getattr(ctx, "courier", None)
    return {"COURIER": list(ctx.nb.COURIER.delivered), "override": None if own is None else list(own.calls)}


@agent_side
def troubled_courier(ctx: "Any", failures: int) -> "Callable[[], Any]":
    """A courier failing the first `failures` calls for each attendee (then delivering), kept as
    ctx.courier; a dependency returning it. Every call is recorded in `calls`."""

    class TroubledCourier:
        def __init__(self) -> None:
            self.calls: list[str] = []

        def deliver(self, attendee: str) -> None:
            self.calls.append(attendee)
            if self.calls.count(attendee) <= failures:
                raise ConnectionError("courier unreachable")

    ctx.courier = TroubledCourier()

    def get_troubled_courier() -> "Any":
        return ctx.courier

    return get_troubled_courier


def new_attendee(rng: Random) -> str:
    return f"{rng.choice(NAMES)}.{rng.randint(100, 999)}@{rng.choice(DOMAINS)}"


async def report_of(client: AsyncClient) -> Any:
    response = await client.get(REPORT)
    expect_response(response, status=200, called=f"GET {REPORT}")
    return response.json().get("undelivered") if isinstance(response.json(), dict) else response.json()


@check(
    points=2,
    hint="""POST /tickets answers 201 with {"attendee": ...} and, once the request is over, the
    courier has been called once, for that attendee; nothing is reported undelivered. How many
    deliveries does one order queue, and with which attendee?""",
    see="09-background-work.ipynb#a-task-after-the-response",
)
async def test_an_order_delivers_one_ticket(nb: Notebook, client: AsyncClient, rng: Random) -> None:
    attendee = new_attendee(rng)
    response = await client.post("/tickets", json={"attendee": attendee})
    expect_response(response, status=201, json={"attendee": attendee})
    delivered = (await nb.call(courier_calls))["COURIER"]
    report = await report_of(client)
    expect(
        delivered == [attendee] and report == [],
        called=f"POST /tickets {{attendee: {attendee}}}",
        got=f"COURIER delivered to {delivered}; GET {REPORT} listed {report}",
        expected=f"delivered to ['{attendee}'], and an empty report",
    )


@check(
    points=1,
    hint="""An invalid body is refused by the TicketOrder model with 422 before your endpoint
    runs, so no work may start and nothing be delivered. Does anything deliver before the body is
    validated: a dependency, or code that runs outside the request?""",
    see="09-background-work.ipynb#tasks-from-dependencies",
)
async def test_an_invalid_order_delivers_nothing(nb: Notebook, client: AsyncClient, rng: Random) -> None:
    not_an_address = new_attendee(rng).replace("@", " at ")
    for body in ({"attendee": not_an_address}, {}, {"email": new_attendee(rng)}):
        expect_response(await client.post("/tickets", json=body), status=422, called=f"POST /tickets {body}")
    delivered = (await nb.call(courier_calls))["COURIER"]
    expect(not delivered, called="three invalid orders", got=f"delivered to {delivered}", expected="no delivery")


@check(
    points=2,
    hint="""One delivery per order, and only after the endpoint returned and the response was
    sent. Trace an order with book.trace: does your delivery run inside the endpoint, or as work queued
    for after the response?""",
    see="09-background-work.ipynb#a-task-after-the-response",
)
async def test_the_delivery_runs_after_the_response(nb: Notebook, rng: Random) -> None:
    attendee = new_attendee(rng)
    trace = await nb.trace("POST", "/tickets", json={"attendee": attendee})
    events = [(event["kind"], event["who"], event["detail"]) for event in trace.events]
    started = [index for index, (kind, _, detail) in enumerate(events) if kind == "task" and detail == "started"]
    sent = next((index for index, (kind, who, _) in enumerate(events) if kind == "response" and who == "body"), None)
    returned = next((index for index, (kind, _, _) in enumerate(events) if kind == "returned"), None)
    ok = len(started) == 1 and sent is not None and returned is not None and started[0] > sent > returned
    expect(
        ok,
        called=f"POST /tickets {{attendee: {attendee}}}, traced",
        got=f"{len(started)} background task(s)" + (f", the first at step {started[0] + 1}" if started else ""),
        expected="one task, after the endpoint returned and the response was sent",
        seen=trace.text,
    )


@check(
    points=2,
    hint="""The work must call the courier the request got from get_courier. Which
    courier does your work use when a test overrides get_courier?""",
    see="09-background-work.ipynb#tasks-and-yield-dependencies",
)
async def test_the_courier_comes_through_the_dependency(nb: Notebook, client: AsyncClient, rng: Random) -> None:
    attendee = new_attendee(rng)
    await nb.override("get_courier", await nb.call(troubled_courier, 0))
    expect_response(await client.post("/tickets", json={"attendee": attendee}), status=201)
    calls = await nb.call(courier_calls)
    expect(
        calls["override"] == [attendee] and not calls["COURIER"],
        called=f"POST /tickets {{attendee: {attendee}}}, get_courier overridden by a recording courier",
        got=f"the override got calls for {calls['override']}, COURIER delivered to {calls['COURIER']}",
        expected="one call of the override, none of COURIER",
        seen=await nb.graph("POST /tickets"),
    )


@check(
    points=2,
    hint="""A courier that fails twice, then delivers, must end with the ticket
    delivered: try again after a failure, stop after the first success, and record nothing.
    Count the calls your loop makes.""",
    see="09-background-work.ipynb#a-failing-task",
)
async def test_a_dropped_delivery_is_tried_again(nb: Notebook, client: AsyncClient, rng: Random) -> None:
    attendee = new_attendee(rng)
    await nb.override("get_courier", await nb.call(troubled_courier, 2))
    response = await client.post("/tickets", json={"attendee": attendee})
    called = f"POST /tickets {{attendee: {attendee}}}, the courier fails the first 2 calls"
    expect_response(response, status=201, json={"attendee": attendee}, called=called)
    calls = (await nb.call(courier_calls))["override"]
    escaped = response.extensions.get("app_error")
    report = await report_of(client)
    expect(
        calls == [attendee] * 3 and report == [] and not escaped,
        called=called,
        got=f"{len(calls)} calls; GET {REPORT} listed {report}" + (f"; {escaped} escaped" if escaped else ""),
        expected="3 calls (the third delivers), nothing escaped, an empty report",
    )


@check(
    points=2,
    hint="""When the courier is down, the buyer still gets 201, no error escapes the work, the
    courier is called ATTEMPTS times, and the attendee then shows up in the report, once. What does your
    work do with the last failure?""",
    see="09-background-work.ipynb#a-failing-task",
)
async def test_a_ticket_given_up_is_reported(nb: Notebook, client: AsyncClient, rng: Random) -> None:
    attendee = new_attendee(rng)
    await nb.override("get_courier", await nb.call(troubled_courier, 1000))
    response = await client.post("/tickets", json={"attendee": attendee})
    called = f"POST /tickets {{attendee: {attendee}}}, the courier always fails"
    expect_response(response, status=201, json={"attendee": attendee}, called=called)
    escaped = response.extensions.get("app_error")
    calls = (await nb.call(courier_calls))["override"]
    report = await report_of(client)
    expect(
        not escaped and len(calls) == 3 and report == [attendee],
        called=called + f", then GET {REPORT}",
        got=f"{len(calls)} calls; the report listed {report}" + (f"; {escaped} escaped" if escaped else ""),
        expected=f"3 calls, nothing escaped, the report ['{attendee}']",
    )


@agent_side
def delivery_state(ctx: "Any") -> "dict[str, list[Any]]":
    """Who COURIER delivered to, and the calls the check's courier got, if one was set."""
    own = getattr(ctx, "courier", None)
    return {"delivered": list(ctx.nb.COURIER.delivered), "calls": [] if own is None else list(own.calls)}


class Orders(Machine):
    """Any sequence of orders, valid or not, one by one or several at once, with the courier
    working, dropping deliveries or down, and reports, as the reference handles it."""

    @rule(
        name=st.sampled_from(NAMES), number=st.integers(100, 999), domain=st.sampled_from(DOMAINS), valid=st.booleans()
    )
    def order(self, name: str, number: int, domain: str, valid: bool) -> None:
        attendee = f"{name}.{number}@{domain}" if valid else f"{name}.{number} at {domain}"
        self.same(*self.send("POST", "/tickets", json={"attendee": attendee}))

    @rule(count=st.integers(2, 4), number=st.integers(100, 999))
    def order_at_once(self, count: int, number: int) -> None:
        attendees = [f"{NAMES[index]}.{number}@{DOMAINS[0]}" for index in range(count)]
        self.step(f"{count} orders at once: {', '.join(attendees)}")

        async def burst(nb_client: AsyncClient) -> list[Response]:
            import asyncio

            return await asyncio.gather(*(nb_client.post("/tickets", json={"attendee": who}) for who in attendees))

        learner = anyio.from_thread.run(burst, self._client(self.current.learner))
        reference = anyio.from_thread.run(burst, self._client(self.current.reference))
        for mine, theirs in zip(learner, reference, strict=True):
            self.same(mine, theirs)

    @rule(failures=st.sampled_from([1, 2, 3, 1000]))
    def courier_troubled(self, failures: int) -> None:
        self.step(f"get_courier overridden by a courier failing the first {failures} calls per attendee")
        self.call(lambda nb: self._override(nb, failures))

    @rule()
    def courier_back(self) -> None:
        self.step("the override of get_courier cleared")
        self.call(lambda nb: nb.clear_overrides())

    @rule()
    def report(self) -> None:
        learner, reference = self.send("GET", REPORT)
        self.same(learner, reference, json=False)
        # Orders made at once may be given up in any order: the exercise fixes which, not when.
        self.agree("undelivered", sorted(_listed(learner)), sorted(_listed(reference)))

    @staticmethod
    async def _override(nb: Notebook, failures: int) -> None:
        await nb.override("get_courier", await nb.call(troubled_courier, failures))

    def tour(self) -> None:
        self.order("ada", 101, DOMAINS[0], True)
        self.order("kai", 102, DOMAINS[1], False)
        self.courier_troubled(2)
        self.order("lin", 103, DOMAINS[2], True)
        self.courier_troubled(1000)
        self.order_at_once(2, 104)
        self.order("lin", 103, DOMAINS[2], True)
        self.report()
        self.courier_back()
        self.order("mo", 105, DOMAINS[3], True)
        self.deliveries_agree()

    @invariant()
    def deliveries_agree(self) -> None:
        learner, reference = self.call(lambda nb: nb.call(delivery_state))
        self.agree("COURIER delivered to", sorted(learner["delivered"]), sorted(reference["delivered"]))
        self.agree("the courier's calls", sorted(learner["calls"]), sorted(reference["calls"]))


def _listed(response: Response) -> list[Any]:
    try:
        body = response.json()
    except ValueError:
        return []
    listed = body.get("undelivered") if isinstance(body, dict) else None
    return listed if isinstance(listed, list) else []


@check(
    points=3,
    hint="""In some sequence of orders, valid or not, several at once, with the courier
    working, dropping deliveries or down, your app answers, delivers or reports differently from what
    the exercise asks. Replay the sequence shown in your notebook and compare each step with the
    acceptance criteria.""",
    see="09-background-work.ipynb#recap",
)
async def test_behaves_as_specified_in_any_sequence(differential: Differential) -> None:  # noqa: F811
    await differential.run(Orders, examples=3, steps=5)
