"""The built site in a real browser, as a reader meets it: Debian's Chromium, driven by Playwright.

The site in _build/html is served on 127.0.0.1 and every page of the table of contents is
visited once at 1280 px and once at 390 px, a phone (a screenshot of each is kept in
_build/screenshots/1280/ and _build/screenshots/390/ for review); the tests then look at what
the visits recorded. Anything a page asks of another host is refused and reported.
Without a built site or a Chromium the tests are skipped, unless BOOK_REQUIRE_BROWSER is set,
as .ci/run sets it: then they fail.
"""

from __future__ import annotations

import functools
import http.server
import os
import re
import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit

import pytest
import yaml

from book import ROOT, SOLUTIONS
from book.authoring.release import secret_lines
from book.core import nbfiles
from book.site import build as site

if TYPE_CHECKING:
    from playwright.sync_api import Browser, ConsoleMessage, Route

SITE = ROOT / "_build" / "html"
SCREENSHOTS = ROOT / "_build" / "screenshots"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# sphinx-book-theme pages used to log "Identifier 'THEBE_JS_URL' has already been declared"
# (../shared/TOOLING.md); book/site/edition.py writes each script once, so none is expected.
KNOWN_CONSOLE_ERRORS: tuple[str, ...] = ()
WIDTHS = (1280, 390)  # a laptop, a phone
SMALLEST_TEXT = 10  # px: no text in a picture is drawn smaller, at either width
LONGEST_LINE = 88  # characters of code a chapter's code column shows at 1280 px
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
LOCAL_HOSTS = {"127.0.0.1", "localhost"}


def _unavailable() -> str:
    if not (SITE / "index.html").exists():
        return "the site is not built (make book)"
    if not Path(CHROMIUM).exists():
        return "no Chromium (apt-get install chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright is not installed (make test installs it)"
    return ""


_REASON = _unavailable()
if _REASON and os.environ.get("BOOK_REQUIRE_BROWSER"):
    raise RuntimeError(f"the browser tests cannot run: {_REASON}")
pytestmark = pytest.mark.skipif(bool(_REASON), reason=_REASON)


def toc_pages() -> list[str]:
    return site.toc_files(yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8")))


PAGES = toc_pages()
CHAPTERS = [page for page in PAGES if re.match(r"chapters/\d\d-", page)]
EXERCISES = [page for page in PAGES if page.startswith("exercises/")]


@dataclass
class Visit:
    page: str
    console_errors: list[str] = field(default_factory=list)
    outside_requests: list[str] = field(default_factory=list)
    links: list[str] = field(default_factory=list)
    broken_images: list[str] = field(default_factory=list)
    outputs: int = 0  # visible cell output blocks
    pictures: int = 0  # visible SVG or image outputs
    code: str = ""  # the text of the page's code blocks (hints in prose may name a solution's line)
    download_links: list[str] = field(default_factory=list)
    repository_links: list[str] = field(default_factory=list)
    title: str = ""
    page_width: int = 0  # the document's scroll width, against the viewport's
    picture_scales: list[tuple[str, float, str]] = field(default_factory=list)  # (src, shown/natural, alt)
    cut_code: int = 0  # code blocks wider than their box that do not scroll: text out of reach
    scrolling_code: list[str] = field(default_factory=list)  # the longest line of each input that scrolls
    scrolling_outputs: list[str] = field(default_factory=list)
    scrolling_tables: int = 0  # tables wider than the column (they scroll inside it)
    sidebar_solutions: list[str] = field(default_factory=list)  # the labels of links to solutions/


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(QuietHandler, directory=SITE))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as driver:
        chromium = driver.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        yield chromium
        chromium.close()


