"""The suite against the newest releases: ``python -m book.maintainer.latest`` (what ``make test-latest`` runs).

A course rots when the framework moves. This builds a second venv, ``.venv-latest``, with the newest
releases of the libraries the course teaches (everything else keeps its pin), runs the test suite
there, and reports which notebooks and checks break, and why, in one line each:

    python -m book.maintainer.latest            # newest releases
    python -m book.maintainer.latest --pre      # pre-releases too (an early warning, not a promise)

Each chapter's versions line is masked in this run: it names the pinned versions by design.
The site and browser tests are left out: they test the site built with the pins (make test).
The report is also written to ``_build/latest/report.md`` (``.venv-latest-pre`` and
``_build/latest-pre/`` with --pre). Exit status 0: nothing broke.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from pathlib import Path

from book import ROOT
from book.maintainer.install import install as book_install
from book.maintainer.install import venv_python
from book.maintainer.junit import Broken, broken

MOVING = ("fastapi", "starlette", "pydantic", "sqlalchemy", "httpx", "aiosqlite", "fakeredis")
# Released in step with one of MOVING, so their pins would hold it back.
IN_STEP = (
    "pydantic-core",
    "pydantic-settings",
    "annotated-types",
    "typing-inspection",
    "annotated-doc",
    "redis",
    "anyio",
    "typing-extensions",
    "greenlet",
)
VENV = ROOT / ".venv-latest"  # .venv-latest-pre with --pre: a pre-release left installed is never downgraded
OUT = ROOT / "_build" / "latest"
LEFT_OUT = ("tests/test_browser.py", "tests/test_site.py", "tests/test_site_editions.py")
# The versions line of every chapter: "Outputs produced with FastAPI 0.165.0, ..., SQLAlchemy 2.1.9."
VERSIONS_LINE = r"Outputs produced with [^*\n]*\."


def _name(requirement: str) -> str:
    return re.split(r"[\[=<>!~; ]", requirement.strip(), maxsplit=1)[0].lower().replace("_", "-")


def write_requirements(folder: Path) -> tuple[Path, Path]:
    """requirements.txt and constraints.txt for the newest releases: the pins of the moving
    libraries (and of what is released in step with them) dropped, every other pin kept."""
    constraints = folder / "constraints.txt"
    constraints.write_text(
        "\n".join(
            line
            for line in (ROOT / "constraints.txt").read_text(encoding="utf-8").splitlines()
            if _name(line) not in MOVING + IN_STEP
        )
        + "\n",
        encoding="utf-8",
    )
    direct = [
        line.strip()
        for line in (ROOT / "requirements.txt").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith(("#", "-")) and _name(line) not in MOVING
    ]
    direct += ["sqlalchemy[asyncio]" if name == "sqlalchemy" else name for name in MOVING]
    requirements = folder / "requirements.txt"
    requirements.write_text("\n".join([*direct, "-e ."]) + "\n", encoding="utf-8")
    return requirements, constraints


def install(pre: bool, venv: Path, out: Path) -> dict[str, tuple[str, str]]:
    """Make the venv and install the newest releases in it; {package: (pinned, installed)}."""
    out.mkdir(parents=True, exist_ok=True)
    python = venv_python(venv)
    requirements, constraints = write_requirements(out)
    # cwd: "-e ." is this checkout
    book_install(venv, [requirements], constraints=[constraints], upgrade=True, pre=pre, cwd=ROOT)
    return {name: (_pinned(name), _installed(python, name)) for name in MOVING}


def _pinned(name: str) -> str:
    for line in (ROOT / "constraints.txt").read_text(encoding="utf-8").splitlines():
        if "==" in line and _name(line) == name:
            return line.split("==")[1].strip()
    return "?"


def _installed(python: Path, name: str) -> str:
    done = subprocess.run(
        [str(python), "-c", f"import importlib.metadata as m; print(m.version({name!r}))"],
        capture_output=True,
        text=True,
    )
    return done.stdout.strip() or "not installed"


def sanitizer(folder: Path) -> Path:
    """The course's nbval sanitizer, plus the versions line."""
    path = folder / "nbval.sanitize"
    path.write_text(
        (ROOT / "nbval.sanitize").read_text(encoding="utf-8")
        + f"\n# The versions line names the pinned versions.\nregex: {VERSIONS_LINE}\n"
        "replace: Outputs produced with VERSIONS.\n",
        encoding="utf-8",
    )
    return path


def run_suite(jobs: str, venv: Path, out: Path) -> Path:
    """pytest, as make test runs it, in .venv-latest; the JUnit XML it wrote."""
    junit = out / "junit.xml"
    junit.unlink(missing_ok=True)
    command = [
        str(venv / "bin" / "python"),
        "-m",
        "book.maintainer.offline",
        str(venv / "bin" / "python"),
        "-m",
        "pytest",
        "-n",
        jobs,
        "--dist",
        "loadfile",
        "-q",
        "--nbval-sanitize-with",
        str(sanitizer(out)),
        "--junitxml",
        str(junit),
        *[f"--ignore={path}" for path in LEFT_OUT],
    ]
    subprocess.run(command, cwd=ROOT)
    return junit


def report(versions: dict[str, tuple[str, str]], total: int, problems: list[Broken]) -> str:
    lines = ["# The suite against the newest releases", "", "| package | pinned | tested |", "|---|---|---|"]
    lines += [f"| {name} | {pinned} | {installed} |" for name, (pinned, installed) in versions.items()]
    moved = [name for name, (pinned, installed) in versions.items() if pinned != installed]
    lines += [
        "",
        f"Newer than the pins: {', '.join(moved) if moved else 'none (the pins are the newest releases)'}.",
        "",
        f"{total} tests, {len(problems)} broken.",
    ]
    if problems:
        lines += ["", "| where | why |", "|---|---|"]
        lines += [f"| {problem.where} | {problem.why.replace('|', '/')} |" for problem in problems]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m book.maintainer.latest", description=__doc__.splitlines()[0])
    parser.add_argument("--pre", action="store_true", help="take pre-releases too")
    parser.add_argument("--jobs", default="auto", help="pytest-xdist workers (default: auto)")
    args = parser.parse_args(argv)
    venv, out = (VENV.with_name(".venv-latest-pre"), OUT.with_name("latest-pre")) if args.pre else (VENV, OUT)
    try:
        versions = install(args.pre, venv, out)
    except subprocess.CalledProcessError as exc:
        print(
            f"error: installing the newest releases failed (exit status {exc.returncode}); see the output above",
            file=sys.stderr,
        )
        return 2
    total, problems = broken(run_suite(args.jobs, venv, out))
    text = report(versions, total, problems)
    (out / "report.md").write_text(text, encoding="utf-8")
    print("\n" + text)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
