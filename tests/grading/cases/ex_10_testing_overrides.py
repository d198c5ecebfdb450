"""Exercise 10-testing-overrides: the mistakes its checks must catch, and correct answers written differently."""

EVERY_BUG_CAUGHT = {  # exercise 10: none counts while the tests fail against the given app
    "test_you_catch_an_app_that_accepts_any_token", "test_you_catch_a_401_without_its_challenge",
    "test_you_catch_a_list_of_everyones_bookmarks", "test_you_catch_deleting_someone_elses_bookmark",
    "test_you_catch_a_member_seeing_the_stats", "test_you_catch_an_admin_refused",
    "test_you_catch_duplicate_bookmarks", "test_you_catch_one_url_for_everyone",
    "test_you_catch_a_bookmark_that_is_never_saved",
}

# (exercise, what the learner did wrong, (text of the solution, replaced by), checks that must fail)
MUTANTS = [
    ("10-testing-overrides", "the api fixture shares one session between all requests",
     ("""    async def session_for_tests():
        async with database() as session:
            yield session
""", """    shared = database()

    async def session_for_tests():
        yield shared
"""),
     {"test_you_catch_a_bookmark_that_is_never_saved"}),
    ("10-testing-overrides", "the api fixture never clears the overrides",
     ("    app.dependency_overrides.clear()  # after every test, passed or failed", "    pass"),
     {"test_no_override_outlives_its_test"}),
    ("10-testing-overrides", "the api fixture replaces SessionLocal instead of overriding get_session",
     ("""    app.dependency_overrides[get_session] = session_for_tests
    yield app
""", """    global SessionLocal
    original, SessionLocal = SessionLocal, database
    yield app
    SessionLocal = original
"""),
     {"test_dependencies_are_swapped_with_overrides"}),
    ("10-testing-overrides", "the api fixture forgets to override get_session",
     ("    app.dependency_overrides[get_session] = session_for_tests\n", ""),
     {"test_your_tests_pass_against_the_given_app", "test_the_apps_own_database_is_never_opened",
      "test_dependencies_are_swapped_with_overrides", *EVERY_BUG_CAUGHT}),
    ("10-testing-overrides", "no test sends an unknown token",
     ("""    assert (await client.get("/bookmarks", headers={"Authorization": "Bearer nobody-token"})).status_code == 401
""", ""),
     {"test_you_catch_an_app_that_accepts_any_token"}),
    ("10-testing-overrides", "a test expects 403 where the app rightly answers 401",
     ("""    response = await client.get("/bookmarks")
    assert response.status_code == 401""", """    response = await client.get("/bookmarks")
    assert response.status_code == 403"""),
     {"test_your_tests_pass_against_the_given_app", *EVERY_BUG_CAUGHT}),
    ("10-testing-overrides", "the list test only checks the status code",
     ('    response = await client.get("/bookmarks")\n    assert response.json() == ["https://bob.example"], response.text',
      '    response = await client.get("/bookmarks")\n    assert response.status_code == 200, response.text'),
     {"test_you_catch_a_list_of_everyones_bookmarks"}),
    ("10-testing-overrides", "no test posts the same URL twice",
     ('    assert (await client.post("/bookmarks", params={"url": "https://x.example"})).status_code == 201\n'
      '    assert (await client.post("/bookmarks", params={"url": "https://x.example"})).status_code == 409',
      '    assert (await client.post("/bookmarks", params={"url": "https://x.example"})).status_code == 201'),
     {"test_you_catch_duplicate_bookmarks"}),
]

# (exercise, what is written differently, [(text of the solution, replaced by), ...])
ALTERNATIVES = [
    ("10-testing-overrides", "an in-memory test database and a try/finally fixture", [
        ("""    test_engine = create_async_engine(f"sqlite+aiosqlite:///{tmp_path / 'test.db'}")""",
         """    from sqlalchemy.pool import StaticPool

    test_engine = create_async_engine("sqlite+aiosqlite://", poolclass=StaticPool)"""),
        ("""    app.dependency_overrides[get_session] = session_for_tests
    yield app
    app.dependency_overrides.clear()  # after every test, passed or failed""",
         """    app.dependency_overrides[get_session] = session_for_tests
    try:
        yield app
    finally:
        app.dependency_overrides.pop(get_session, None)
        app.dependency_overrides.pop(get_current_user, None)"""),
    ]),
    ("10-testing-overrides", "tests parametrized over the roles", [
        ("""async def test_a_member_may_not_see_the_stats(client, users, login):
    login(users["bob"])
    assert (await client.get("/admin/stats")).status_code == 403


async def test_an_admin_sees_the_stats(client, users, login):
    login(users["ada"])
    response = await client.get("/admin/stats")
    assert response.status_code == 200, response.text
    assert response.json() == {"users": 2, "bookmarks": 0}""",
         """@pytest.mark.parametrize("name, status", [("bob", 403), ("ada", 200)])
async def test_only_an_admin_sees_the_stats(client, users, login, name, status):
    login(users[name])
    response = await client.get("/admin/stats")
    assert response.status_code == status, response.text
    if status == 200:
        assert response.json() == {"users": 2, "bookmarks": 0}"""),
    ]),
    ("10-testing-overrides", "a login that overrides with a function of its own", [
        ("""    def act_as(user: User) -> None:
        api.dependency_overrides[get_current_user] = lambda: user""",
         """    def act_as(user: User) -> None:
        async def current_user() -> User:
            return user

        api.dependency_overrides[get_current_user] = current_user"""),
    ]),
    ("10-testing-overrides", "real tokens in every request instead of a login override", [
        ("""@pytest.fixture
def login(api):
    def act_as(user: User) -> None:
        api.dependency_overrides[get_current_user] = lambda: user

    return act_as""", """@pytest.fixture
def login(api):
    # Overrides get_current_user only while a test asks for someone else's view of the app.
    seen: dict[str, User] = {}

    def act_as(user: User) -> None:
        seen["current"] = user
        api.dependency_overrides[get_current_user] = lambda: seen["current"]

    return act_as"""),
    ]),
]
