"""A Sphinx extension: let a page say something different in each edition of the site.

book/site.py sets ``course_edition`` ("full" or "class"), and this turns it into a Sphinx tag,
``full_edition`` or ``class_edition``, for the ``only`` directive. The class edition leaves the
Solutions part out, so a page that points learners to the solutions says so only in the full one:

    ```{only} full_edition
    Solutions are in a separate part at the end: try first.
    ```
"""

from __future__ import annotations

EDITIONS = ("full", "class")


def _add_tag(app, config) -> None:
    if config.course_edition not in EDITIONS:
        raise ValueError(f"course_edition must be one of {', '.join(EDITIONS)}, not {config.course_edition!r}")
    app.tags.add(f"{config.course_edition}_edition")


def setup(app):
    app.add_config_value("course_edition", "full", "env", types=[str])
    app.connect("config-inited", _add_tag)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
