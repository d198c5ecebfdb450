"""SVG pictures drawn from text rows: no Graphviz, no fonts to measure, same bytes every time.

Text is monospace, so a width is a count of characters; every number is rounded, so the output
is stable enough for strict nbval.
"""

from __future__ import annotations

from html import escape

class TextAndPicture:
    """Shown as its text by print() and repr(), and as its SVG picture (_repr_svg_) in Jupyter."""

    def __repr__(self) -> str:
        return str(self)

    def _repr_pretty_(self, printer, cycle) -> None:
        printer.text(str(self))


CHAR = 7.2  # width of one 12px monospace character
ROW = 44
INDENT = 26
PAD = 8

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


def _text(x: float, y: float, content: str, *, size: int = 12, fill: str = "#1b1f24", weight: str = "normal") -> str:
    return (f'<text x="{x:.0f}" y="{y:.0f}" font-family="monospace" font-size="{size}" '
            f'font-weight="{weight}" fill="{fill}">{escape(content)}</text>')


def tree_svg(title: str, rows: list[tuple[int, str, str, str]]) -> str:
    """A tree, one box per row: (depth, title, detail, style), in depth-first order."""
    width = max([len(title) * CHAR + 2 * PAD] + [
        depth * INDENT + max(len(head), len(detail) * 0.85) * CHAR + 3 * PAD for depth, head, detail, _ in rows
    ]) + PAD
    height = 30 + len(rows) * ROW + PAD
    parts = [_text(PAD, 18, title, size=13, weight="bold")]
    stack: list[tuple[int, float]] = []  # (depth, y of the box's bottom) of the open ancestors
    for index, (depth, head, detail, style) in enumerate(rows):
        y = 30 + index * ROW
        x = PAD + depth * INDENT
        box_width = max(len(head), len(detail) * 0.85) * CHAR + 2 * PAD
        while stack and stack[-1][0] >= depth:
            stack.pop()
        if stack:  # an elbow from the parent's left edge to this box
            parent_x = PAD + stack[-1][0] * INDENT + 10
            parts.append(f'<path d="M{parent_x:.0f},{stack[-1][1]:.0f} V{y + 18:.0f} H{x:.0f}" '
                         'fill="none" stroke="#9aa5b1" stroke-width="1.2"/>')
        fill, stroke, dash = _style(style)
        dashes = f' stroke-dasharray="{dash}"' if dash else ""
        parts.append(f'<rect x="{x:.0f}" y="{y:.0f}" width="{box_width:.0f}" height="36" rx="5" '
                     f'fill="{fill}" stroke="{stroke}" stroke-width="1.4"{dashes}/>')
        colour = "#ffffff" if style == "endpoint" else "#1b1f24"
        parts.append(_text(x + PAD, y + 15, head, fill=colour, weight="bold"))
        parts.append(_text(x + PAD, y + 29, detail, size=10, fill="#d8e1ea" if style == "endpoint" else "#52606d"))
        stack.append((depth, y + 36))
    return _svg(width, height, parts)


def timeline_svg(title: str, lanes: list[str], steps: list[str], marks: list[tuple[str, int, int, int, str]]) -> str:
    """Lanes (rows) against steps (columns): marks are (shape, lane, first step, last step, style).

    Shapes: "bar" spans first..last, "dot" and "ring" sit on one step. Steps are the order events
    happened in, not times, so the picture is the same on every run.
    """
    label_width = max(len(lane) for lane in lanes) * CHAR + 2 * PAD
    column = 26
    top = 46
    lane_height = 26
    width = label_width + len(steps) * column + 2 * PAD
    height = top + len(lanes) * lane_height + 30
    parts = [_text(PAD, 18, title, size=13, weight="bold")]
    legend = "● called   ○ served from the per-request cache   ▬ from start to end (a yield dependency: to its teardown)"
    parts.append(_text(PAD, height - 10, legend, size=10, fill="#52606d"))
    width = max(width, len(legend) * 6 + 2 * PAD)
    for step, label in enumerate(steps):
        x = label_width + step * column + column / 2
        parts.append(_text(x - len(label) * 3, top - 10, label, size=10, fill="#52606d"))
    for lane, name in enumerate(lanes):
        y = top + lane * lane_height
        if lane % 2 == 0:
            parts.append(f'<rect x="0" y="{y:.0f}" width="{width:.0f}" height="{lane_height}" fill="#f6f8fa"/>')
        parts.append(_text(PAD, y + 17, name))
    # Bars first, so a cache hit drawn on top of a running dependency's bar stays visible.
    for shape, lane, first, last, style in sorted(marks, key=lambda mark: mark[0] != "bar"):
        fill, stroke, _ = _style(style)
        y = top + lane * lane_height + lane_height / 2
        x1 = label_width + first * column + column / 2
        x2 = label_width + last * column + column / 2
        if shape == "bar":
            parts.append(f'<rect x="{x1 - 7:.0f}" y="{y - 7:.0f}" width="{x2 - x1 + 14:.0f}" height="14" rx="7" '
                         f'fill="{fill}" stroke="{stroke}" stroke-width="1.4"/>')
        elif shape == "ring":
            parts.append(f'<circle cx="{x1:.0f}" cy="{y:.0f}" r="6" fill="#ffffff" stroke="{stroke}" '
                         'stroke-width="1.6" stroke-dasharray="3 2"/>')
        else:
            parts.append(f'<circle cx="{x1:.0f}" cy="{y:.0f}" r="6" fill="{stroke}"/>')
    return _svg(width, height, parts)


def _svg(width: float, height: float, parts: list[str]) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height:.0f}" '
            f'viewBox="0 0 {width:.0f} {height:.0f}">' + "".join(parts) + "</svg>")
