"""A grader that cannot be fooled easily: submissions that attack it score nothing they did not earn.

Each attack is a code cell put first in a wrong answer to exercise 01 (its solution with /notes
ignoring the filters, which fails two checks), so that it runs, in the kernel and in the hidden
checks' process, before anything else. Some attacks would win points unguarded (replacing pytest's
Function.runtest took the wrong answer from 12 to 15 of 16 points with the tripwire turned off),
some only try; guarded, each scores nothing, and the grader says why.
"""

from __future__ import annotations

import json
import shutil
import textwrap

import nbformat
import pytest
from nbformat.v4 import new_code_cell

from book import CHECKS, SOLUTIONS, grading
from book.report_file import ForgedReport, line, read_report

EXERCISE = "01-typed-aliases"


WRONG = ("found = [note for note in NOTES if filters.match(note)]", "found = list(NOTES)")


def attacked(tmp_path, attack: str, name: str = EXERCISE):
    """The wrong answer with `attack` as its first cell."""
    notebook = nbformat.read(SOLUTIONS / f"{EXERCISE}.ipynb", as_version=4)
    (wrong,) = [cell for cell in notebook.cells if WRONG[0] in cell.source]
    wrong.source = wrong.source.replace(*WRONG)
    notebook.cells.insert(0, new_code_cell(textwrap.dedent(attack)))
    (tmp_path / name).mkdir()
    path = tmp_path / name / f"{EXERCISE}.ipynb"
    nbformat.write(notebook, path)
    return path


def test_the_wrong_answer_alone_loses_points(tmp_path):
    submission = grading.grade(attacked(tmp_path, "print('no attack')"))
    assert not submission.error and 0 < submission.score < submission.max_score


def all_passing_entries() -> list[dict]:
    checks = grading.declared_checks(grading.find_exercise("01").checks)
    return [{"kind": "check", "id": name, "submission": "", "name": name, "points": points, "hint": hint,
             "passed": True, "message": ""} for name, points, hint in checks]


def assert_nothing_scored(submission, reason: str):
    assert submission.score == 0, [(check.name, check.points) for check in submission.checks if check.points]
    assert reason in submission.error, submission.error


@pytest.mark.parametrize("attack, reason", [
    ("""\
     import _pytest.python
     _pytest.python.Function.runtest = lambda self: None  # every check "passes" without running
     """, "the submission replaced _pytest.python.Function.runtest"),
    ("""\
     import book.checks
     book.checks.expect = lambda *args, **kwargs: None  # no expectation can fail
     """, "the submission replaced book.checks.expect"),
    ("""\
     import _pytest.runner
     real = _pytest.runner.call_and_report
     def passing(item, when, log=True, **kwargs):
         report = real(item, when, log, **kwargs)
         report.outcome = "passed"
         return report
     _pytest.runner.call_and_report = passing
     """, "the submission replaced _pytest.runner.call_and_report"),
    ("""\
     import gc
     import _pytest.config
     import pytest
     class Passing:  # turns every failed report into a pass
         @pytest.hookimpl(wrapper=True)
         def pytest_runtest_makereport(self, item, call):
             report = yield
             report.outcome = "passed"
             return report
     for found in gc.get_objects():
         if isinstance(found, _pytest.config.Config):
             found.pluginmanager.register(Passing())
     """, "a plugin was registered"),
], ids=["pytest's runtest", "book.checks.expect", "pytest's reports", "a plugin of its own"])
def test_a_submission_that_patches_the_grader_scores_nothing(tmp_path, attack, reason):
    assert_nothing_scored(grading.grade(attacked(tmp_path, attack)), reason)


def test_a_forged_report_voids_the_grade(tmp_path):
    entries = all_passing_entries() + [{"kind": "end", "id": "end"}]
    path = attacked(tmp_path, f"""\
        import json, os, sys
        if "--book-report" in sys.argv:  # the hidden checks' process: write a perfect report, and leave
            with open(sys.argv[sys.argv.index("--book-report") + 1], "a") as report:
                for entry in {entries!r}:
                    report.write(json.dumps(entry) + "\\n")
            os._exit(0)
        """)
    assert_nothing_scored(grading.grade(path), "a line of the grading report was not written by the grader")


def test_a_printed_report_and_an_early_exit_with_status_0_count_for_nothing(tmp_path):
    path = attacked(tmp_path, f"""\
        import json, os
        print(json.dumps({{"score": 16, "max_score": 16, "passed": True, "checks": {all_passing_entries()!r}}}))
        os._exit(0)
        """)
    submission = grading.grade(path)
    assert submission.score == 0 and "ended early" in submission.error, submission.error


def test_a_submission_that_edits_the_checks_spoils_the_rest_of_the_batch(tmp_path):
    checks = tmp_path / "checks"
    shutil.copytree(CHECKS, checks, ignore=shutil.ignore_patterns("__pycache__"))
    module = checks / "test_01_typed_aliases.py"
    passing = "from book.checks import check\n\n" + "".join(
        f"\n@check(points={points}, hint='')\ndef {name}():\n    pass\n" for name, points, _ in
        grading.declared_checks(module))
    attacker = attacked(tmp_path, f"""\
        import pathlib, sys
        for argument in sys.argv:  # the hidden checks' process names the check module
            if argument.endswith("test_01_typed_aliases.py"):
                pathlib.Path(argument).write_text({passing!r})
        """, name="attacker")
    honest = attacked(tmp_path, "print('no attack')", name="honest")
    baseline = grading.grader_fingerprint(checks)  # as `book grade` takes one for a batch
    first = grading.grade(attacker, checks_dir=checks, baseline=baseline)
    assert module.read_text() == passing  # the attack did reach the checks
    then = grading.grade(honest, checks_dir=checks, baseline=baseline)  # by the edited checks, it would pass
    assert_nothing_scored(first, f"{module} was changed")
    assert_nothing_scored(then, f"{module} was changed")


def test_a_signed_report_refuses_a_line_it_did_not_sign(tmp_path):
    key, report = b"k" * 32, tmp_path / "report.jsonl"
    entry = {"kind": "check", "id": "x", "name": "x", "points": 1, "hint": "", "passed": True, "message": ""}
    report.write_text(line(entry, key) + line({"kind": "end", "id": "end"}, key))
    assert read_report(report, key) == ([entry], True)
    for forged in (line(entry), line(entry, b"another key"), json.dumps({"entry": entry, "mac": "0" * 64}) + "\n"):
        report.write_text(line(entry, key) + forged)
        with pytest.raises(ForgedReport):
            read_report(report, key)
