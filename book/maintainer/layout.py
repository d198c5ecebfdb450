"""The package's layout: which part each module belongs to, what it may import, and the README's map of it.

    python -m book.maintainer.layout            # print the map (Markdown)
    python -m book.maintainer.layout --write    # put it into README.md, between its layout markers
    python -m book.maintainer.layout --check    # exit 1 if an import points up, a module is too long,
                                                # a docstring is missing, or README.md's map is stale

The parts, lowest first; a module imports only from its own part or a lower one. The package's two
entry points, ``book/__init__.py`` (what a notebook's ``import book`` gives, each instrument imported
on first use) and ``book/__main__.py`` (``python -m book``), stand above every part.
"""

from __future__ import annotations

import argparse
import ast
import sys
from dataclasses import dataclass
from pathlib import Path

from book import ROOT

PACKAGE = ROOT / "book"
README = ROOT / "README.md"
BEGIN = "<!-- layout: begin (python -m book.maintainer.layout --write) -->"
END = "<!-- layout: end -->"
MAX_LINES = 350
ENTRY_POINTS = ("book", "book.__main__")


@dataclass(frozen=True)
class Part:
    name: str
    folder: str  # relative to book/; "" for the package's top level
    audience: str


# Lowest first: the order is the rule.
PARTS = (
    Part("core", "core", "what every part shares"),
    Part("notebook", "", "what notebooks import by name, so these names stay"),
    Part("learner", "learner", "the learner's instruments"),
    Part("authoring", "authoring", "the author's tools"),
    Part("grader", "grader", "the grader"),
    Part("site", "site", "the rendered course"),
    Part("maintainer", "maintainer", "the maintainer's tools"),
)


@dataclass(frozen=True)
class Module:
    name: str  # dotted: book.core.manifest
    path: Path
    part: Part | None  # None: an entry point
    lines: int
    summary: str  # the docstring's first line; "" when there is none


@dataclass(frozen=True)
class Problem:
    path: Path
    line: int
    text: str

    def __str__(self) -> str:
        shown = self.path.relative_to(ROOT) if self.path.is_relative_to(ROOT) else self.path
        return f"{shown}:{self.line}: {self.text}"


