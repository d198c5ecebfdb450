"""The package's layout holds: imports point down, modules are short and say their job, README's map is current."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from book import ROOT
from book.maintainer import layout


def test_every_module_imports_only_downwards_is_short_and_says_its_job() -> None:
    found = [str(problem) for problem in layout.problems()]
    assert not found, "layout problems (python -m book.maintainer.layout --check):\n" + "\n".join(found)


def test_every_part_of_the_tree_is_a_known_part() -> None:
    folders = {path.name for path in layout.PACKAGE.iterdir() if path.is_dir() and (path / "__init__.py").exists()}
    assert folders == {part.folder for part in layout.PARTS if part.folder}


def test_the_readme_map_is_drawn_from_the_tree() -> None:
    readme = layout.README.read_text(encoding="utf-8")
    assert layout.readme_with_map(readme) == readme, "run python -m book.maintainer.layout --write"
    for module in layout.modules():
        if module.part is not None and module.path.name != "__init__.py":
            assert f"- `{module.path.name}`: {module.summary}" in readme


def _package(tmp_path: Path, files: dict[str, str]) -> Path:
    package = tmp_path / "book"
    for name, text in {"__init__.py": '"""Entry."""\n', **files}.items():
        path = package / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return package


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        (
            '"""Job."""\nfrom book.grader import runner\n',
            "imports book.grader.runner, of the grader part",
        ),
        ('"""Job."""\ndef f() -> None:\n    import book.grader.runner\n', "core imports book.grader.runner"),
        ('"""Job."""\nfrom book.core.other import _secret\n', "imports the private name _secret"),
        ('"""Job."""\nfrom book.core import other\nother._secret = 2\n', "uses the private name _secret"),
        ('"""Job."""\nimport book.core.other as o\nprint(o._secret)\n', "uses the private name _secret"),
        ('"""Job."""\nfrom book import graph\n', "imports graph from the entry point book"),
        ("x = 1\n", "no docstring"),
        ('"""Job that goes on\nover two lines."""\n', "not a sentence of its own"),
        ('"""Job."""\n' + "x = 1\n" * 400, "401 lines (at most 350)"),
    ],
)
def test_the_check_catches_each_kind_of_problem(tmp_path: Path, source: str, expected: str) -> None:
    package = _package(
        tmp_path,
        {
            "core/__init__.py": '"""Core."""\n',
            "core/other.py": '"""Other."""\n_secret = 1\n',
            "core/mine.py": source,
            "grader/__init__.py": '"""Grader."""\n',
            "grader/runner.py": '"""Runner."""\n',
        },
    )
    found = [problem.text for problem in layout.problems(package) if problem.path.name == "mine.py"]
    assert any(expected in text for text in found), found


def test_a_downward_import_is_no_problem(tmp_path: Path) -> None:
    package = _package(
        tmp_path,
        {
            "core/__init__.py": '"""Core."""\n',
            "core/manifest.py": '"""Manifest."""\n',
            "grader/__init__.py": '"""Grader."""\n',
            "grader/runner.py": '"""Runner."""\nfrom book import ROOT\nfrom book.core import manifest\n',
        },
    )
    assert layout.problems(package) == []


def test_the_command_passes_here_and_refuses_bad_input_in_one_line() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "book.maintainer.layout", "--check"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    bad = subprocess.run(
        [sys.executable, "-m", "book.maintainer.layout", "--nope"], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert bad.returncode == 2 and "unrecognized arguments: --nope" in bad.stderr.splitlines()[-1]
