"""The two editions of the site, and the one repository setting that drives every button."""

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from book import ROOT
from book.core import nbfiles
from book.site import build as site
from book.site import edition
from tests.support import (
    CLASS_EDITION_ONLY,
    FULL_EDITION_ONLY,
    class_edition_leaks,
    output,
    solution_region_lines,
    words,
)

REPOSITORY = "https://github.com/example/fastapi-di-course"
BUTTONS = ("use_repository_button", "use_edit_page_button", "use_issues_button")


def config() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    return data


def test_with_no_repository_every_repository_and_launch_button_is_off() -> None:
    effective = site.effective_config({**config(), "repository": {"url": ""}})
    assert not any(effective["html"][button] for button in BUTTONS)
    assert effective["launch_buttons"]["binderhub_url"] == effective["launch_buttons"]["colab_url"] == ""


def test_a_repository_turns_every_button_on() -> None:
    effective = site.effective_config({**config(), "repository": {"url": REPOSITORY}})
    assert all(effective["html"][button] for button in BUTTONS)
    assert effective["launch_buttons"]["binderhub_url"] and effective["launch_buttons"]["colab_url"]
    assert effective["launch_buttons"]["thebe"] is False  # it would fetch code at view time


def test_both_editions_share_one_execution_cache() -> None:
    assert site.effective_config(config())["execute"]["cache"] == str(site.CACHE)


def test_the_class_table_of_contents_leaves_out_the_solutions_part_only() -> None:
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    kept = site.class_toc(toc)
    assert [part["caption"] for part in kept["parts"]] == [
        part["caption"] for part in toc["parts"] if part["caption"] != "Solutions"
    ]
    with pytest.raises(SystemExit, match="no part captioned"):
        site.class_toc(kept)


@pytest.fixture(scope="module")
def class_edition() -> Path:
    """The class edition, built with a repository set (the full site's cache: it executes nothing,
    about 15 s of Sphinx). Its tests live in this file, so that nothing reads it half-built."""
    if not (ROOT / "_build" / ".jupyter_cache").exists():
        pytest.skip("the site is not built (make book)")
    done = subprocess.run(
        [sys.executable, "-m", "book.site", "--class", "--quiet", "--repository", REPOSITORY],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, output(done)
    return site.html_folder("class")


def test_the_class_edition_builds_without_solutions_and_with_the_repositorys_buttons(class_edition: Path) -> None:
    html = class_edition
    pages = {path.relative_to(html).as_posix() for path in html.rglob("*.html")}
    assert "exercises/01-typed-aliases.html" in pages
    assert not [page for page in pages if page.startswith("solutions/") or page == "chapters/solutions.html"]
    assert not [page for page in pages if re.search(r'href="[^"]*solutions', (html / page).read_text(encoding="utf-8"))]
    for doc, said in CLASS_EDITION_ONLY.items():
        assert said in text_of(html / f"{doc}.html"), doc
    for doc, said in FULL_EDITION_ONLY.items():  # no pointer to a part that is not there
        assert said not in text_of(html / f"{doc}.html"), doc
    chapter = (html / "chapters" / "01-typed-aliases.html").read_text(encoding="utf-8")
    for link in (
        f"{REPOSITORY}/edit/main/chapters/01-typed-aliases.ipynb",
        "https://mybinder.org/v2/gh/example/",
        "https://colab.research.google.com/github/example/",
    ):
        assert link in chapter


def test_with_a_repository_the_setup_page_and_every_footer_link_it(class_edition: Path) -> None:
    setup = (class_edition / "chapters" / "setup.html").read_text(encoding="utf-8")
    assert f"git clone {REPOSITORY} fastapi-di-course" in text_of(class_edition / "chapters" / "setup.html")
    assert f'href="{REPOSITORY}"' in setup
    for page in ("intro.html", "chapters/setup.html", "exercises/01-typed-aliases.html"):
        footer = (class_edition / page).read_text(encoding="utf-8").split('class="bd-footer-content', 1)[-1]
        assert f'<a href="{REPOSITORY}">' in footer, page
        assert "By " not in words(footer), page


def test_without_a_repository_the_setup_page_says_how_to_get_the_course_folder() -> None:
    page = ROOT / "_build" / "html" / "chapters" / "setup.html"
    if not page.exists():
        pytest.skip("the site is not built (make book)")
    if (config().get("repository") or {}).get("url"):
        pytest.skip("a repository is set in _config.yml")
    said = text_of(page)
    assert "Get the course folder from whoever gave you this site" in said
    assert "<the course repository>" not in said and "git clone" in said
    assert "pip install" in said and "book" in said  # what a downloaded notebook needs
    footer = page.read_text(encoding="utf-8").split('class="bd-footer-content', 1)[-1]
    assert "By The FastAPI" not in words(footer)


def test_the_class_edition_shows_no_line_of_any_solution(class_edition: Path) -> None:
    assert not class_edition_leaks(class_edition)


def test_the_class_edition_of_how_grading_works_shows_no_line_of_exercise_01s_answer(class_edition: Path) -> None:
    shown = text_of(class_edition / "chapters" / "how-grading-works.html")
    answer = solution_region_lines(ROOT / "solutions" / "01-typed-aliases.ipynb")
    assert answer and not sorted(line for line in answer if line in shown)


def text_of(path: Path) -> str:
    return words(path.read_text(encoding="utf-8"))


def test_each_edition_gets_its_own_tag_and_an_unknown_edition_is_refused() -> None:
    from types import SimpleNamespace

    from sphinx.util.tags import Tags

    for name in ("full", "class"):
        app = SimpleNamespace(tags=Tags())
        # stand-ins with only what _add_tag reads
        edition._add_tag(app, SimpleNamespace(course_edition=name))  # type: ignore[arg-type]
        assert list(app.tags) == [f"{name}_edition"]
    with pytest.raises(ValueError, match="course_edition must be one of full, class, not 'teacher'"):
        edition._add_tag(SimpleNamespace(tags=Tags()), SimpleNamespace(course_edition="teacher"))  # type: ignore[arg-type]
    config_path, _ = site.write_inputs("class")
    assert yaml.safe_load(config_path.read_text())["sphinx"]["config"]["course_edition"] == "class"


def test_stream_chunks_are_joined_as_written_not_line_by_line() -> None:
    from book.site.streams import coalesce_streams

    chunks: list[dict[str, Any]] = [
        nbfiles.new_output("stream", name="stdout", text="{'checked out': 6}"),
        nbfiles.new_output("stream", name="stdout", text=" | checked out now: 0\n"),
        nbfiles.new_output("display_data", data={"text/plain": "x"}),
        nbfiles.new_output("stream", name="stdout", text="next\n"),
    ]
    joined = coalesce_streams(chunks)
    assert [output["output_type"] for output in joined] == ["stream", "display_data"]
    assert joined[0]["text"] == "{'checked out': 6} | checked out now: 0\nnext\n"
