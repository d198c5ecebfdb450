"""The exercises manifest: what each exercise is, in one file every command reads.

``exercises/manifest.json`` is written by ``python -m book release`` from ``solutions/`` (each
solution's title, its notebook metadata ``exercise: {kind, version, chapter}``, its check and given
cells) and from the hidden checks (each check's name and points, read without importing them). It
keeps the fingerprints of every version of an exercise's check and given cells, so a submission
started on an older version is recognised, and graded, as that version.

Nothing else derives an exercise's name, number or points: release, grade, progress, watch and the
workspace look them up here.
"""

from __future__ import annotations

import ast
import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from book import CHECKS, EXERCISES, SOLUTIONS

MANIFEST = EXERCISES / "manifest.json"
CHECK_TAG = "check"
GRADE_TAG = "grade"  # the exercise's last cell, `await book.grade()`: added by release, no part of a version
VISIBLE_CHECK = "runs top to bottom in a fresh kernel, check cells included"
VISIBLE_POINTS = 1
KINDS = ("build", "fix", "tests", "capstone")
# An exercise's number is its chapter's two digits, and "-fix" for the chapter's fix-the-bug one.
NUMBER = re.compile(r"^(?P<number>\d{2}(?:-fix)?)(?=[-_.]|$)")
REGION = re.compile(r"^\s*### BEGIN SOLUTION", re.MULTILINE)


class ManifestError(Exception):
    """The manifest is missing, out of date, or names no such exercise; one line."""


@dataclass(frozen=True)
class Check:
    name: str
    points: int

    @property
    def title(self) -> str:
        return self.name.removeprefix("test_").replace("_", " ")


@dataclass(frozen=True)
class Version:
    check_cells: tuple[str, ...]  # fingerprints, in notebook order
    given_cells: tuple[str, ...]


@dataclass(frozen=True)
class Exercise:
    number: str  # "01"
    slug: str  # "01-typed-aliases"
    title: str  # "Typed dependency aliases"
    chapter: str  # the chapter it practises: "01-typed-aliases"
    kind: str  # one of KINDS
    version: int
    checks: tuple[Check, ...]
    versions: dict[int, Version] = field(hash=False, compare=False)
    minutes: int = 0
    practises: str = ""
    starter_sha256: str = ""  # of the released exercise file: a learner's copy equal to it is untouched

    @property
    def points(self) -> int:
        return VISIBLE_POINTS + sum(check.points for check in self.checks)

    @property
    def notebook_name(self) -> str:
        return f"{self.slug}.ipynb"

    @property
    def starter(self) -> Path:
        return EXERCISES / self.notebook_name

    @property
    def check_module(self) -> Path:
        return CHECKS / check_module_name(self.slug)

    def version_of(self, check_fingerprints: list[str]) -> int | None:
        """The version whose check cells these are, newest first; None when none matches."""
        for number in sorted(self.versions, reverse=True):
            if list(self.versions[number].check_cells) == check_fingerprints:
                return number
        return None


def check_module_name(slug: str) -> str:
    return f"test_{slug.replace('-', '_')}.py"


def fingerprint(source: str) -> str:
    """A cell's identity: its code with trailing blanks and surrounding blank lines ignored."""
    text = "\n".join(line.rstrip() for line in source.strip().splitlines())
    return hashlib.sha256(text.encode()).hexdigest()


def source_of(cell: dict[str, Any]) -> str:
    source = cell.get("source", "")
    return source if isinstance(source, str) else "".join(source)


def tags_of(cell: dict[str, Any]) -> list[str]:
    tags = (cell.get("metadata") or {}).get("tags") or []
    return [tag for tag in tags if isinstance(tag, str)] if isinstance(tags, list) else []


def check_cells(nb: dict[str, Any]) -> list[dict[str, Any]]:
    return [cell for cell in nb.get("cells", []) if cell.get("cell_type") == "code" and CHECK_TAG in tags_of(cell)]


def given_cells(nb: dict[str, Any]) -> list[dict[str, Any]]:
    """Code cells that are neither checks nor solution regions: the code an exercise hands out."""
    return [
        cell
        for cell in nb.get("cells", [])
        if cell.get("cell_type") == "code"
        and not {CHECK_TAG, GRADE_TAG} & set(tags_of(cell))
        and not REGION.search(source_of(cell))
    ]


