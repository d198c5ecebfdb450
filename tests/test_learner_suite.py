"""Running a learner's own tests (exercise 10): outcomes, and how the tests swap dependencies."""

import linecache
import textwrap
from typing import Any

import pytest

from book.grader.variant_tests import _fork_and_wait
from book.learner.suite import run_tests
from book.learner.suite_result import SuiteResult

APP = """
import httpx
import pytest
from fastapi import Depends, FastAPI

def get_greeting() -> str:
    return "hello"

app = FastAPI()

@app.get("/")
async def home(greeting: str = Depends(get_greeting)) -> dict:
    return {"greeting": greeting}
"""

CLIENT = """
pytestmark = pytest.mark.anyio

@pytest.fixture
async def client():
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as http:
        yield http
"""


def namespace(*sources: str) -> dict[str, Any]:
    """Run cells as a notebook's kernel would: one namespace, each cell's source kept in linecache."""
    scope: dict[str, Any] = {"__name__": "learner_notebook"}
    for number, source in enumerate((APP, CLIENT, *sources)):
        source, filename = textwrap.dedent(source), f"<cell {number}>"
        linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
        exec(compile(source, filename, "exec"), scope)
    return scope


def test_each_test_passes_or_fails_with_the_learners_line() -> None:
    result = run_tests(
        namespace("""
        async def test_home(client):
            assert (await client.get("/")).json() == {"greeting": "hello"}

        async def test_wrong(client):
            response = await client.get("/")
            assert response.status_code == 404
    """)
    )
    assert [(test.name, test.passed) for test in result.tests] == [("test_home", True), ("test_wrong", False)]
    assert result.tests[1].message == "AssertionError at `assert response.status_code == 404`"
    assert not result.passed and result.summary().startswith("test_wrong failed: AssertionError")
    assert str(result).splitlines()[-1] == "1 passed, 1 failed"


def test_a_failure_is_quoted_by_the_first_line_of_its_statement() -> None:
    result = run_tests(
        namespace("""
        async def test_multiline(client):
            async with client.stream("GET", "/") as response:
                assert response.status_code == (
                    404
                ), "not found"
    """)
    )
    assert result.tests[0].message == "AssertionError: not found at `assert response.status_code == (`"


def test_overrides_are_recorded_and_those_left_behind_reported() -> None:
    result = run_tests(
        namespace("""
        async def test_override_and_forget(client):
            app.dependency_overrides[get_greeting] = lambda: "hi"
            assert (await client.get("/")).json() == {"greeting": "hi"}

        async def test_after(client):
            assert (await client.get("/")).json() == {"greeting": "hello"}
    """)
    )
    assert result.passed  # the leftover was cleared, so the next test ran on its own terms
    assert result.overridden == ["get_greeting"]
    assert result.left_behind == [
        "test_override_and_forget left overrides behind (get_greeting); clear them in a fixture's teardown"
    ]


def test_a_global_replaced_during_a_test_is_reported_even_when_restored() -> None:
    result = run_tests(
        namespace("""
        @pytest.fixture
        def patched(monkeypatch):
            monkeypatch.setitem(globals(), "get_greeting", lambda: "hi")

        def test_patched(patched):
            assert get_greeting() == "hi"
    """)
    )
    assert result.passed
    assert result.replaced_globals == [
        "test_patched replaced the global `get_greeting`; swap dependencies with app.dependency_overrides"
    ]


def test_an_async_test_without_the_marker_fails_with_a_hint() -> None:
    scope = namespace("async def test_unmarked():\n    pass")
    del scope["pytestmark"]
    (outcome,) = run_tests(scope).tests
    assert not outcome.passed and "pytestmark = pytest.mark.anyio" in outcome.message


def test_a_skipped_test_does_not_count_as_passed() -> None:
    (outcome,) = run_tests(namespace("@pytest.mark.skip\ndef test_later():\n    pass")).tests
    assert not outcome.passed and outcome.message.startswith("skipped")


def test_no_tests_is_an_error_not_a_pass() -> None:
    result = run_tests(namespace())
    assert not result.passed and result.error.startswith("no tests found")


def test_opening_the_apps_own_engine_is_reported() -> None:
    result = run_tests(
        namespace("""
        from sqlalchemy import text
        from sqlalchemy.ext.asyncio import create_async_engine

        engine = create_async_engine("sqlite+aiosqlite://")

        async def test_uses_the_engine():
            async with engine.connect() as connection:
                await connection.execute(text("select 1"))
            await engine.dispose()
    """)
    )
    assert result.passed and result.opened_database == ["test_uses_the_engine"]


def run_variant(
    *sources: str, patch: tuple[str, str] | None = None, stop_early: bool = False, time_limit: int = 30
) -> SuiteResult:
    """One variant as the agent runs it: in a forked process, the notebook's cells then its tests."""
    cells = [
        {"index": number, "source": textwrap.dedent(source)}
        for number, source in enumerate((APP, CLIENT, *sources), start=1)
    ]
    return SuiteResult.from_dict(
        _fork_and_wait(
            {"cells": cells, "patch": patch, "stop_early": stop_early, "cell_timeout": 10, "time_limit": time_limit}
        )
    )


HOME_TEST = """
    async def test_home(client):
        assert (await client.get("/")).json() == {"greeting": "hello"}
"""


def test_each_variant_runs_in_a_fresh_process() -> None:
    assert run_variant(HOME_TEST).passed
    broken = run_variant(HOME_TEST, patch=('return "hello"', 'return "bye"'))
    assert not broken.passed and "AssertionError" in broken.summary()
    changed = run_variant(HOME_TEST, patch=('return "nothing like this"', ""))
    assert changed.error.startswith("the notebook did not run to the end: the given code was changed")


def test_a_variant_that_stops_early_runs_no_test_after_its_first_failure() -> None:
    tests = "".join(
        f"""
        async def test_{number}(client):
            assert (await client.get("/")).json() == {{"greeting": "hello"}}
    """
        for number in range(3)
    )
    broken = ('return "hello"', 'return "bye"')
    assert [test.name for test in run_variant(tests).tests] == ["test_0", "test_1", "test_2"]
    stopped = run_variant(tests, patch=broken, stop_early=True)
    assert [(test.name, test.passed) for test in stopped.tests] == [("test_0", False)]
    assert not stopped.passed and not stopped.error
    assert [test.passed for test in run_variant(tests, patch=broken).tests] == [False, False, False]


def test_a_suite_that_never_ends_is_stopped() -> None:
    result = run_variant("def test_forever():\n    while True:\n        pass", time_limit=3)
    assert result.error == "your tests did not finish within 3 s (a test that never ends?)"


def test_a_result_survives_the_trip_through_json() -> None:
    from dataclasses import asdict

    result = run_tests(namespace("def test_x():\n    pass"))
    assert SuiteResult.from_dict(asdict(result)) == result


@pytest.mark.parametrize("name", ["test_x"])
def test_names_are_the_learners(name: str) -> None:
    assert run_tests(namespace(f"def {name}():\n    pass")).tests[0].name == name
