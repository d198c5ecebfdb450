"""The built site (make book / make test build it first): what a reader finds in _build/html."""

import html
import posixpath
import re

import pytest
import yaml

from book import ROOT, SOLUTIONS
from book.authoring import release
from book.core import nbfiles
from book.site import build as site
from tests.support import CLASS_EDITION_ONLY, FULL_EDITION_ONLY, SITE, html_text, page, require_built_site, words

TOC = yaml.safe_load((ROOT / "_toc.yml").read_text())


@pytest.fixture(scope="module", autouse=True)
def built_site() -> None:
    require_built_site()


def toc_files(caption: str | None = None) -> list[str]:
    """The pages of the table of contents (of one part), sections included."""
    return [
        name
        for part in TOC["parts"]
        if caption in (None, part["caption"])
        for name in site.toc_files({"parts": [part]})[1:]
    ]


def test_every_page_in_the_table_of_contents_is_built() -> None:
    for doc in ["intro", *toc_files()]:
        assert (SITE / f"{doc}.html").exists(), doc


NOTEBOOK_CHAPTERS = [doc for doc in toc_files() if doc.startswith("chapters/") and (ROOT / f"{doc}.ipynb").exists()]


def test_the_landing_page_introduces_the_course_and_links_the_chapters() -> None:
    intro = page("intro")
    assert "FastAPI dependency injection, hands-on" in intro
    for doc in toc_files("Chapters"):
        assert f'href="{doc}.html"' in intro, doc


# Said only where the Solutions part is (book/site/edition.py; the class edition's are in
# tests/test_site_editions.py).
@pytest.mark.parametrize("doc", sorted(FULL_EDITION_ONLY))
def test_pages_point_to_the_solutions_part(doc: str) -> None:
    assert FULL_EDITION_ONLY[doc] in words(page(doc))
    assert not any(said in html_text(page(doc)) for said in CLASS_EDITION_ONLY.values())


@pytest.mark.parametrize("doc", NOTEBOOK_CHAPTERS)
def test_chapter_pages_show_the_outputs_of_every_code_cell(doc: str) -> None:
    notebook = nbfiles.read(ROOT / f"{doc}.ipynb", as_version=4)
    text = html_text(page(doc))
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            if output.get("output_type") == "stream":
                for line in output["text"].splitlines():
                    assert line.strip() in text, f"{doc}: output line {line!r} not on the page"


@pytest.mark.parametrize("doc", [doc for doc in toc_files("Exercises") if doc.startswith("exercises/")])
def test_exercise_pages_show_the_starter_and_no_solution_code(doc: str) -> None:
    # The code shown on the page (hints in prose may name a line on purpose).
    text = "\n".join(html_text(block) for block in re.findall(r"<pre>(.*?)</pre>", page(doc), re.S))
    solution = nbfiles.read(SOLUTIONS / f"{doc.split('/')[-1]}.ipynb", as_version=4)
    # A fix-the-bug exercise shows its app as shipped, bug included, and nothing that points at it.
    fix = solution.metadata["exercise"]["kind"] == "fix"
    assert ("NotImplementedError" in text) != fix and "### BUGGY" not in text
    for line in release.secret_lines(solution):
        assert line not in text, f"{doc}: solution line {line!r} is on the exercise page"


def test_solutions_appear_only_in_the_solutions_part() -> None:
    published = set(toc_files())
    for solution in SOLUTIONS.glob("*.ipynb"):
        doc = f"solutions/{solution.stem}"
        elsewhere = [
            part["caption"]
            for part in TOC["parts"]
            if part["caption"] != "Solutions" and doc in toc_files(part["caption"])
        ]
        assert not elsewhere
        assert doc not in published or doc in toc_files("Solutions")
    assert TOC["parts"][-1]["caption"] == "Solutions", "the Solutions part comes last"


def test_only_pages_in_the_table_of_contents_are_published() -> None:
    published = {
        path.relative_to(SITE).with_suffix("").as_posix()
        for path in SITE.rglob("*.html")
        if not path.relative_to(SITE).parts[0].startswith("_")  # theme assets, notebook sources
    }
    pages = published - {"index", "search", "genindex"}
    assert pages == {"intro", *toc_files()}


@pytest.mark.parametrize("doc", NOTEBOOK_CHAPTERS)
def test_every_picture_a_chapter_draws_is_on_its_page(doc: str) -> None:
    notebook = nbfiles.read(ROOT / f"{doc}.ipynb", as_version=4)
    pictures = sum(
        "image/svg+xml" in output.get("data", {}) for cell in notebook.cells for output in cell.get("outputs", [])
    )
    images = re.findall(r'<img[^>]+src="([^"]+\.svg)"', page(doc))
    assert len(images) == pictures
    for source in images:
        assert (SITE / doc).parent.joinpath(source).resolve().is_file(), source


@pytest.mark.parametrize("doc", NOTEBOOK_CHAPTERS)
def test_every_chapter_page_says_which_versions_its_outputs_were_produced_with(doc: str) -> None:
    from book.versions import produced_with

    assert produced_with() in html_text(page(doc))


def test_the_status_page_lists_every_executed_notebook_as_passed() -> None:
    """By its title (linked), with a word next to the icon, and its run time."""
    rows = {}
    for row in re.findall(r"<tr[^>]*>(.*?)</tr>", page("chapters/status"), re.S):
        link = re.search(r'href="([^"#]+)\.html"', row)
        if link:
            doc = posixpath.normpath(posixpath.join("chapters", link.group(1)))
            cells = [
                " ".join(html.unescape(re.sub(r"<[^>]+>", " ", cell)).split())
                for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
            ]
            rows[doc] = cells
    executed = [doc for doc in toc_files() if (ROOT / f"{doc}.ipynb").exists() and not doc.startswith("exercises/")]
    assert executed and {doc: rows.get(doc, [None, None])[1] for doc in executed} == {
        doc: "✅ ran without errors" for doc in executed
    }
    for doc in executed:
        title, _, seconds = rows[doc]
        assert "/" not in title and title, doc  # a title, not a path
        assert re.fullmatch(r"\d+\.\d s", seconds), seconds
    assert "Method" not in html_text(page("chapters/status"))  # the cache's word, nothing a reader needs


@pytest.mark.parametrize("doc", NOTEBOOK_CHAPTERS)
def test_a_downloaded_chapter_says_what_it_needs_to_run_outside_the_course_folder(doc: str) -> None:
    notebook = nbfiles.read(SITE / "_sources" / f"{doc}.ipynb", as_version=4)
    code = "\n".join(cell.source for cell in notebook.cells if cell.cell_type == "code")
    if not re.search(r"^\s*(import book\b|from book\b)", code, re.M):
        pytest.skip("this notebook does not use the course's book package")
    needs = [cell for cell in notebook.cells if cell.get("id") == "needs-the-book-package"]
    assert len(needs) == 1 and notebook.cells.index(needs[0]) == 1  # right under the title
    assert "`book` package" in needs[0].source and "pip install" in needs[0].source