MEASURE = """() => {
    // a block folded away (a hidden cell input) is not measured: it has no box
    const cut = p => !p.closest('details:not([open])') && p.scrollWidth > p.clientWidth + 1;
    const longest = p => p.innerText.split('\\n').reduce((a, l) => l.length > a.length ? l : a, '');
    return {
        links: [...document.querySelectorAll('a[href]')].map(a => a.href),
        broken: [...document.querySelectorAll('img')].filter(i => !(i.complete && i.naturalWidth > 0))
                                                       .map(i => i.src),
        outputs: [...document.querySelectorAll('.cell_output')]
                     .filter(o => o.getBoundingClientRect().height > 0).length,
        pictures: [...document.querySelectorAll('.cell_output svg, .cell_output img')]
                      .filter(p => p.getBoundingClientRect().height > 0).length,
        code: [...document.querySelectorAll('pre')].map(p => p.innerText).join('\\n'),
        downloads: [...document.querySelectorAll('a.btn[href]')].map(a => a.href)
                       .filter(h => /\\/_sources\\/|\\.ipynb$|\\.md$/.test(h)),
        repository: [...document.querySelectorAll('a[href]')].map(a => a.href)
                        .filter(h => /github|gitlab|binder|colab/i.test(h)),
        title: document.title,
        width: document.documentElement.scrollWidth,
        scales: [...document.querySelectorAll('.cell_output img')].filter(i => i.naturalWidth > 0)
                    .map(i => [i.getAttribute('src'), i.getBoundingClientRect().width / i.naturalWidth, i.alt]),
        cutCode: [...document.querySelectorAll('pre')]
                     .filter(p => cut(p) && !['auto', 'scroll'].includes(getComputedStyle(p).overflowX)).length,
        scrollingCode: [...document.querySelectorAll('div.cell_input pre')].filter(cut).map(longest),
        scrollingOutputs: [...document.querySelectorAll('div.cell_output pre')].filter(cut).map(longest),
        scrollingTables: [...document.querySelectorAll('.bd-article table')].filter(cut).length,
        sidebarSolutions: [...document.querySelectorAll('.bd-sidebar-primary a[href]')]
                              .filter(a => /\\/solutions\\/[^/]+\\.html$/.test(a.href))
                              .map(a => a.textContent.trim()),
    };
}"""


def _visit_every_page(browser: Browser, base_url: str, width: int) -> dict[str, Visit]:
    """Every page of the table of contents, visited once at `width` px, a screenshot of each kept."""
    folder = SCREENSHOTS / str(width)
    folder.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(viewport={"width": width, "height": 900})
    seen: dict[str, Visit] = {}
    current: list[Visit] = []

    def refuse_outside(route: Route) -> None:
        if urlsplit(route.request.url).hostname in LOCAL_HOSTS or route.request.url.startswith(("data:", "blob:")):
            route.continue_()
        else:
            current[0].outside_requests.append(route.request.url)
            route.abort()

    context.route("**/*", refuse_outside)
    page = context.new_page()

    def console(message: ConsoleMessage) -> None:
        if message.type == "error":
            current[0].console_errors.append(message.text)

    page.on("console", console)
    page.on("pageerror", lambda error: current[0].console_errors.append(str(error)))
    for name in PAGES:
        visit = Visit(name)
        current[:] = [visit]
        page.goto(f"{base_url}{name}.html", wait_until="load")
        found = page.evaluate(MEASURE)
        visit.links, visit.broken_images = found["links"], found["broken"]
        visit.outputs, visit.pictures, visit.code = found["outputs"], found["pictures"], found["code"]
        visit.download_links, visit.repository_links = found["downloads"], found["repository"]
        visit.title, visit.page_width = found["title"], found["width"]
        visit.picture_scales = [tuple(scale) for scale in found["scales"]]
        visit.cut_code, visit.scrolling_code = found["cutCode"], found["scrollingCode"]
        visit.scrolling_outputs, visit.sidebar_solutions = found["scrollingOutputs"], found["sidebarSolutions"]
        visit.scrolling_tables = found["scrollingTables"]
        page.screenshot(path=str(folder / f"{name.replace('/', '--')}.png"), full_page=True)
        seen[name] = visit
    context.close()
    return seen


@pytest.fixture(scope="module")
def visits(browser: Browser, base_url: str) -> dict[str, Visit]:
    """Every page of the table of contents at 1280 px."""
    return _visit_every_page(browser, base_url, 1280)


@pytest.fixture(scope="module")
def phone_visits(browser: Browser, base_url: str) -> dict[str, Visit]:
    """Every page of the table of contents at 390 px."""
    return _visit_every_page(browser, base_url, 390)


