"""A Sphinx extension: the editions of the site, and solution pages that read as solutions.

book/site/build.py sets ``course_edition`` ("full" or "class"), and this turns it into a Sphinx tag,
``full_edition`` or ``class_edition``, for the ``only`` directive. The class edition leaves the
Solutions part out, so a page that points learners to the solutions says so only in the full one:

    ```{only} full_edition
    Solutions are in a separate part at the end: try first.
    ```

A solution notebook is the source its exercise is made from (book/authoring/release.py), so it starts with
the exercise's title and carries the ``### BEGIN/END SOLUTION`` markers. On the site, a page under
``solutions/`` is titled "Solution NN: ..." (tab, sidebar, previous/next, search), opens with a
box saying it is the reference solution of its exercise, shows its code without the markers, and
search ranks it after every other page. Only the page changes: the notebook, its execution cache
and its download are left as they are.
"""

from __future__ import annotations

import re
import subprocess
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from docutils import nodes
from sphinx.util.docutils import SphinxDirective

if TYPE_CHECKING:
    from sphinx.application import Sphinx
    from sphinx.config import Config

EDITIONS = ("full", "class")
SOLUTIONS = "solutions/"
MARKER = re.compile(
    r"^(?P<indent>\s*)### (?:(?P<begin>BEGIN SOLUTION)(?::\s*(?P<instruction>.*?))?|END SOLUTION|"
    r"(?P<buggy>BUGGY))\s*$"
)
# Search: a solution page scores far below any other page that matches (Sphinx's default scorer
# otherwise, which a html_search_scorer file replaces as a whole).
SCORER = """var Scorer = {
  score: (result) => {
    const [docname, title, anchor, descr, score, filename] = result;
    return docname.startsWith("solutions/") ? score - 1000 : score;
  },
  objNameMatch: 11,
  objPartialMatch: 6,
  objPrio: {0: 15, 1: 5, 2: -5},
  objPrioDefault: 0,
  title: 15,
  partialTitle: 7,
  term: 5,
  partialTerm: 2,
};
"""


def _add_tag(app: Sphinx, config: Config) -> None:
    if config.course_edition not in EDITIONS:
        raise ValueError(f"course_edition must be one of {', '.join(EDITIONS)}, not {config.course_edition!r}")
    app.tags.add(f"{config.course_edition}_edition")


def solution_title(title: str) -> str:
    """ "Exercise 03: Tokens" -> "Solution 03: Tokens" (a title that is not an exercise's is kept)."""
    return re.sub(r"^Exercise\b", "Solution", title.strip(), count=1)


def without_markers(code: str) -> str:
    """A solution cell as a reader sees it: no BEGIN/END markers; an instruction stays as a comment,
    and a fix's shipped code, below ``### BUGGY``, is introduced as such."""
    out = []
    for line in code.splitlines():
        marker = MARKER.match(line)
        if not marker:
            out.append(line)
        elif marker["instruction"]:
            out.append(f"{marker['indent']}# Your part: {marker['instruction']}")
        elif marker["buggy"]:
            out.append(f"{marker['indent']}# The code as the exercise ships it, with the bug:")
    return "\n".join(out)


def _exercise_number(docname: str) -> str:
    """solutions/02-fix-leaking-order -> 02-fix; solutions/03-current-user -> 03."""
    name = docname.removeprefix(SOLUTIONS)
    return name[:6] if name[2:6] == "-fix" else name[:2]


def _solution_box(docname: str) -> nodes.Element:
    number, name = _exercise_number(docname), docname.removeprefix(SOLUTIONS)
    box = nodes.admonition("", classes=["solution-page", "important"])
    box += nodes.title("", "Solution")
    text = nodes.paragraph("", "This page is the reference solution of ")
    text += nodes.reference("", f"Exercise {number}", refuri=f"../exercises/{name}.html", internal=True)
    text += nodes.Text(
        f". Try the exercise first and grade it (make grade EX={number}); come here to "
        "compare once it passes, or when you are stuck for good."
    )
    box += text
    return box


def _solution_page(app: Sphinx, doctree: nodes.document) -> None:
    docname = app.env.docname
    if not docname.startswith(SOLUTIONS):
        return
    section = next(iter(doctree.findall(nodes.section)), None)
    if section is not None and section.children and isinstance(section[0], nodes.title):
        title = section[0]
        new = solution_title(title.astext())
        if new != title.astext():
            title.children = [nodes.Text(new)]
        section.insert(1, _solution_box(docname))
    for block in doctree.findall(nodes.literal_block):
        text = block.astext()
        if "### " not in text:
            continue
        cleaned = without_markers(text)
        if cleaned != text:
            block.children = [nodes.Text(cleaned)]
            block.rawsource = cleaned


