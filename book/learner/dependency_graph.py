"""The dependency graph FastAPI resolves for one route, read from FastAPI's own ``dependant`` tree.

``graph(app, "GET /notes")`` returns a Graph: ``print()`` it for a text tree (stable enough for
strict nbval), or display it in Jupyter for the same tree as an SVG picture (no Graphviz needed).
"""

from __future__ import annotations

import gc
import inspect
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.dependencies.utils import get_dependant
from fastapi.security.base import SecurityBase

from book.learner import drawing


@dataclass
class Route:
    """One route as FastAPI runs it: its endpoint's dependant and where each dependency came from."""

    method: str
    path: str
    dependant: Dependant
    levels: dict[int, str]  # id(Depends) -> "app", "include_router", "router" or "decorator"
    dependencies: list[Any]  # the route's dependencies=[...] (all levels), in the order FastAPI runs them


@dataclass
class Node:
    name: str  # the parameter name, or "" for a dependencies=[...] entry
    call: object
    kind: str  # "function", "async function", "generator", "async generator", "class", "instance"
    label: str  # how the callable is shown
    scope: str | None  # "request" or "function" for yield dependencies
    declared: str  # "endpoint", "app", "include_router", "router", "decorator" or "parameter"
    use_cache: bool = True
    shared: bool = False  # resolved once, reused by another branch of this graph
    cached: bool = False  # this occurrence is served from the per-request cache
    scopes: tuple[str, ...] = ()  # OAuth2 scopes it sees (its parents' and its own)
    uses_scopes: bool = False  # FastAPI's test: then the scopes are part of its cache key
    cache_scope: str = ""  # the yield scope in its cache key, from the declared (not overriding) callable
    params: tuple[str, ...] = ()  # request parameters it reads, as "query skip"
    overridden_by: str = ""
    children: list[Node] = field(default_factory=list)

    def walk(self, depth: int = 0) -> Iterator[tuple[int, Node]]:
        yield depth, self
        for child in self.children:
            yield from child.walk(depth + 1)

    @property
    def badges(self) -> list[str]:
        found = [self.kind]
        if self.scope:
            found.append(f"{self.scope} scope")
        if self.declared not in ("endpoint", "parameter"):
            found.append(f"from {self.declared}")
        if not self.use_cache:
            found.append("use_cache=False: fresh each time")
        elif self.cached:
            found.append("cached: reuses the value above")
        elif self.shared:
            found.append("shared")
        if self.uses_scopes and self.scopes:
            found.append("scopes " + ",".join(self.scopes))
        if self.overridden_by:
            found.append(f"overridden by {self.overridden_by}")
        return found


class Graph(drawing.TextAndPicture):
    """The resolved dependency graph of one route."""

    def __init__(self, route: Route, root: Node) -> None:
        self.route, self.root = route, root

    def nodes(self) -> list[Node]:
        return [node for _, node in self.root.walk()]

    def calls(self, target: object) -> int:
        """How many times one request calls `target` (cache hits not counted)."""
        return sum(1 for node in self.nodes()[1:] if _same_call(node.call, target) and not node.cached)

    def __str__(self) -> str:
        lines = [f"{self.route.method} {self.route.path}"]
        lines += _tree_lines(self.root, prefix="", last=True, top=True)
        return "\n".join(lines)

    def _repr_svg_(self) -> str:
        rows = [(depth, _title(node), " · ".join(node.badges), _style(node)) for depth, node in self.root.walk()]
        return drawing.tree_svg(f"{self.route.method} {self.route.path}", rows)


def _title(node: Node) -> str:
    shown = f"{node.name}: {node.label}" if node.name else node.label
    if node.params:
        shown += "  (" + ", ".join(node.params) + ")"
    return shown


def _style(node: Node) -> str:
    if node.declared == "endpoint":
        return "endpoint"
    if node.cached:
        return "cached"
    if node.overridden_by:
        return "overridden"
    return node.kind.replace(" ", "-")


def _tree_lines(node: Node, prefix: str, last: bool, top: bool = False) -> list[str]:
    line = f"{_title(node)}  [{', '.join(node.badges)}]"
    if top:
        lines, inner = [line], ""
    else:
        lines = [prefix + ("└── " if last else "├── ") + line]
        inner = prefix + ("    " if last else "│   ")
    for index, child in enumerate(node.children):
        lines += _tree_lines(child, inner, index == len(node.children) - 1)
    return lines


