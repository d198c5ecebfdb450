"""Write exercises/ from solutions/: the starter a learner edits.

In a solution notebook, an author marks each part the learner writes:

    ### BEGIN SOLUTION: define the three aliases
    SettingsDep = Annotated[Settings, Depends(get_settings)]
    ### END SOLUTION

In the exercise, the region becomes a stub at the same indentation:

    # TODO: define the three aliases
    raise NotImplementedError("define the three aliases")

The text after ``BEGIN SOLUTION:`` is the instruction (optional).

A fix-the-bug exercise ships code that looks right and is not. Its region holds the fix, then,
after ``### BUGGY``, the code as the exercise ships it, commented out (as Jupyter's toggle-comment
writes it) so that the solution runs the fix:

    ### BEGIN SOLUTION
    async with SessionLocal() as session:
    ### BUGGY
    # async with SHARED as session:
    ### END SOLUTION

In the exercise the region becomes the buggy code, uncommented, with no marker and no TODO: finding
the place is the learner's job. Outputs and execution counts
are cleared, cell metadata keeps only tags, and the notebook is marked not to be executed by the
site build (a starter raises by design).

Release also writes ``exercises/manifest.json`` (book.core.manifest), the one description of the
exercises that the grader, the workspace and progress read.
"""

from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from book import CHECKS, EXERCISES, ROOT, SOLUTIONS
from book.core import manifest, nbfiles
from book.core.nbfiles import NotebookNode

BEGIN = re.compile(r"^(?P<indent>\s*)### BEGIN SOLUTION(?::\s*(?P<instruction>.*?))?\s*$")
END = re.compile(r"^\s*### END SOLUTION\s*$")
BUGGY = re.compile(r"^\s*### BUGGY\s*$")
COMMENTED = re.compile(r"^(?P<indent>\s*)# ?(?P<code>.*)$")
DEFAULT_INSTRUCTION = "write your code here"
NOTEBOOK_METADATA_KEPT = ("kernelspec", "language_info")


class MarkerError(Exception):
    """A solution notebook whose markers do not pair up."""


CODE_WIDTH = 88  # what the site's code column shows


def _stub(indent: str, instruction: str) -> list[str]:
    """`# TODO: instruction` and the raise that stops the notebook there, within the code width."""
    one_line = f"{indent}raise NotImplementedError({instruction!r})"
    todo = textwrap.wrap(instruction, CODE_WIDTH - len(indent) - 8, break_on_hyphens=False) or [instruction]
    lines = [f"{indent}# TODO: {todo[0]}", *(f"{indent}#       {rest}" for rest in todo[1:])]
    if len(one_line) <= CODE_WIDTH:
        return [*lines, one_line]
    pieces = textwrap.wrap(instruction, CODE_WIDTH - len(indent) - 8, break_on_hyphens=False)
    quoted = [repr(piece + (" " if number < len(pieces) - 1 else "")) for number, piece in enumerate(pieces)]
    return [*lines, f"{indent}raise NotImplementedError(", *(f"{indent}    {piece}" for piece in quoted), f"{indent})"]


def stub_source(source: str, *, where: str = "cell") -> str:
    """Replace every solution region in one cell's source by a stub."""
    out: list[str] = []
    region: re.Match[str] | None = None
    buggy: list[str] | None = None  # the shipped code of a fix-the-bug region, once ### BUGGY is seen
    for number, line in enumerate(source.splitlines(), start=1):
        begin, end = BEGIN.match(line), END.match(line)
        if begin:
            if region:
                raise MarkerError(f"{where}, line {number}: BEGIN SOLUTION inside another region")
            region = begin
        elif end:
            if not region:
                raise MarkerError(f"{where}, line {number}: END SOLUTION without BEGIN SOLUTION")
            if buggy is not None:
                out.extend(buggy)
            else:
                indent = region["indent"]
                instruction = region["instruction"] or DEFAULT_INSTRUCTION
                out.extend(_stub(indent, instruction))
            region, buggy = None, None
        elif BUGGY.match(line):
            if not region or buggy is not None:
                raise MarkerError(f"{where}, line {number}: ### BUGGY outside a solution region, or twice in one")
            buggy = []
        elif buggy is not None:
            commented = COMMENTED.match(line)
            if line.strip() and not (commented and line.lstrip().startswith("#")):
                raise MarkerError(f"{where}, line {number}: after ### BUGGY every line is commented out")
            buggy.append(f"{commented['indent']}{commented['code']}".rstrip() if line.strip() and commented else "")
        elif not region:
            out.append(line)
    if region:
        raise MarkerError(f"{where}: BEGIN SOLUTION is never ended")
    return "\n".join(out)