def _search_scorer(app: Sphinx, config: Config) -> None:
    """Solutions ranked after exercises and chapters in search (Sphinx's html_search_scorer)."""
    if config.html_search_scorer:
        return
    path = Path(app.doctreedir) / "course-search-scorer.js"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(SCORER, encoding="utf-8")
    config.html_search_scorer = str(path)


class GetTheCourse(SphinxDirective):
    """``{course-get-code}``: how to get the course folder. With ``repository.url`` set (book/site/build.py
    passes it as ``course_repository``), the clone command and a link to the repository; without
    it, where the folder comes from instead of a placeholder."""

    def run(self) -> list[nodes.Node]:
        url = (self.config.course_repository or "").strip()
        if url:
            intro = nodes.paragraph("", "The course is in ")
            intro += nodes.reference("", url, refuri=url)
            intro += nodes.Text(": clone it, or download it as a zip from there.")
            command = f"git clone {url} fastapi-di-course\ncd fastapi-di-course"
        else:
            intro = nodes.paragraph(
                "",
                "Get the course folder from whoever gave you this site: a copy of its "
                "repository (git clone with the address they give you) or a zip of it. "
                "Unpack or clone it, then work in that folder:",
            )
            command = "cd fastapi-di-course   # the course folder, wherever you put it"
        block = nodes.literal_block(command, command, language="sh")
        return [intro, block]


@cache
def last_changed(path: str) -> str | None:
    """The date (YYYY-MM-DD) of the last commit that changed `path`; None outside git or before the
    file's first commit (a page then shows no date rather than the build's)."""
    try:
        done = subprocess.run(
            ["git", "log", "-1", "--format=%cs", "--", Path(path).name],
            cwd=Path(path).parent,
            capture_output=True,
            text=True,
            timeout=10,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() or None if done.returncode == 0 else None


def _page_context(
    app: Sphinx, pagename: str, templatename: str, context: dict[str, Any], doctree: nodes.document | None
) -> None:
    """Every page: its real last-changed date (or none), and each script once (sphinx-thebe adds
    its configuration script once per read, and a second copy redeclares THEBE_JS_URL)."""
    if "last_updated" in context:
        source = app.env.doc2path(pagename) if pagename in app.env.all_docs else None
        context["last_updated"] = last_changed(str(source)) if source else None
    seen: set[tuple[str, tuple[tuple[str, Any], ...]]] = set()
    kept: list[Any] = []
    for script in context.get("script_files", []):
        # an inline script is added once with filename None and once with "" (the same script)
        key = (getattr(script, "filename", None) or "", tuple(sorted(getattr(script, "attributes", {}).items())))
        if key not in seen:
            seen.add(key)
            kept.append(script)
    if "script_files" in context:
        context["script_files"][:] = kept  # the builder's own list, which it restores for the next page


NEEDS = (
    "*From the course FastAPI dependency injection, hands-on.* This notebook uses the course's "
    "`book` package (`import book`). In the course folder it is there already; anywhere else, install "
    "it first into the environment the notebook runs in: `pip install path/to/the/course/folder` "
    "(the Setup page of the course says how to get the folder)."
)
NEEDS_CELL_ID = "needs-the-book-package"


def _say_what_downloads_need(app: Sphinx, exception: BaseException | None) -> None:
    """A page's download (_sources/<page>.ipynb) opens with what it needs to run outside the course
    folder, when it imports the course's `book` package."""
    if exception is not None or app.builder.format != "html":
        return
    from book.core import nbfiles

    for path in sorted((Path(app.outdir) / "_sources").glob("*/*.ipynb")):
        notebook = nbfiles.read(path, as_version=4)
        code = "\n".join(cell.source for cell in notebook.cells if cell.cell_type == "code")
        if not re.search(r"^\s*(import book\b|from book\b)", code, re.M):
            continue
        if any(cell.get("id") == NEEDS_CELL_ID for cell in notebook.cells):
            continue
        cell = nbfiles.new_markdown_cell(NEEDS)
        cell["id"] = NEEDS_CELL_ID
        first = notebook.cells[0] if notebook.cells else None
        titled = first is not None and first.cell_type == "markdown" and first.source.lstrip().startswith("# ")
        notebook.cells.insert(1 if titled else 0, cell)
        nbfiles.write(notebook, path)


def setup(app: Sphinx) -> dict[str, Any]:
    """Sphinx's entry point: the two config values, the directive and the event handlers."""
    app.add_config_value("course_edition", "full", "env", types=[str])
    app.add_config_value("course_repository", "", "env", types=[str])
    app.add_directive("course-get-code", GetTheCourse)
    app.connect("config-inited", _add_tag)
    app.connect("config-inited", _search_scorer)
    # before Sphinx's title collector (priority 500) reads the page's title
    app.connect("doctree-read", _solution_page, priority=100)
    app.connect("html-page-context", _page_context, priority=100)  # emit_firstresult: before a theme answers
    app.connect("build-finished", _say_what_downloads_need)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
