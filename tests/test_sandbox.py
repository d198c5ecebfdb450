"""The sandbox: a hostile submission in a batch changes no other grade and leaves nothing behind.

Each hostile submission is exercise 01's solution with one more cell first; an honest copy of the
solution is graded in the same batch, after them, and must keep full marks. The machine is then
looked at: no process of theirs still running, nothing written where they aimed, the venv as it was.
The limits (memory, processes, disk) each end a submission with a reason of its own.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from book import ROOT, SOLUTIONS
from book.core import manifest, nbfiles
from book.grader import sandbox
from tests.support import Entry, book, still_running, submissions

FULL = manifest.find("01").points  # exercise 01's full marks, from the manifest: nothing here depends on its content

EXERCISE = "01-typed-aliases"
SOLUTION = SOLUTIONS / f"{EXERCISE}.ipynb"

_WHY_NOT = sandbox.choose(True)
if _WHY_NOT.kind != sandbox.SANDBOX and os.environ.get("BOOK_REQUIRE_SANDBOX"):
    raise RuntimeError(f"BOOK_REQUIRE_SANDBOX is set, but there is no sandbox here: {_WHY_NOT}")
pytestmark = pytest.mark.skipif(
    _WHY_NOT.kind != sandbox.SANDBOX, reason=f"no sandbox here ({_WHY_NOT.detail}); apt-get install bubblewrap"
)


def with_first_cell(folder: Path, source: str) -> Path:
    notebook = nbfiles.read(SOLUTION, as_version=4)
    notebook.cells.insert(0, nbfiles.new_code_cell(textwrap.dedent(source)))
    folder.mkdir(parents=True)
    path = folder / f"{EXERCISE}.ipynb"
    nbfiles.write(notebook, path)
    return path


def grade(*args: object, timeout: float = 600) -> list[Entry]:
    """The results of `python -m book grade ARGS --json`, its exit status asserted."""
    done = book("grade", *args, "--json", timeout=timeout)
    return submissions(done)


class Listener:
    """A TCP server on the host's loopback that counts connections: the sandbox must not reach it."""

    def __init__(self) -> None:
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.connections = 0
        self.server.settimeout(0.2)
        self.stop = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self.stop.is_set():
            try:
                connection, _ = self.server.accept()
            except OSError:
                continue
            self.connections += 1
            connection.close()

    def close(self) -> None:
        self.stop.set()
        self.server.close()


# the hostile batch: each result, the file written outside, the marker of what it started, the listener, and
# the mtimes of book/ before (False without a .venv)
HostileBatch = tuple[dict[str, Entry], Path, str, Listener, bool | list[int]]


@pytest.fixture(scope="module")
def hostile_batch(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HostileBatch]:
    root = tmp_path_factory.mktemp("hostile")
    target = root / "written-outside.bin"
    marker = f"sleep {time.time_ns() % 1_000_000}.25"
    listener = Listener()
    solution_code = str(SOLUTION)
    site_packages = next(path for path in sys.path if path.endswith("site-packages"))
    attacks = {
        "kills every process it can see": """\
            import os, signal
            for pid in range(2, 100000):
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
            """,
        "leaves a double-forked helper behind": f"""\
            import os, subprocess
            if os.fork() == 0:
                os.setsid()
                subprocess.Popen({marker.split()!r})
                os._exit(0)
            """,
        "edits fastapi in the venv": f"""\
            try:
                with open({site_packages + "/fastapi/__init__.py"!r}, "a") as library:
                    library.write("\\nraise SystemExit('sabotaged')\\n")
            except OSError:
                pass
            """,
        "writes 40 MB outside its folder": f"""\
            try:
                with open({str(target)!r}, "wb") as out:
                    out.write(b"x" * 40_000_000)
            except OSError:
                pass
            """,
        "reaches the network": f"""\
            import socket
            try:
                socket.create_connection(("127.0.0.1", {listener.port}), timeout=1).close()
            except OSError:
                pass
            """,
        "reads the solution": f"""\
            try:
                SOLUTION_TEXT = open({solution_code!r}).read()
            except OSError:
                SOLUTION_TEXT = None
            assert SOLUTION_TEXT is None, "the solution is readable"
            """,
    }
    paths = [with_first_cell(root / f"h{number}", source) for number, source in enumerate(attacks.values())]
    honest = root / "honest" / f"{EXERCISE}.ipynb"
    honest.parent.mkdir()
    honest.write_bytes(SOLUTION.read_bytes())
    before = (ROOT / ".venv").exists() and sorted(p.stat().st_mtime_ns for p in (ROOT / "book").rglob("*.py"))
    results = grade(*paths, honest, "--jobs", "2")
    time.sleep(1)
    listener.close()
    yield dict(zip([*attacks, "honest"], results, strict=True)), target, marker, listener, before
    subprocess.run(["pkill", "-f", marker])


def test_no_hostile_submission_changes_the_honest_grade(hostile_batch: HostileBatch) -> None:
    results, *_ = hostile_batch
    honest = results["honest"]
    assert honest["score"] == honest["max_score"] == FULL, honest
    assert honest["isolation"].startswith("sandbox")


def test_killing_everything_in_sight_reaches_only_its_own_sandbox(hostile_batch: HostileBatch) -> None:
    results, *_ = hostile_batch
    assert results["kills every process it can see"]["max_score"] == FULL  # graded, with a report, not lost


def test_nothing_it_started_outlives_its_grading(hostile_batch: HostileBatch) -> None:
    _, _, marker, _, _ = hostile_batch
    assert not still_running(marker), "a double-forked helper is still running"


def test_the_filesystem_outside_the_sandbox_is_untouched(hostile_batch: HostileBatch) -> None:
    results, target, _, _, _ = hostile_batch
    assert not target.exists()
    fastapi_init = next(path for path in sys.path if path.endswith("site-packages")) + "/fastapi/__init__.py"
    assert "sabotaged" not in Path(fastapi_init).read_text()
    assert results["edits fastapi in the venv"]["score"] == FULL  # the attempt failed quietly: a plain pass


def test_the_network_is_out_of_reach(hostile_batch: HostileBatch) -> None:
    _, _, _, listener, _ = hostile_batch
    assert listener.connections == 0


def test_the_solutions_are_not_visible(hostile_batch: HostileBatch) -> None:
    results, *_ = hostile_batch
    assert results["reads the solution"]["score"] == FULL  # its own assert: the solution file was not there


@pytest.mark.parametrize(
    "source, reason",
    [
        ("blob = bytearray(3_000_000_000)", "used more than the memory limit"),
        (
            "import subprocess\nkids = [subprocess.Popen(['sleep', '30']) for _ in range(90)]\n"
            "import time\ntime.sleep(20)",
            "started more than 64 processes",
        ),
        (
            "import time\nwith open('/tmp/big', 'wb') as out:\n    for _ in range(400):\n"
            "        out.write(b'x' * 1_000_000)\ntime.sleep(20)",
            "wrote more than the 256 MB of disk",
        ),
    ],
    ids=["memory", "processes", "disk"],
)
def test_each_limit_has_its_own_reason(tmp_path: Path, source: str, reason: str) -> None:
    (result,) = grade(with_first_cell(tmp_path / "limit", source), "--time-limit", "60")
    messages = [result["error"], *(check["message"] for check in result["checks"])]
    assert any(reason in message for message in messages), messages
    assert result["score"] < result["max_score"]


def test_without_the_sandbox_every_report_says_so(tmp_path: Path) -> None:
    (result,) = grade(SOLUTION, "--no-sandbox")
    assert result["isolation"] == "none (--no-sandbox)"
    assert result["score"] == FULL
