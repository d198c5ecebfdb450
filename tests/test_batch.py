"""A batch never loses what it graded: results appended as they come, --resume, a killed batch.

A batch of copies of exercise 01's solution is killed (SIGKILL) once two results are on disk; the
results written so far stay, nothing of the batch keeps running or stays in the temporary folder,
and --resume grades only the rest.
"""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from book import ROOT, SOLUTIONS
from book.core import manifest
from book.grader import sandbox
from tests.support import output, still_running, tail

FULL = manifest.find("01").points  # exercise 01's full marks, from the manifest: nothing here depends on its content

SOLUTION = SOLUTIONS / "01-typed-aliases.ipynb"
SIZE = 5


@pytest.mark.parametrize("no_sandbox", [False, True], ids=["sandbox", "no-sandbox"])
def test_a_killed_batch_keeps_its_results_and_resume_grades_the_rest(tmp_path: Path, no_sandbox: bool) -> None:
    if not no_sandbox and sandbox.choose(True).kind != sandbox.SANDBOX:
        pytest.skip("bubblewrap cannot make a sandbox here")
    paths = []
    for number in range(SIZE):
        folder = tmp_path / "submissions" / f"learner{number}"
        folder.mkdir(parents=True)
        (folder / SOLUTION.name).write_bytes(SOLUTION.read_bytes())
        paths.append(folder / SOLUTION.name)
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    env = {**os.environ, "TMPDIR": str(temporary)}
    jsonl, gradebook = tmp_path / "grades.jsonl", tmp_path / "grades.csv"
    options = ["--jsonl", str(jsonl), "--csv", str(gradebook), *(["--no-sandbox"] if no_sandbox else [])]
    with (tmp_path / "batch.err").open("w") as progress:
        batch = subprocess.Popen(
            [sys.executable, "-m", "book", "grade", *map(str, paths), *options],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=progress,
        )
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and (not jsonl.exists() or len(jsonl.read_text().splitlines()) < 2):
            time.sleep(0.05)
        batch.send_signal(signal.SIGKILL)
        batch.wait()
    kept = [json.loads(line) for line in jsonl.read_text().splitlines() if line.endswith("}")]
    shown = tail((tmp_path / "batch.err").read_text())
    assert 2 <= len(kept) < SIZE and all(entry["score"] == FULL for entry in kept), shown
    assert len(gradebook.read_text().splitlines()) >= 1 + len(kept)
    # what the batch started dies with it (PR_SET_PDEATHSIG, bubblewrap's --die-with-parent)
    assert not still_running(str(tmp_path)), "processes of the killed batch still run"
    if not no_sandbox:  # in the sandbox nothing is written outside: the notebook goes in as a descriptor
        assert not list(temporary.iterdir())

    resumed = subprocess.run(
        [sys.executable, "-m", "book", "grade", *map(str, paths), *options, "--resume"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert resumed.returncode == 0, output(resumed)
    graded_now = [line for line in resumed.stderr.splitlines() if line.startswith("[")]
    assert len(graded_now) == SIZE - len(kept)
    entries = [json.loads(line) for line in jsonl.read_text().splitlines() if line.endswith("}")]
    assert sorted({entry["path"] for entry in entries}) == sorted(map(str, paths))
    assert not list(temporary.iterdir()), "a killed grader's scratch folder is swept by the next run"
