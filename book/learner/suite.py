"""Run a learner's own tests (the fixtures and tests a notebook defines) as one pytest session.

Exercise 10 asks for tests rather than an app. In the notebook, ``book.run_tests(globals())``
runs them on the spot. The grader runs the same tests in the agent (book.grader.variant_tests) against the
given app and against subtly broken copies of it (mutation testing: good tests fail on each), and
reports, besides each test's outcome, how the tests swapped dependencies: which ones they
overrode, which global names they replaced, which overrides they left behind, and whether they
opened the app's own database (book.learner.suite_recorder watches; book.learner.suite_result holds the verdict).

The tests run under pytest with anyio's plugin, as in a project, with no other plugin loaded.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import io
import itertools
import re
import sys
import tempfile
import types
from collections.abc import Iterable
from pathlib import Path

import pytest

from book.learner.suite_recorder import Namespace, Recorder
from book.learner.suite_result import SuiteResult

TIME_LIMIT = 60.0  # every variant together; a course suite runs them in a few seconds
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


def run_tests(namespace: Namespace) -> SuiteResult:
    """Run the tests and fixtures defined in `namespace` (a notebook's ``globals()``) with pytest.

    In a worker thread: a notebook's kernel already runs an event loop in its own thread, and
    anyio's plugin starts one of its own for the tests.
    """
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as worker:
        return worker.submit(run_pytest, {"notebook": namespace}).result()["notebook"]


def run_pytest(namespaces: dict[str, Namespace], stop_early: Iterable[str] = ()) -> dict[str, SuiteResult]:
    """One pytest session over several namespaces, each collected as a test module of its own.

    The namespaces named in `stop_early` skip their remaining tests once one has failed. The
    grader's agent (book.grader.variant_tests) calls it by this name, looked up in this module at each call.
    """
    with tempfile.TemporaryDirectory(prefix="learner-tests-") as folder:
        modules: dict[str, tuple[str, Path, Namespace]] = {}
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
        recorder = Recorder(
            {path.stem: (key, namespace) for key, path, namespace in modules.values()}, stop_early=stop_early
        )
        args = [
            folder,
            "-c",
            str(ini),
            "--rootdir",
            folder,
            "--import-mode=importlib",
            "--disable-plugin-autoload",
            "-p",
            "anyio",
            "-p",
            "no:cacheprovider",
            "-p",
            "no:faulthandler",
            "-p",
            "no:unraisableexception",
            "--capture=sys",
            "-q",
            "--no-header",
            "--tb=native",
        ]
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