def has_regions(source: str) -> bool:
    return any(BEGIN.match(line) for line in source.splitlines())


def solution_lines(source: str, *, shortest: int = 20) -> list[str]:
    """The code inside a cell's solution regions, stripped, without comments or blank lines.

    What must never appear in an exercise notebook or on an exercise page. Lines shorter than
    `shortest` (`raise`, `except Exception:`) give nothing away and may well be in given code.
    """
    lines, inside = [], False
    for line in source.splitlines():
        if BEGIN.match(line):
            inside = True
        elif END.match(line):
            inside = False
        elif inside and len(line.strip()) >= shortest and not line.strip().startswith("#"):
            lines.append(line.strip())
    return lines


def secret_lines(solution: NotebookNode) -> set[str]:
    """The solution lines an exercise must not show: region code that the given code lacks (not even
    as part of a longer line: the tests look for these as text in the exercise and its page)."""
    region: set[str] = set()
    given: set[str] = set()
    for cell in solution.cells:
        if cell.cell_type != "code":
            continue
        region.update(solution_lines(cell.source))
        given.update(line.strip() for line in stub_source(cell.source).splitlines())
    given_text = "\n".join(given)
    return {line for line in region - given if line not in given_text}


def about(meta: dict[str, Any]) -> str:
    """The line under an exercise's title, from its notebook metadata: what it practises, how long it
    takes, and the chapter sections it needs (linked). "" when the metadata says none of it."""
    parts = []
    if meta.get("kind") == "fix":
        parts.append("**Fix the bug**")
    if meta.get("practises"):
        parts.append(f"**Practises:** {meta['practises']}")
    if meta.get("minutes"):
        parts.append(f"**About {int(meta['minutes'])} minutes**")
    sections = meta.get("sections") or []
    if sections:
        links = ", ".join(f"[{title}](../chapters/{target})" for title, target in sections)
        parts.append(f"**Read first:** {links}")
    return " · ".join(parts)


def starter(solution: NotebookNode, *, name: str = "notebook") -> NotebookNode:
    """The exercise notebook made from a solution notebook (with the line `about` writes under its title)."""
    nb = nbfiles.from_dict(solution)
    header = about(dict(nb.metadata.get("exercise") or {}))
    regions = 0
    for index, cell in enumerate(nb.cells, start=1):
        tags = cell.get("metadata", {}).get("tags", [])
        cell.metadata = nbfiles.from_dict({"tags": tags} if tags else {})
        if cell.cell_type == "code":
            if has_regions(cell.source):
                regions += 1
                cell.source = stub_source(cell.source, where=f"{name}, cell {index}")
            cell.outputs = []
            cell.execution_count = None
        elif "attachments" in cell:
            del cell["attachments"]
    if not regions:
        raise MarkerError(f"{name}: no ### BEGIN SOLUTION region, so the exercise would be the solution")
    if header:
        title = next((index for index, cell in enumerate(nb.cells) if cell.cell_type == "markdown"), -1)
        cell = nbfiles.new_markdown_cell(header)
        cell["id"] = "about-this-exercise"  # fixed, so that release writes the same file every time
        nb.cells.insert(title + 1, cell)
    nb.cells.append(grade_cell(manifest.number_of(name) or "NN"))
    metadata = {key: nb.metadata[key] for key in NOTEBOOK_METADATA_KEPT if key in nb.metadata}
    metadata["mystnb"] = {"execution_mode": "off"}
    nb.metadata = nbfiles.from_dict(metadata)
    return nb


def grade_source(number: str) -> str:
    """The source of exercise `number`'s last cell: grading from the notebook, and the terminal's ways."""
    return (
        f"# Save the notebook (Ctrl-S), then run this cell: the hidden checks' report, as\n"
        f"# `make grade EX={number}` gives it, hints folded. In a terminal, `make watch EX={number}`\n"
        f"# grades again at every save.\n"
        "import book\n\n"
        "await book.grade()"
    )


def grade_cell(number: str) -> NotebookNode:
    """The exercise's last cell: grading from the notebook (no part of the exercise's version)."""
    cell = nbfiles.new_code_cell(grade_source(number), metadata={"tags": [manifest.GRADE_TAG]})
    cell["id"] = "grade-this-notebook"
    return cell


TOC = ROOT / "_toc.yml"
TOC_HEADER = (
    "# The Exercises and Solutions parts are written by `python -m book release` from the manifest:\n"
    "# each chapter's exercise, with its fix-the-bug exercise beneath it. Edit the other parts here.\n"
)


