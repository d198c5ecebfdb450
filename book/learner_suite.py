"""Run a learner's own tests: the fixtures and tests a notebook defines, as a pytest session.

Exercise 10 asks for tests rather than an app. In the notebook, ``book.run_tests(globals())``
runs them on the spot. The grader runs the same tests in the agent (book.grader.suite) against the
given app and against subtly broken copies of it (mutation testing: good tests fail on each), and
reports, besides each test's outcome, how the tests swapped dependencies: which ones they
overrode, which global names they replaced, which overrides they left behind, and whether they
opened the app's own database.

The tests run under pytest with anyio's plugin, as in a project, with no other plugin loaded.
"""

from __future__ import annotations

import argparse
import ast
import concurrent.futures
import contextlib
import functools
import io
import itertools
import json
import linecache
import os
import re
import subprocess
import sys
import tempfile
import time
import types
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import pytest

TIME_LIMIT = 60.0  # every variant together; a course suite runs them in a few seconds
_MISSING = object()
_RUNS = itertools.count(1)
# The test module pytest collects: the notebook's names, and asyncio as the default backend
# (anyio's own default would also run every test on trio when it is installed).
_MODULE = """\
import pytest as _pytest
from {name} import *  # noqa: F403

if "anyio_backend" not in dir():
    @_pytest.fixture
    def anyio_backend():
        return "asyncio"
"""


@dataclass
class Outcome:
    name: str
    passed: bool
    message: str = ""  # why it failed, one line


@dataclass
class SuiteResult:
    """One run of a learner's tests against one app."""

    tests: list[Outcome] = field(default_factory=list)
    error: str = ""  # the tests could not run at all: the notebook failed, nothing was collected
    overridden: list[str] = field(default_factory=list)  # dependencies some test overrode
    replaced_globals: list[str] = field(default_factory=list)  # "test_x replaced `SessionLocal`"
    left_behind: list[str] = field(default_factory=list)  # "test_x left overrides of get_current_user"
    opened_database: list[str] = field(default_factory=list)  # tests that opened the app's own engine

    @property
    def passed(self) -> bool:
        return not self.error and bool(self.tests) and all(test.passed for test in self.tests)

    @property
    def failing(self) -> list[Outcome]:
        return [test for test in self.tests if not test.passed]

    def summary(self) -> str:
        """One line: what a mutation check quotes as "got"."""
        if self.error:
            return self.error
        if not self.failing:
            return f"all {len(self.tests)} tests passed"
        first = self.failing[0]
        more = f" (and {len(self.failing) - 1} more)" if len(self.failing) > 1 else ""
        return f"{first.name} failed: {first.message}{more}"

    def __str__(self) -> str:
        if self.error:
            return self.error
        width = max(len(test.name) for test in self.tests)
        lines = [f"{'passed' if test.passed else 'FAILED'}  {test.name:{width}}  {test.message}".rstrip()
                 for test in self.tests]
        lines += [f"problem: {problem}" for problem in self.replaced_globals + self.left_behind]
        lines += [f"problem: {name} opened the app's own database; override get_session"
                  for name in self.opened_database]
        failed = len(self.failing)
        lines.append(f"{len(self.tests) - failed} passed" + (f", {failed} failed" if failed else ""))
        return "\n".join(lines)

    @classmethod
    def from_dict(cls, data: dict) -> SuiteResult:
        return cls(**{**data, "tests": [Outcome(**test) for test in data.get("tests", [])]})


def run_tests(namespace: dict) -> SuiteResult:
    """Run the tests and fixtures defined in `namespace` (a notebook's ``globals()``) with pytest.

    In a worker thread: a notebook's kernel already runs an event loop in its own thread, and
    anyio's plugin starts one of its own for the tests.
    """
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as worker:
        return worker.submit(_run_pytest, {"notebook": namespace}).result()["notebook"]


def _run_pytest(namespaces: dict[str, dict], stop_early: Iterable[str] = ()) -> dict[str, SuiteResult]:
    """One pytest session over several namespaces, each collected as a test module of its own.

    The namespaces named in `stop_early` skip their remaining tests once one has failed.
    """
    with tempfile.TemporaryDirectory(prefix="learner-tests-") as folder:
        modules = {}
        for key, namespace in namespaces.items():
            # Names never used before in this process: pytest finds an imported module by name.
            slug = f"{re.sub(r'[^0-9a-zA-Z]', '_', key)}_{next(_RUNS)}"
            name = f"_learner_namespace_{slug}"
            module = types.ModuleType(name)
            module.__dict__.update({k: v for k, v in namespace.items() if not k.startswith("_")})
            sys.modules[name] = module
            path = Path(folder) / f"test_{slug}.py"
            path.write_text(_MODULE.format(name=name), encoding="utf-8")
            modules[name] = (key, path, namespace)
        ini = Path(folder) / "pytest.ini"
        ini.write_text("[pytest]\n", encoding="utf-8")
        recorder = _Recorder({path.stem: (key, namespace) for key, path, namespace in modules.values()},
                             stop_early=stop_early)
        args = [folder, "-c", str(ini), "--rootdir", folder, "--import-mode=importlib",
                "--disable-plugin-autoload", "-p", "anyio", "-p", "no:cacheprovider", "-p", "no:faulthandler",
                "-p", "no:unraisableexception",
                "--capture=sys", "-q", "--no-header", "--tb=native"]
        # --tb=native: pytest's own traceback pages cost 2 s per failing test through SQLAlchemy's
        # deep stacks, and nobody reads them (the reason shown is _why's). no:unraisableexception:
        # its forced garbage collections at the end cost 0.15 s, for warnings nobody sees here.
        output = io.StringIO()  # pytest's own report; ours is SuiteResult
        try:
            with contextlib.redirect_stdout(output), contextlib.redirect_stderr(output):
                pytest.main(args, plugins=[recorder])
        finally:
            recorder.finish()
            for name, (_, path, _) in modules.items():
                sys.modules.pop(name, None)
                sys.modules.pop(path.stem, None)
        return recorder.results


