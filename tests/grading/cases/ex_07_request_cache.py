"""Exercise 07-request-cache: the mistakes its checks must catch, and correct answers written differently."""

EX = "07-request-cache"
DIFFERENTIAL = "test_behaves_as_specified_in_any_sequence"
HOME = "test_home_shows_each_accounts_flags"
FETCHED = "test_the_account_is_fetched_once_per_request"
EVALUATED = "test_each_flag_is_evaluated_once_per_request"
NUMBERS = "test_one_request_number_and_fresh_decisions"
KEPT = "test_nothing_is_kept_across_requests"
AT_ONCE = "test_customers_at_the_same_time_see_their_own_flags"
OVERRIDE = "test_overriding_the_account_reaches_every_flag"

EQUALITY = """    def __eq__(self, other: object) -> bool:
        return isinstance(other, Flag) and other.name == self.name

    def __hash__(self) -> int:
        return hash(("Flag", self.name))

"""

FLAG_BLOCK = (
    '''    return account


Account = Annotated[dict, Depends(current_account)]


class Flag:
    """Depends(Flag(name)): is that flag on? Equal names are one cache entry."""

    def __init__(self, name: str):
        self.name = name

'''
    + EQUALITY
    + """    async def __call__(self, account: Account) -> bool:
        return await flag_is_on(account, self.name)"""
)

# (exercise, what the learner did wrong, (text of the solution, replaced by), checks that must fail)
MUTANTS = [
    (
        EX,
        "Flag is keyed by identity: Flag('new_checkout') written twice is evaluated twice",
        (EQUALITY, ""),
        {EVALUATED, DIFFERENTIAL},
    ),
    (
        EX,
        "Flag hashes and compares by its class only: every flag takes the first one's value",
        (
            EQUALITY,
            EQUALITY.replace("isinstance(other, Flag) and other.name == self.name", "isinstance(other, Flag)").replace(
                'hash(("Flag", self.name))', 'hash("Flag")'
            ),
        ),
        {HOME, EVALUATED, KEPT, AT_ONCE, OVERRIDE, DIFFERENTIAL},
    ),
    (
        EX,
        "decision numbers keep the default use_cache=True, so both sections share one",
        (
            "DecisionNumber = Annotated[int, Depends(decision_number, use_cache=False)]",
            "DecisionNumber = Annotated[int, Depends(decision_number)]",
        ),
        {NUMBERS, DIFFERENTIAL},
    ),
    (
        EX,
        "one callable for both numbers: the first fresh decision fills the cache the request number reads",
        (
            "DecisionNumber = Annotated[int, Depends(decision_number, use_cache=False)]",
            "DecisionNumber = Annotated[int, Depends(request_number, use_cache=False)]",
        ),
        {NUMBERS, DIFFERENTIAL},
    ),
    (
        EX,
        "accounts are kept in a global dict between requests, so a switched flag is never seen",
        (
            """async def current_account(x_account: Annotated[int, Header()]) -> dict:
    account = await fetch_account(x_account)""",
            """KNOWN: dict = {}


async def current_account(x_account: Annotated[int, Header()]) -> dict:
    if x_account not in KNOWN:
        KNOWN[x_account] = await fetch_account(x_account)
    account = KNOWN[x_account]""",
        ),
        {KEPT, DIFFERENTIAL},
    ),
    (
        EX,
        "each Flag fetches the account itself from the header",
        (
            """    async def __call__(self, account: Account) -> bool:
        return await flag_is_on(account, self.name)""",
            """    async def __call__(self, x_account: Annotated[int, Header()]) -> bool:
        return await flag_is_on(await fetch_account(x_account), self.name)""",
        ),
        {FETCHED, EVALUATED, KEPT, OVERRIDE, DIFFERENTIAL},
    ),
    (
        EX,
        "an unknown account is not refused: the flags fail on None (500)",
        (
            """    if account is None:
        raise HTTPException(404, "Unknown account")
""",
            "",
        ),
        {HOME, DIFFERENTIAL},
    ),
    (
        EX,
        "the theme is the wrong way round",
        ('theme = "dark" if dark else "light"', 'theme = "light" if dark else "dark"'),
        {HOME, KEPT, AT_ONCE, OVERRIDE, DIFFERENTIAL},
    ),
    (
        EX,
        "Flag reads the account from a global the last current_account set, not from its parameter",
        (
            FLAG_BLOCK,
            FLAG_BLOCK.replace(
                "    return account\n", '    LATEST["account"] = account\n    return account\n\n\nLATEST: dict = {}\n'
            ).replace("flag_is_on(account, self.name)", 'flag_is_on(LATEST["account"], self.name)'),
        ),
        {AT_ONCE, OVERRIDE, DIFFERENTIAL},
    ),
]

