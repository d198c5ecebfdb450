"""Exercise 07-fix-double-quota: the mistakes its checks must catch, and correct answers written differently."""

FIXED = """dependencies=[Depends(one_operation)])
RemainingQuota = Annotated[int, Depends(one_operation)]"""
BUG = {
    "test_each_resize_costs_one_unit",
    "test_a_key_gets_its_whole_quota_then_429",
    "test_one_request_charges_the_quota_once",
    "test_meters_as_specified_in_any_sequence",
}
REGION = """one_operation = ConsumeQuota(cost=1)
images = APIRouter(prefix="/images", dependencies=[Depends(one_operation)])
RemainingQuota = Annotated[int, Depends(one_operation)]
### BUGGY"""
TWO_INSTANCES = """images = APIRouter(prefix="/images", dependencies=[Depends(ConsumeQuota(cost=1))])
RemainingQuota = Annotated[int, Depends(ConsumeQuota(cost=1))]
### BUGGY"""
CONSTRUCTOR = """    def __init__(self, cost: int = 1) -> None:
        self.cost = cost
"""

# (exercise, what the learner did wrong, (text of the solution, replaced by), checks that must fail)
MUTANTS = [
    (
        "07-fix-double-quota",
        "the untouched bug: two ConsumeQuota(cost=1) instances, two cache keys",
        (
            FIXED,
            """dependencies=[Depends(ConsumeQuota(cost=1))])
RemainingQuota = Annotated[int, Depends(ConsumeQuota(cost=1))]""",
        ),
        BUG,
    ),
    (
        "07-fix-double-quota",
        "the parameter's instance costs nothing, but still runs a second time",
        (
            "RemainingQuota = Annotated[int, Depends(one_operation)]",
            "RemainingQuota = Annotated[int, Depends(ConsumeQuota(cost=0))]",
        ),
        {"test_one_request_charges_the_quota_once"},
    ),
    (
        "07-fix-double-quota",
        "each of the two charges costs half a unit",
        (
            FIXED,
            """dependencies=[Depends(ConsumeQuota(cost=0.5))])
RemainingQuota = Annotated[int, Depends(ConsumeQuota(cost=0.5))]""",
        ),
        {*BUG, "test_keys_do_not_share_quotas", "test_the_quota_renews_when_the_window_ends"},
    ),
    (
        "07-fix-double-quota",
        "the plans' limits doubled, the two instances kept",
        (
            REGION,
            TWO_INSTANCES.replace("### BUGGY", "PLANS = {plan: 2 * limit for plan, limit in PLANS.items()}\n### BUGGY"),
        ),
        BUG,
    ),
    (
        "07-fix-double-quota",
        "one shared instance, but the parameter asks for use_cache=False",
        (
            "RemainingQuota = Annotated[int, Depends(one_operation)]",
            "RemainingQuota = Annotated[int, Depends(one_operation, use_cache=False)]",
        ),
        BUG,
    ),
    (
        "07-fix-double-quota",
        "use_cache=True spelled out on both instances",
        (
            FIXED,
            """dependencies=[Depends(ConsumeQuota(cost=1), use_cache=True)])
RemainingQuota = Annotated[int, Depends(ConsumeQuota(cost=1), use_cache=True)]""",
        ),
        BUG,
    ),
    (
        "07-fix-double-quota",
        "instances hashed by their cost, without __eq__: still two keys",
        (
            REGION,
            """class ConsumeQuota(ConsumeQuota):
    def __hash__(self) -> int:
        return hash(self.cost)


"""
            + TWO_INSTANCES,
        ),
        BUG,
    ),
    (
        "07-fix-double-quota",
        "the router's dependency removed: thumbnails are not metered",
        (
            'images = APIRouter(prefix="/images", dependencies=[Depends(one_operation)])',
            'images = APIRouter(prefix="/images")',
        ),
        {
            "test_one_request_charges_the_quota_once",
            "test_keys_do_not_share_quotas",
            "test_the_quota_renews_when_the_window_ends",
            "test_every_image_route_is_metered",
            "test_meters_as_specified_in_any_sequence",
        },
    ),
    (
        "07-fix-double-quota",
        "the resize's parameter removed: its body no longer says what is left",
        (
            """async def resize(job: ResizeIn, remaining: RemainingQuota) -> dict:
    output = stored_as(job.source, job.width, job.height)
    return {"output": output, "quota_remaining": remaining}""",
            """async def resize(job: ResizeIn) -> dict:
    output = stored_as(job.source, job.width, job.height)
    return {"output": output}""",
        ),
        {"test_each_resize_costs_one_unit", "test_meters_as_specified_in_any_sequence"},
    ),
    (
        "07-fix-double-quota",
        "the dependency no longer sets X-Quota-Remaining",
        ('        response.headers["X-Quota-Remaining"] = str(left)\n', ""),
        {
            "test_each_resize_costs_one_unit",
            "test_keys_do_not_share_quotas",
            "test_the_quota_renews_when_the_window_ends",
            "test_every_image_route_is_metered",
            "test_meters_as_specified_in_any_sequence",
        },
    ),
    (
        "07-fix-double-quota",
        "the 429 loses its Retry-After",
        (
            'raise HTTPException(429, "quota used up for this window", headers=headers)',
            'raise HTTPException(429, "quota used up for this window")',
        ),
        {
            "test_a_key_gets_its_whole_quota_then_429",
            "test_the_quota_renews_when_the_window_ends",
            "test_meters_as_specified_in_any_sequence",
        },
    ),
]

