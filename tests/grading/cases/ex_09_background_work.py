"""Exercise 09-background-work: the mistakes its checks must catch, and correct answers written differently."""

# (exercise, what the learner did wrong, (text of the solution, replaced by), checks that must fail)
MUTANTS = [
    (
        "09-background-work",
        "the ticket is delivered in the endpoint, before the response",
        ("    later.add_task(deliver_ticket, courier, order.attendee)", "    deliver_ticket(courier, order.attendee)"),
        {"test_the_delivery_runs_after_the_response"},
    ),
    (
        "09-background-work",
        "the work uses the global COURIER, not the request's courier",
        (
            "    later.add_task(deliver_ticket, courier, order.attendee)",
            "    later.add_task(deliver_ticket, COURIER, order.attendee)",
        ),
        {
            "test_a_dropped_delivery_is_tried_again",
            "test_a_ticket_given_up_is_reported",
            "test_behaves_as_specified_in_any_sequence",
            "test_the_courier_comes_through_the_dependency",
        },
    ),
    (
        "09-background-work",
        "a failing courier's error escapes the work (no retry, no record)",
        (
            """        try:
            courier.deliver(attendee)
        except Exception:
            continue
        return""",
            """        courier.deliver(attendee)
        return""",
        ),
        {
            "test_a_dropped_delivery_is_tried_again",
            "test_a_ticket_given_up_is_reported",
            "test_behaves_as_specified_in_any_sequence",
        },
    ),
    (
        "09-background-work",
        "the work is scheduled twice",
        (
            "    later.add_task(deliver_ticket, courier, order.attendee)\n",
            "    later.add_task(deliver_ticket, courier, order.attendee)\n"
            "    later.add_task(deliver_ticket, courier, order.attendee)\n",
        ),
        {
            "test_a_dropped_delivery_is_tried_again",
            "test_a_ticket_given_up_is_reported",
            "test_an_order_delivers_one_ticket",
            "test_behaves_as_specified_in_any_sequence",
            "test_the_courier_comes_through_the_dependency",
            "test_the_delivery_runs_after_the_response",
        },
    ),
    (
        "09-background-work",
        "the order answers 200, not 201",
        ('@app.post("/tickets", status_code=201)', '@app.post("/tickets")'),
        {
            "test_a_dropped_delivery_is_tried_again",
            "test_a_ticket_given_up_is_reported",
            "test_an_order_delivers_one_ticket",
            "test_behaves_as_specified_in_any_sequence",
            "test_the_courier_comes_through_the_dependency",
        },
    ),
    (
        "09-background-work",
        "one attempt fewer than ATTEMPTS",
        ("    for _ in range(ATTEMPTS):", "    for _ in range(ATTEMPTS - 1):"),
        {
            "test_a_dropped_delivery_is_tried_again",
            "test_a_ticket_given_up_is_reported",
            "test_behaves_as_specified_in_any_sequence",
        },
    ),
    (
        "09-background-work",
        "the delivery goes on after a success",
        ("            continue\n        return\n", "            continue\n"),
        {
            "test_a_dropped_delivery_is_tried_again",
            "test_an_order_delivers_one_ticket",
            "test_behaves_as_specified_in_any_sequence",
            "test_the_courier_comes_through_the_dependency",
        },
    ),
    (
        "09-background-work",
        "every failed attempt is recorded, not the ticket given up",
        (
            """        except Exception:
            continue
        return
    UNDELIVERED.append(attendee)""",
            """        except Exception:
            UNDELIVERED.append(attendee)
            continue
        return""",
        ),
        {
            "test_a_dropped_delivery_is_tried_again",
            "test_a_ticket_given_up_is_reported",
            "test_behaves_as_specified_in_any_sequence",
        },
    ),
    (
        "09-background-work",
        "CourierDep wraps get_courier in a lambda",
        (
            "CourierDep = typing.Annotated[Courier, Depends(get_courier)]",
            "CourierDep = typing.Annotated[Courier, Depends(lambda: get_courier())]",
        ),
        {
            "test_a_dropped_delivery_is_tried_again",
            "test_a_ticket_given_up_is_reported",
            "test_behaves_as_specified_in_any_sequence",
            "test_the_courier_comes_through_the_dependency",
        },
    ),
    (
        "09-background-work",
        "the report is a fresh list, not the record",
        ('    return {"undelivered": UNDELIVERED}', '    return {"undelivered": list(set())}'),
        {"test_a_ticket_given_up_is_reported", "test_behaves_as_specified_in_any_sequence"},
    ),
]