def _dotted(path: Path, package: Path) -> str:
    parts = path.relative_to(package.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _part_of(name: str, package: Path) -> Part | None:
    if name in ENTRY_POINTS:
        return None
    inner = name.split(".")[1:]
    folder = inner[0] if len(inner) > 1 or (inner and (package / inner[0]).is_dir()) else ""
    for part in PARTS:
        if part.folder == folder:
            return part
    raise LookupError(f"{name}: book/{folder}/ is not one of the parts in book/maintainer/layout.py")


def modules(package: Path = PACKAGE) -> list[Module]:
    """Every module of the package, with its part, length and first docstring line."""
    found = []
    for path in sorted(package.rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        docstring = ast.get_docstring(ast.parse(text)) or ""
        name = _dotted(path, package)
        summary = docstring.split("\n", 1)[0].strip()
        found.append(Module(name, path, _part_of(name, package), len(text.splitlines()), summary))
    return found


def _imported(tree: ast.Module) -> list[tuple[int, str, str]]:
    """(line, module, name) for each import of the package; name is "" for a plain `import`."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name, "") for alias in node.names if alias.name.split(".")[0] == "book"]
        elif (
            isinstance(node, ast.ImportFrom) and node.level == 0 and node.module and node.module.split(".")[0] == "book"
        ):
            found += [(node.lineno, node.module, alias.name) for alias in node.names]
    return found


def _private_uses(tree: ast.Module, known: set[str]) -> list[tuple[int, str, str]]:
    """(line, module, name) for each `module._name` where `module` is a module of the package imported here."""
    aliases: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            aliases.update({alias.asname: alias.name for alias in node.names if alias.asname and alias.name in known})
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            for alias in node.names:
                if f"{node.module}.{alias.name}" in known:
                    aliases[alias.asname or alias.name] = f"{node.module}.{alias.name}"
    return [
        (node.lineno, aliases[node.value.id], node.attr)
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Name)
        and node.value.id in aliases
        and node.attr.startswith("_")
        and not node.attr.startswith("__")
    ]


def _target(module: str, name: str, known: set[str]) -> str:
    """The module an import reaches: `from book.core import manifest` reaches book.core.manifest."""
    return f"{module}.{name}" if f"{module}.{name}" in known else module


def problems(package: Path = PACKAGE) -> list[Problem]:
    """Imports that point up or take a private name, modules too long, or without a one-line job."""
    every = modules(package)
    by_name = {module.name: module for module in every}
    known = set(by_name)
    rank = {part.name: index for index, part in enumerate(PARTS)}
    found = []
    for module in every:
        if module.lines > MAX_LINES:
            found.append(Problem(module.path, 1, f"{module.lines} lines (at most {MAX_LINES})"))
        if not module.summary:
            found.append(Problem(module.path, 1, "no docstring whose first line says the module's one job"))
        elif not module.summary.endswith("."):
            found.append(
                Problem(
                    module.path,
                    1,
                    "the docstring's first line is not a sentence of its own "
                    f"(ends {module.summary[-12:]!r}, not with a full stop)",
                )
            )
        if module.part is None:
            continue
        tree = ast.parse(module.path.read_text(encoding="utf-8"))
        for line, other, name in _private_uses(tree, known):
            if other != module.name:
                found.append(Problem(module.path, line, f"uses the private name {name} of {other}"))
        for line, imported, name in _imported(tree):
            target = by_name.get(_target(imported, name, known))
            if target is None:
                continue
            if name.startswith("_") and target.name != module.name:
                found.append(Problem(module.path, line, f"imports the private name {name} of {target.name}"))
            if target.part is None:
                if name and name not in {"ROOT", "CHAPTERS", "EXERCISES", "SOLUTIONS", "CHECKS"}:
                    found.append(Problem(module.path, line, f"imports {name} from the entry point {target.name}"))
                continue
            if rank[target.part.name] > rank[module.part.name]:
                found.append(
                    Problem(
                        module.path,
                        line,
                        f"{module.part.name} imports {target.name}, of the {target.part.name} part above it",
                    )
                )
    return found


def markdown() -> str:
    """The README's map of the package: each part, lowest first, and each module's one job."""
    every = modules()
    lines = [
        BEGIN,
        "",
        "`book/`, by audience. The parts, lowest first; a module imports only from its own part or",
        "one listed before it (`tests/test_layout.py`, in `make test`, holds it).",
        "",
    ]
    entry = [module for module in every if module.part is None]
    lines += ["**entry points**, above every part: `book/`", ""]
    lines += [f"- `{module.path.name}`: {module.summary}" for module in entry]
    lines.append("")
    for part in PARTS:
        folder = f"book/{part.folder}/" if part.folder else "book/ (top level)"
        lines.append(f"**{part.name}**, {part.audience}: `{folder}`")
        lines.append("")
        for module in every:
            if module.part == part and module.path.name != "__init__.py":
                lines.append(f"- `{module.path.name}`: {module.summary}")
        lines.append("")
    lines.append(END)
    return "\n".join(lines)


def readme_with_map(readme: str) -> str:
    if BEGIN not in readme or END not in readme:
        raise LookupError(f"README.md has no layout markers ({BEGIN} ... {END})")
    head, rest = readme.split(BEGIN, 1)
    return head + markdown() + rest.split(END, 1)[1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m book.maintainer.layout", description=__doc__.splitlines()[0])
    action = parser.add_mutually_exclusive_group()
    action.add_argument("--write", action="store_true", help="write the map into README.md")
    action.add_argument("--check", action="store_true", help="exit 1 on a problem or a stale README.md map")
    args = parser.parse_args(argv)
    try:
        if args.write:
            README.write_text(readme_with_map(README.read_text(encoding="utf-8")), encoding="utf-8")
            return 0
        if not args.check:
            print(markdown())
            return 0
        found = [str(problem) for problem in problems()]
        readme = README.read_text(encoding="utf-8")
        if readme_with_map(readme) != readme:
            found.append("README.md: the layout map is stale: run python -m book.maintainer.layout --write")
    except LookupError as exc:
        print(f"layout: {exc}", file=sys.stderr)
        return 2
    for line in found:
        print(line, file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