@pytest.fixture(scope="module", params=WIDTHS, ids=[f"{width}px" for width in WIDTHS])
def sized_visits(request: pytest.FixtureRequest) -> tuple[int, dict[str, Visit]]:
    return request.param, request.getfixturevalue("visits" if request.param == 1280 else "phone_visits")


@pytest.mark.parametrize("name", PAGES)
def test_the_page_loads_without_console_errors(visits: dict[str, Visit], name: str) -> None:
    errors = [
        error for error in visits[name].console_errors if not any(known in error for known in KNOWN_CONSOLE_ERRORS)
    ]
    assert not errors


@pytest.mark.parametrize("name", PAGES)
def test_nothing_the_page_uses_comes_from_another_host(visits: dict[str, Visit], name: str) -> None:
    assert not visits[name].outside_requests


def test_no_internal_link_or_image_is_broken(visits: dict[str, Visit], base_url: str) -> None:
    broken: set[str] = set()
    for visit in visits.values():
        broken.update(f"{visit.page}: image {source}" for source in visit.broken_images)
        for link in visit.links:
            if not link.startswith(base_url):
                continue
            target = SITE / unquote(urlsplit(link).path.removeprefix(urlsplit(base_url).path))
            if target.is_dir():
                target = target / "index.html"
            if not target.exists():
                broken.add(f"{visit.page}: link {link}")
    assert not sorted(broken)


@pytest.mark.parametrize("name", CHAPTERS)
def test_a_chapter_shows_its_executed_outputs_and_pictures(visits: dict[str, Visit], name: str) -> None:
    notebook = nbfiles.read(ROOT / f"{name}.ipynb", as_version=4)
    with_outputs = [cell for cell in notebook.cells if cell.cell_type == "code" and cell.get("outputs")]
    pictures = sum(
        1
        for cell in with_outputs
        for output in cell.outputs
        if {"image/svg+xml", "image/png"} & set(output.get("data", {}))
    )
    assert visits[name].outputs >= len(with_outputs) > 0
    assert visits[name].pictures >= pictures


@pytest.mark.parametrize("name", EXERCISES)
def test_an_exercise_page_shows_no_solution_code(visits: dict[str, Visit], name: str) -> None:
    secrets = secret_lines(nbfiles.read(SOLUTIONS / f"{Path(name).name}.ipynb", as_version=4))
    shown = sorted(line for line in secrets if line in visits[name].code)
    assert secrets and not shown


@pytest.mark.parametrize("name", [page for page in PAGES if (ROOT / f"{page}.ipynb").exists()])
def test_a_notebook_page_can_be_downloaded(visits: dict[str, Visit], base_url: str, name: str) -> None:
    wanted = f"{base_url}_sources/{name}.ipynb"
    assert wanted in visits[name].download_links
    assert (SITE / "_sources" / f"{name}.ipynb").exists()


def test_with_no_repository_set_no_repository_or_launch_button_is_shown(visits: dict[str, Visit]) -> None:
    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    if (config.get("repository") or {}).get("url"):
        pytest.skip("a repository is set in _config.yml")
    assert not {link for visit in visits.values() for link in visit.repository_links}


def test_every_page_has_a_screenshot_for_review_at_both_widths(
    visits: dict[str, Visit], phone_visits: dict[str, Visit]
) -> None:
    missing = [
        f"{width}/{name}"
        for width in WIDTHS
        for name in PAGES
        if not (SCREENSHOTS / str(width) / f"{name.replace('/', '--')}.png").stat().st_size
    ]
    assert not missing


def test_no_page_is_wider_than_the_screen(sized_visits: tuple[int, dict[str, Visit]]) -> None:
    width, seen = sized_visits
    assert not {name: visit.page_width for name, visit in seen.items() if visit.page_width > width}


def smallest_text(svg: Path) -> float:
    sizes = [float(size) for size in re.findall(r'font-size="([\d.]+)"', svg.read_text(encoding="utf-8"))]
    return min(sizes, default=SMALLEST_TEXT)


