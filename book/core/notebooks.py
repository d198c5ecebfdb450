"""Read a notebook and run its code in-process, the way the hidden checks see it.

A kernel is the right tool for showing outputs (nbval, the site); the hidden checks need the
notebook's objects themselves (its `app`, its dependencies) in the test process, so here the code
cells run as one module, top-level ``await`` included. Cells tagged ``check`` (the visible checks)
are skipped: the hidden checks test the learner's code, not the learner's tests.
"""

from __future__ import annotations

import ast
import contextlib
import functools
import inspect
import io
import json
import linecache
import signal
import sys
import threading
import types
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anyio

if TYPE_CHECKING:
    from nbformat import NotebookNode

CHECK_TAG = "check"
SUPPORTED_NBFORMAT = 4
MAX_NOTEBOOK_BYTES = 20_000_000  # a course notebook is well under 1 MB, outputs included


class NotebookError(Exception):
    """A notebook that cannot be read or run; the message is one line, for the learner."""


class CellTimeout(BaseException):
    """Raised into a cell that ran past its time limit; a BaseException so `except Exception` in
    the learner's code cannot swallow it."""


@dataclass(frozen=True)
class Cell:
    index: int  # 1-based position among all cells, as a learner counts them
    source: str
    tags: frozenset[str]

    @property
    def where(self) -> str:
        first = first_line(self.source)
        return f"cell {self.index} (`{first}`)" if first else f"cell {self.index}"


def first_line(source: str, width: int = 40) -> str:
    """A cell's first non-blank line, shortened: how a learner recognises the cell."""
    first = next((line.strip() for line in source.splitlines() if line.strip()), "")
    return first if len(first) <= width else first[: width - 3] + "..."


def read(path: str | Path) -> NotebookNode:
    """Parse and validate a notebook file, or raise NotebookError saying why not."""
    path = Path(path)
    if not path.exists():
        raise NotebookError(f"{path}: no such file")
    if path.is_dir():
        raise NotebookError(f"{path}: is a folder, not a notebook")
    if path.suffix != ".ipynb":
        raise NotebookError(f"{path}: not a notebook (expected a .ipynb file)")
    if path.stat().st_size > MAX_NOTEBOOK_BYTES:
        size = path.stat().st_size // 1_000_000
        raise NotebookError(f"{path}: {size} MB is too large for a notebook; clear its outputs and save it again")
    import nbformat  # here: its validation imports jsonschema (0.1 s), which load() does without

    from book.core import nbfiles

    try:
        nb = nbfiles.read(path, as_version=nbformat.NO_CONVERT)
    except UnicodeDecodeError:
        raise NotebookError(f"{path}: not a notebook (not UTF-8 text)") from None
    except Exception as exc:  # nbformat raises several kinds for bad JSON
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise NotebookError(f"{path}: not a valid notebook ({reason})") from None
    major = nb.get("nbformat")
    if major != SUPPORTED_NBFORMAT:
        raise NotebookError(f"{path}: notebook format {major} is not supported (expected 4)")
    try:
        nbformat.validate(nb)
    except nbformat.ValidationError as exc:
        raise NotebookError(f"{path}: not a valid notebook ({exc.message})") from None
    return nb


def load(path: str | Path) -> dict[str, Any]:
    """The notebook as plain JSON, not validated: for the processes that run a notebook the
    grader has already checked with read(), without nbformat and jsonschema (0.1 s a process).

    Anything that is not plainly a version 4 notebook goes through read(), which says what is
    wrong with it.
    """
    path = Path(path)
    try:
        if path.suffix == ".ipynb" and path.stat().st_size <= MAX_NOTEBOOK_BYTES:
            nb = json.loads(path.read_bytes())
            if _plainly_v4(nb):
                plain: dict[str, Any] = nb
                return plain
    except (OSError, ValueError):
        pass
    return read(path)


def _plainly_v4(nb: object) -> bool:
    return (
        isinstance(nb, dict)
        and nb.get("nbformat") == SUPPORTED_NBFORMAT
        and isinstance(nb.get("cells"), list)
        and all(
            isinstance(cell, dict)
            and isinstance(cell.get("cell_type"), str)
            and isinstance(cell.get("metadata", {}), dict)
            and _is_text(cell.get("source"))
            for cell in nb["cells"]
        )
    )


def _is_text(source: object) -> bool:
    """A cell's source as a notebook stores it: a string, or a list of strings."""
    return isinstance(source, str) or (isinstance(source, list) and all(isinstance(line, str) for line in source))


def code_cells(nb: dict[str, Any], *, skip_tags: frozenset[str] = frozenset({CHECK_TAG})) -> list[Cell]:
    """The code cells of a notebook, from read() or load(), but those tagged with `skip_tags`."""
    cells: list[Cell] = []
    for index, cell in enumerate(nb["cells"], start=1):
        if cell["cell_type"] != "code":
            continue
        tags = frozenset(cell.get("metadata", {}).get("tags", []))
        if tags & skip_tags:
            continue
        source = cell["source"]
        cells.append(Cell(index, source if isinstance(source, str) else "".join(source), tags))
    return cells


