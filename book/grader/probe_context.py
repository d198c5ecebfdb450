"""What a probe sees in a notebook's process: the notebook's module and app, the lifespan's state, the handles kept.

Also how that process words what it sends about the learner's code: one short line, never a page.
"""

from __future__ import annotations

import json
import types
from typing import Any

MAX_TEXT = 400  # any text the agent sends about the learner's code: a line, not a page


def short(text: str, limit: int = MAX_TEXT) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def error_line(exc: BaseException) -> str:
    message = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return short(f"{type(exc).__name__}: {message}" if message else type(exc).__name__)


class Context:
    """What a probe sees: the notebook's module and app, the lifespan's state, the handles kept."""

    def __init__(self, module: types.ModuleType | None) -> None:
        self.nb = module
        self.served: Any = None  # the app with its lifespan running (book.apps.serving)
        self.handles: dict[int, Any] = {}

    @property
    def app(self) -> Any:
        from fastapi import FastAPI

        app = getattr(self.nb, "app", None)
        if not isinstance(app, FastAPI):
            got = "nothing" if app is None else type(app).__name__
            raise ProbeError(f"the notebook must define `app = FastAPI(...)`; `app` is {got}")
        return app

    @property
    def state(self) -> dict[str, Any]:
        return getattr(self.served, "lifespan_state", {}) if self.served is not None else {}

    def keep(self, value: Any) -> dict[str, Any]:
        number = len(self.handles) + 1
        self.handles[number] = value
        return {"$handle": number, "type": type(value).__name__}

    def resolve(self, value: Any) -> Any:
        if isinstance(value, dict):
            if set(value) <= {"$handle", "type"} and "$handle" in value:
                if value["$handle"] not in self.handles:
                    raise ProbeError(f"no handle {value['$handle']}")
                return self.handles[value["$handle"]]
            return {key: self.resolve(item) for key, item in value.items()}
        if isinstance(value, list):
            return [self.resolve(item) for item in value]
        return value


class ProbeError(Exception):
    """A probe could not do what it was asked; the message is for the learner."""


def as_data(value: Any, ctx: Context) -> Any:
    """`value` as JSON, or a handle to it when it is not plain data."""
    try:
        text = json.dumps(value, allow_nan=False)
    except (TypeError, ValueError, RecursionError):
        return ctx.keep(value)
    return json.loads(text)  # plain types only: a str subclass's methods never reach the judge's side
