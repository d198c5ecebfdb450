"""SVG pictures drawn from text rows: no Graphviz, no fonts to measure, same bytes every time.

Text is monospace, so a width is a count of characters; every number is rounded, so the output
is stable enough for strict nbval.
"""

from __future__ import annotations

from html import escape
from typing import Protocol


class _Printer(Protocol):
    """IPython's pretty printer, as far as it is used here."""

    def text(self, obj: str) -> None: ...


class TextAndPicture:
    """Shown as its text by print() and repr(), and as its SVG picture (_repr_svg_) in Jupyter."""

    def __repr__(self) -> str:
        return str(self)

    def _repr_pretty_(self, printer: _Printer, cycle: bool) -> None:
        printer.text(str(self))


CHAR = 7.2  # width of one 12px monospace character
SMALL = 6.0  # width of one 10px monospace character
ROW = 44
INDENT = 26
PAD = 8

# What each style means, for the key under a graph (in the order the key lists them).
MEANINGS = {
    "endpoint": "endpoint",
    "function": "function",
    "async-function": "async function",
    "generator": "generator (yield)",
    "async-generator": "async generator (yield)",
    "class": "class",
    "instance": "callable instance",
    "cached": "cached: the value above, reused",
    "overridden": "overridden",
}
STYLES = {  # fill, stroke, dash
    "endpoint": ("#1f3a5f", "#1f3a5f", ""),
    "function": ("#eef1f5", "#7b8794", ""),
    "async-function": ("#e3f4f1", "#2a9d8f", ""),
    "generator": ("#fff4dc", "#d99a00", ""),
    "async-generator": ("#fff4dc", "#d99a00", ""),
    "class": ("#f1e9fb", "#8e5cc5", ""),
    "instance": ("#f1e9fb", "#8e5cc5", ""),
    "cached": ("#ffffff", "#9aa5b1", "4 3"),
    "overridden": ("#fdecec", "#c0392b", "6 3"),
}


def _style(name: str) -> tuple[str, str, str]:
    for key in (name, name.split(",")[0], name.removeprefix("instance,-")):
        if key in STYLES:
            return STYLES[key]
    return STYLES["instance"] if name.startswith("instance") else STYLES["function"]


def svg_text(x: float, y: float, content: str, *, size: int = 12, fill: str = "#1b1f24", weight: str = "normal") -> str:
    return (
        f'<text x="{x:.0f}" y="{y:.0f}" font-family="monospace" font-size="{size}" '
        f'font-weight="{weight}" fill="{fill}">{escape(content)}</text>'
    )


def _wrap(items: list[str], width: float, char: float = SMALL, gap: int = 3) -> list[list[str]]:
    """Items in lines no wider than `width` (an item longer than the width gets a line of its own)."""
    lines: list[list[str]] = [[]]
    for item in items:
        used = sum(len(i) for i in lines[-1]) + gap * len(lines[-1])
        if lines[-1] and (used + len(item)) * char > width:
            lines.append([])
        lines[-1].append(item)
    return [line for line in lines if line]


def _key_name(style: str) -> str:
    for key in (style, style.split(",")[0], style.removeprefix("instance,-")):
        if key in MEANINGS:
            return key
    return "instance" if style.startswith("instance") else "function"


def _description(title: str, rows: list[str]) -> str:
    """The picture in words, for a reader who cannot see it (the page's alt text, a <title>)."""
    return escape(f"{title}: " + "; ".join(rows))


def tree_svg(title: str, rows: list[tuple[int, str, str, str]]) -> str:
    """A tree, one box per row: (depth, title, detail, style), in depth-first order."""
    width = (
        max(
            [len(title) * CHAR + 2 * PAD]
            + [depth * INDENT + max(len(head), len(detail) * 0.85) * CHAR + 3 * PAD for depth, head, detail, _ in rows]
        )
        + PAD
    )
    used = sorted({_key_name(style) for *_, style in rows}, key=list(MEANINGS).index)
    key_lines = _wrap([f"■ {MEANINGS[name]}" for name in used], max(width - 2 * PAD, 30 * SMALL), gap=4)
    width = max([width] + [sum(len(item) + 4 for item in line) * SMALL + 2 * PAD for line in key_lines])
    key_top = 30 + len(rows) * ROW + 6
    height = key_top + len(key_lines) * 16 + PAD
    parts = [svg_text(PAD, 18, title, size=13, weight="bold")]
    for number, line in enumerate(key_lines):  # the key: a swatch in each style's colours, then its meaning
        x: float = PAD
        for item in line:
            name = next(n for n in used if item == f"■ {MEANINGS[n]}")
            fill, stroke, dash = _style(name)
            dashes = f' stroke-dasharray="{dash}"' if dash else ""
            y = key_top + number * 16
            parts.append(
                f'<rect x="{x:.0f}" y="{y + 2:.0f}" width="10" height="10" rx="2" fill="{fill}" '
                f'stroke="{stroke}" stroke-width="1.2"{dashes}/>'
            )
            parts.append(svg_text(x + 14, y + 11, item[2:], size=10, fill="#52606d"))
            x += (len(item) + 4) * SMALL
    description = _description(title, [f"{head} ({detail})" if detail else head for _, head, detail, _ in rows])
    stack: list[tuple[int, float]] = []  # (depth, y of the box's bottom) of the open ancestors
    for index, (depth, head, detail, style) in enumerate(rows):
        y = 30 + index * ROW
        x = PAD + depth * INDENT
        box_width = max(len(head), len(detail) * 0.85) * CHAR + 2 * PAD
        while stack and stack[-1][0] >= depth:
            stack.pop()
        if stack:  # an elbow from the parent's left edge to this box
            parent_x = PAD + stack[-1][0] * INDENT + 10
            parts.append(
                f'<path d="M{parent_x:.0f},{stack[-1][1]:.0f} V{y + 18:.0f} H{x:.0f}" '
                'fill="none" stroke="#9aa5b1" stroke-width="1.2"/>'
            )
        fill, stroke, dash = _style(style)
        dashes = f' stroke-dasharray="{dash}"' if dash else ""
        parts.append(
            f'<rect x="{x:.0f}" y="{y:.0f}" width="{box_width:.0f}" height="36" rx="5" '
            f'fill="{fill}" stroke="{stroke}" stroke-width="1.4"{dashes}/>'
        )
        colour = "#ffffff" if style == "endpoint" else "#1b1f24"
        parts.append(svg_text(x + PAD, y + 15, head, fill=colour, weight="bold"))
        parts.append(svg_text(x + PAD, y + 29, detail, size=10, fill="#d8e1ea" if style == "endpoint" else "#52606d"))
        stack.append((depth, y + 36))
    return svg_document(width, height, parts, description)