def toc_text(toc_source: str, exercises: dict[str, manifest.Exercise]) -> str:
    """_toc.yml with its Exercises and Solutions parts listing every exercise of the manifest."""
    toc = yaml.safe_load(toc_source)
    groups: dict[str, list[manifest.Exercise]] = {}
    for exercise in manifest.ordered(exercises):
        groups.setdefault(exercise.number[:2], []).append(exercise)

    def entries(folder: str, label: str) -> list[dict[str, Any]]:
        listed = []
        for group in groups.values():
            main, *fixes = sorted(group, key=lambda e: e.kind == "fix")
            entry: dict[str, Any] = {"file": f"{folder}/{main.slug}"}
            if main.kind == "fix":
                entry["title"] = f"{label}Fix the bug: {main.title}"
            if fixes:
                entry["sections"] = [
                    {"file": f"{folder}/{fix.slug}", "title": f"{label}Fix the bug: {fix.title}"} for fix in fixes
                ]
            listed.append(entry)
        return listed

    for part in toc.get("parts", []):
        if part.get("caption") == "Exercises":
            part["chapters"] = entries("exercises", "")
        elif part.get("caption") == "Solutions":
            kept = [entry for entry in part.get("chapters", []) if not entry.get("file", "").startswith("solutions/")]
            part["chapters"] = kept + entries("solutions", "Solution: ")
    return TOC_HEADER + yaml.safe_dump(toc, sort_keys=False, allow_unicode=True)


@dataclass
class Change:
    path: Path
    action: str  # "write" or "remove"


def plan(
    solutions: Path = SOLUTIONS,
    exercises: Path = EXERCISES,
    checks_dir: Path = CHECKS,
    drafts: frozenset[str] = frozenset(),
    toc: Path | None = None,
) -> list[Change]:
    """What release would change, without changing anything (`toc`: the _toc.yml to keep listing them)."""
    changes = []
    wanted = set()
    texts = {}
    for source in sorted(solutions.glob("*.ipynb")):
        target = exercises / source.name
        wanted.add(target.name)
        texts[source.stem] = text = render(source)
        if not target.exists() or target.read_text(encoding="utf-8") != text:
            changes.append(Change(target, "write"))
    for stale in sorted(exercises.glob("*.ipynb")):
        if stale.name not in wanted:
            changes.append(Change(stale, "remove"))
    target = exercises / manifest.MANIFEST.name
    text = manifest_text(solutions, exercises, checks_dir, texts, drafts)
    if not target.exists() or target.read_text(encoding="utf-8") != text:
        changes.append(Change(target, "write"))
    if toc is not None and toc.read_text(encoding="utf-8") != toc_text(
        toc.read_text(encoding="utf-8"), manifest.from_json(text)
    ):
        changes.append(Change(toc, "write"))
    return changes


def manifest_text(
    solutions: Path, exercises: Path, checks_dir: Path, starters: dict[str, str], drafts: frozenset[str] = frozenset()
) -> str:
    """The manifest for these solutions; raises manifest.ManifestError for one that cannot be released."""
    path = exercises / manifest.MANIFEST.name
    previous = manifest.from_json(path.read_text(encoding="utf-8")) if path.exists() else {}
    return manifest.to_json(manifest.build(solutions, checks_dir, previous, starters, drafts))


def render(source: Path) -> str:
    solution = nbfiles.read(source, as_version=4)
    return nbfiles.writes(starter(solution, name=source.name)) + "\n"


def release(
    solutions: Path = SOLUTIONS,
    exercises: Path = EXERCISES,
    checks_dir: Path = CHECKS,
    drafts: frozenset[str] = frozenset(),
    toc: Path | None = None,
) -> list[Change]:
    """Write exercises/ (and `toc`'s exercise parts); `drafts` are exercise numbers whose current
    version is still being written."""
    exercises.mkdir(exist_ok=True)
    changes = plan(solutions, exercises, checks_dir, drafts, toc)
    texts = {source.stem: render(source) for source in sorted(solutions.glob("*.ipynb"))}
    text = manifest_text(solutions, exercises, checks_dir, texts, drafts)
    for change in changes:
        if change.path.name == manifest.MANIFEST.name:
            change.path.write_text(text, encoding="utf-8")
        elif change.path == toc and toc is not None:
            toc.write_text(toc_text(toc.read_text(encoding="utf-8"), manifest.from_json(text)), encoding="utf-8")
        elif change.action == "write":
            change.path.write_text(texts[change.path.stem], encoding="utf-8")
        else:
            change.path.unlink()
    return changes
