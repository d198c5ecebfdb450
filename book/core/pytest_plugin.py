"""The course's pytest plugin (an entry point, so every pytest run in the venv loads it).

It only makes nbval start its kernels on Unix sockets: two pytest-xdist workers, or a batch graded
with ``--jobs 2``, that start kernels at the same moment could otherwise be handed the same TCP
port (book.core.kernels). The hidden checks have a plugin of their own, loaded by name:
``-p book.grader.judge`` (book/grader/judge.py).
"""

from __future__ import annotations

import sys

import pytest


def pytest_configure(config: pytest.Config) -> None:
    if "nbval.kernel" in sys.modules:  # this run starts kernels: on Unix sockets, which cannot collide
        from book.core import kernels

        kernels.use_in_nbval()
