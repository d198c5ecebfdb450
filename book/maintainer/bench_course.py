"""The benchmark's figures of the maintainer's and the instructor's waits: site, test suite, batch grading."""

from __future__ import annotations

import shutil
import statistics
import sys
import tempfile
from pathlib import Path

from book import EXERCISES, ROOT, SOLUTIONS
from book.maintainer.bench_timing import Figure, python, timed, timed_together

SITE_PER_NOTEBOOK, SITE_BASE, REBUILD_SECONDS = 2.0, 10.0, 10.0
TEST_SECONDS = 300.0
BATCH_SPEEDUP = 1.6
CLASS_EXERCISE, CLASS_SIZE, CLASS_RATE = "05-sub-dependencies", 200, 1.2  # issue 25: submissions a second
BATCH_SIZE = 40


def site(runs: int) -> list[Figure]:
    notebooks = sum(
        1
        for line in (ROOT / "_toc.yml").read_text(encoding="utf-8").splitlines()
        if "file:" in line and (ROOT / f"{line.split('file:')[1].strip()}.ipynb").exists()
    )
    build = python("-m", "book.maintainer.offline", sys.executable, "-m", "book.site", "--quiet")
    clean_times = []
    for _ in range(runs):
        shutil.rmtree(ROOT / "_build" / "html", ignore_errors=True)
        shutil.rmtree(ROOT / "_build" / ".jupyter_cache", ignore_errors=True)
        shutil.rmtree(ROOT / "_build" / "jupyter_execute", ignore_errors=True)
        clean_times.append(timed(build, runs=1, warmup=False)[0])
    budget = SITE_PER_NOTEBOOK * notebooks + SITE_BASE
    clean = Figure(
        f"site: clean build ({notebooks} notebooks)",
        statistics.median(clean_times),
        min(clean_times),
        max(clean_times),
        runs,
        f"< {budget:g} s",
        statistics.median(clean_times) < budget,
    )
    rebuilt = timed(build, runs=runs)
    return [
        clean,
        Figure(
            "site: rebuild, nothing changed", *rebuilt, runs, f"< {REBUILD_SECONDS:g} s", rebuilt[0] < REBUILD_SECONDS
        ),
    ]


TEST_PARTS = {  # make test, a part at a time (each as make test runs it)
    "release --check": python("-m", "book", "release", "--check"),
    "site build (cached)": python("-m", "book.maintainer.offline", sys.executable, "-m", "book.site", "--quiet"),
    "nbval chapters": python("-m", "pytest", "-n", "auto", "--dist", "loadfile", "-q", "chapters"),
    "nbval solutions": python("-m", "pytest", "-n", "auto", "--dist", "loadfile", "-q", "solutions"),
    "site and browser tests": python(
        "-m",
        "pytest",
        "-n",
        "auto",
        "--dist",
        "loadfile",
        "-q",
        "tests/test_site.py",
        "tests/test_browser.py",
        "tests/test_site_editions.py",
    ),
    "everything else": python(
        "-m",
        "pytest",
        "-n",
        "auto",
        "--dist",
        "loadfile",
        "-q",
        "tests",
        "--ignore=tests/test_site.py",
        "--ignore=tests/test_browser.py",
        "--ignore=tests/test_site_editions.py",
    ),
    "nbval round with another seed and time zone": python(
        "-m", "book.maintainer.offline", sys.executable, "-m", "book.maintainer.repeat", "--rounds", "1", "--first", "2"
    ),
}


def test_suite(runs: int) -> list[Figure]:
    figures = [
        Figure(f"make test part: {name}", *timed(command, runs=1, warmup=False), 1)
        for name, command in TEST_PARTS.items()
    ]
    grading_suite = timed(
        python(
            "-m",
            "book.maintainer.offline",
            sys.executable,
            "-m",
            "pytest",
            "tests/grading",
            "-n",
            "auto",
            "--dist",
            "loadfile",
            "-q",
        ),
        runs=1,
        warmup=False,
    )
    figures.append(Figure("make test-grading (mutants, alternatives, 20 grades)", *grading_suite, 1))
    whole = timed(["make", "test"], runs=1, warmup=False)  # minutes each: once
    figures.append(Figure("make test (installed venv)", *whole, 1, f"< {TEST_SECONDS:g} s", whole[0] < TEST_SECONDS))
    return figures


def batch(runs: int) -> list[Figure]:
    solutions = sorted(SOLUTIONS.glob("*.ipynb"))
    starters = sorted(EXERCISES.glob("*.ipynb"))
    with tempfile.TemporaryDirectory(prefix="bench-batch-") as folder:
        # Half solutions, half starters, every exercise: each learner's folder holds one notebook.
        pool = [path for pair in zip(solutions, starters, strict=False) for path in pair]
        for number in range(BATCH_SIZE):
            learner = Path(folder) / f"learner{number:02d}"
            learner.mkdir()
            shutil.copy(pool[number % len(pool)], learner)
        notebooks = sorted(str(path) for path in Path(folder).glob("*/*.ipynb"))
        one, two = timed_together(
            [_grade_batch(notebooks, jobs, Path(folder)) for jobs in (1, 2)],
            runs=runs,
            warmup=False,
            ok=(0, 1),
        )
    speedup = one[0] / two[0]
    return [
        Figure(f"batch: {BATCH_SIZE} submissions, --jobs 1", *one, runs),
        Figure(
            f"batch: {BATCH_SIZE} submissions, --jobs 2",
            *two,
            runs,
            f"x{speedup:.2f} faster (>= {BATCH_SPEEDUP})",
            speedup >= BATCH_SPEEDUP,
        ),
    ]


def _grade_batch(notebooks: list[str], jobs: int, folder: Path) -> list[str]:
    """The command that grades `notebooks` as one batch with `jobs` workers, into a gradebook in `folder`."""
    return python("-m", "book", "grade", *notebooks, "--jobs", str(jobs), "--csv", str(folder / f"grades-{jobs}.csv"))


def class_batch(size: int = CLASS_SIZE) -> list[Figure]:
    """A class's submissions of one exercise (copies of exercise 05's solution), graded with
    --jobs 1 and --jobs 2: submissions a second, each worker's next processes started meanwhile."""
    figures = []
    with tempfile.TemporaryDirectory(prefix="bench-class-") as folder:
        for number in range(size):
            learner = Path(folder) / f"learner{number:03d}"
            learner.mkdir()
            shutil.copy(SOLUTIONS / f"{CLASS_EXERCISE}.ipynb", learner)
        notebooks = sorted(str(path) for path in Path(folder).glob("*/*.ipynb"))
        for jobs in (1, 2):
            seconds = timed(
                _grade_batch(notebooks, jobs, Path(folder)),
                runs=1,
                warmup=False,
                ok=(0, 1),
            )[0]
            rate = size / seconds
            target = (
                (f"{rate:.2f} a second (>= {CLASS_RATE:g})", rate >= CLASS_RATE)
                if jobs == 2
                else (f"{rate:.2f} a second", None)
            )
            figures.append(
                Figure(
                    f"class: {size} copies of {CLASS_EXERCISE[:2]}, --jobs {jobs}",
                    seconds,
                    seconds,
                    seconds,
                    1,
                    *target,
                )
            )
    return figures
