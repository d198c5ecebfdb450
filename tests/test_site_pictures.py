"""The pictures (book/learner/drawing.py) as a reader meets them on the site: sized to what they show, text
no smaller than 10 px, a key for the graph's colours, and a description for the alt text."""

import re
from xml.etree import ElementTree

from book.learner import drawing
from book.site.streams import alt_text

SVG = "{http://www.w3.org/2000/svg}"
ROWS = [
    (0, "endpoint: read_me", "", "endpoint"),
    (1, "user: get_current_user", "async function", "async-function"),
    (2, "session: get_session", "async generator · request scope", "async-generator"),
    (1, "session: get_session", "cached: reuses the value above", "cached"),
]
LANES = ["get_session", "get_current_user", "endpoint read_me", "response"]
MARKS = [
    ("bar", 0, 0, 4, "generator"),
    ("dot", 1, 1, 1, "async-function"),
    ("ring", 0, 2, 2, "cached"),
    ("bar", 2, 2, 3, "endpoint"),
    ("dot", 3, 4, 4, "endpoint"),
]


def width_of(svg: str) -> float:
    return float(ElementTree.fromstring(svg).get("width", "nan"))


def texts(svg: str) -> list[str]:
    return [element.text or "" for element in ElementTree.fromstring(svg).iter(f"{SVG}text")]


def test_no_text_in_a_picture_is_smaller_than_10_px() -> None:
    for svg in (drawing.tree_svg("GET /me", ROWS), drawing.timeline_svg("GET /me -> 200", LANES, list("12345"), MARKS)):
        assert min(float(size) for size in re.findall(r'font-size="([\d.]+)"', svg)) >= 10


def test_a_trace_is_as_wide_as_its_lanes_and_steps_not_as_its_legend() -> None:
    svg = drawing.timeline_svg("GET /me -> 200", LANES, list("12345"), MARKS)
    legend_alone = (
        len(
            "● called   ○ served from the per-request cache   ▬ from start to end (a yield dependency: to its teardown)"
        )
        * drawing.SMALL
    )
    assert width_of(svg) < legend_alone / 2  # it was 652 px, set by the legend on one line
    shown = " ".join(texts(svg))
    for item in ("● called", "○ served from the per-request cache", "▬ from start to end"):
        assert item in shown  # wrapped, not dropped


def test_a_graph_has_a_key_for_the_colours_it_uses_and_only_those() -> None:
    shown = texts(drawing.tree_svg("GET /me", ROWS))
    for meaning in ("endpoint", "async function", "async generator (yield)", "cached: the value above, reused"):
        assert meaning in shown
    assert "overridden" not in shown and "class" not in shown


def test_a_picture_describes_itself_and_the_site_uses_that_as_alt_text() -> None:
    tree = drawing.tree_svg("GET /me", ROWS)
    assert alt_text(tree) == (
        "GET /me: endpoint: read_me; user: get_current_user (async function); session: "
        "get_session (async generator · request scope); session: get_session (cached: "
        "reuses the value above)"
    )
    trace = drawing.timeline_svg("GET /me -> 200", LANES, list("12345"), MARKS)
    assert alt_text(trace).startswith("GET /me -> 200: get_session: steps 1 to 5; get_current_user: called at step 2")
    assert "served from the cache at step 3" in alt_text(trace)
    assert alt_text("<svg><text>no title</text></svg>") == ""


def test_pictures_stay_valid_svg_with_their_description() -> None:
    for svg in (drawing.tree_svg("GET /a&b", ROWS), drawing.timeline_svg("GET /a<b>", LANES, list("12345"), MARKS)):
        root = ElementTree.fromstring(svg)
        assert root.find(f"{SVG}title") is not None