class DeclaredCheck(NamedTuple):
    name: str
    points: int
    hint: str
    see: str = ""  # a chapter section, 04-role-checks.ipynb#anchor


def declared_checks(module: Path) -> list[DeclaredCheck]:
    """Name, points, hint and section of every ``@check(...)`` in a check module, read without importing it.

    Points and hints must be literals: the grader counts a check it never reached, and refuses a
    reported check that the module does not declare.
    """
    found = []
    tree = ast.parse(module.read_text(encoding="utf-8"))
    for node in tree.body:
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        for decorator in node.decorator_list:
            if isinstance(decorator, ast.Call) and getattr(decorator.func, "id", "") == "check":
                try:
                    options = {kw.arg: ast.literal_eval(kw.value) for kw in decorator.keywords}
                except ValueError:
                    raise ManifestError(f"{module.name}: {node.name}: points and hint must be literal values") from None
                found.append(
                    DeclaredCheck(
                        node.name,
                        int(options.get("points", 1)),
                        " ".join(str(options.get("hint", "")).split()),
                        str(options.get("see", "")),
                    )
                )
    return found


def _title(nb: dict[str, Any], slug: str) -> str:
    for cell in nb.get("cells", []):
        if cell.get("cell_type") == "markdown":
            for line in source_of(cell).splitlines():
                if line.startswith("# "):
                    return re.sub(r"^Exercise \d+(?:-fix)?:\s*", "", line[2:].strip())
    return slug[3:].replace("-", " ").capitalize()


def describe(
    solution: Path,
    checks_dir: Path = CHECKS,
    previous: Exercise | None = None,
    starter_text: str = "",
    draft: bool = False,
) -> Exercise:
    """The manifest entry of one solution notebook (with the versions `previous` knew). A draft's
    current version is still being written (`draft`, or ``"draft": true`` in its metadata while an
    author works on it; never committed): its fingerprints are replaced rather than refused."""
    nb = json.loads(solution.read_text(encoding="utf-8"))
    slug = solution.stem
    number = number_of(slug)
    meta = (nb.get("metadata") or {}).get("exercise") or {}
    kind = meta.get("kind", "build")
    if kind not in KINDS:
        raise ManifestError(f"{solution.name}: exercise kind {kind!r} is not one of {', '.join(KINDS)}")
    version = int(meta.get("version", 1))
    module = checks_dir / check_module_name(slug)
    if not module.is_file():
        raise ManifestError(f"{solution.name}: no hidden checks at {module}")
    checks = tuple(Check(declared.name, declared.points) for declared in declared_checks(module))
    current = Version(
        tuple(fingerprint(source_of(cell)) for cell in check_cells(nb)),
        tuple(fingerprint(source_of(cell)) for cell in given_cells(nb)),
    )
    versions = dict(previous.versions) if previous else {}
    if draft or meta.get("draft"):
        versions.pop(version, None)
    if version in versions and versions[version] != current:
        raise ManifestError(
            f"{solution.name}: its check or given cells changed but its version is still {version}: "
            f"raise metadata.exercise.version so that work started on version {version} "
            "is still recognised"
        )
    if previous and version < previous.version:
        raise ManifestError(f"{solution.name}: version {version} is older than the released {previous.version}")
    versions[version] = current
    return Exercise(
        number,
        slug,
        _title(nb, slug),
        meta.get("chapter", slug),
        kind,
        version,
        checks,
        versions,
        int(meta.get("minutes", 0)),
        str(meta.get("practises", "")),
        hashlib.sha256(starter_text.encode()).hexdigest() if starter_text else "",
    )


def build(
    solutions: Path = SOLUTIONS,
    checks_dir: Path = CHECKS,
    previous: dict[str, Exercise] | None = None,
    starters: dict[str, str] | None = None,
    drafts: frozenset[str] = frozenset(),
) -> dict[str, Exercise]:
    """Every exercise, by number, from the solutions (and the versions the previous manifest knew);
    `starters` holds each released exercise's text, by slug; `drafts` the numbers still being written."""
    previous, starters = previous or {}, starters or {}
    exercises = {}
    for path in sorted(solutions.glob("*.ipynb")):
        if not NUMBER.match(path.name):
            raise ManifestError(f"{path.name}: a solution's name starts with its two-digit number")
        number = number_of(path.stem)
        entry = describe(path, checks_dir, previous.get(number), starters.get(path.stem, ""), number in drafts)
        if entry.number in exercises:
            raise ManifestError(f"two solutions have the number {entry.number}")
        exercises[entry.number] = entry
    return exercises