# (exercise, what is written differently, [(text of the solution, replaced by), ...])
ALTERNATIVES = [
    (
        "09-background-work",
        "the work is a response's background, not BackgroundTasks",
        [
            (
                """@app.post("/tickets", status_code=201)
async def order_ticket(
    order: TicketOrder, courier: CourierDep, later: BackgroundTasks
) -> dict:
    later.add_task(deliver_ticket, courier, order.attendee)
    return {"attendee": order.attendee}""",
                """from fastapi.responses import JSONResponse
from starlette.background import BackgroundTask


@app.post("/tickets", status_code=201)
async def order_ticket(order: TicketOrder, courier: CourierDep) -> JSONResponse:
    work = BackgroundTask(deliver_ticket, courier, order.attendee)
    return JSONResponse({"attendee": order.attendee}, status_code=201, background=work)""",
            ),
        ],
    ),
    (
        "09-background-work",
        "an async task with a while loop and a counter",
        [
            (
                """def deliver_ticket(courier: Courier, attendee: str) -> None:
    for _ in range(ATTEMPTS):
        try:
            courier.deliver(attendee)
        except Exception:
            continue
        return
    UNDELIVERED.append(attendee)""",
                """async def deliver_ticket(courier: Courier, attendee: str) -> None:
    tries, done = 0, False
    while not done and tries < ATTEMPTS:
        tries += 1
        try:
            courier.deliver(attendee)
            done = True
        except ConnectionError:
            pass
        except Exception:
            pass
    if not done:
        UNDELIVERED.append(attendee)""",
            ),
        ],
    ),
    (
        "09-background-work",
        "the record is a class reached through a dependency by both sides",
        [
            (
                "UNDELIVERED: list[str] = []\n",
                """class Undelivered:
    def __init__(self) -> None:
        self.attendees: list[str] = []


RECORD = Undelivered()


def get_record() -> Undelivered:
    return RECORD


UNDELIVERED = RECORD.attendees
""",
            ),
            (
                """@app.get("/tickets/undelivered")
async def undelivered_tickets() -> dict:
    return {"undelivered": UNDELIVERED}""",
                """@app.get("/tickets/undelivered")
def undelivered_tickets(record: typing.Annotated[Undelivered, Depends(get_record)]) -> dict:
    return {"undelivered": list(record.attendees)}""",
            ),
        ],
    ),
    (
        "09-background-work",
        "a response model, a sync endpoint and keyword arguments",
        [
            (
                """@app.post("/tickets", status_code=201)
async def order_ticket(
    order: TicketOrder, courier: CourierDep, later: BackgroundTasks
) -> dict:
    later.add_task(deliver_ticket, courier, order.attendee)
    return {"attendee": order.attendee}""",
                """class Ordered(BaseModel):
    attendee: str


@app.post("/tickets", status_code=201, response_model=Ordered)
def order_ticket(order: TicketOrder, courier: CourierDep, later: BackgroundTasks) -> Ordered:
    later.add_task(deliver_ticket, courier=courier, attendee=order.attendee)
    return Ordered(attendee=order.attendee)""",
            ),
        ],
    ),
    (
        "09-background-work",
        "the work is scheduled by a dependency, with a for-else",
        [
            (
                """@app.post("/tickets", status_code=201)
async def order_ticket(
    order: TicketOrder, courier: CourierDep, later: BackgroundTasks
) -> dict:
    later.add_task(deliver_ticket, courier, order.attendee)
    return {"attendee": order.attendee}""",
                """def dispatcher(later: BackgroundTasks, courier: CourierDep):
    def dispatch(attendee: str) -> None:
        later.add_task(deliver_ticket, courier, attendee)

    return dispatch


@app.post("/tickets", status_code=201)
async def order_ticket(order: TicketOrder, dispatch: typing.Annotated[object, Depends(dispatcher)]) -> dict:
    dispatch(order.attendee)
    return {"attendee": order.attendee}""",
            ),
            (
                """        except Exception:
            continue
        return
    UNDELIVERED.append(attendee)""",
                """        except Exception:
            continue
        break
    else:
        UNDELIVERED.append(attendee)""",
            ),
        ],
    ),
]
