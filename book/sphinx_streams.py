"""A Sphinx extension: join a cell's stream chunks as they were written.

A kernel may send one print() as several chunks (its output is flushed on a timer, and print
writes each argument separately). myst-nb's nb_merge_streams joins chunks but ends each one with
a newline, so an unlucky flush splits a printed line in two on the page, once in a while. Joined
as written, as nbval joins them, the page shows what the cell printed.
"""

from __future__ import annotations

import myst_nb.core.render
from myst_nb.core import utils

_original = utils.coalesce_streams


def coalesce_streams(outputs):
    joined, streams = [], {}
    for output in outputs or []:
        if output["output_type"] == "stream" and output["name"] in streams:
            streams[output["name"]]["text"] += output["text"]
            continue
        if output["output_type"] == "stream":
            streams[output["name"]] = output
        joined.append(output)
    return _original(joined)  # one chunk per stream now: the original only tidies \r, \b and the order


def setup(app):
    myst_nb.core.render.coalesce_streams = coalesce_streams
    return {"parallel_read_safe": True, "parallel_write_safe": True}