# (exercise, what is written differently, [(text of the solution, replaced by), ...])
ALTERNATIVES = [
    (
        "07-fix-double-quota",
        "ConsumeQuota a frozen dataclass: equal instances are one cache key",
        [
            (CONSTRUCTOR, "    cost: int = 1\n"),
            ("class ConsumeQuota:\n", "@dataclass(frozen=True)\nclass ConsumeQuota:\n"),
            (REGION, TWO_INSTANCES),
        ],
    ),
    (
        "07-fix-double-quota",
        "ConsumeQuota equal and hashed by its cost",
        [
            (
                CONSTRUCTOR,
                CONSTRUCTOR
                + """
    def __eq__(self, other: object) -> bool:
        return isinstance(other, ConsumeQuota) and other.cost == self.cost

    def __hash__(self) -> int:
        return hash((ConsumeQuota, self.cost))
""",
            ),
            (REGION, TWO_INSTANCES),
        ],
    ),
    (
        "07-fix-double-quota",
        "the dependency hands what is left to the endpoint in request.state",
        [
            (
                "    async def __call__(self, response: Response, key: ApiKey, now: Now) -> int:",
                "    async def __call__(self, request: Request, response: Response, key: ApiKey, now: Now) -> int:",
            ),
            (
                '        response.headers["X-Quota-Remaining"] = str(left)\n',
                "        request.state.quota_remaining = left\n"
                '        response.headers["X-Quota-Remaining"] = str(left)\n',
            ),
            (
                'images = APIRouter(prefix="/images", dependencies=[Depends(one_operation)])\n'
                "RemainingQuota = Annotated[int, Depends(one_operation)]",
                'images = APIRouter(prefix="/images", dependencies=[Depends(ConsumeQuota(cost=1))])\n\n\n'
                "def units_left(request: Request) -> int:\n"
                "    return request.state.quota_remaining\n\n\n"
                "RemainingQuota = Annotated[int, Depends(units_left)]",
            ),
            (
                "from fastapi import APIRouter, Depends, FastAPI, HTTPException, Response",
                "from fastapi import APIRouter, Depends, FastAPI, HTTPException, Request, Response",
            ),
        ],
    ),
    (
        "07-fix-double-quota",
        "metered route by route with one instance, not on the router",
        [
            (
                'images = APIRouter(prefix="/images", dependencies=[Depends(one_operation)])',
                'images = APIRouter(prefix="/images")',
            ),
            ('@images.post("/thumbnail")', '@images.post("/thumbnail", dependencies=[Depends(one_operation)])'),
        ],
    ),
    (
        "07-fix-double-quota",
        "a module-level function charging one unit, used in both places",
        [
            (
                "one_operation = ConsumeQuota(cost=1)\n",
                """async def one_operation(response: Response, key: ApiKey, now: Now) -> int:
    return await ConsumeQuota(cost=1)(response, key, now)

""",
            ),
        ],
    ),
]
