"""Solutions on the site: titled and marked as solutions, without their markers, ranked after the
exercises in search; and the class edition free of every line of them (issue 26)."""

import html
import json
import re

import nbformat
import pytest
import yaml

from book import ROOT, SOLUTIONS
from book.authoring import release
from book.site import build as site
from book.site import edition as sphinx_edition

SITE = ROOT / "_build" / "html"
TOC = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
SOLUTION_PAGES = [doc for doc in site.toc_files(TOC) if doc.startswith("solutions/")]


def exercise_title(doc: str) -> str:
    notebook = nbformat.read(ROOT / f"{doc}.ipynb", as_version=4)
    first = next(cell for cell in notebook.cells if cell.cell_type == "markdown")
    return first.source.splitlines()[0].lstrip("# ").strip()


# Without a built site: the rules themselves.

def test_a_solution_is_titled_solution_with_its_exercise_number():
    assert sphinx_edition.solution_title("Exercise 03: Tokens") == "Solution 03: Tokens"
    assert sphinx_edition.solution_title("Exercise 02-fix: The order") == "Solution 02-fix: The order"
    assert sphinx_edition.solution_title("About the solutions") == "About the solutions"


def test_markers_leave_the_code_and_the_instruction_stays_as_a_comment():
    code = ("x = 1\n    ### BEGIN SOLUTION: the alias\n    y = 2\n    ### END SOLUTION \n"
            "### BEGIN SOLUTION\nfixed()\n### BUGGY\n# broken()\n### END SOLUTION")
    shown = sphinx_edition.without_markers(code)
    assert "###" not in shown
    assert shown.splitlines() == ["x = 1", "    # Your part: the alias", "    y = 2", "fixed()",
                                  "# The code as the exercise ships it, with the bug:", "# broken()"]


def test_the_generated_table_of_contents_titles_no_solution_itself():
    toc = site.solution_titles(TOC)
    solutions = [entry for part in toc["parts"] if part["caption"] == "Solutions"
                 for chapter in part["chapters"] for entry in [chapter, *chapter.get("sections", [])]
                 if entry["file"].startswith("solutions/")]
    assert solutions and not [entry for entry in solutions if "title" in entry]


# The built full site.

@pytest.fixture(scope="module")
def built():
    if not (SITE / "index.html").exists():
        pytest.fail("the site is not built: run `make book` (make test builds it first)", pytrace=False)


def page(doc: str) -> str:
    return (SITE / f"{doc}.html").read_text(encoding="utf-8")


@pytest.mark.parametrize("doc", SOLUTION_PAGES)
def test_a_solution_page_is_titled_and_marked_as_a_solution(built, doc):
    title = sphinx_edition.solution_title(exercise_title(doc))
    assert title.startswith("Solution ")
    text = page(doc)
    plain = html.unescape(text).replace("\u2019", "'")  # the page's typography turns ' into ’
    assert re.search(r"<title>\s*" + re.escape(title), plain), "the tab's title"
    assert re.search(r"<h1>\s*" + re.escape(title), plain), "the page's heading"
    assert re.search(r'<div class="[^"]*\bsolution-page\b[^"]*\badmonition\b', text), "the box: a solution"
    number = sphinx_edition._exercise_number(doc)
    assert f'href="../exercises/{doc.removeprefix("solutions/")}.html"' in text, "the link to its exercise"
    assert f"make grade EX={number}" in text


@pytest.mark.parametrize("doc", SOLUTION_PAGES)
def test_a_solution_page_shows_no_markers(built, doc):
    shown = html.unescape(re.sub(r"<[^>]+>", "", page(doc)))
    assert not re.search(r"### (BEGIN SOLUTION|END SOLUTION|BUGGY)", shown)


def test_the_sidebar_and_previous_next_name_solutions_as_solutions(built):
    links = dict(re.findall(r'<a class="reference internal" href="(solutions/[^"#]+)\.html">\s*([^<]+?)\s*</a>',
                            page("intro")))
    assert set(links) == set(SOLUTION_PAGES)
    for doc, label in links.items():  # the page's typography turns ' into ’
        wanted = html.escape(sphinx_edition.solution_title(exercise_title(doc)), quote=False)
        assert html.unescape(label).replace("\u2019", "'") == html.unescape(wanted), doc
    for doc in SOLUTION_PAGES:
        titles = re.findall(r'<p class="prev-next-title">([^<]*)</p>', page(doc))
        assert titles, doc
        for title in titles:  # the solution before and after, or the part's first page, or nothing
            assert html.unescape(title).startswith(("Solution ", "About the solutions")), (doc, title)


def test_search_names_solutions_as_solutions_and_ranks_them_last(built):
    index = (SITE / "searchindex.js").read_text(encoding="utf-8")
    data = json.loads(index[index.index("(") + 1: index.rindex(")")])
    titles = dict(zip(data["docnames"], data["titles"], strict=True))
    for doc in SOLUTION_PAGES:
        assert titles[doc].startswith("Solution "), titles[doc]
    scorer = (SITE / "_static" / "language_data.js").read_text(encoding="utf-8")
    assert 'docname.startsWith("solutions/") ? score - 1000 : score' in scorer


# The class edition: no line of any solution, anywhere in it (tests/test_site_editions.py runs it).

def published_code() -> str:
    """What a learner may legitimately see: the chapters (bar the page that grades a solution) and
    the exercises' starters, code and text. A solution line also found there gives nothing away."""
    texts = []
    for path in [*sorted((ROOT / "chapters").glob("*.ipynb")), *sorted((ROOT / "exercises").glob("*.ipynb"))]:
        if path.name == "how-grading-works.ipynb":
            continue
        notebook = nbformat.read(path, as_version=4)
        texts += [cell.source for cell in notebook.cells]
    return "\n".join(texts)


def solution_region_lines(path) -> set[str]:
    notebook = nbformat.read(path, as_version=4)
    return {line for cell in notebook.cells if cell.cell_type == "code"
            for line in release.solution_lines(cell.source, shortest=20)}


def class_edition_texts(folder) -> dict[str, str]:
    """Every page, script (the search index) and notebook source of a built edition, as text."""
    texts = {}
    for path in sorted(folder.rglob("*")):
        if path.is_file() and path.suffix in (".html", ".js", ".ipynb", ".txt", ".md"):
            text = path.read_text(encoding="utf-8", errors="replace")
            if path.suffix == ".html":
                text = html.unescape(re.sub(r"<[^>]+>", "", text))
            texts[path.relative_to(folder).as_posix()] = text
    return texts


def class_edition_leaks(folder) -> list[str]:
    """Each line of a solution region (20 characters or more) found in the built edition in
    `folder`, unless the chapters or the exercises show it themselves (then it gives nothing away).
    tests/test_site_editions.py builds the class edition and runs this on it."""
    given, texts, leaks = published_code(), class_edition_texts(folder), []
    for path in sorted(SOLUTIONS.glob("*.ipynb")):
        for line in sorted(line for line in solution_region_lines(path) if line not in given):
            leaks += [f"{path.stem}: {line!r} in {name}" for name, text in texts.items() if line in text]
    return leaks
