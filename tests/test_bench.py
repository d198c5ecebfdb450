"""The benchmark's timing: figures taken in turn, and a failing command named in one line."""

import sys
from pathlib import Path

import pytest

from book.maintainer import bench_learner, bench_timing


def test_commands_timed_together_take_turns_and_give_a_median_and_spread(tmp_path: Path) -> None:
    log = tmp_path / "order.txt"
    commands = [[sys.executable, "-c", f"open({str(log)!r}, 'a').write('{name}')"] for name in "ab"]
    figures = bench_timing.timed_together(commands, runs=2)
    assert log.read_text() == "ababab"  # a warm-up round, then two timed rounds
    for median, low, high in figures:
        assert 0 < low <= median <= high


def test_a_failing_command_stops_the_benchmark_with_what_failed() -> None:
    failing = [sys.executable, "-c", "print('FAILED tests/test_x.py::test_y - boom'); raise SystemExit(1)"]
    with pytest.raises(SystemExit, match=r"exited 1: FAILED tests/test_x.py::test_y - boom"):
        bench_timing.timed(failing, runs=1, warmup=False)


def test_the_watch_figure_times_real_saves() -> None:
    figures = bench_learner.watch_latency(["01-typed-aliases"], saves=1)
    one, overall = figures
    assert one.name.startswith("watch 01-typed-aliases") and one.runs == 1 and 0 < one.low <= one.high < 60
    assert overall.target.startswith("<= 0.6 s") and overall.met is (overall.median <= bench_learner.WATCH_SECONDS)
