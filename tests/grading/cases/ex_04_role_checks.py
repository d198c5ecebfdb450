"""Exercise 04-role-checks: the mistakes its checks must catch, and correct answers written differently."""

# The checks, by what they test.
RANKS = "test_each_role_may_do_what_its_rank_allows"
UNKNOWN = "test_unknown_callers_get_401_everywhere"
OUTSIDE = "test_a_shop_you_are_not_in_looks_missing"
OPENER = "test_the_opener_may_change_their_ticket"
PER_SHOP = "test_roles_are_per_shop_and_change_at_once"
ANY_APP = "test_min_role_works_in_any_app"
OVERRIDE = "test_overriding_the_current_person_reaches_every_check"
ONE_CHECK = "test_one_role_check_per_request"
ONE_READ = "test_the_membership_is_read_once_per_request"
SEQUENCES = "test_behaves_as_specified_in_any_sequence"

# The reference's definitions the mutants and alternatives replace.
_MIN_ROLE = """@functools.cache  # the same object for a role every time: one cache key per request
def min_role(role: Role):
    async def role_check(membership: MemberOf) -> Membership:
        if RANK[membership.role] < RANK[role]:
            raise HTTPException(status.HTTP_403_FORBIDDEN, f"needs a {role} or above")
        return membership

    return role_check"""

_DELETE_TICKET = """@tickets.delete("/{ticket_id}", status_code=204,
                dependencies=[Depends(min_role("manager"))])
async def delete_ticket(ticket: ShopTicket, db: Db) -> None:"""

_GET_TICKET = """async def get_ticket(ticket_id: int, membership: MemberOf, db: Db) -> Ticket:
    ticket = await db.get(Ticket, ticket_id)
    if ticket is None or ticket.shop_id != membership.shop_id:"""

_CHANGEABLE = """async def changeable_ticket(ticket: ShopTicket, membership: MemberOf) -> Ticket:
    opener = ticket.opened_by == membership.person_id
    if RANK[membership.role] < RANK["technician"] and not opener:"""

