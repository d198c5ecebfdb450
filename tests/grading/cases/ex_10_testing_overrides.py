"""Exercise 10-testing-overrides: the mistakes its checks must catch, and correct answers written differently."""

EVERY_BUG_CAUGHT = {  # exercise 10: none counts while the tests fail against the given app
    "test_you_catch_a_due_date_a_day_early",
    "test_you_catch_overdue_at_the_due_time",
    "test_you_catch_a_returned_loan_still_overdue",
    "test_you_catch_a_route_that_reads_the_real_time",
    "test_you_catch_a_returned_tool_still_out",
    "test_you_catch_a_401_without_its_challenge",
    "test_you_catch_a_revoked_card_still_accepted",
    "test_you_catch_a_member_revoking_a_card",
    "test_you_catch_other_branches_in_the_overdue_list",
}

# (exercise, what the learner did wrong, (text of the solution, replaced by), checks that must fail)
MUTANTS = [
    (
        "10-testing-overrides",
        "the overrides are never cleared",
        ("    app.dependency_overrides.clear()  # even when the test failed", "    pass"),
        {"test_no_override_outlives_its_test"},
    ),
    (
        "10-testing-overrides",
        "the session is never overridden",
        ("    app.dependency_overrides[get_session] = scratch_session\n", ""),
        {
            "test_your_tests_pass_against_the_given_app",
            "test_the_apps_own_database_is_never_opened",
            "test_dependencies_are_swapped_with_overrides",
            *EVERY_BUG_CAUGHT,
        },
    ),
    (
        "10-testing-overrides",
        "the clock override is keyed by a new Clock, not the app's own instance",
        (
            "    app.dependency_overrides[clock] = hands  # the very instance the routes depend on",
            "    app.dependency_overrides[Clock(UTC)] = hands",
        ),
        {"test_your_tests_pass_against_the_given_app", *EVERY_BUG_CAUGHT},
    ),
    (
        "10-testing-overrides",
        "the session factory is swapped by assigning the notebook's global",
        (
            """    app.dependency_overrides[get_session] = scratch_session
    app.dependency_overrides[clock] = hands  # the very instance the routes depend on
    yield app
    app.dependency_overrides.clear()  # even when the test failed""",
            """    global library_sessions
    saved, library_sessions = library_sessions, sessions
    app.dependency_overrides[clock] = hands
    yield app
    app.dependency_overrides.clear()
    library_sessions = saved""",
        ),
        {"test_dependencies_are_swapped_with_overrides"},
    ),
    (
        "10-testing-overrides",
        "no test puts the clock exactly on the due time",
        (
            """    hands.move(days=14)
    assert (await http.get("/loans/overdue")).json() == []
    hands.move(seconds=1)""",
            "    hands.move(days=14, seconds=1)",
        ),
        {"test_you_catch_overdue_at_the_due_time"},
    ),
    (
        "10-testing-overrides",
        "the revocation test stops at the 204 and never uses the revoked card",
        (
            """    again = await http.post(f"/loans/{mine.json()['id']}/return", headers=card("otto"))
    assert again.status_code == 401, again.text""",
            "",
        ),
        {"test_you_catch_a_revoked_card_still_accepted"},
    ),
    (
        "10-testing-overrides",
        "the branch test has overdue loans in one branch only",
        (
            """    act_as("sam")
    await borrow(http, people["saw"])
    hands.move(days=30)
    names = [row["member"] for row in (await http.get("/loans/overdue")).json()]
    assert names == ["sam"]""",
            """    hands.move(days=30)
    act_as("nina")
    names = [row["member"] for row in (await http.get("/loans/overdue")).json()]
    assert names == ["otto"]""",
        ),
        {"test_you_catch_other_branches_in_the_overdue_list"},
    ),
    (
        "10-testing-overrides",
        "the 401 test checks only the status code",
        ('        assert answer.headers.get("www-authenticate") == "Bearer"\n', ""),
        {"test_you_catch_a_401_without_its_challenge"},
    ),
    (
        "10-testing-overrides",
        "after the late return a different tool is borrowed",
        (
            """    assert (await http.post(f"/loans/{loan}/return")).status_code == 204
    answer = await borrow(http, people["drill"])""",
            """    assert (await http.post(f"/loans/{loan}/return")).status_code == 204
    answer = await borrow(http, people["ladder"])""",
        ),
        {"test_you_catch_a_returned_tool_still_out"},
    ),
    (
        "10-testing-overrides",
        "only the staff side of revoking is tested",
        (
            """    act_as("otto")
    answer = await http.post(f"/members/{people['pia'].id}/revoke-card")
    assert answer.status_code == 403, answer.text
""",
            "",
        ),
        {"test_you_catch_a_member_revoking_a_card"},
    ),
    (
        "10-testing-overrides",
        "a test expects 403 for an unknown card, where the app rightly answers 401",
        (
            """        assert answer.status_code == 401, answer.text
        assert answer.headers""",
            """        assert answer.status_code == (401 if not headers else 403), answer.text
        assert answer.headers""",
        ),
        {"test_your_tests_pass_against_the_given_app", *EVERY_BUG_CAUGHT},
    ),
]

