"""A Sphinx extension: outputs as a reader meets them.

Pictures: an SVG output that describes itself in a <title> (book/learner/drawing.py's pictures do) gets
that description as its alt text on the page, instead of the file name (a hash).

Status: the execution table (``{nb-exec-table}``) lists each notebook by its page title, says in
words whether it ran ("✅ ran without errors"), and how long it took; not file paths, file times
or the cache's "Method".

Streams: join a cell's stream chunks as they were written.

A kernel may send one print() as several chunks (its output is flushed on a timer, and print
writes each argument separately). myst-nb's nb_merge_streams joins chunks but ends each one with
a newline, so an unlucky flush splits a printed line in two on the page, once in a while. Joined
as written, as nbval joins them, the page shows what the cell printed.
"""

from __future__ import annotations

import html
import re
from typing import TYPE_CHECKING, Any

import myst_nb.core.render
import myst_nb.ext.execution_tables
from docutils import nodes
from myst_nb.core import utils
from myst_nb.core.render import NbElementRenderer
from sphinx.addnodes import pending_xref

if TYPE_CHECKING:
    from myst_nb.core.render import MimeData
    from sphinx.application import Sphinx

Output = dict[str, Any]  # one output of a notebook cell, as JSON

_original = utils.coalesce_streams
_render_image = NbElementRenderer.render_image
SVG_TITLE = re.compile(r"<svg\b[^>]*>\s*<title>(.*?)</title>", re.S)


def alt_text(svg: str) -> str:
    """The description an SVG gives in its <title>, as plain text; "" without one."""
    found = SVG_TITLE.search(svg)
    return " ".join(html.unescape(found.group(1)).split()) if found else ""


def render_image(self: NbElementRenderer, data: MimeData) -> list[nodes.Element]:
    """myst-nb's image, with the SVG's own description as its alt text."""
    image_nodes: list[nodes.Element] = _render_image(self, data)
    if data.mime_type == "image/svg+xml" and (alt := alt_text(data.string)):
        for node in image_nodes:
            node.setdefault("alt", alt)
    return image_nodes


def coalesce_streams(outputs: list[Output] | None) -> list[Output]:
    """myst-nb's coalesce_streams, after joining each stream's chunks as they were written."""
    joined: list[Output] = []
    streams: dict[str, Output] = {}
    for output in outputs or []:
        if output["output_type"] == "stream" and output["name"] in streams:
            streams[output["name"]]["text"] += output["text"]
            continue
        if output["output_type"] == "stream":
            streams[output["name"]] = output
        joined.append(output)
    tidied: list[Output] = _original(joined)  # one chunk per stream now: the original only tidies \r, \b and the order
    return tidied


STATUS_HEADERS = ("Page", "Status", "Run time")


def status_table(parent_docname: str, metadata: dict[str, dict[str, Any]]) -> nodes.table:
    """The execution table as a learner reads it: page titles, a word with each icon, seconds."""
    table = nodes.table(classes=["colwidths-auto", "course-status"])
    group = nodes.tgroup(cols=len(STATUS_HEADERS))
    table += group
    for _ in STATUS_HEADERS:
        group += nodes.colspec(colwidth=1)
    head = nodes.thead()
    group += head
    head += nodes.row("", *[nodes.entry("", nodes.paragraph(text=name)) for name in STATUS_HEADERS])
    body = nodes.tbody()
    group += body
    for docname in sorted(metadata):
        data = metadata[docname].get("exec_data")
        if not data:
            continue
        link = pending_xref(
            refdoc=parent_docname,
            reftarget="/" + docname,
            reftype="doc",
            refdomain="std",
            refexplicit=False,
            refwarn=True,
            classes=["xref", "doc"],
        )
        link += nodes.inline(text=docname)
        if data.get("succeeded"):
            status = nodes.paragraph(text="✅ ran without errors")
        else:
            status = nodes.paragraph(text=f"❌ failed: {(data.get('error') or 'see the build log').strip()}")
        runtime = data.get("runtime")
        seconds = nodes.paragraph(text="-" if runtime is None else f"{runtime:.1f} s")
        body += nodes.row(
            "", nodes.entry("", nodes.paragraph("", "", link)), nodes.entry("", status), nodes.entry("", seconds)
        )
    return table


def setup(app: Sphinx) -> dict[str, Any]:
    """Sphinx's entry point: put this module's three functions in place of myst-nb's."""
    myst_nb.core.render.coalesce_streams = coalesce_streams
    NbElementRenderer.render_image = render_image
    myst_nb.ext.execution_tables.make_stat_table = status_table
    return {"parallel_read_safe": True, "parallel_write_safe": True}
