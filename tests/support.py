"""What the tests share, one helper for each job: pytest command lines, check runs, mutants, child output, ports.

Test modules import from here and never from one another (nor from conftest.py, which holds fixtures only).
"""

from __future__ import annotations

import html
import json
import re
import socket
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from book import ROOT, SOLUTIONS
from book.authoring import release
from book.core import nbfiles
from book.grader.report_file import read_report
from tests.grading import cases

# One result of a --book-report file, as read_report gives it (a JSON object).
Entry = dict[str, Any]

# Every listed mistake of every exercise: (exercise, mistake, (old, new), names of the checks that must fail).
MUTANTS: list[tuple[str, str, tuple[str, str], set[str]]] = [entry for case in cases.ALL for entry in case.MUTANTS]

# What only one edition of the site says (tests/test_site.py reads the full one, test_site_editions.py the class one).
FULL_EDITION_ONLY = {
    "intro": "Solutions are in a separate part at the end: try first.",
    "chapters/setup": "The solutions are in the last part of the site: try first.",
}
CLASS_EDITION_ONLY = {"intro": "This edition leaves the solutions out"}

TAIL = 2000  # how much of a child's output an assertion message shows


def tail(text: str, size: int = TAIL) -> str:
    """The end of `text`, at most `size` characters: where a failing child says why."""
    return text[-size:]


def output(done: subprocess.CompletedProcess[str], size: int = TAIL) -> str:
    """The end of a finished child's stdout and of its stderr, for an assertion's message."""
    return tail(done.stdout or "", size) + tail(done.stderr or "", size)


