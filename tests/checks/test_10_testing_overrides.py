"""Hidden checks for exercise 10, tests with overrides: mutation testing of the learner's tests.

The learner's fixtures and tests run in the agent (book.grader.suite) against the given app, which
they must pass, and against nine copies of it, each with one subtle bug, which they must catch. The runs also
show how the tests swap dependencies: the app's own database never opened, overrides rather than
replaced globals, and no override left behind.
"""

import asyncio
import random
from pathlib import Path

import pytest

from book.grader import manifest
from book.grader.checks import check, expect
from book.grader.judge import AgentGone, code_cells
from book.learner_suite import SuiteResult

EXERCISE = "10-testing-overrides"
GIVEN = "given"
AT_ONCE = 2  # variants run side by side, one per core

# Each broken copy of the app: (old, new) in the given cell. The check's name says what breaks.
MUTANTS = {
    "unknown-token": (
        "user = await session.scalar(select(User).where(User.token_hash == hash_token(credentials.credentials)))",
        "user = await session.scalar(select(User).order_by(User.id))",
    ),
    "no-challenge": (
        'raise HTTPException(401, "Not authenticated", headers={"WWW-Authenticate": "Bearer"})',
        'raise HTTPException(401, "Not authenticated")',
    ),
    "others-listed": (
        "select(Bookmark.url).where(Bookmark.owner_id == user.id).order_by(Bookmark.id)",
        "select(Bookmark.url).order_by(Bookmark.id)",
    ),
    "others-deleted": (
        "if bookmark is None or bookmark.owner_id != user.id:",
        "if bookmark is None:",
    ),
    "member-is-admin": (
        "if user.role != self.role:",
        'if user.role not in (self.role, "member"):',
    ),
    "admin-refused": (
        'require_admin = RequiresRole("admin")',
        'require_admin = RequiresRole("owner")',
    ),
    "duplicates-allowed": (
        '__table_args__ = (UniqueConstraint("owner_id", "url"),)',
        "__table_args__ = ()",
    ),
    "one-url-for-everyone": (
        '__table_args__ = (UniqueConstraint("owner_id", "url"),)',
        '__table_args__ = (UniqueConstraint("url"),)',
    ),
    "never-saved": (
        "session.add(bookmark)\n    try:\n        await session.commit()",
        "session.add(bookmark)\n    try:\n        await session.flush()",
    ),
}
VARIANTS = {GIVEN: None, **MUTANTS}
_RUNS: dict[Path, dict[str, SuiteResult]] = {}


@pytest.fixture
async def runs(request, agents, submission_path, seed) -> dict[str, SuiteResult]:
    """Every run, made once per submission: the learner's tests against the given app and each mutant,
    each in a process of its own in the agent, in an order drawn from the grade's seed."""
    if submission_path not in _RUNS:
        cell_timeout = float(request.config.getoption("--book-cell-timeout"))
        loaded, _ = code_cells(submission_path)
        order = list(VARIANTS)
        random.Random(seed).shuffle(order)
        agent = agents.get()
        slots = asyncio.Semaphore(AT_ONCE)

        async def run(name: str) -> SuiteResult:
            async with slots:
                try:
                    reply = await agent.request("suite", timeout=45, cells=loaded, patch=VARIANTS[name],
                                                stop_early=name != GIVEN, cell_timeout=cell_timeout,
                                                name=submission_path.name, time_limit=30)
                except AgentGone as exc:
                    return SuiteResult(error=str(exc))
            found = reply.get("result") if reply.get("ok") else {"error": reply.get("error", "no answer")}
            try:
                return SuiteResult.from_dict(found)
            except TypeError:
                return SuiteResult(error="the run of your tests answered something that is not a result")

        try:
            await agent.fork()
            results = await asyncio.gather(*(run(name) for name in order))
        except AgentGone as exc:
            results = [SuiteResult(error=str(exc)) for _ in order]
        finally:
            await agent.end()
        _RUNS[submission_path] = dict(zip(order, results, strict=True))
    return _RUNS[submission_path]


def given_cells_changed(submission: Path) -> str:
    """Whether a given code cell of the exercise is missing from the submission, word for word."""
    exercise = manifest.find(EXERCISE)
    _, every = code_cells(submission)
    present = {manifest.fingerprint(cell["source"]) for cell in every}
    wanted = exercise.versions[exercise.version].given_cells
    missing = sum(1 for print_ in wanted if print_ not in present)
    return f"{missing} given cell(s) of the exercise changed or deleted" if missing else ""


def passing_first(runs: dict[str, SuiteResult], called: str) -> None:
    given = runs[GIVEN]
    expect(given.passed, called=called, got=f"against the given app: {given.summary()}",
           expected="every test passes against the given app first, or a failure proves nothing")


@check(points=2, hint="""Every test must pass against the given app, unchanged: a test that fails there
    is wrong, not the app. Run the check cell to see which one fails and why.""")