# (exercise, what is written differently, [(text of the solution, replaced by), ...])
ALTERNATIVES = [
    (
        "10-testing-overrides",
        "an in-memory database and overrides popped in try/finally",
        [
            (
                """    scratch = create_async_engine(f"sqlite+aiosqlite:///{tmp_path / 'library.db'}")""",
                """    from sqlalchemy.pool import StaticPool

    scratch = create_async_engine("sqlite+aiosqlite://", poolclass=StaticPool)""",
            ),
            (
                """    app.dependency_overrides[clock] = hands  # the very instance the routes depend on
    yield app
    app.dependency_overrides.clear()  # even when the test failed""",
                """    app.dependency_overrides[clock] = hands
    try:
        yield app
    finally:
        for swapped in (get_session, clock, get_member):
            app.dependency_overrides.pop(swapped, None)""",
            ),
        ],
    ),
    (
        "10-testing-overrides",
        "a context manager that sets the overrides and puts back what was there",
        [
            (
                """    app.dependency_overrides[get_session] = scratch_session
    app.dependency_overrides[clock] = hands  # the very instance the routes depend on
    yield app
    app.dependency_overrides.clear()  # even when the test failed""",
                """    with overriding({get_session: scratch_session, clock: hands}):
        yield app""",
            ),
            (
                """@pytest.fixture
def hands():""",
                """@contextlib.contextmanager
def overriding(swaps):
    before = dict(app.dependency_overrides)
    app.dependency_overrides.update(swaps)
    try:
        yield
    finally:
        app.dependency_overrides.clear()
        app.dependency_overrides.update(before)


@pytest.fixture
def hands():""",
            ),
            ("pytestmark = pytest.mark.anyio\n", "import contextlib\n\npytestmark = pytest.mark.anyio\n"),
        ],
    ),
    (
        "10-testing-overrides",
        "real cards on every request, get_member never overridden",
        [
            (
                """@pytest.fixture
def act_as(lending, people):
    def switch(name: str) -> None:
        lending.dependency_overrides[get_member] = lambda: people[name]

    return switch""",
                """@pytest.fixture
def act_as(http):
    def switch(name: str) -> None:
        http.headers["Authorization"] = f"Bearer card-of-{name}"

    return switch""",
            ),
        ],
    ),
    (
        "10-testing-overrides",
        "the boundary test parametrised over the moment, the clock read through a lambda",
        [
            (
                "    app.dependency_overrides[clock] = hands  # the very instance the routes depend on",
                "    app.dependency_overrides[clock] = lambda: hands.reading",
            ),
            (
                """async def test_overdue_starts_just_after_the_due_time(http, people, act_as, hands):
    act_as("otto")
    loan = (await borrow(http, people["drill"])).json()["id"]
    act_as("nina")
    hands.move(days=14)
    assert (await http.get("/loans/overdue")).json() == []
    hands.move(seconds=1)
    late = (await http.get("/loans/overdue")).json()
    assert late == [{"loan": loan, "tool": "drill", "member": "otto"}]""",
                """@pytest.mark.parametrize("after, listed", [(-1, False), (0, False), (1, True)])
async def test_overdue_starts_just_after_the_due_time(http, people, act_as, hands, after, listed):
    act_as("otto")
    loan = (await borrow(http, people["drill"])).json()["id"]
    act_as("nina")
    hands.move(days=14, seconds=after)
    late = (await http.get("/loans/overdue")).json()
    assert late == ([{"loan": loan, "tool": "drill", "member": "otto"}] if listed else [])""",
            ),
        ],
    ),
    (
        "10-testing-overrides",
        "a fixture per person that logs in and yields a client of its own",
        [
            (
                """async def test_only_staff_revoke_a_card(http, people, act_as):
    act_as("otto")
    answer = await http.post(f"/members/{people['pia'].id}/revoke-card")
    assert answer.status_code == 403, answer.text
    act_as("nina")
    answer = await http.post(f"/members/{people['pia'].id}/revoke-card")
    assert answer.status_code == 204, answer.text""",
                """def client_of(lending, name: str) -> httpx.AsyncClient:
    to_app = httpx.ASGITransport(app=lending)
    return httpx.AsyncClient(transport=to_app, base_url="http://tools", headers=card(name))


@pytest.fixture
async def as_otto(lending, people):
    async with client_of(lending, "otto") as client:
        yield client


@pytest.fixture
async def as_nina(lending, people):
    async with client_of(lending, "nina") as client:
        yield client


async def test_only_staff_revoke_a_card(as_otto, as_nina, people):
    revoke = f"/members/{people['pia'].id}/revoke-card"
    answer = await as_otto.post(revoke)
    assert answer.status_code == 403, answer.text
    answer = await as_nina.post(revoke)
    assert answer.status_code == 204, answer.text""",
            ),
        ],
    ),
]
