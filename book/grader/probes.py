"""Probes: small functions the checks call by name in the agent, next to the learner's code.

Each takes the agent's context (`ctx.nb` the notebook's module, `ctx.app`, `ctx.state` the
lifespan's state, `ctx.handles`) and JSON arguments, and returns JSON, or an object that stays in
the agent and comes back to the judge as a handle. They run among the learner's code, so what they
return is only data to the judge, never a verdict.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

MISSING = {"$missing": True}


def _error(message: str) -> Exception:
    from book.grader.probe_context import ProbeError

    return ProbeError(message)


def value(ctx: Any, name: str) -> Any:
    """A global of the notebook (as JSON, or a handle); {"$missing": true} when it is not defined."""
    return getattr(ctx.nb, name, MISSING) if hasattr(ctx.nb, name) else MISSING


def names(ctx: Any) -> list[str]:
    return sorted(name for name in vars(ctx.nb) if not name.startswith("_"))


def kind(ctx: Any, name: str) -> dict[str, Any]:
    """What a global is: its type's name, whether it is callable, a class, a coroutine function."""
    import inspect

    found = getattr(ctx.nb, name, None)
    return {
        "defined": hasattr(ctx.nb, name),
        "type": type(found).__name__,
        "callable": callable(found),
        "class": inspect.isclass(found),
        "async": inspect.iscoroutinefunction(found),
        "generator": inspect.isgeneratorfunction(found) or inspect.isasyncgenfunction(found),
    }


def call(ctx: Any, name: str, *args: Any) -> Any:
    """Call the notebook's `name` with JSON arguments (handles resolved); its return as data."""
    target = getattr(ctx.nb, name, None)
    if not callable(target):
        raise _error(f"the notebook has no function `{name}`")
    return target(*args)


def construct(ctx: Any, name: str, kwargs: dict[str, Any]) -> Any:
    """An instance of the notebook's class `name` (kept as a handle when not plain data)."""
    target = getattr(ctx.nb, name, None)
    if not callable(target):
        raise _error(f"the notebook has no class `{name}`")
    return target(**kwargs)


def _dependency(ctx: Any, name: str) -> Any:
    target = getattr(ctx.nb, name, None)
    if target is None:
        raise _error(f"the notebook has no `{name}` to override")
    return target


def override(ctx: Any, name: str, replacement: Any) -> None:
    """app.dependency_overrides[<the notebook's name>] = the handle's object (a callable)."""
    if not callable(replacement):
        raise _error(f"the override of {name} is not callable")
    ctx.app.dependency_overrides[_dependency(ctx, name)] = replacement


def override_value(ctx: Any, name: str, result: Any) -> None:
    """Override `name` with a dependency that returns `result` (JSON or a handle's object)."""

    def fixed() -> Any:
        return result

    fixed.__name__ = f"{name}_overridden"
    ctx.app.dependency_overrides[_dependency(ctx, name)] = fixed


def override_instance(ctx: Any, name: str, class_name: str, kwargs: dict[str, Any]) -> None:
    """Override `name` with a dependency returning the notebook's `class_name(**kwargs)`, made per request."""
    factory = getattr(ctx.nb, class_name, None)
    if not callable(factory):
        raise _error(f"the notebook has no class `{class_name}`")

    def made() -> Any:
        return factory(**kwargs)

    made.__name__ = f"{name}_overridden"
    ctx.app.dependency_overrides[_dependency(ctx, name)] = made


def override_recorder(ctx: Any, name: str, result: Any) -> None:
    """Override `name` with a dependency that returns `result` and records each call (see `recorded`)."""
    calls: list[int] = []
    ctx.recorders = getattr(ctx, "recorders", {})
    ctx.recorders[name] = calls

    def recording() -> Any:
        calls.append(len(calls) + 1)
        return result

    recording.__name__ = f"{name}_recorded"
    ctx.app.dependency_overrides[_dependency(ctx, name)] = recording


def recorded(ctx: Any, name: str) -> int:
    """How many times the recorder of `name` was called."""
    return len(getattr(ctx, "recorders", {}).get(name, []))


def checked_out(ctx: Any, engine_name: str = "engine") -> int:
    """How many connections the notebook's engine has checked out of its pool now."""
    engine = getattr(ctx.nb, engine_name, None)
    pool = getattr(getattr(engine, "sync_engine", engine), "pool", None)
    if pool is None or not hasattr(pool, "checkedout"):
        raise _error(f"the notebook has no database engine named `{engine_name}`")
    return int(pool.checkedout())


def clear_overrides(ctx: Any) -> None:
    ctx.app.dependency_overrides.clear()


def graph(ctx: Any, route: str) -> str:
    """The resolved dependency graph of a route, as text ("" when it cannot be drawn)."""
    from book.learner.dependency_graph import graph as draw

    try:
        return str(draw(ctx.app, route))
    except Exception:
        return ""


async def trace(ctx: Any, method: str, path: str, request: dict[str, Any]) -> dict[str, Any]:
    """One traced request: its text, its events and its status."""
    from book.learner.request_trace import trace as traced

    found = await traced(ctx.app, method, path, **request)
    return {
        "text": str(found),
        "status": found.response.status_code if found.response is not None else None,
        "events": [{"kind": event.kind, "who": event.who, "detail": event.detail} for event in found.events],
    }


def state_keys(ctx: Any) -> list[str]:
    return sorted(str(key) for key in ctx.state)


def state_item(ctx: Any, key: str) -> Any:
    if key not in ctx.state:
        return MISSING
    return ctx.state[key]


PROBES: dict[str, Callable[..., Any]] = {
    function.__name__: function
    for function in (
        value,
        names,
        kind,
        call,
        construct,
        override,
        override_value,
        override_instance,
        override_recorder,
        recorded,
        checked_out,
        clear_overrides,
        graph,
        trace,
        state_keys,
        state_item,
    )
}