def test_no_text_in_a_picture_is_drawn_under_10_px(sized_visits: tuple[int, dict[str, Visit]]) -> None:
    _, seen = sized_visits
    small = {}
    for name, visit in seen.items():
        for source, scale, _ in visit.picture_scales:
            if source.endswith(".svg"):
                shown = smallest_text((SITE / name).parent.joinpath(unquote(source)).resolve()) * scale
                if shown < SMALLEST_TEXT - 0.05:
                    small[f"{name}: {source}"] = round(shown, 1)
    assert not small
    assert any(visit.picture_scales for visit in seen.values()), "no picture measured"


def test_every_picture_has_alt_text_saying_what_it_shows(visits: dict[str, Visit]) -> None:
    bad = {
        f"{name}: {source}": alt
        for name, visit in visits.items()
        for source, _, alt in visit.picture_scales
        if not alt or re.fullmatch(r"[\w./-]*\.(svg|png)|[0-9a-f]{16,}", alt)
    }
    assert not bad
    assert any(
        alt.startswith(("GET ", "POST ", "PUT ", "DELETE ", "PATCH "))
        for visit in visits.values()
        for _, _, alt in visit.picture_scales
    )


def test_no_code_is_cut_off(sized_visits: tuple[int, dict[str, Visit]]) -> None:
    """Code wider than its box scrolls (a phone) rather than being cut."""
    _, seen = sized_visits
    assert not {name: visit.cut_code for name, visit in seen.items() if visit.cut_code}


@pytest.mark.parametrize("name", [*CHAPTERS, "chapters/how-grading-works"])
def test_a_chapters_code_fits_its_column_at_1280_px(visits: dict[str, Visit], name: str) -> None:
    assert not visits[name].scrolling_code


def test_no_printed_output_is_out_of_sight(sized_visits: tuple[int, dict[str, Visit]]) -> None:
    """Printed output wraps: nothing a cell printed needs a sideways scroll, at either width."""
    _, seen = sized_visits
    assert not {name: visit.scrolling_outputs for name, visit in seen.items() if visit.scrolling_outputs}


def test_no_table_needs_a_sideways_scroll_at_1280_px(visits: dict[str, Visit]) -> None:
    """On a phone a wide table scrolls inside the column; on a laptop every table fits it."""
    assert not {name: visit.scrolling_tables for name, visit in visits.items() if visit.scrolling_tables}


def test_solution_pages_and_their_sidebar_links_are_titled_as_solutions(visits: dict[str, Visit]) -> None:
    solutions = [name for name in PAGES if name.startswith("solutions/")]
    assert solutions
    assert not [visits[name].title for name in solutions if not visits[name].title.startswith("Solution ")]
    labels = visits["intro"].sidebar_solutions
    assert len(labels) == len(solutions) and all(label.startswith("Solution ") for label in labels)


def test_search_finds_depends_and_lands_on_a_chapter(browser: Browser, base_url: str) -> None:
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{base_url}search.html?q=Depends", wait_until="load")
    results = page.locator("#search-results a[href*='chapters/']")
    results.first.wait_for(timeout=15_000)
    assert results.count() > 0
    results.first.click()
    page.wait_for_load_state("load")
    assert re.search(r"/chapters/[\w-]+\.html", page.url), page.url
    assert "Depends" in page.locator("main").inner_text()
    context.close()


def test_search_ranks_an_exercise_before_its_solution(browser: Browser, base_url: str) -> None:
    """Both carry the exercise's title words; the solution is ranked after (book/site/edition.py)."""
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{base_url}search.html?q=personal+access+tokens+photo", wait_until="load")
    results = page.locator("#search-results li a")
    results.first.wait_for(timeout=15_000)
    found = [urlsplit(href).path for href in results.evaluate_all("links => links.map(a => a.href)")]
    exercise = next(index for index, path in enumerate(found) if path.endswith("/exercises/03-current-user.html"))
    solution = next(index for index, path in enumerate(found) if path.endswith("/solutions/03-current-user.html"))
    assert exercise < solution
    assert all("/solutions/" in path for path in found[solution:])  # every solution after every other page
    context.close()