def graph(app: FastAPI, route: str) -> Graph:
    """The graph of `route` ("GET /notes": a method and a path as declared, or a concrete path)."""
    method, _, path = route.strip().partition(" ")
    if not path:
        raise ValueError(f"say the method and the path, e.g. 'GET /notes', not {route!r}")
    found = find_route(app, method.upper(), path.strip())
    overrides = dict(getattr(app, "dependency_overrides", {}) or {})
    endpoint = found.dependant.call
    root = Node(
        name="",
        call=endpoint,
        kind=callable_kind(endpoint),
        label=callable_label(endpoint),
        scope=None,
        declared="endpoint",
        params=_params(found.dependant),
    )
    root.children = _children(found.dependant, found, overrides)
    _mark_cache(root)
    return Graph(found, root)


def _children(dependant: Dependant, route: Route | None, overrides: dict[Any, Any]) -> list[Node]:
    levels: dict[int, str] = {}
    if route is not None:
        # FastAPI puts the dependencies=[...] entries first, in order, then the parameters.
        for depends, sub in zip(route.dependencies, dependant.dependencies, strict=False):
            levels[id(sub)] = route.levels.get(id(depends), "decorator")
    return [
        _node(sub, name=sub.name or "", declared=levels.get(id(sub), "parameter"), overrides=overrides)
        for sub in dependant.dependencies
    ]


def _node(dependant: Dependant, *, name: str, declared: str, overrides: dict[Any, Any]) -> Node:
    call = dependant.call
    scopes = tuple(dict.fromkeys([*(dependant.parent_oauth_scopes or []), *(dependant.own_oauth_scopes or [])]))
    replacement = overrides.get(call)
    runs = dependant
    if replacement is not None:
        # What FastAPI does per request: analyse the override as a dependency of its own.
        runs = get_dependant(
            path=dependant.path or "",
            call=replacement,
            name=dependant.name,
            parent_oauth_scopes=list(scopes),
            scope=dependant.scope,
        )
    declared_scope = dependant.scope or ("request" if "generator" in callable_kind(call) else "")
    node = Node(
        name=name,
        call=call,
        kind=callable_kind(runs.call),
        label=callable_label(call),
        scope=dependant.scope or ("request" if "generator" in callable_kind(runs.call) else None),
        cache_scope=declared_scope,
        declared=declared,
        use_cache=dependant.use_cache,
        scopes=scopes,
        params=_params(runs),
        overridden_by=callable_label(replacement) if replacement is not None else "",
    )
    node.children = _children(runs, None, overrides)
    node.uses_scopes = bool(
        dependant.own_oauth_scopes
        or dependant.security_scopes_param_name
        or isinstance(unwrapped(call), SecurityBase)
        or any(child.uses_scopes for child in node.children)
    )
    return node


def _same_call(call: object, target: object) -> bool:
    """One cache entry for FastAPI: the same callable, or an equal one with the same hash."""
    if call is target:
        return True
    try:
        return bool(_hashable(call) and _hashable(target) and hash(call) == hash(target) and call == target)
    except Exception:  # a learner's __eq__ that raises is not equal
        return False


def _hashable(value: object) -> bool:
    try:
        hash(value)
    except TypeError:
        return False
    return True


def _mark_cache(root: Node) -> None:
    """Mark repeats as FastAPI's per-request cache serves them: key = (callable, scopes, yield scope)."""
    seen: dict[tuple[object, tuple[str, ...], str], Node] = {}
    # FastAPI resolves children before their parent (post-order), so the first in that order is called.
    for node in post_order(root)[:-1]:
        if not node.use_cache:
            continue
        # The callable itself, as FastAPI keys its cache: two equal instances (a frozen dataclass
        # made twice) are one entry; id() only for a callable that cannot be hashed.
        call = node.call if _hashable(node.call) else id(node.call)
        key = (call, tuple(sorted(set(node.scopes))) if node.uses_scopes else (), node.cache_scope)
        if key in seen:
            node.cached = True
            seen[key].shared = True
        else:
            seen[key] = node


def post_order(node: Node) -> list[Node]:
    """The nodes children first, in the order FastAPI resolves them; the root comes last."""
    order: list[Node] = []
    for child in node.children:
        order += post_order(child)
    return [*order, node]