def _cells_of(path: Path) -> list[Cell]:
    """The notebook's code cells, read once per version of the file: the hidden checks load the
    same submission once per check."""
    stat = path.stat() if path.is_file() else None
    return list(_cached_cells(path, stat.st_mtime_ns, stat.st_size)) if stat else code_cells(read(path))


@functools.lru_cache(maxsize=32)
def _cached_cells(path: Path, mtime_ns: int, size: int) -> tuple[Cell, ...]:
    return tuple(code_cells(load(path)))


@functools.lru_cache(maxsize=512)  # the same cells, compiled once per process
def _compile(cell: Cell, filename: str) -> types.CodeType:
    try:
        code: types.CodeType = compile(
            cell.source, filename, "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT, dont_inherit=True
        )
        return code
    except SyntaxError as exc:
        lines = cell.source.splitlines()
        line = lines[exc.lineno - 1].lstrip() if exc.lineno and exc.lineno <= len(lines) else ""
        if line.startswith(("%", "!")):
            raise NotebookError(
                f"{cell.where}, line {exc.lineno}: `{line.split()[0]}` is IPython syntax, "
                "which the grader does not run; use plain Python"
            ) from None
        raise NotebookError(f"{cell.where}: SyntaxError on line {exc.lineno}: {exc.msg}") from None


async def run(
    path: str | Path,
    *,
    module_name: str = "submission",
    cell_timeout: float | None = None,
    patch: tuple[str, str] | None = None,
) -> types.ModuleType:
    """Run the notebook's code cells, but its check cells, in order, as one module; return the module.

    See `run_cells`; `patch` = (old, new) runs the notebook with `old`, which must occur exactly
    once in its code, replaced by `new`: how a broken variant of a given app is made (mutation testing).
    """
    path = Path(path)
    cells = _cells_of(path)
    if patch is not None:
        cells = patched_cells(cells, *patch)
    return await run_cells(cells, name=path.name, module_name=module_name, cell_timeout=cell_timeout)


async def run_cells(
    cells: list[Cell], *, name: str, module_name: str = "submission", cell_timeout: float | None = None
) -> types.ModuleType:
    """Run code cells in order, as one module named `module_name`; return the module.

    The first cell that fails stops the run with a NotebookError naming the cell, because every
    later cell builds on it. What the cells print is discarded. With `cell_timeout`, a cell that
    runs longer (an endless loop, a wait that never ends) is stopped and reported.
    """
    module = types.ModuleType(module_name, f"The code of {name}")
    module.__file__ = name
    # IPython's display(), which a notebook may call: here there is nothing to display to.
    module.__dict__["display"] = no_display
    # Registered so that pydantic and dataclasses can resolve the notebook's own types.
    sys.modules[module_name] = module
    for cell in cells:
        await run_cell(cell, module, name=name, cell_timeout=cell_timeout)
    return module


async def run_cell(cell: Cell, module: types.ModuleType, *, name: str, cell_timeout: float | None = None) -> None:
    """Run one cell in `module`'s namespace, or raise NotebookError saying why it failed, in one line."""
    filename = f"<{name} {cell.where}>"
    code = _compile(cell, filename)
    # Kept in linecache, as IPython does, so that a traceback can quote the cell's line.
    linecache.cache[filename] = (len(cell.source), None, cell.source.splitlines(True), filename)
    try:
        with _discarding_output(), _time_limit(cell_timeout):
            if code.co_flags & inspect.CO_COROUTINE:
                with anyio.fail_after(cell_timeout):
                    await eval(code, module.__dict__)
            else:
                exec(code, module.__dict__)
    except (CellTimeout, TimeoutError):
        raise NotebookError(f"{cell.where} ran past the {cell_timeout:g} s limit (an endless loop?)") from None
    except (SystemExit, KeyboardInterrupt) as exc:
        raise NotebookError(f"{cell.where} called {type(exc).__name__}; remove it") from None
    except MemoryError:
        raise NotebookError(f"{cell.where} ran out of memory") from None
    except Exception as exc:
        raise NotebookError(f"{cell.where} raised {type(exc).__name__}: {_first_line(exc)}") from None


def no_display(*objects: object, **options: object) -> None:
    return None


def patched_cells(cells: list[Cell], old: str, new: str) -> list[Cell]:
    found = sum(cell.source.count(old) for cell in cells)
    if found != 1:
        shown = first_line(old, 60)
        raise NotebookError(
            f"the given code was changed: `{shown}` should occur once, not {found} times; restore the given cells"
        )
    return [Cell(cell.index, cell.source.replace(old, new), cell.tags) for cell in cells]


class _Discard(io.TextIOBase):
    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        return len(text)


@contextlib.contextmanager
def _discarding_output() -> Iterator[None]:
    sink = _Discard()
    with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
        yield


@contextlib.contextmanager
def _time_limit(seconds: float | None) -> Iterator[None]:
    """Interrupt a busy loop with SIGALRM; only the main thread can receive it.

    A little later than the cell's own limit, so that an async wait is ended by anyio first.
    """
    if not seconds or threading.current_thread() is not threading.main_thread() or not hasattr(signal, "setitimer"):
        yield
        return

    def interrupt(signum: int, frame: object) -> None:
        raise CellTimeout()

    previous = signal.signal(signal.SIGALRM, interrupt)
    signal.setitimer(signal.ITIMER_REAL, seconds + 0.5)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else "(no message)"
