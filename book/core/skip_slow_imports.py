"""Loaded first by pytest (``-p book.core.skip_slow_imports``): skip one optional import worth 1.5 s.

nbformat imports jsonschema, which imports ``rfc3987_syntax`` when it is installed (it comes with
JupyterLab's dependencies) and that builds a parser grammar at import time, in every process that
reads a notebook. nbformat's schema never checks IRI syntax, so marking the module missing loses
nothing here; jsonschema already treats it as optional.
"""

import sys

sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]  # None: "missing", as import sees it