def _params(dependant: Dependant) -> tuple[str, ...]:
    found: list[str] = []
    for where, fields in (
        ("path", dependant.path_params),
        ("query", dependant.query_params),
        ("header", dependant.header_params),
        ("cookie", dependant.cookie_params),
        ("body", dependant.body_params),
    ):
        found += [f"{where} {field.alias}" for field in fields]
    return tuple(found)


def unwrapped(call: object) -> object:
    """The callable a dependency runs: through functools.partial and decorators' __wrapped__."""
    while isinstance(call, partial):
        call = call.func
    return inspect.unwrap(call) if callable(call) else call


def callable_kind(call: object) -> str:
    """What kind of callable FastAPI sees: "function", "async generator", "class", "instance, generator"..."""
    target = unwrapped(call)
    if inspect.isclass(target):
        return "class"
    function = target if inspect.isroutine(target) else getattr(target, "__call__", None)  # noqa: B004 (the method)
    prefix = "" if inspect.isroutine(target) else "instance, "
    if inspect.isasyncgenfunction(function):
        return prefix + "async generator"
    if inspect.isgeneratorfunction(function):
        return prefix + "generator"
    if inspect.iscoroutinefunction(function):
        return prefix + "async function"
    return prefix + "function" if prefix else "function"


def callable_label(call: object) -> str:
    """How a dependency is shown: its name, or a short repr for an instance."""
    target = unwrapped(call)
    if inspect.isroutine(target) or inspect.isclass(target):
        return getattr(target, "__name__", repr(target))
    own_repr = type(target).__repr__ is not object.__repr__
    kind = type(target)
    text = repr(target).replace(f"{kind.__qualname__}(", f"{kind.__name__}(") if own_repr else f"{kind.__name__}()"
    return text if len(text) <= 48 else text[:45] + "..."


def find_route(app: FastAPI, method: str, path: str) -> Route:
    """The route FastAPI would run for `method` and `path`, with where each dependency was declared."""
    app_level = {id(depends): "app" for depends in app.router.dependencies}
    candidates: list[tuple[str, set[str] | None, Any, Dependant, dict[int, str], list[Any]]] = []
    for route in app.router.routes:
        contexts = getattr(route, "effective_route_contexts", None)
        if contexts is not None:  # an included router (FastAPI 0.16x resolves these lazily)
            for context in contexts():
                if getattr(context, "dependant", None) is None:
                    continue
                declared_on_route = list(map(id, context.original_route.dependencies))
                levels = {
                    key: "include_router" for key in map(id, context.dependencies) if key not in declared_on_route
                }
                levels.update(dict.fromkeys(declared_on_route, "decorator"))
                router = _router_of(route, context.original_route)
                levels.update(dict.fromkeys(map(id, getattr(router, "dependencies", [])), "router"))
                levels.update(app_level)
                candidates.append(
                    (context.path, context.methods, context.path_regex, context.dependant, levels, context.dependencies)
                )
        elif getattr(route, "dependant", None) is not None:
            analysed: Any = route  # an APIRoute: FastAPI analysed its endpoint
            levels = dict.fromkeys(map(id, analysed.dependencies), "decorator")
            levels.update(app_level)
            candidates.append(
                (
                    analysed.path,
                    analysed.methods,
                    analysed.path_regex,
                    analysed.dependant,
                    levels,
                    analysed.dependencies,
                )
            )
    for exact in (True, False):
        for route_path, methods, regex, dependant, levels, dependencies in candidates:
            if method in (methods or ()) and (route_path == path if exact else regex.match(path)):
                return Route(method, route_path, dependant, levels, list(dependencies))
    known = sorted(f"{m} {p}" for p, methods, *_ in candidates for m in methods or () if m != "HEAD")
    raise LookupError(f"no route {method} {path}; the app has: {', '.join(known) or 'no routes'}")


def _router_of(included: object, original_route: object) -> Any:
    """The APIRouter the route was declared on (its own dependencies=[...] are "router" level)."""
    router = getattr(getattr(included, "include_context", None), "included_router", None)
    if router is not None and original_route in router.routes:
        return router
    for candidate in gc.get_referrers(original_route):  # nested includes: find the list's owner
        for owner in gc.get_referrers(candidate):
            if getattr(owner, "routes", None) is candidate:
                return owner
    return None