def timeline_svg(title: str, lanes: list[str], steps: list[str], marks: list[tuple[str, int, int, int, str]]) -> str:
    """Lanes (rows) against steps (columns): marks are (shape, lane, first step, last step, style).

    Shapes: "bar" spans first..last, "dot" and "ring" sit on one step. Steps are the order events
    happened in, not times, so the picture is the same on every run.
    """
    label_width = max(len(lane) for lane in lanes) * CHAR + 2 * PAD
    column = 26
    top = 46
    lane_height = 26
    width = max(label_width + len(steps) * column + 2 * PAD, len(title) * 13 / 12 * CHAR + 2 * PAD)
    # The legend wraps to the picture's width, which the lanes and steps set, not the legend.
    legend = [
        "● called",
        "○ served from the per-request cache",
        "▬ from start to end",
        "(a yield dependency: to its teardown)",
    ]
    legend_lines = _wrap(legend, max(width - 2 * PAD, 36 * SMALL))
    width = max(
        [width] + [(sum(len(item) for item in line) + 3 * (len(line) - 1)) * SMALL + 2 * PAD for line in legend_lines]
    )
    legend_top = top + len(lanes) * lane_height + 6
    height = legend_top + len(legend_lines) * 14 + PAD
    parts = [svg_text(PAD, 18, title, size=13, weight="bold")]
    for number, line in enumerate(legend_lines):
        parts.append(svg_text(PAD, legend_top + 10 + number * 14, "   ".join(line), size=10, fill="#52606d"))
    for step, label in enumerate(steps):
        x = label_width + step * column + column / 2
        parts.append(svg_text(x - len(label) * 3, top - 10, label, size=10, fill="#52606d"))
    for lane, name in enumerate(lanes):
        y: float = top + lane * lane_height
        if lane % 2 == 0:
            parts.append(f'<rect x="0" y="{y:.0f}" width="{width:.0f}" height="{lane_height}" fill="#f6f8fa"/>')
        parts.append(svg_text(PAD, y + 17, name))
    # Bars first, so a cache hit drawn on top of a running dependency's bar stays visible.
    for shape, lane, first, last, style in sorted(marks, key=lambda mark: mark[0] != "bar"):
        fill, stroke, _ = _style(style)
        y = top + lane * lane_height + lane_height / 2
        x1 = label_width + first * column + column / 2
        x2 = label_width + last * column + column / 2
        if shape == "bar":
            parts.append(
                f'<rect x="{x1 - 7:.0f}" y="{y - 7:.0f}" width="{x2 - x1 + 14:.0f}" height="14" rx="7" '
                f'fill="{fill}" stroke="{stroke}" stroke-width="1.4"/>'
            )
        elif shape == "ring":
            parts.append(
                f'<circle cx="{x1:.0f}" cy="{y:.0f}" r="6" fill="#ffffff" stroke="{stroke}" '
                'stroke-width="1.6" stroke-dasharray="3 2"/>'
            )
        else:
            parts.append(f'<circle cx="{x1:.0f}" cy="{y:.0f}" r="6" fill="{stroke}"/>')
    said = {
        "bar": "steps {first} to {last}",
        "ring": "served from the cache at step {first}",
        "dot": "called at step {first}",
    }
    events = [
        f"{lanes[lane]}: " + said.get(shape, said["dot"]).format(first=first + 1, last=last + 1)
        for shape, lane, first, last, _ in sorted(marks, key=lambda mark: (mark[2], mark[1]))
    ]
    return svg_document(width, height, parts, _description(title, events))


def svg_document(width: float, height: float, parts: list[str], description: str = "") -> str:
    """The picture; `description` (escaped) becomes its <title>, which the site uses as alt text."""
    described = f"<title>{description}</title>" if description else ""
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height:.0f}" '
        f'viewBox="0 0 {width:.0f} {height:.0f}" role="img">' + described + "".join(parts) + "</svg>"
    )