def to_json(exercises: dict[str, Exercise]) -> str:
    data = {
        "exercises": [
            {
                "number": e.number,
                "slug": e.slug,
                "title": e.title,
                "chapter": e.chapter,
                "kind": e.kind,
                "version": e.version,
                "minutes": e.minutes,
                "practises": e.practises,
                "points": e.points,
                "starter_sha256": e.starter_sha256,
                "visible_points": VISIBLE_POINTS,
                "checks": [{"name": c.name, "points": c.points} for c in e.checks],
                "versions": {
                    str(n): {"check_cells": list(v.check_cells), "given_cells": list(v.given_cells)}
                    for n, v in sorted(e.versions.items())
                },
            }
            for e in exercises.values()
        ]
    }
    return json.dumps(data, indent=1) + "\n"


def from_json(text: str) -> dict[str, Exercise]:
    exercises = {}
    for e in json.loads(text)["exercises"]:
        versions = {int(n): Version(tuple(v["check_cells"]), tuple(v["given_cells"])) for n, v in e["versions"].items()}
        exercises[e["number"]] = Exercise(
            e["number"],
            e["slug"],
            e["title"],
            e["chapter"],
            e["kind"],
            e["version"],
            tuple(Check(c["name"], c["points"]) for c in e["checks"]),
            versions,
            e.get("minutes", 0),
            e.get("practises", ""),
            e.get("starter_sha256", ""),
        )
    return exercises


_LOADED: dict[tuple[Path, int], dict[str, Exercise]] = {}


def load(path: Path = MANIFEST) -> dict[str, Exercise]:
    """The released manifest, by exercise number."""
    try:
        stamp = path.stat().st_mtime_ns
    except FileNotFoundError:
        raise ManifestError(f"{path} is missing: run `python -m book release`") from None
    key = (path, stamp)
    if key not in _LOADED:
        try:
            _LOADED[key] = from_json(path.read_text(encoding="utf-8"))
        except (ValueError, KeyError, TypeError) as exc:
            raise ManifestError(f"{path} is damaged ({type(exc).__name__}): run `python -m book release`") from None
    return _LOADED[key]


def number_of(name: str) -> str:
    """The exercise number a slug or file name starts with: "04" or "04-fix" ("" if none)."""
    match = NUMBER.match(name)
    return match["number"] if match else ""


def ordered(exercises: dict[str, Exercise] | None = None) -> list[Exercise]:
    """Every exercise in course order: by chapter, each chapter's fix-the-bug one after its build one."""
    exercises = load() if exercises is None else exercises
    return sorted(exercises.values(), key=lambda exercise: exercise.number)


def find(number_or_slug: str, exercises: dict[str, Exercise] | None = None) -> Exercise:
    """The exercise named by "1", "01", "4-fix", "04-fix", a slug, or a file name starting with its number."""
    exercises = load() if exercises is None else exercises
    match = re.match(r"^(\d{1,2})(-fix)?(?=[-_.]|$)", number_or_slug.strip())
    if not match:
        raise ManifestError(f"{number_or_slug[:60]!r} is not an exercise number (try 01, or 04-fix)")
    number = f"{int(match[1]):02d}{match[2] or ''}"
    if number not in exercises:
        raise ManifestError(f"there is no exercise {number} (exercises: {', '.join(sorted(exercises)) or 'none'})")
    return exercises[number]


def of_path(path: Path, exercises: dict[str, Exercise] | None = None) -> Exercise:
    """The exercise a submission's file name names (01-anything.ipynb is exercise 01, 04-fix-... 04-fix)."""
    if not NUMBER.match(path.name):
        raise ManifestError(
            f"{path.name[:80]}: cannot tell which exercise this is; name it like "
            "01-typed-aliases.ipynb or pass --exercise 01"
        )
    return find(number_of(path.name), exercises)
