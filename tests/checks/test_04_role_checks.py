"""Hidden checks for exercise 04, role checks.

Every caller against every endpoint; 401 before 403; the admin router protected as a whole; a
RequiresRole that works in any app; and a role check that runs once per request.
"""

from typing import Annotated

from fastapi import Depends, FastAPI

import book
from book import apps
from book.checks import check, expect, expect_response, resolved

EXERCISE = "04-role-checks"

CALLERS = [None, "Vera", "Eddie", "Ada"]  # nobody, viewer, editor, admin
MATRIX = {
    ("GET", "/notes"): [401, 200, 200, 200],
    ("POST", "/notes?title=Hello"): [401, 403, 201, 201],
    ("GET", "/admin/users"): [401, 403, 403, 200],
    ("POST", "/admin/reset"): [401, 403, 403, 200],
}


def as_user(notebook, name):
    return notebook.as_user(name)


def fake_user(notebook, role):
    return notebook.User(id=90, name=f"Test {role}", role=role, token_hash="")


@check(points=3, hint="""Viewers read notes; editors and admins also add them; only admins reach /admin.
    Nobody logged in gets 401 everywhere. RequiresRole raises HTTPException(403) when user.role is not
    one of its roles.""")
async def test_every_caller_on_every_endpoint(notebook, client):
    for (method, path), statuses in MATRIX.items():
        for name, status in zip(CALLERS, statuses):
            response = await client.request(method, path, headers=as_user(notebook, name))
            expect_response(response, status=status,
                            called=f"{method} {path} as {name or 'nobody'} ({dict(zip(CALLERS, ['no token', 'viewer', 'editor', 'admin']))[name]})")


@check(points=2, hint="""A request whose user is unknown is 401 with WWW-Authenticate: Bearer on every
    route, admin routes included: RequiresRole depends on CurrentUser, so the user is resolved (or
    refused) before the role is looked at. Never answer 403 to someone you could not identify.""")
async def test_nobody_is_401_before_any_role_check(client):
    for method, path in MATRIX:
        for header in ({}, {"Authorization": "Bearer no-such-token"}, {"Authorization": "Basic eA=="}):
            expect_response(await client.request(method, path, headers=header), status=401,
                            headers={"WWW-Authenticate": "Bearer"},
                            called=f"{method} {path} with {header.get('Authorization', 'no Authorization header').split(' ')[0]}")


@check(points=1, hint="""POST /notes answers 201 with {"title": <the title>, "by": <the user's name>}
    and the note then shows in GET /notes.""")
async def test_adding_a_note_says_who(notebook, client):
    added = await client.post("/notes", params={"title": "Ship it"}, headers=as_user(notebook, "Eddie"))
    expect_response(added, status=201, json={"title": "Ship it", "by": "Eddie"})
    expect_response(await client.get("/notes", headers=as_user(notebook, "Vera")), status=200,
                    json=["Welcome", "Ship it"], called="GET /notes as Vera, after Eddie added 'Ship it'")
    expect_response(await client.post("/admin/reset", headers=as_user(notebook, "Ada")), status=200,
                    json={"reset": True})
    expect_response(await client.get("/notes", headers=as_user(notebook, "Vera")), status=200, json=["Welcome"],
                    called="GET /notes after POST /admin/reset")


@check(points=2, hint="""Protect the admin router as a whole: APIRouter(prefix="/admin",
    dependencies=[Depends(<a RequiresRole instance>)]). Then every route added to it is checked,
    even one whose author forgets.""")
async def test_the_admin_router_is_protected_as_a_whole(notebook, app):
    for route in ("GET /admin/users", "POST /admin/reset"):
        try:
            graph = book.graph(app, route)
        except LookupError as exc:
            expect(False, called=f"book.graph(app, {route!r})", got=str(exc), expected="the route")
        checks = [node for node in graph.nodes()[1:]
                  if isinstance(node.call, notebook.RequiresRole) and node.declared == "router"]
        expect(bool(checks), called=f"the dependencies of {route}", got="no RequiresRole from the router",
               expected="a RequiresRole in the router's dependencies=[...]", seen=str(graph))


@check(points=2, hint="""RequiresRole must work in any app: RequiresRole("viewer", "editor") is a dependency
    that returns the current user when user.role is one of the roles given, else raises 403.
    Its __call__ takes the user as a CurrentUser parameter.""")
async def test_requires_role_works_in_any_app(notebook):
    other = FastAPI()

    @other.get("/either")
    async def either(user: Annotated[notebook.User, Depends(notebook.RequiresRole("viewer", "editor"))]) -> dict:
        return {"name": user.name}

    for role, status in (("viewer", 200), ("editor", 200), ("admin", 403), ("guest", 403)):
        other.dependency_overrides[notebook.get_current_user] = lambda role=role: fake_user(notebook, role)
        async with apps.serving(other) as asgi_app, apps.client(asgi_app) as client:
            response = await client.get("/either")
        expect(response.status_code == status,
               called=f'GET /either, an endpoint guarded by RequiresRole("viewer", "editor"), as a user with role {role!r}',
               got=response.status_code, expected=str(status))


@check(points=2, hint="""Every role check must get the user from CurrentUser (get_current_user), so
    that tests can override get_current_user once and act as any user, without tokens.""")
async def test_overriding_the_current_user_reaches_every_role_check(notebook, app, client):
    for role, expected in (("admin", [200, 201, 200]), ("viewer", [403, 403, 200])):
        app.dependency_overrides[notebook.get_current_user] = lambda role=role: fake_user(notebook, role)
        got = [(await client.get("/admin/users")).status_code,
               (await client.post("/notes", params={"title": "x"})).status_code,
               (await client.get("/notes")).status_code]
        expect(got == expected, called=f"GET /admin/users, POST /notes, GET /notes with no token, "
                                       f"get_current_user overridden by a {role}",
               got=got, expected=str(expected), seen=resolved(app, "GET /admin/users"))


@check(points=1, hint="""Each RequiresRole(...) you write is its own dependency, with its own cache key:
    an endpoint that gets one from its router and another from a parameter runs the check twice.
    Make each instance once (require_admin = RequiresRole("admin")) and reuse it everywhere.""")
async def test_a_role_check_runs_once_per_request(notebook, app):
    for method, path, name in (("GET", "/admin/users", "Ada"), ("POST", "/admin/reset", "Ada"),
                               ("POST", "/notes", "Eddie")):
        trace = await book.trace(app, method, path, params={"title": "t"} if path == "/notes" else None,
                                 headers=as_user(notebook, name))
        runs = sum(1 for event in trace.events if event.kind == "call" and event.who.startswith("RequiresRole"))
        expect(runs == 1, called=f"{method} {path} as {name}, traced", got=f"role checks ran {runs} times",
               expected="once", seen=str(trace))
