"""make test-latest's parts that run without installing anything: the requirements it writes, the
masked versions line, and the report of what broke."""

from __future__ import annotations

import re
import subprocess
import textwrap
from pathlib import Path

from book import ROOT
from book.core import nbfiles
from book.maintainer import latest
from book.maintainer.junit import broken
from book.versions import produced_with
from tests.support import output, pytest_command


def test_the_moving_libraries_are_unpinned_and_the_rest_stay_pinned(tmp_path: Path) -> None:
    requirements, constraints = latest.write_requirements(tmp_path)
    wanted = requirements.read_text().splitlines()
    assert {"fastapi", "starlette", "pydantic", "sqlalchemy[asyncio]", "httpx", "aiosqlite", "fakeredis"} <= set(wanted)
    assert "jupyter-book==1.0.4.post1" in wanted and "-e ." in wanted
    pinned = {line.split("==")[0].lower().replace("_", "-") for line in constraints.read_text().splitlines()}
    assert not pinned & set(latest.MOVING + latest.IN_STEP)
    assert {"nbval", "ipykernel", "jupyter-book"} <= pinned


def test_the_versions_line_is_masked_and_nothing_else(tmp_path: Path) -> None:
    rules = latest.sanitizer(tmp_path).read_text()
    found = re.search(r"regex: (Outputs produced with.*)", rules)
    assert found, rules
    pattern = found[1]
    assert re.sub(pattern, "X", produced_with()) == "X"
    assert re.sub(pattern, "X", "a note about FastAPI 0.165.0.") == "a note about FastAPI 0.165.0."
    # The chapters' own versions cell prints exactly what the pattern masks.
    stored = nbfiles.read(ROOT / "chapters" / "00-in-process.ipynb", as_version=4).cells[1].outputs[0]
    assert re.sub(pattern, "X", stored["data"]["text/markdown"]) == "*X*"


def test_what_broke_is_one_line_each(tmp_path: Path) -> None:
    (tmp_path / "test_sample.py").write_text(
        textwrap.dedent("""
        def test_fine():
            pass

        def test_broken():
            raise ImportError("cannot import name 'Depends' from 'fastapi'")
    """)
    )
    junit = tmp_path / "junit.xml"
    done = subprocess.run(
        pytest_command(
            str(tmp_path / "test_sample.py"), "-q", "-o", "addopts=", "-p", "no:cacheprovider", "--junitxml", str(junit)
        ),
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 1, output(done)  # one of the two tests fails
    total, problems = broken(junit)
    assert total == 2 and len(problems) == 1
    assert problems[0].where.endswith("test_broken")
    assert problems[0].why == "ImportError: cannot import name 'Depends' from 'fastapi'"
    text = latest.report({"fastapi": ("0.165.0", "0.166.0")}, total, problems)
    assert "| fastapi | 0.165.0 | 0.166.0 |" in text and "Newer than the pins: fastapi." in text
    assert "2 tests, 1 broken." in text and "ImportError: cannot import name" in text
