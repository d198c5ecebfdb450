"""`python -m book grade ... --summary FILE`: per check, how many passed and the most common failure.

A batch of three submissions of exercise 01 (the solution, the starter and a mutant from
tests/grading/cases) is graded once; the CSV's numbers follow from what each is known to fail.
"""

import csv
import json
import os
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from book import EXERCISES, SOLUTIONS
from book.core import manifest
from book.grader import summary
from book.grader.model import CheckResult, Result
from tests.support import MUTANTS, Entry, book, mutant, one_line_refusal, output

EXERCISE = manifest.find("01")
# the graded fixture: the CSV's rows by check, the picture, the grading run, each learner's result
Graded = tuple[dict[str, dict[str, str]], Path, subprocess.CompletedProcess[str], dict[str, Entry]]
# exercise 01's first listed mistake, and the checks that catch it
_, MISTAKE, REPLACE, MUST_FAIL = next(entry for entry in MUTANTS if entry[0] == EXERCISE.slug)


def grade(*args: object, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """`python -m book grade ARGS`, its output without colours."""
    return book("grade", *args, timeout=timeout, env={**os.environ, "NO_COLOR": "1"})


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory) -> Graded:
    folder = tmp_path_factory.mktemp("class")
    for learner, source in (("solution", SOLUTIONS), ("starter", EXERCISES)):
        path = folder / learner / EXERCISE.notebook_name
        path.parent.mkdir()
        path.write_bytes((source / EXERCISE.notebook_name).read_bytes())
    mutant(folder / "mutant", EXERCISE.slug, REPLACE)
    # --under: every notebook below the folder, as the grading image grades a mounted one
    done = grade("--under", folder, "--jobs", "2", "--summary", folder / "class", "--jsonl", folder / "grades.jsonl")
    assert done.returncode == 1, output(done)  # the starter and the mutant lose points
    with (folder / "class.csv").open(newline="") as stream:
        rows = {row["check"]: row for row in csv.DictReader(stream)}
    graded = {
        Path(entry["path"]).parent.name: entry
        for entry in map(json.loads, (folder / "grades.jsonl").read_text().splitlines())
    }
    return rows, folder / "class.svg", done, graded


def test_every_check_has_a_row_with_the_batch_counted(graded: Graded) -> None:
    rows, *_ = graded
    titles = [manifest.VISIBLE_CHECK, *(check.title for check in EXERCISE.checks)]
    assert list(rows) == titles
    for row in rows.values():
        assert row["exercise"] == EXERCISE.slug and row["submissions"] == "3"
        assert int(row["passed"]) + int(row["failed"]) == 3


def test_who_passed_what_follows_from_the_three_submissions(graded: Graded) -> None:
    rows, _, _, each = graded
    mutant_fails = {name.removeprefix("test_").replace("_", " ") for name in MUST_FAIL}
    # the starter stops at its first stub; the mutant's own check cells may catch its mistake
    mutant_runs = each["mutant"]["checks"][0]["passed"]
    assert rows[manifest.VISIBLE_CHECK]["passed"] == str(1 + mutant_runs)
    for check in EXERCISE.checks:
        row = rows[check.title]
        expected = 1 if check.title in mutant_fails else 2
        assert (int(row["passed"]), int(row["passed_percent"])) == (expected, round(100 * expected / 3)), check.title
        assert row["max_points"] == str(check.points)


def test_the_most_common_failure_is_a_trimmed_first_line(graded: Graded) -> None:
    rows, *_ = graded
    mutant_fails = {name.removeprefix("test_").replace("_", " ") for name in MUST_FAIL}
    untouched = next(check.title for check in EXERCISE.checks if check.title not in mutant_fails)
    row = rows[untouched]  # only the starter fails it
    assert row["times"] == "1" and row["most_common_failure"].startswith("the notebook did not run to the end")
    for row in rows.values():
        assert "\n" not in row["most_common_failure"] and len(row["most_common_failure"]) <= summary.MESSAGE


def test_the_picture_is_an_svg_with_a_bar_per_check(graded: Graded) -> None:
    _, svg, done, _ = graded
    root = ET.fromstring(svg.read_text())
    assert root.tag.endswith("svg")
    texts = [element.text or "" for element in root.iter() if element.tag.endswith("text")]
    assert sum("passed" in text and "/3" in text for text in texts) == 1 + len(EXERCISE.checks)
    assert f"{svg.with_suffix('.csv')} and {svg}" in done.stderr
    assert "3 submissions graded" in done.stdout


def test_most_common_counts_equal_first_lines_together() -> None:
    def result(*messages: str) -> Result:
        return Result(
            Path("x.ipynb"), "01-x", checks=[CheckResult("test_a", 0 if m else 1, 1, not m, m) for m in messages]
        )

    rows = summary.summarize(
        [
            result("b wrong\ncalled GET /"),
            result("a wrong"),
            result("b wrong\nother"),
            result(""),
            Result(Path("y.ipynb"), error="not graded"),
        ]
    )
    (entry,) = rows
    assert (entry.submissions, entry.passed, entry.most_common()) == (4, 1, ("b wrong", 2))
    assert summary.paths_for(Path("out/class.csv")) == (Path("out/class.csv"), Path("out/class.svg"))


def test_a_summary_into_a_missing_folder_is_one_line(tmp_path: Path) -> None:
    done = grade(SOLUTIONS / EXERCISE.notebook_name, "--summary", tmp_path / "no" / "such" / "class")
    one_line_refusal(done, "its folder does not exist")


@pytest.mark.parametrize(
    "args, reason",
    [
        (["--under", "no/such/folder"], "--under no/such/folder: no such folder"),
        (["--under", "book"], "--under book: no notebook in it"),
        ([], "say what to grade"),
    ],
)
def test_bad_folders_to_grade_are_one_line(args: list[str], reason: str) -> None:
    one_line_refusal(grade(*args), reason)
