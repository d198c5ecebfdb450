"""Solutions on the site: titled and marked as solutions, without their markers, ranked after the
exercises in search; and the class edition free of every line of them (issue 26)."""

import html
import json
import re

import pytest
import yaml

from book import ROOT
from book.core import nbfiles
from book.site import build as site
from book.site import edition
from tests.support import SITE, page, require_built_site

TOC = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
SOLUTION_PAGES = [doc for doc in site.toc_files(TOC) if doc.startswith("solutions/")]


def exercise_title(doc: str) -> str:
    notebook = nbfiles.read(ROOT / f"{doc}.ipynb", as_version=4)
    first = next(cell for cell in notebook.cells if cell.cell_type == "markdown")
    title: str = first.source.splitlines()[0].lstrip("# ").strip()
    return title


# Without a built site: the rules themselves.


def test_a_solution_is_titled_solution_with_its_exercise_number() -> None:
    assert edition.solution_title("Exercise 03: Tokens") == "Solution 03: Tokens"
    assert edition.solution_title("Exercise 02-fix: The order") == "Solution 02-fix: The order"
    assert edition.solution_title("About the solutions") == "About the solutions"


def test_markers_leave_the_code_and_the_instruction_stays_as_a_comment() -> None:
    code = (
        "x = 1\n    ### BEGIN SOLUTION: the alias\n    y = 2\n    ### END SOLUTION \n"
        "### BEGIN SOLUTION\nfixed()\n### BUGGY\n# broken()\n### END SOLUTION"
    )
    shown = edition.without_markers(code)
    assert "###" not in shown
    assert shown.splitlines() == [
        "x = 1",
        "    # Your part: the alias",
        "    y = 2",
        "fixed()",
        "# The code as the exercise ships it, with the bug:",
        "# broken()",
    ]


def test_the_generated_table_of_contents_titles_no_solution_itself() -> None:
    toc = site.solution_titles(TOC)
    solutions = [
        entry
        for part in toc["parts"]
        if part["caption"] == "Solutions"
        for chapter in part["chapters"]
        for entry in [chapter, *chapter.get("sections", [])]
        if entry["file"].startswith("solutions/")
    ]
    assert solutions and not [entry for entry in solutions if "title" in entry]


# The built full site.


@pytest.fixture(scope="module")
def built() -> None:
    require_built_site()


@pytest.mark.parametrize("doc", SOLUTION_PAGES)
def test_a_solution_page_is_titled_and_marked_as_a_solution(built: None, doc: str) -> None:
    title = edition.solution_title(exercise_title(doc))
    assert title.startswith("Solution ")
    text = page(doc)
    plain = html.unescape(text).replace("\u2019", "'")  # the page's typography turns ' into ’
    assert re.search(r"<title>\s*" + re.escape(title), plain), "the tab's title"
    assert re.search(r"<h1>\s*" + re.escape(title), plain), "the page's heading"
    assert re.search(r'<div class="[^"]*\bsolution-page\b[^"]*\badmonition\b', text), "the box: a solution"
    number = edition._exercise_number(doc)
    assert f'href="../exercises/{doc.removeprefix("solutions/")}.html"' in text, "the link to its exercise"
    assert f"make grade EX={number}" in text


@pytest.mark.parametrize("doc", SOLUTION_PAGES)
def test_a_solution_page_shows_no_markers(built: None, doc: str) -> None:
    shown = html.unescape(re.sub(r"<[^>]+>", "", page(doc)))
    assert not re.search(r"### (BEGIN SOLUTION|END SOLUTION|BUGGY)", shown)


def test_the_sidebar_and_previous_next_name_solutions_as_solutions(built: None) -> None:
    links = dict(
        re.findall(r'<a class="reference internal" href="(solutions/[^"#]+)\.html">\s*([^<]+?)\s*</a>', page("intro"))
    )
    assert set(links) == set(SOLUTION_PAGES)
    for doc, label in links.items():  # the page's typography turns ' into ’
        wanted = html.escape(edition.solution_title(exercise_title(doc)), quote=False)
        assert html.unescape(label).replace("\u2019", "'") == html.unescape(wanted), doc
    for doc in SOLUTION_PAGES:
        titles = re.findall(r'<p class="prev-next-title">([^<]*)</p>', page(doc))
        assert titles, doc
        for title in titles:  # the solution before and after, or the part's first page, or nothing
            assert html.unescape(title).startswith(("Solution ", "About the solutions")), (doc, title)


def test_search_names_solutions_as_solutions_and_ranks_them_last(built: None) -> None:
    index = (SITE / "searchindex.js").read_text(encoding="utf-8")
    data = json.loads(index[index.index("(") + 1 : index.rindex(")")])
    titles = dict(zip(data["docnames"], data["titles"], strict=True))
    for doc in SOLUTION_PAGES:
        assert titles[doc].startswith("Solution "), titles[doc]
    scorer = (SITE / "_static" / "language_data.js").read_text(encoding="utf-8")
    assert 'docname.startsWith("solutions/") ? score - 1000 : score' in scorer