async def test_your_tests_pass_against_the_given_app(submission_path, runs):
    changed = given_cells_changed(submission_path)
    expect(not changed, called="the given app", got=changed, expected="the given cells as they were")
    passing_first(runs, "your tests, against the given app")


@check(points=2, hint="""No test may open the app's own database (engine, through get_session): override
    get_session in the api fixture with a session from the test database, for every test that makes
    a request, the real-token test included.""")
async def test_the_apps_own_database_is_never_opened(runs):
    given = runs[GIVEN]
    expect(not given.error, called="your tests, against the given app", got=given.error, expected="a run")
    expect(not given.opened_database, called="your tests, watching the app's engine",
           got=f"opened by {', '.join(given.opened_database)}", expected="never opened")


@check(points=2, hint="""Swap dependencies with app.dependency_overrides: get_session in the api fixture,
    get_current_user in login. Replacing a global (SessionLocal, get_current_user, ...) instead changes
    the module for everyone and misses the places that hold the old object.""")
async def test_dependencies_are_swapped_with_overrides(runs):
    given = runs[GIVEN]
    expect(not given.error, called="your tests, against the given app", got=given.error, expected="a run")
    expect(not given.replaced_globals, called="your tests, watching the notebook's globals",
           got=given.replaced_globals[0] if given.replaced_globals else "", expected="no global replaced")
    missing = [name for name in ("get_session", "get_current_user") if name not in given.overridden]
    expect(not missing, called="your tests, watching app.dependency_overrides",
           got=f"overridden: {', '.join(given.overridden) or 'nothing'}",
           expected="get_session and get_current_user overridden")


@check(points=1, hint="""Clear app.dependency_overrides after the test, in the teardown of the fixture that
    set them (after its yield): it runs even when the test fails, so nothing leaks into the next test.""")
async def test_no_override_outlives_its_test(runs):
    given = runs[GIVEN]
    expect(not given.error, called="your tests, against the given app", got=given.error, expected="a run")
    expect(not given.left_behind, called="your tests, looking at app.dependency_overrides after each",
           got=given.left_behind[0] if given.left_behind else "", expected="empty after every test")


def caught(runs: dict[str, SuiteResult], mutant: str, what: str) -> None:
    passing_first(runs, f"your tests, against an app where {what}")
    broken = runs[mutant]
    expect(not broken.passed and not broken.error, called=f"your tests, against an app where {what}",
           got=broken.summary(), expected="at least one test fails")


@check(points=1, hint="""Send a token nobody has (Authorization: Bearer nobody-token) and expect 401. Leave
    get_current_user alone in that test: the real token check is what it tests.""")
async def test_you_catch_an_app_that_accepts_any_token(runs):
    caught(runs, "unknown-token", "any token is accepted as the first user")


@check(points=1, hint="""A 401 must carry WWW-Authenticate: Bearer, which tells a client how to
    authenticate. Assert the header too: response.headers.get("www-authenticate").""")
async def test_you_catch_a_401_without_its_challenge(runs):
    caught(runs, "no-challenge", "a 401 has no WWW-Authenticate header")


@check(points=1, hint="""Give two users a bookmark each, then list as one of them: the list must hold
    only that user's bookmark.""")
async def test_you_catch_a_list_of_everyones_bookmarks(runs):
    caught(runs, "others-listed", "GET /bookmarks lists everyone's bookmarks")


@check(points=1, hint="""Let Ada create a bookmark (its id is in the answer), then try to delete it as Bob:
    expect 404.""")
async def test_you_catch_deleting_someone_elses_bookmark(runs):
    caught(runs, "others-deleted", "anyone may delete anyone's bookmark")


@check(points=1, hint="""Log in as a member and expect 403 from GET /admin/stats.""")
async def test_you_catch_a_member_seeing_the_stats(runs):
    caught(runs, "member-is-admin", "a member passes the admin check")


@check(points=1, hint="""Test the happy path of a role check too: log in as an admin and expect 200 from
    GET /admin/stats, with the counts.""")
async def test_you_catch_an_admin_refused(runs):
    caught(runs, "admin-refused", "even an admin gets 403 from /admin/stats")


@check(points=1, hint="""Post the same URL twice as one user: the second answer must be 409.""")
async def test_you_catch_duplicate_bookmarks(runs):
    caught(runs, "duplicates-allowed", "the same URL can be saved twice by one user")


@check(points=1, hint="""Two different users may bookmark the same URL: both answers are 201.""")
async def test_you_catch_one_url_for_everyone(runs):
    caught(runs, "one-url-for-everyone", "a URL one user saved is refused (409) to everyone else")


@check(points=1, hint="""Post a bookmark, then list it in a second request. The api fixture must open a new
    session per request, as the app does: one session shared by all requests sees its own unsaved
    changes, so a missing commit goes unnoticed.""")
async def test_you_catch_a_bookmark_that_is_never_saved(runs):
    caught(runs, "never-saved", "POST /bookmarks answers 201 but never commits")
