"""A pytest plugin that records each learner test's outcome and watches how it swaps dependencies.

Besides pass or fail (with the reason in one line, at the learner's own statement), it notes which
dependencies the tests overrode, which global names they replaced, which overrides they left
behind, and whether they opened the app's own database.
"""

from __future__ import annotations

import ast
import functools
import linecache
from collections.abc import Generator, Iterable
from pathlib import Path
from typing import Any

import pytest

from book.learner.suite_result import Outcome, SuiteResult

Namespace = dict[str, Any]  # a notebook's globals(): whatever the learner defined
_MISSING = object()


class Recorder:
    """A pytest plugin that records outcomes and watches how each test swaps dependencies."""

    def __init__(self, modules: dict[str, tuple[str, Namespace]], stop_early: Iterable[str] = ()) -> None:
        self.modules = modules  # test file stem -> (variant, the namespace its code runs in)
        self.stop_early = set(stop_early)
        self.not_run: set[str] = set()  # node ids skipped because their variant was already caught
        self.results = {key: SuiteResult() for key, _ in modules.values()}
        self.snapshots = {key: _identities(namespace) for key, namespace in modules.values()}
        self.current: dict[str, str] = {}  # variant -> the test running now
        self.listeners: list[tuple[object, str, Any]] = []
        for key, namespace in modules.values():
            self._watch_engine(key, namespace)

    def _of(self, item: pytest.Item) -> tuple[str, Namespace]:
        return self.modules[Path(str(item.path)).stem]

    def _watch_engine(self, key: str, namespace: Namespace) -> None:
        engine = namespace.get("engine")
        sync_engine = getattr(engine, "sync_engine", None)
        if sync_engine is None:
            return
        from sqlalchemy import event

        def opened(*args: object, **kwargs: object) -> None:
            name = self.current.get(key, "a fixture")
            if name not in self.results[key].opened_database:
                self.results[key].opened_database.append(name)

        event.listen(sync_engine, "do_connect", opened)
        self.listeners.append((sync_engine, "do_connect", opened))

    def finish(self) -> None:
        if self.listeners:  # the notebook's engine outlives the run (in a kernel): take ours off it
            from sqlalchemy import event

            for target, name, listener in self.listeners:
                event.remove(target, name, listener)
        for result in self.results.values():
            if not result.tests and not result.error:
                result.error = "no tests found: name each test function test_something"

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_setup(self, item: pytest.Item) -> Generator[None, None, None]:
        key, _ = self._of(item)
        if key in self.stop_early and self.results[key].failing:
            self.not_run.add(item.nodeid)
            pytest.skip("its variant is caught already")  # before any fixture is set up
        self.current[key] = item.name
        return (yield)

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_call(self, item: pytest.Item) -> Generator[None, None, None]:
        key, namespace = self._of(item)
        self._look(key, namespace, item.name)
        try:
            return (yield)
        finally:
            self._look(key, namespace, item.name)

    def _look(self, key: str, namespace: Namespace, test: str) -> None:
        result = self.results[key]
        for name, identity in self.snapshots[key].items():
            if id(namespace.get(name, _MISSING)) != identity:
                problem = f"{test} replaced the global `{name}`; swap dependencies with app.dependency_overrides"
                if problem not in result.replaced_globals:
                    result.replaced_globals.append(problem)
        for dependency in _overrides(namespace):
            label = getattr(dependency, "__name__", None) or type(dependency).__name__
            if label not in result.overridden:
                result.overridden.append(label)

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_teardown(self, item: pytest.Item, nextitem: pytest.Item | None) -> Generator[None, None, None]:
        try:
            return (yield)
        finally:
            key, namespace = self._of(item)
            self.current.pop(key, None)
            overrides = _overrides(namespace)
            if overrides:
                names = ", ".join(sorted(getattr(d, "__name__", None) or type(d).__name__ for d in overrides))
                self.results[key].left_behind.append(
                    f"{item.name} left overrides behind ({names}); clear them in a fixture's teardown"
                )
                overrides.clear()  # so the next test is judged on its own

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(
        self, item: pytest.Item, call: pytest.CallInfo[None]
    ) -> Generator[None, pytest.TestReport, pytest.TestReport]:
        report = yield
        if item.nodeid in self.not_run:
            return report
        if report.failed or (report.when == "call" and report.passed) or report.skipped:
            key, namespace = self._of(item)
            tests = self.results[key].tests
            previous = next((test for test in tests if test.name == item.name), None)
            if report.failed:
                outcome = Outcome(item.name, False, _why(call, namespace, report))
            elif report.skipped:
                outcome = Outcome(item.name, False, "skipped: a skipped test checks nothing")
            else:
                outcome = Outcome(item.name, True)
            if previous is None:
                tests.append(outcome)
            elif previous.passed and not outcome.passed:  # a failing teardown fails a passed test
                tests[tests.index(previous)] = outcome
        return report

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.failed:
            stem = Path(str(report.fspath)).stem
            if stem in self.modules:
                key, _ = self.modules[stem]
                self.results[key].error = f"your tests could not be collected: {one_line(str(report.longrepr))}"


def _overrides(namespace: Namespace) -> dict[Any, Any]:
    app = namespace.get("app")
    overrides = getattr(app, "dependency_overrides", None)
    return overrides if isinstance(overrides, dict) else {}


def _identities(namespace: Namespace) -> dict[str, int]:
    return {name: id(value) for name, value in namespace.items() if not name.startswith("_")}


def _why(call: pytest.CallInfo[None], namespace: Namespace, report: pytest.TestReport) -> str:
    """Why a test failed, in one line: the exception and the learner's line it came from."""
    excinfo = call.excinfo
    if excinfo is None:
        return one_line(str(report.longrepr))
    text = excinfo.exconly().strip().splitlines()[0] if excinfo.exconly().strip() else excinfo.typename
    if "async def functions are not natively supported" in text:
        return "an async test without the anyio marker: add pytestmark = pytest.mark.anyio"
    for entry in reversed(excinfo.traceback):
        if entry.frame.f_globals is namespace:
            statement = _statement_at(entry.frame.code.raw.co_filename, entry.lineno + 1)
            return f"{text} at `{statement}`" if statement else text
    return text


def _statement_at(filename: str, lineno: int) -> str:
    """The first line of the innermost statement of a notebook cell that spans line `lineno`.

    What pytest's ``entry.statement`` gives, from the cell's code that notebooks.run keeps in
    linecache; pytest's own look-up searches every loaded module for the code's file first
    (0.03 s a failing test, and a mutant run fails one test each).
    """
    lines = linecache.getlines(filename)
    try:
        tree = _parsed("".join(lines))
    except SyntaxError:
        return ""
    spanning = [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.stmt) and node.lineno <= lineno <= (node.end_lineno or node.lineno)
    ]
    start = max((node.lineno for node in spanning), default=lineno)
    return lines[start - 1].strip() if 0 < start <= len(lines) else ""


@functools.lru_cache(maxsize=64)
def _parsed(source: str) -> ast.Module:
    flags = ast.PyCF_ONLY_AST | ast.PyCF_ALLOW_TOP_LEVEL_AWAIT  # a cell may await at the top level
    tree: ast.Module = compile(source, "<cell>", "exec", flags=flags, dont_inherit=True)
    return tree


def one_line(text: str) -> str:
    """The message of a pytest report in one line: its last `E ` line, at most 200 characters."""
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("E ")]
    line = (errors[-1][1:].strip() if errors else lines[-1]) if lines else "(no message)"
    return line if len(line) <= 200 else line[:197] + "..."