# (exercise, what the learner did wrong, (text of the solution, replaced by), checks that must fail)
MUTANTS = [
    (
        "04-role-checks",
        "roles are compared for equality: a higher role does not imply a lower one",
        ("        if RANK[membership.role] < RANK[role]:", "        if membership.role != role:"),
        {ANY_APP, OVERRIDE, PER_SHOP, RANKS, SEQUENCES},
    ),
    (
        "04-role-checks",
        "a shop the caller is not in is answered 403, which tells them it exists",
        (
            '        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such shop")',
            '        raise HTTPException(status.HTTP_403_FORBIDDEN, "not your shop")',
        ),
        {ANY_APP, OPENER, OUTSIDE, PER_SHOP, RANKS, SEQUENCES},
    ),
    (
        "04-role-checks",
        "the role is looked up by person only, whichever shop is in the path",
        (
            "    membership = await db.get(Membership, (shop_id, me.id))",
            "    membership = await db.scalar(select(Membership).filter_by(person_id=me.id))",
        ),
        {ANY_APP, ONE_CHECK, OUTSIDE, OVERRIDE, PER_SHOP, RANKS, SEQUENCES},
    ),
    (
        "04-role-checks",
        "a ticket of another shop is reachable through your own shop",
        ("    if ticket is None or ticket.shop_id != membership.shop_id:", "    if ticket is None:"),
        {OUTSIDE, SEQUENCES},
    ),
    (
        "04-role-checks",
        "no opener's exception: a clerk cannot change the ticket they opened",
        (
            '    if RANK[membership.role] < RANK["technician"] and not opener:',
            '    if RANK[membership.role] < RANK["technician"]:',
        ),
        {OPENER, SEQUENCES},
    ),
    (
        "04-role-checks",
        "deleting goes by the status rule: technicians and openers delete tickets",
        (
            _DELETE_TICKET,
            """@tickets.delete("/{ticket_id}", status_code=204)
async def delete_ticket(ticket: Annotated[Ticket, Depends(changeable_ticket)], db: Db) -> None:""",
        ),
        {ONE_CHECK, OPENER, OVERRIDE, PER_SHOP, RANKS, SEQUENCES},
    ),
    (
        "04-role-checks",
        "deleting looks the ticket up before the role: a clerk learns 404, not 403",
        (
            _DELETE_TICKET,
            """@tickets.delete("/{ticket_id}", status_code=204)
async def delete_ticket(ticket: ShopTicket, manager: ManagerOf, db: Db) -> None:""",
        ),
        {OVERRIDE, RANKS, SEQUENCES},
    ),
    (
        "04-role-checks",
        "min_role makes a new dependency on every call, so the router's and the route's run twice",
        ("@functools.cache  # the same object for a role every time: one cache key per request\n", ""),
        {ONE_CHECK},
    ),
    (
        "04-role-checks",
        "the ticket lookup reads the caller's membership again",
        (
            _GET_TICKET,
            """async def get_ticket(ticket_id: int, shop_id: int, me: CurrentPerson, db: Db) -> Ticket:
    query = select(Membership).filter_by(shop_id=shop_id, person_id=me.id)
    membership = await db.scalar(query)
    if membership is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such shop")
    ticket = await db.get(Ticket, ticket_id)
    if ticket is None or ticket.shop_id != membership.shop_id:""",
        ),
        {ONE_READ},
    ),
    (
        "04-role-checks",
        "a role given is never committed",
        ("        membership.role = body.role\n    await db.commit()\n", "        membership.role = body.role\n"),
        {PER_SHOP, SEQUENCES},
    ),
    (
        "04-role-checks",
        "a role can be given to a person who does not exist",
        (
            """    if await db.get(Person, person_id) is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such person")
""",
            "",
        ),
        {OVERRIDE, PER_SHOP, RANKS, SEQUENCES},
    ),
    (
        "04-role-checks",
        "the list shows the tickets of every shop",
        (
            "    query = select(Ticket).where(Ticket.shop_id == shop_id).order_by(Ticket.id)",
            "    query = select(Ticket).order_by(Ticket.id)",
        ),
        {OPENER, SEQUENCES},
    ),
    (
        "04-role-checks",
        "memberships are kept across requests, so a role changed or taken away still counts",
        (
            """async def get_membership(shop_id: int, me: CurrentPerson, db: Db) -> Membership:
    membership = await db.get(Membership, (shop_id, me.id))""",
            """KNOWN: dict = {}


async def get_membership(shop_id: int, me: CurrentPerson, db: Db) -> Membership:
    membership = KNOWN.get((shop_id, me.id)) or await db.get(Membership, (shop_id, me.id))
    KNOWN[(shop_id, me.id)] = membership""",
        ),
        {ONE_READ, OPENER, PER_SHOP, SEQUENCES},
    ),
    (
        "04-role-checks",
        "the list of tickets has no role check",
        ('@tickets.get("", dependencies=[Depends(min_role("clerk"))])', '@tickets.get("")'),
        {ONE_READ, OUTSIDE, PER_SHOP, RANKS, SEQUENCES, UNKNOWN},
    ),
    (
        "04-role-checks",
        "the membership check finds the caller from the token itself, not from CurrentPerson",
        (
            """async def get_membership(shop_id: int, me: CurrentPerson, db: Db) -> Membership:
    membership = await db.get(Membership, (shop_id, me.id))""",
            """async def get_membership(
    shop_id: int, db: Db, sent: Annotated[Credentials | None, Depends(read_bearer)]
) -> Membership:
    hashed = digest(sent.credentials) if sent else ""
    me = await db.scalar(select(Person).filter_by(token_sha256=hashed))
    membership = await db.get(Membership, (shop_id, me.id)) if me else None""",
        ),
        {OVERRIDE, SEQUENCES, UNKNOWN},
    ),
]