class _Recorder:
    """A pytest plugin that records outcomes and watches how each test swaps dependencies."""

    def __init__(self, modules: dict[str, tuple[str, dict]], stop_early: Iterable[str] = ()) -> None:
        self.modules = modules  # test file stem -> (variant, the namespace its code runs in)
        self.stop_early = set(stop_early)
        self.not_run: set[str] = set()  # node ids skipped because their variant was already caught
        self.results = {key: SuiteResult() for key, _ in modules.values()}
        self.snapshots = {key: _identities(namespace) for key, namespace in modules.values()}
        self.current: dict[str, str] = {}  # variant -> the test running now
        self.listeners: list[tuple] = []
        for key, namespace in modules.values():
            self._watch_engine(key, namespace)

    def _of(self, item) -> tuple[str, dict]:
        return self.modules[Path(str(item.path)).stem]

    def _watch_engine(self, key: str, namespace: dict) -> None:
        engine = namespace.get("engine")
        sync_engine = getattr(engine, "sync_engine", None)
        if sync_engine is None:
            return
        from sqlalchemy import event

        def opened(*args, **kwargs):
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
        for key, result in self.results.items():
            if not result.tests and not result.error:
                result.error = "no tests found: name each test function test_something"

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_setup(self, item):
        key, _ = self._of(item)
        if key in self.stop_early and self.results[key].failing:
            self.not_run.add(item.nodeid)
            pytest.skip("its variant is caught already")  # before any fixture is set up
        self.current[key] = item.name
        return (yield)

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_call(self, item):
        key, namespace = self._of(item)
        self._look(key, namespace, item.name)
        try:
            return (yield)
        finally:
            self._look(key, namespace, item.name)

    def _look(self, key: str, namespace: dict, test: str) -> None:
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
    def pytest_runtest_teardown(self, item, nextitem):
        try:
            return (yield)
        finally:
            key, namespace = self._of(item)
            self.current.pop(key, None)
            overrides = _overrides(namespace)
            if overrides:
                names = ", ".join(sorted(getattr(d, "__name__", None) or type(d).__name__ for d in overrides))
                self.results[key].left_behind.append(f"{item.name} left overrides behind ({names}); "
                                                     "clear them in a fixture's teardown")
                overrides.clear()  # so the next test is judged on its own

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(self, item, call):
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

    def pytest_collectreport(self, report):
        if report.failed:
            stem = Path(str(report.fspath)).stem
            if stem in self.modules:
                key, _ = self.modules[stem]
                self.results[key].error = f"your tests could not be collected: {_one_line(str(report.longrepr))}"


def _overrides(namespace: dict) -> dict:
    app = namespace.get("app")
    overrides = getattr(app, "dependency_overrides", None)
    return overrides if isinstance(overrides, dict) else {}


def _identities(namespace: dict) -> dict[str, int]:
    return {name: id(value) for name, value in namespace.items() if not name.startswith("_")}


def _why(call, namespace: dict, report) -> str:
    """Why a test failed, in one line: the exception and the learner's line it came from."""
    excinfo = call.excinfo
    if excinfo is None:
        return _one_line(str(report.longrepr))
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
    spanning = [node for node in ast.walk(tree) if isinstance(node, ast.stmt)
                and node.lineno <= lineno <= (node.end_lineno or node.lineno)]
    start = max((node.lineno for node in spanning), default=lineno)
    return lines[start - 1].strip() if 0 < start <= len(lines) else ""


@functools.lru_cache(maxsize=64)
def _parsed(source: str) -> ast.Module:
    return compile(source, "<cell>", "exec", flags=ast.PyCF_ONLY_AST | ast.PyCF_ALLOW_TOP_LEVEL_AWAIT, dont_inherit=True)


def _one_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("E ")]
    line = (errors[-1][1:].strip() if errors else lines[-1]) if lines else "(no message)"
    return line if len(line) <= 200 else line[:197] + "..."
