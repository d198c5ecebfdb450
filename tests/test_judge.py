"""The judge and the agent: the pipe between them, the probes, and a learner process that stops answering."""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

import pytest

from book import SOLUTIONS
from book.grader import sandbox, wire
from tests.support import Entry, run_checks

HEADER = 'from book.grader.checks import agent_side, check, expect, expect_response\n\nEXERCISE = "{exercise}"\n'


def checks_module(folder: Path, exercise: str, body: str) -> Path:
    path = folder / f"test_{exercise.replace('-', '_')}.py"
    path.write_text(HEADER.format(exercise=exercise) + textwrap.dedent(body))
    return path


def results_of(module: Path, exercise: str, tmp_path: Path, *options: str) -> dict[str, Entry]:
    found = run_checks(module, [SOLUTIONS / f"{exercise}.ipynb"], tmp_path / "report.jsonl", *options)
    return {result["name"]: result for result in next(iter(found.values()))}


def test_probes_override_with_a_recorder_and_count_checked_out_connections(tmp_path: Path) -> None:
    module = checks_module(
        tmp_path,
        "02-db-session",
        """
        @check(points=1, hint="-")
        async def test_recorder(nb, client):
            await nb.override_recorder("get_session", None)
            before = await nb.recorded("get_session")
            await client.get("/classes")
            expect(before == 0 and await nb.recorded("get_session") == 1, called="a recorder",
                   got=await nb.recorded("get_session"), expected="one call")

        @check(points=1, hint="-")
        async def test_connections(nb, client):
            await client.get("/classes")
            expect(await nb.checked_out() == 0, called="the pool", got="some", expected="none")
    """,
    )
    results = results_of(module, "02-db-session", tmp_path)
    assert all(result["passed"] for result in results.values()), results


def test_a_learner_process_that_stops_answering_is_killed_and_the_next_check_runs(tmp_path: Path) -> None:
    module = checks_module(
        tmp_path,
        "01-typed-aliases",
        """
        @agent_side
        def forever(ctx):
            while True:
                pass

        @check(points=1, hint="-")
        async def test_a_hang(nb):
            await nb.call(forever)

        @check(points=1, hint="-")
        async def test_after_it(client):
            expect_response(await client.get("/about"), status=200)
    """,
    )
    results = results_of(module, "01-typed-aliases", tmp_path, "--book-op-timeout", "2")
    assert not results["test_a_hang"]["passed"]
    assert results["test_a_hang"]["message"].startswith("no answer within 2 s"), results["test_a_hang"]
    assert results["test_after_it"]["passed"], results["test_after_it"]


def test_an_agent_that_dies_is_started_again_for_the_next_check(tmp_path: Path) -> None:
    module = checks_module(
        tmp_path,
        "01-typed-aliases",
        """
        @agent_side
        def die(ctx):
            import os
            os.kill(os.getppid(), 9)  # the warm agent itself
            os._exit(1)

        @check(points=1, hint="-")
        async def test_it_dies(nb):
            await nb.call(die)

        @check(points=1, hint="-")
        async def test_after_it(client):
            expect_response(await client.get("/about"), status=200)
    """,
    )
    results = results_of(module, "01-typed-aliases", tmp_path)
    assert not results["test_it_dies"]["passed"]
    assert results["test_after_it"]["passed"], results["test_after_it"]


def test_the_wire_takes_only_json_objects_of_bounded_size() -> None:
    read_fd, write_fd = os.pipe()
    try:
        wire.send(write_fd, {"op": "x", "n": 1})
        assert wire.receive(read_fd) == {"op": "x", "n": 1}
        os.write(write_fd, wire.HEADER.pack(wire.MAX_MESSAGE + 1))
        with pytest.raises(wire.WireError, match="over the limit"):
            wire.receive(read_fd)
        os.write(write_fd, wire.HEADER.pack(5) + b"[1,2]")
        with pytest.raises(wire.WireError, match="not a JSON object"):
            wire.receive(read_fd)
        os.write(write_fd, wire.HEADER.pack(4) + b"nope")
        with pytest.raises(wire.WireError, match="not JSON"):
            wire.receive(read_fd)
    finally:
        os.close(read_fd)
        os.close(write_fd)
    with pytest.raises(wire.WireError):
        wire.encode({"big": "x" * (wire.MAX_MESSAGE + 1)})


def test_without_bubblewrap_inside_a_container_the_container_is_the_isolation(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sandbox, "_bwrap_works", lambda: "bubblewrap cannot create namespaces here (denied)")
    monkeypatch.setattr(sandbox, "in_container", lambda: True)
    chosen = sandbox.choose(True)
    assert chosen.kind == sandbox.CONTAINER and "cannot create namespaces" in chosen.detail
    monkeypatch.setattr(sandbox, "in_container", lambda: False)
    assert sandbox.choose(True).kind == sandbox.NONE
    assert str(sandbox.choose(False)) == "none (--no-sandbox)"
