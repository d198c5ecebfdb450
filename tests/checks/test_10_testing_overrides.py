"""Hidden checks for exercise 10, tests for a tool library: mutation testing of the learner's tests.

The learner's fixtures and tests run in the agent (book.grader.variant_tests) against the given app, which
they must pass, and against nine copies of it, each with one subtle bug, which they must catch: a
due date a day early, overdue at the due time itself, a returned loan still overdue, a route that
reads the real time instead of the clock, a returned tool still out, a 401 without its challenge,
a revoked card still accepted, a member revoking cards, another branch's loans listed. The runs
also show how the tests swap dependencies: the app's own database never opened, overrides (of
get_session and of the clock instance) rather than replaced globals, and no override left behind.
"""

import asyncio
import random
from pathlib import Path

import pytest

from book.core import manifest
from book.grader.agent_link import AgentGone, Agents
from book.grader.checks import check, expect
from book.grader.submission_cells import code_cells
from book.learner.suite_result import SuiteResult

EXERCISE = "10-testing-overrides"
GIVEN = "given"
AT_ONCE = 2  # variants run side by side, one per core

# Each broken copy of the app: (old, new) in the given cell, each old text once in the notebook.
MUTANTS = {
    "due-a-day-early": (
        "due_at = now + timedelta(days=LOAN_DAYS)",
        "due_at = now + timedelta(days=LOAN_DAYS - 1)",
    ),
    "overdue-at-the-due-time": (
        "Loan.due_at < now)",
        "Loan.due_at <= now)",
    ),
    "returned-still-overdue": (
        "return and_(Loan.returned_at.is_(None), Loan.due_at < now)",
        "return and_(Loan.due_at < now)",
    ),
    "block-on-real-time": (
        "Loan.member_id == caller.id, overdue_at(now))",
        "Loan.member_id == caller.id, overdue_at(datetime.now(UTC)))",
    ),
    "returned-tool-still-out": (
        "out = select(Loan.id).where(Loan.tool_id == tool_id, Loan.returned_at.is_(None))",
        "out = select(Loan.id).where(Loan.tool_id == tool_id)",
    ),
    "no-challenge": (
        '401, "unknown or revoked card", headers={"WWW-Authenticate": "Bearer"}',
        '401, "unknown or revoked card"',
    ),
    "revoked-card-accepted": (
        "valid = select(Member).where(Member.card_revoked.is_(False))",
        "valid = select(Member)",
    ),
    "member-revokes": (
        "async def revoke_card(member_id: int, staff: Staff, db: Db) -> None:",
        "async def revoke_card(member_id: int, staff: Caller, db: Db) -> None:",
    ),
    "other-branches-listed": (
        ".where(overdue_at(now), Tool.branch == staff.branch)",
        ".where(overdue_at(now))",
    ),
}
VARIANTS = {GIVEN: None, **MUTANTS}
_RUNS: dict[Path, dict[str, SuiteResult]] = {}


@pytest.fixture
async def runs(
    request: pytest.FixtureRequest, agents: Agents, submission_path: Path, seed: int
) -> dict[str, SuiteResult]:
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
                    reply = await agent.request(
                        "suite",
                        timeout=45,
                        cells=loaded,
                        patch=VARIANTS[name],
                        stop_early=name != GIVEN,
                        cell_timeout=cell_timeout,
                        name=submission_path.name,
                        time_limit=30,
                    )
                except AgentGone as exc:
                    return SuiteResult(error=str(exc))
            found = reply.get("result") if reply.get("ok") else {"error": reply.get("error", "no answer")}
            try:
                return SuiteResult.from_dict(found)  # type: ignore[arg-type]  # what came back: a TypeError if not a dict
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
    expect(
        given.passed,
        called=called,
        got=f"against the given app: {given.summary()}",
        expected="every test passes against the given app first, or a failure proves nothing",
    )


def ran(runs: dict[str, SuiteResult]) -> SuiteResult:
    given = runs[GIVEN]
    expect(not given.error, called="your tests, against the given app", got=given.error, expected="a run")
    return given


@check(
    points=2,
    see="10-testing-overrides.ipynb#tests",
    hint="""Every test must pass against the given app, unchanged: a
    test that fails there is wrong, not the app. Run the check cell to see which one fails, and
    read the promise it tests again, word by word.""",
)
async def test_your_tests_pass_against_the_given_app(submission_path: Path, runs: dict[str, SuiteResult]) -> None:
    changed = given_cells_changed(submission_path)
    expect(not changed, called="the given app", got=changed, expected="the given cells as they were")
    passing_first(runs, "your tests, against the given app")


@check(
    points=2,
    see="10-testing-overrides.ipynb#fixtures",
    hint="""Some test reached the library's own database (the
    app's engine). Which dependency hands the routes their session, and does every test that makes
    a request swap it, the ones with real cards included?""",
)
async def test_the_apps_own_database_is_never_opened(runs: dict[str, SuiteResult]) -> None:
    given = ran(runs)
    expect(
        not given.opened_database,
        called="your tests, watching the app's engine",
        got=f"opened by {', '.join(given.opened_database)}",
        expected="never opened",
    )