SECTIONS = """async def checkout_section(
    on: Annotated[bool, Depends(Flag("new_checkout"))],
    decision: DecisionNumber,
    request_id: RequestNumber,
) -> dict:
    variant = "new" if on else "classic"
    return {"variant": variant, "request": request_id, "decision": decision}


async def search_section(
    on: Annotated[bool, Depends(Flag("search_v2"))],
    decision: DecisionNumber,
    request_id: RequestNumber,
) -> dict:
    variant = "v2" if on else "v1"
    return {"variant": variant, "request": request_id, "decision": decision}"""

# (exercise, what is written differently, [(text of the solution, replaced by), ...])
ALTERNATIVES = [
    (
        EX,
        "Flag is a frozen dataclass, equal by its name",
        [
            ("class Flag:", "@dataclass(frozen=True)\nclass Flag:"),
            (
                """    def __init__(self, name: str):
        self.name = name

"""
                + EQUALITY,
                "    name: str\n\n",
            ),
            (
                "### BEGIN SOLUTION: write current_account, Flag, the ids, the two sections and GET /home\n",
                "### BEGIN SOLUTION: write current_account, Flag, the ids, the two sections and GET /home\n"
                "from dataclasses import dataclass\n\n\n",
            ),
        ],
    ),
    (
        EX,
        "Flag interns its instances: one object per name, so identity is enough",
        [
            (
                """    def __init__(self, name: str):
        self.name = name

"""
                + EQUALITY,
                """    _made: dict = {}

    def __new__(cls, name: str):
        if name not in cls._made:
            made = super().__new__(cls)
            made.name = name
            cls._made[name] = made
        return cls._made[name]

""",
            )
        ],
    ),
    (
        EX,
        "one callable for both numbers, the shared use resolved first in the endpoint",
        [
            (
                "DecisionNumber = Annotated[int, Depends(decision_number, use_cache=False)]",
                "DecisionNumber = Annotated[int, Depends(request_number, use_cache=False)]",
            ),
            (
                """    account: Account,
    dark""",
                """    request_id: RequestNumber,
    account: Account,
    dark""",
            ),
            (
                """    search: Annotated[dict, Depends(search_section)],
    request_id: RequestNumber,
) -> dict:""",
                """    search: Annotated[dict, Depends(search_section)],
) -> dict:""",
            ),
        ],
    ),
    (
        EX,
        "synchronous sections, the flags as named aliases",
        [
            (
                SECTIONS,
                """NewCheckout = Annotated[bool, Depends(Flag("new_checkout"))]
SearchV2 = Annotated[bool, Depends(Flag("search_v2"))]


def checkout_section(on: NewCheckout, decision: DecisionNumber, request_id: RequestNumber) -> dict:
    return {"variant": "new" if on else "classic", "request": request_id, "decision": decision}


def search_section(decision: DecisionNumber, on: SearchV2, request_id: RequestNumber) -> dict:
    return {"variant": "v2" if on else "v1", "request": request_id, "decision": decision}""",
            )
        ],
    ),
]