def book(
    *args: object, cwd: Path = ROOT, env: Mapping[str, str] | None = None, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    """`python -m book ARGS` in a child process, its output captured as text (env: the child's whole environment)."""
    return subprocess.run(
        [sys.executable, "-m", "book", *map(str, args)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
    )


def submissions(done: subprocess.CompletedProcess[str]) -> list[Entry]:
    """The results of a finished `python -m book grade ... --json`, its exit status asserted.

    The grader exits 0 when every submission passed and 1 when one did not (2, bad input, gives
    no results to read).
    """
    found: list[Entry] = json.loads(done.stdout)["submissions"]
    expected = 0 if all(result["passed"] for result in found) else 1
    assert done.returncode == expected, f"exit status {done.returncode}, not {expected}:\n{output(done)}"
    return found


def one_line_refusal(
    done: subprocess.CompletedProcess[str], reason: str, status: int = 2, *, usage: bool = False, stderr_lines: int = 1
) -> None:
    """A refusal as the course's commands give one, and no traceback anywhere.

    Bad input (exit status 2) is one line on stderr holding `reason`, after argparse's usage lines
    when `usage`; a submission refused (status 1) has `reason` in its report, and `stderr_lines`
    lines on stderr (none from python -m book grade, whose report is on stdout).
    """
    assert done.returncode == status, f"exit status {done.returncode}, not {status}:\n{output(done)}"
    assert reason in (done.stderr if status == 2 else done.stdout + done.stderr), output(done)
    assert "Traceback" not in done.stdout + done.stderr, output(done)
    lines = done.stderr.strip().splitlines()
    if usage:
        assert lines[0].startswith("usage: ") and all(line.startswith(" ") for line in lines[1:-1]), output(done)
        lines = lines[-1:]
    assert len(lines) == stderr_lines, output(done)


def pytest_command(*arguments: str) -> list[str]:
    """A pytest run in a child process of this interpreter."""
    return [sys.executable, "-m", "pytest", *arguments]


def judge_command(check_module: Path, *options: str) -> list[str]:
    """pytest with the judge and one exercise's hidden checks, as the grader runs it (no other plugin)."""
    return pytest_command(
        str(check_module), "-q", "-c", str(ROOT / "book" / "grading.ini"), "--rootdir", str(ROOT),
        "--confcutdir", str(check_module.parent), "--disable-plugin-autoload", "-p", "book.core.skip_slow_imports",
        "-p", "book.grader.judge", "-p", "anyio.pytest_plugin", "-p", "no:cacheprovider", *options,
    )  # fmt: skip


def run_checks(check_module: Path, submissions: list[Path], report: Path, *extra: str) -> dict[str, list[Entry]]:
    """Run one exercise's hidden checks against each notebook, in one fresh pytest; the results of each.

    The child must reach the end of its report and exit as its checks' results say: 0 when every
    check passed, 1 when one failed (any other status is pytest or the judge going wrong). A
    --book-mirror entry is the judge's own run of the notebook, not a check: it sets no status.
    """
    options = [item for path in submissions for item in ("--submission", str(path))]
    done = subprocess.run(judge_command(check_module, *options, "--book-report", str(report), *extra),
                          cwd=ROOT, capture_output=True, text=True, timeout=600)  # fmt: skip
    results, finished = read_report(report)
    assert finished, f"the checks' report stops before its end:\n{output(done)}"
    assert results, f"the checks reported nothing:\n{output(done)}"
    checks = [result for result in results if result.get("kind") != "mirror"]
    expected = 0 if all(result["passed"] for result in checks) else 1
    assert done.returncode == expected, f"exit status {done.returncode}, not {expected}:\n{output(done)}"
    if len(submissions) == 1:
        return {str(submissions[0]): results}
    grouped: defaultdict[str, list[Entry]] = defaultdict(list)
    for result in results:
        grouped[result["submission"]].append(result)
    return {str(path): grouped[str(path)] for path in submissions}


def write_mutant(folder: Path, exercise: str, replace: tuple[str, str]) -> Path | None:
    """The solution with `old` replaced by `new`, or None when `old` is no longer in it once."""
    solution = nbfiles.read(SOLUTIONS / f"{exercise}.ipynb", as_version=4)
    old, new = replace
    sources = [cell for cell in solution.cells if cell.cell_type == "code" and old in cell.source]
    if len(sources) != 1:
        return None
    sources[0].source = sources[0].source.replace(old, new)
    folder.mkdir(parents=True)
    nbfiles.write(solution, folder / f"{exercise}.ipynb")
    return folder / f"{exercise}.ipynb"


def mutant(folder: Path, exercise: str, replace: tuple[str, str]) -> Path:
    """write_mutant for a mistake whose text must still be in the solution: its path."""
    path = write_mutant(folder, exercise, replace)
    assert path is not None, f"the mutant's text is no longer in the solution, once: {replace[0]!r}"
    return path


def still_running(command_line: str, wait: float = 3.0) -> bool:
    """Whether a process whose command line holds `command_line` still runs after up to `wait` seconds."""
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        if subprocess.run(["pgrep", "-f", command_line], capture_output=True).returncode == 1:
            return False
        time.sleep(0.1)
    return True


SITE = ROOT / "_build" / "html"  # the full edition, as make book builds it


def require_built_site() -> None:
    """Fail (not error) with what to run when the full site is not built."""
    if not (SITE / "index.html").exists():
        pytest.fail("the site is not built: run `make book` (make test builds it first)", pytrace=False)


def page(doc: str) -> str:
    """A built page's HTML: `doc` as the table of contents names it (chapters/setup)."""
    return (SITE / f"{doc}.html").read_text(encoding="utf-8")


def html_text(markup: str) -> str:
    """HTML as a reader sees its text: tags dropped, entities decoded."""
    return html.unescape(re.sub(r"<[^>]+>", "", markup))


def words(markup: str) -> str:
    """html_text with every run of white space made one space: text to search for a sentence in."""
    return " ".join(html_text(markup).split())


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


# The class edition: no line of any solution, anywhere in it (tests/test_site_editions.py builds it).


def published_code() -> str:
    """What a learner may legitimately see: the chapters (bar the page that grades a solution) and
    the exercises' starters, code and text. A solution line also found there gives nothing away."""
    texts: list[str] = []
    for path in [*sorted((ROOT / "chapters").glob("*.ipynb")), *sorted((ROOT / "exercises").glob("*.ipynb"))]:
        if path.name == "how-grading-works.ipynb":
            continue
        notebook = nbfiles.read(path, as_version=4)
        texts += [cell.source for cell in notebook.cells]
    return "\n".join(texts)


def solution_region_lines(path: Path) -> set[str]:
    """The lines (20 characters or more) of a solution notebook's solution regions."""
    notebook = nbfiles.read(path, as_version=4)
    return {
        line
        for cell in notebook.cells
        if cell.cell_type == "code"
        for line in release.solution_lines(cell.source, shortest=20)
    }


def class_edition_texts(folder: Path) -> dict[str, str]:
    """Every page, script (the search index) and notebook source of a built edition, as text."""
    texts: dict[str, str] = {}
    for path in sorted(folder.rglob("*")):
        if path.is_file() and path.suffix in (".html", ".js", ".ipynb", ".txt", ".md"):
            text = path.read_text(encoding="utf-8", errors="replace")
            if path.suffix == ".html":
                text = html_text(text)
            texts[path.relative_to(folder).as_posix()] = text
    return texts


def class_edition_leaks(folder: Path) -> list[str]:
    """Each line of a solution region (20 characters or more) found in the built edition in
    `folder`, unless the chapters or the exercises show it themselves (then it gives nothing away).
    tests/test_site_editions.py builds the class edition and runs this on it."""
    given, texts = published_code(), class_edition_texts(folder)
    leaks: list[str] = []
    for path in sorted(SOLUTIONS.glob("*.ipynb")):
        for line in sorted(line for line in solution_region_lines(path) if line not in given):
            leaks += [f"{path.stem}: {line!r} in {name}" for name, text in texts.items() if line in text]
    return leaks