@check(
    points=2,
    see="10-testing-overrides.ipynb#pitfall-an-instance-dependency-needs-the-same-instance",
    hint="""Swap what the app depends on through app.dependency_overrides, keyed by what the routes
    declared: the session dependency, and the clock, which is an instance. Assigning a global of
    the notebook instead changes it for everyone and misses whoever holds the old object.""",
)
async def test_dependencies_are_swapped_with_overrides(runs: dict[str, SuiteResult]) -> None:
    given = ran(runs)
    expect(
        not given.replaced_globals,
        called="your tests, watching the notebook's globals",
        got=given.replaced_globals[0] if given.replaced_globals else "",
        expected="no global replaced",
    )
    missing = [name for name in ("get_session", "Clock") if name not in given.overridden]
    expect(
        not missing,
        called="your tests, watching app.dependency_overrides",
        got=f"overridden: {', '.join(given.overridden) or 'nothing'}",
        expected="get_session and the app's clock overridden",
    )


@check(
    points=1,
    see="10-testing-overrides.ipynb#pitfall-an-override-that-is-never-cleared",
    hint="""An override was still
    in app.dependency_overrides when its test ended. Where does code run after a test, even one
    that failed?""",
)
async def test_no_override_outlives_its_test(runs: dict[str, SuiteResult]) -> None:
    given = ran(runs)
    expect(
        not given.left_behind,
        called="your tests, looking at app.dependency_overrides after each",
        got=given.left_behind[0] if given.left_behind else "",
        expected="empty after every test",
    )


def caught(runs: dict[str, SuiteResult], mutant: str, what: str) -> None:
    passing_first(runs, f"your tests, against an app where {what}")
    broken = runs[mutant]
    expect(
        not broken.passed and not broken.error,
        called=f"your tests, against an app where {what}",
        got=broken.summary(),
        expected="at least one test fails",
    )


@check(
    points=1,
    see="10-testing-overrides.ipynb#pitfall-an-instance-dependency-needs-the-same-instance",
    hint="""Which test knows the exact moment a tool was borrowed? With the time in your test's
    hands, the due time is something you can compute and compare.""",
)
async def test_you_catch_a_due_date_a_day_early(runs: dict[str, SuiteResult]) -> None:
    caught(runs, "due-a-day-early", "a loan is due after 13 days instead of 14")


@check(
    points=1,
    see="10-testing-overrides.ipynb#tests",
    hint="""Promise 2 draws a line: at the due time a loan is on time,
    after it overdue. A test that looks only well before or well after that line cannot tell where
    the app drew it.""",
)
async def test_you_catch_overdue_at_the_due_time(runs: dict[str, SuiteResult]) -> None:
    caught(runs, "overdue-at-the-due-time", "a loan is overdue at its due time already")


@check(
    points=1,
    see="10-testing-overrides.ipynb#tests",
    hint="""What should happen once a late tool comes back? Follow one
    loan through being late and being returned, then ask the app what the member may do now.""",
)
async def test_you_catch_a_returned_loan_still_overdue(runs: dict[str, SuiteResult]) -> None:
    caught(runs, "returned-still-overdue", "a returned loan still counts as overdue")


@check(
    points=1,
    see="10-testing-overrides.ipynb#pitfall-an-instance-dependency-needs-the-same-instance",
    hint="""One route here asks the computer's own clock instead of the clock dependency. Would
    your test of the borrowing block notice, given the time your clock shows and today's date?""",
)
async def test_you_catch_a_route_that_reads_the_real_time(runs: dict[str, SuiteResult]) -> None:
    caught(runs, "block-on-real-time", "the borrowing block reads the real time, not the clock")


@check(
    points=1,
    see="10-testing-overrides.ipynb#tests",
    hint="""After a tool is handed back, someone may want that very
    tool. Does any test borrow the same tool again after a return?""",
)
async def test_you_catch_a_returned_tool_still_out(runs: dict[str, SuiteResult]) -> None:
    caught(runs, "returned-tool-still-out", "a returned tool stays out (409) for good")


@check(
    points=1,
    see="10-testing-overrides.ipynb#tests",
    hint="""A 401 is more than its status code: promise 6 names what
    else the answer carries, so that a client knows how to authenticate.""",
)
async def test_you_catch_a_401_without_its_challenge(runs: dict[str, SuiteResult]) -> None:
    caught(runs, "no-challenge", "a 401 has no WWW-Authenticate header")


@check(
    points=1,
    see="10-testing-overrides.ipynb#tests",
    hint="""A revoked card must stop working at its next request. Can
    a test that logs in by override ever see what the app does with a card?""",
)
async def test_you_catch_a_revoked_card_still_accepted(runs: dict[str, SuiteResult]) -> None:
    caught(runs, "revoked-card-accepted", "a revoked card still works")


@check(
    points=1,
    see="10-testing-overrides.ipynb#tests",
    hint="""Staff-only routes have two sides: staff get through, and
    everyone else does not. Is the second side tested for every staff-only route?""",
)
async def test_you_catch_a_member_revoking_a_card(runs: dict[str, SuiteResult]) -> None:
    caught(runs, "member-revokes", "a member may revoke anyone's card")


@check(
    points=1,
    see="10-testing-overrides.ipynb#tests",
    hint="""The overdue list belongs to one branch. A leak into another
    branch shows only when the other branch has something to leak.""",
)
async def test_you_catch_other_branches_in_the_overdue_list(runs: dict[str, SuiteResult]) -> None:
    caught(runs, "other-branches-listed", "the overdue list shows every branch's loans")