# (exercise, what is written differently, [(text of the solution, replaced by), ...])
ALTERNATIVES = [
    (
        "04-role-checks",
        "a callable class, each instance made once and named",
        [
            (
                _MIN_ROLE,
                """class RoleAtLeast:
    def __init__(self, role: Role):
        self.needed = RANK[role]

    async def __call__(self, membership: MemberOf) -> Membership:
        if RANK[membership.role] < self.needed:
            raise HTTPException(403, "your role in this shop is too low")
        return membership


min_role = RoleAtLeast
require_clerk = RoleAtLeast("clerk")
require_manager = RoleAtLeast("manager")""",
            ),
            (
                'ManagerOf = Annotated[Membership, Depends(min_role("manager"))]',
                "ManagerOf = Annotated[Membership, Depends(require_manager)]",
            ),
            (
                'prefix="/shops/{shop_id}/members", dependencies=[Depends(min_role("manager"))]',
                'prefix="/shops/{shop_id}/members", dependencies=[Depends(require_manager)]',
            ),
            (
                '@tickets.get("", dependencies=[Depends(min_role("clerk"))])',
                '@tickets.get("", dependencies=[Depends(require_clerk)])',
            ),
            (
                'body: NewTicket, member: Annotated[Membership, Depends(min_role("clerk"))], db: Db',
                "body: NewTicket, member: Annotated[Membership, Depends(require_clerk)], db: Db",
            ),
            (
                """                dependencies=[Depends(min_role("manager"))])""",
                """                dependencies=[Depends(require_manager)])""",
            ),
        ],
    ),
    (
        "04-role-checks",
        "a plain factory of closures, each check made once and named",
        [
            ("@functools.cache  # the same object for a role every time: one cache key per request\n", ""),
            (
                'ManagerOf = Annotated[Membership, Depends(min_role("manager"))]',
                """as_clerk, as_manager = min_role("clerk"), min_role("manager")
ManagerOf = Annotated[Membership, Depends(as_manager)]
ClerkOf = Annotated[Membership, Depends(as_clerk)]""",
            ),
            (
                'prefix="/shops/{shop_id}/members", dependencies=[Depends(min_role("manager"))]',
                'prefix="/shops/{shop_id}/members", dependencies=[Depends(as_manager)]',
            ),
            (
                '@tickets.get("", dependencies=[Depends(min_role("clerk"))])',
                '@tickets.get("", dependencies=[Depends(as_clerk)])',
            ),
            (
                'body: NewTicket, member: Annotated[Membership, Depends(min_role("clerk"))], db: Db',
                "body: NewTicket, member: ClerkOf, db: Db",
            ),
            (
                """                dependencies=[Depends(min_role("manager"))])""",
                """                dependencies=[Depends(as_manager)])""",
            ),
        ],
    ),
    (
        "04-role-checks",
        "a frozen dataclass: equal instances are one cache key",
        [
            (
                _MIN_ROLE,
                """from dataclasses import dataclass


@dataclass(frozen=True)
class min_role:  # lower case: the name the exercise asks for
    role: str

    async def __call__(self, membership: MemberOf) -> Membership:
        if RANK[membership.role] < RANK[self.role]:
            raise HTTPException(403, f"only a {self.role} or above may do this")
        return membership""",
            ),
        ],
    ),
    (
        "04-role-checks",
        "an IntEnum of ranks, the role check reads the membership itself, one query per ticket",
        [
            (
                'RANK = {"clerk": 1, "technician": 2, "manager": 3}  # higher may do all that lower may',
                """from enum import IntEnum


class Rank(IntEnum):
    clerk = 1
    technician = 2
    manager = 3""",
            ),
            (
                """async def get_membership(shop_id: int, me: CurrentPerson, db: Db) -> Membership:
    membership = await db.get(Membership, (shop_id, me.id))
    if membership is None:  # no such shop, or not one of yours: the same answer
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such shop")
    return membership


MemberOf = Annotated[Membership, Depends(get_membership)]


"""
                + _MIN_ROLE,
                """@functools.lru_cache(maxsize=None)
def min_role(role: str):
    async def check(shop_id: int, me: CurrentPerson, db: Db) -> Membership:
        query = select(Membership).where(
            Membership.shop_id == shop_id, Membership.person_id == me.id
        )
        found = await db.scalar(query)
        if found is None:
            raise HTTPException(404, "Shop not found")
        if Rank[found.role] < Rank[role]:
            raise HTTPException(403, "Forbidden")
        return found

    return check


MemberOf = Annotated[Membership, Depends(min_role("clerk"))]""",
            ),
            (
                _GET_TICKET
                + """
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such ticket in this shop")
    return ticket""",
                """async def get_ticket(shop_id: int, ticket_id: int, db: Db) -> Ticket:
    query = select(Ticket).filter_by(id=ticket_id, shop_id=shop_id)
    ticket = await db.scalar(query)
    if ticket is None:
        raise HTTPException(404, "Ticket not found")
    return ticket""",
            ),
            (
                _CHANGEABLE,
                """async def changeable_ticket(membership: MemberOf, ticket: ShopTicket) -> Ticket:
    opener = ticket.opened_by == membership.person_id
    if Rank[membership.role] < Rank.technician and not opener:""",
            ),
        ],
    ),
    (
        "04-role-checks",
        "routes on the app, ranks by position, one dependency for the ticket and its rule",
        [
            (
                'RANK = {"clerk": 1, "technician": 2, "manager": 3}  # higher may do all that lower may',
                """ORDER = ("clerk", "technician", "manager")


def rank(role: str) -> int:
    return ORDER.index(role)""",
            ),
            ("        if RANK[membership.role] < RANK[role]:", "        if rank(membership.role) < rank(role):"),
            (
                _GET_TICKET
                + """
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such ticket in this shop")
    return ticket


ShopTicket = Annotated[Ticket, Depends(get_ticket)]


"""
                + _CHANGEABLE
                + """
        raise HTTPException(status.HTTP_403_FORBIDDEN, "its opener or a technician")
    return ticket""",
                """async def find_ticket(shop_id: int, ticket_id: int, db: Db) -> Ticket:
    ticket = await db.get(Ticket, ticket_id)
    if ticket is None or ticket.shop_id != shop_id:
        raise HTTPException(404, "no such ticket")
    return ticket


ShopTicket = Annotated[Ticket, Depends(find_ticket)]


async def changeable_ticket(shop_id: int, ticket_id: int, membership: MemberOf, db: Db) -> Ticket:
    ticket = await find_ticket(shop_id, ticket_id, db)
    if rank(membership.role) < rank("technician") and ticket.opened_by != membership.person_id:
        raise HTTPException(403, "not yours to change")
    return ticket""",
            ),
            (
                """tickets = APIRouter(prefix="/shops/{shop_id}/tickets")
members = APIRouter(
    prefix="/shops/{shop_id}/members", dependencies=[Depends(min_role("manager"))]
)""",
                '''from fastapi import Response

tickets = members = app
TICKETS, MEMBERS = "/shops/{shop_id}/tickets", "/shops/{shop_id}/members"''',
            ),
            (
                '@tickets.get("", dependencies=[Depends(min_role("clerk"))])',
                '@tickets.get(TICKETS, response_model=list[TicketOut], dependencies=[Depends(min_role("clerk"))])',
            ),
            (
                '@tickets.post("", status_code=status.HTTP_201_CREATED)',
                "@tickets.post(TICKETS, status_code=201, response_model=TicketOut)",
            ),
            ('@tickets.patch("/{ticket_id}")', '@tickets.patch(TICKETS + "/{ticket_id}", response_model=TicketOut)'),
            (
                """    ticket.status = body.status
    await db.commit()
    return TicketOut.model_validate(ticket)""",
                """    ticket.status = body.status
    await db.commit()
    return ticket""",
            ),
            (
                _DELETE_TICKET
                + """
    await db.delete(ticket)
    await db.commit()""",
                """@tickets.delete(TICKETS + "/{ticket_id}", dependencies=[Depends(min_role("manager"))])
async def delete_ticket(ticket: ShopTicket, db: Db) -> Response:
    await db.delete(ticket)
    await db.commit()
    return Response(status_code=204)""",
            ),
            (
                '@members.put("/{person_id}")',
                '@members.put(MEMBERS + "/{person_id}", dependencies=[Depends(min_role("manager"))])',
            ),
            (
                '@members.delete("/{person_id}", status_code=204)',
                '@members.delete(MEMBERS + "/{person_id}", status_code=204)',
            ),
            (
                """app.include_router(tickets)
app.include_router(members)""",
                "",
            ),
        ],
    ),
]
