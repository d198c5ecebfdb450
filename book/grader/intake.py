"""Taking a submission in: read it safely, check it is a notebook, and that its check cells are the exercise's.

Only a regular file is read: a symbolic link, a FIFO, a device or a folder is refused with one line,
before anything blocks; the size is checked on the opened file, and no more than the limit is read.
The check cells are compared with the manifest's fingerprints of the exercise (never with a file the
learner can edit), and a cell carrying a tag or marker that would let nbval skip it or accept its
failure is refused.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import stat
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from book.core import manifest
from book.grader.model import capped

MAX_BYTES = 20_000_000  # a course notebook is well under 1 MB, outputs included
SUPPORTED_NBFORMAT = 4
# Tags and source markers with which nbval (or myst-nb) would skip a cell or accept its failure.
FORBIDDEN_TAGS = {
    "raises-exception",
    "skip-execution",
    "nbval-skip",
    "nbval-raises-exception",
    "nbval-ignore-output",
    "nbval-check-output",
}
FORBIDDEN_MARKERS = ("NBVAL_SKIP", "NBVAL_RAISES_EXCEPTION", "NBVAL_IGNORE_OUTPUT", "NBVAL_CHECK_OUTPUT")


class Refused(Exception):
    """A submission the grader cannot take; the message is one line, for the learner."""


@dataclass
class Submission:
    path: Path
    data: bytes  # the file as read: what every later step grades, whatever happens to the file
    notebook: dict[str, Any]

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


def shown(path: Path) -> str:
    return capped(str(path), 160)


def read_bytes(path: Path, limit: int = MAX_BYTES) -> bytes:
    """The file's bytes, if it is a regular file of at most `limit` bytes; Refused otherwise."""
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
    try:
        fd = os.open(path, flags | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise Refused(f"{shown(path)}: no such file") from None
    except PermissionError:
        raise Refused(f"{shown(path)}: cannot be read (permission denied)") from None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise Refused(f"{shown(path)}: is a symbolic link; grade the notebook file itself") from None
        raise Refused(f"{shown(path)}: cannot be opened ({exc.strerror})") from None
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise Refused(f"{shown(path)}: is a folder, not a notebook")
        if not stat.S_ISREG(info.st_mode):
            what = (
                "a FIFO"
                if stat.S_ISFIFO(info.st_mode)
                else "a device"
                if stat.S_ISCHR(info.st_mode) or stat.S_ISBLK(info.st_mode)
                else "a socket"
                if stat.S_ISSOCK(info.st_mode)
                else "not a file"
            )
            raise Refused(f"{shown(path)}: is {what}, not a regular file")
        if info.st_size > limit:
            raise Refused(
                f"{shown(path)}: {info.st_size // 1_000_000} MB is too large for a notebook; "
                "clear its outputs and save it again"
            )
        chunks, total = [], 0
        while total <= limit:
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
        if total > limit:
            raise Refused(f"{shown(path)}: more than {limit // 1_000_000} MB; clear its outputs and save it again")
        return b"".join(chunks)
    finally:
        os.close(fd)


def parse(path: Path, data: bytes) -> dict[str, Any]:
    """The notebook in `data`, validated as nbformat 4, or Refused saying what is wrong."""
    if path.suffix != ".ipynb":
        raise Refused(f"{shown(path)}: not a notebook (expected a .ipynb file)")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise Refused(f"{shown(path)}: not a notebook (not UTF-8 text)") from None
    try:
        nb = json.loads(text)
    except ValueError as exc:
        raise Refused(f"{shown(path)}: not a valid notebook (not JSON: {capped(str(exc), 80)})") from None
    if not isinstance(nb, dict):
        raise Refused(f"{shown(path)}: not a valid notebook (not a JSON object)")
    if nb.get("nbformat") != SUPPORTED_NBFORMAT:
        raise Refused(
            f"{shown(path)}: notebook format {capped(repr(nb.get('nbformat')), 20)} is not supported (expected 4)"
        )
    import nbformat  # its validation imports jsonschema: only for files that got this far

    try:
        nbformat.validate(nbformat.from_dict(nb))  # type: ignore[no-untyped-call]
    except nbformat.ValidationError as exc:
        raise Refused(f"{shown(path)}: not a valid notebook ({capped(exc.message, 120)})") from None
    except Exception as exc:  # a document deep or odd enough to trouble the validator
        raise Refused(f"{shown(path)}: not a valid notebook ({type(exc).__name__})") from None
    return nb


def take(path: Path) -> Submission:
    data = read_bytes(path)
    return Submission(path, data, parse(path, data))


def code_cells(nb: dict[str, Any]) -> list[tuple[int, dict[str, Any]]]:
    """(1-based position among all cells, cell) of every code cell."""
    return [(index, cell) for index, cell in enumerate(nb.get("cells", []), start=1) if cell.get("cell_type") == "code"]


def first_line(source: str, width: int = 40) -> str:
    first = next((line.strip() for line in source.splitlines() if line.strip()), "")
    return first if len(first) <= width else first[: width - 3] + "..."


def where(index: int, source: str) -> str:
    first = first_line(source)
    return f"cell {index} (`{first}`)" if first else f"cell {index}"


def forbidden(nb: dict[str, Any]) -> str:
    """Why a cell may not be graded as it is (a tag or marker that skips it or excuses it), or ""."""
    for index, cell in code_cells(nb):
        tags = set(manifest.tags_of(cell)) & FORBIDDEN_TAGS
        if tags:
            return (
                f"{where(index, manifest.source_of(cell))} carries the tag `{sorted(tags)[0]}`, which would let "
                "it fail or be skipped unseen; remove the tag"
            )
        source = manifest.source_of(cell)
        marker = next((m for m in FORBIDDEN_MARKERS if m in source), None)
        if marker:
            return f"{where(index, source)} carries the marker {marker}; remove it"
    return ""


def verify(nb: dict[str, Any], exercise: manifest.Exercise, starter: dict[str, Any] | None) -> tuple[int | None, str]:
    """(the exercise version the check cells are from, why the notebook is not gradable as it is, or "").

    `starter` (the released exercise) only names the cells in a message; the fingerprints decide.
    """
    problem = forbidden(nb)
    tagged = [(index, cell) for index, cell in code_cells(nb) if manifest.CHECK_TAG in manifest.tags_of(cell)]
    prints = [manifest.fingerprint(manifest.source_of(cell)) for _, cell in tagged]
    version = exercise.version_of(prints)
    if version is not None:
        return version, problem or _given_changed(nb, exercise, version)
    return None, problem or _check_cells_problem(nb, exercise, tagged, starter)


def _check_cells_problem(
    nb: dict[str, Any],
    exercise: manifest.Exercise,
    tagged: list[tuple[int, dict[str, Any]]],
    starter: dict[str, Any] | None,
) -> str:
    wanted = list(exercise.versions[exercise.version].check_cells)
    sources = [manifest.source_of(cell) for cell in manifest.check_cells(starter or {})]
    every = [(index, manifest.fingerprint(manifest.source_of(cell)), cell) for index, cell in code_cells(nb)]
    for number, print_ in enumerate(wanted, start=1):
        label = f"check cell {number}"
        if number <= len(sources):
            label += f" (`{first_line(sources[number - 1])}`)"
        copies = [(index, cell) for index, found, cell in every if found == print_]
        if not copies:
            return f"{label} was deleted, emptied or changed; copy it back from the exercise"
        if len(copies) > 1:
            return f"{label} appears {len(copies)} times; keep one"
        if manifest.CHECK_TAG not in manifest.tags_of(copies[0][1]):
            return f"{label} lost its `check` tag; put it back (or copy the cell from the exercise)"
    extra = next(
        ((index, cell) for index, cell in tagged if manifest.fingerprint(manifest.source_of(cell)) not in wanted), None
    )
    if extra:
        return (
            f"{where(extra[0], manifest.source_of(extra[1]))} is tagged `check` but is not one of the "
            "exercise's check cells; remove the tag"
        )
    return "the check cells are not in the exercise's order; copy them back from the exercise"


def _given_changed(nb: dict[str, Any], exercise: manifest.Exercise, version: int) -> str:
    """For an exercise whose given app is graded as handed out (kind "tests"): a changed given cell."""
    if exercise.kind != "tests":
        return ""
    present = {manifest.fingerprint(manifest.source_of(cell)) for _, cell in code_cells(nb)}
    missing = [print_ for print_ in exercise.versions[version].given_cells if print_ not in present]
    if missing:
        return "a given cell of the exercise was changed or deleted; copy it back from the exercise"
    return ""


def imports_of(cells: Iterable[dict[str, Any]]) -> list[str]:
    """The top-level packages `cells` import, sorted (cells that do not parse are skipped)."""
    import ast

    found: set[str] = set()
    for cell in cells:
        try:
            tree = compile(
                manifest.source_of(cell),
                "<cell>",
                "exec",
                dont_inherit=True,
                flags=ast.PyCF_ONLY_AST | ast.PyCF_ALLOW_TOP_LEVEL_AWAIT,
            )
        except (SyntaxError, ValueError):
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                found.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                found.add(node.module.split(".")[0])
    return sorted(name for name in found if name.isidentifier())
