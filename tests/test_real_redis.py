"""Chapter 08 and exercise 08's hidden checks against a real Redis server, not fakeredis.

The course code picks its client from REDIS_URL (a real server) or falls back to fakeredis; here
a redis-server is started on 127.0.0.1 for these tests, and the same notebooks and checks must
pass against it, unchanged. Without redis-server (apt-get install redis-server) the tests are
skipped, unless BOOK_REQUIRE_REDIS is set, as .ci/run sets it: then they fail.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from book import ROOT, SOLUTIONS
from book.core import manifest
from tests.support import MUTANTS, free_port, mutant, output, pytest_command, run_checks

SERVER = shutil.which("redis-server") or ""
if not SERVER and os.environ.get("BOOK_REQUIRE_REDIS"):
    raise RuntimeError("the real-Redis tests cannot run: redis-server is not installed")
pytestmark = pytest.mark.skipif(not SERVER, reason="redis-server is not installed")
EXERCISE = "08-redis-cache"


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A redis-server of its own on 127.0.0.1, with nothing saved to disk; its URL."""
    port = free_port()
    folder = tmp_path_factory.mktemp("redis")
    server = subprocess.Popen(
        [SERVER, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", str(folder)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    try:
        with redis.Redis.from_url(url) as probe:
            deadline = time.monotonic() + 10
            while True:
                try:
                    probe.ping()
                    break
                except redis.exceptions.ConnectionError:
                    if time.monotonic() > deadline or server.poll() is not None:
                        pytest.fail(f"redis-server did not answer on port {port} within 10 s")
                    time.sleep(0.05)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=10)


@pytest.fixture
def real_redis(redis_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[redis.Redis]:
    """REDIS_URL set for every process started from here, and an empty server; a client to it."""
    monkeypatch.setenv("REDIS_URL", redis_url)
    with redis.Redis.from_url(redis_url, decode_responses=True) as server:
        server.flushall()
        yield server


def commands_served(server: redis.Redis) -> int:
    return int(server.info("stats")["total_commands_processed"])


@pytest.mark.parametrize("notebook", ["chapters/08-redis-cache.ipynb", f"solutions/{EXERCISE}.ipynb"])
def test_the_notebook_passes_strict_nbval_against_a_real_redis(notebook: str, real_redis: redis.Redis) -> None:
    before = commands_served(real_redis)
    run = subprocess.run(
        pytest_command("-q", "-p", "no:xdist", notebook), cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert run.returncode == 0, output(run, 3000)
    # The cells talked to the real server (fakeredis would leave it untouched).
    assert commands_served(real_redis) - before >= 5
    assert real_redis.keys("v1:*")


def test_the_hidden_checks_score_the_same_against_a_real_redis(real_redis: redis.Redis, tmp_path: Path) -> None:
    mutants = {
        mistake: mutant(tmp_path / str(number), EXERCISE, replace)
        for number, (exercise, mistake, replace, _) in enumerate(MUTANTS)
        if exercise == EXERCISE
    }
    must_fail = {mistake: names for exercise, mistake, _, names in MUTANTS if exercise == EXERCISE}
    solution = SOLUTIONS / f"{EXERCISE}.ipynb"
    before = commands_served(real_redis)
    # Without the sandbox: its network namespace has no route to the server on the host's loopback.
    found = run_checks(
        manifest.find(EXERCISE).check_module,
        [solution, *mutants.values()],
        tmp_path / "report.jsonl",
        "--book-isolation",
        "none",
    )
    assert commands_served(real_redis) - before > 50, "the checks did not use the real server"
    results = found[str(solution)]
    assert results and all(result["passed"] for result in results), [r for r in results if not r["passed"]]
    for mistake, path in mutants.items():
        failed = {result["name"] for result in found[str(path)] if not result["passed"]}
        assert failed == must_fail[mistake], f"{mistake}: failed {failed}, expected {must_fail[mistake]}"
