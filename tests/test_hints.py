"""Hints lead, they do not hand over: no hint of a hidden check holds a line of its solution."""

import nbformat
import pytest

from book import SOLUTIONS, release
from book.grader import manifest

EXERCISES = sorted(manifest.load().values(), key=lambda exercise: exercise.number)


def normal(text: str) -> str:
    return " ".join(text.split())


@pytest.mark.parametrize("exercise", EXERCISES, ids=lambda exercise: exercise.slug)
def test_no_hint_contains_a_line_of_the_solution(exercise):
    solution = nbformat.read(SOLUTIONS / exercise.notebook_name, as_version=4)
    lines = {normal(line) for cell in solution.cells if cell.cell_type == "code"
             for line in release.solution_lines(cell.source, shortest=20)}
    for name, _, hint in manifest.declared_checks(exercise.check_module):
        given_away = [line for line in lines if line in normal(hint)]
        assert not given_away, f"{name}: its hint hands over {given_away[0]!r}"


@pytest.mark.parametrize("exercise", EXERCISES, ids=lambda exercise: exercise.slug)
def test_every_check_has_a_hint_of_its_own(exercise):
    hints = [hint for _, _, hint in manifest.declared_checks(exercise.check_module)]
    assert all(len(hint) >= 40 for hint in hints), "a hint says where to look, in a sentence at least"
    assert len(set(hints)) == len(hints), "two checks share a hint: each failure needs its own lead"
