"""Hidden checks for exercise 07, caching within a request.

The profile is loaded once per request (not once per dependent, not once per process); event ids
are fresh at every use; the dependencies are wired through Profile.
"""

import book
from book.checks import check, expect, expect_response, resolved

EXERCISE = "07-request-cache"


async def dashboard(client, user):
    return await client.get("/dashboard", headers={"X-User": str(user)})


@check(points=1, hint="""GET /dashboard answers {"name", "permissions" (sorted), "theme", "events"} for
    the user in the X-User header, and 404 when load_profile finds nobody.""")
async def test_the_dashboard_answers_for_the_caller(client):
    for user, name, permissions, theme in ((1, "Ada", ["read", "write"], "dark"), (2, "Grace", ["read"], "light")):
        response = await dashboard(client, user)
        expect_response(response, status=200, called=f"GET /dashboard with X-User: {user}")
        body = {key: value for key, value in response.json().items() if key != "events"}
        expect(body == {"name": name, "permissions": permissions, "theme": theme},
               called=f"GET /dashboard with X-User: {user}", got=body,
               expected=str({"name": name, "permissions": permissions, "theme": theme}))
    expect_response(await dashboard(client, 99), status=404, called="GET /dashboard with X-User: 99")


@check(points=2, hint="""The profile must be loaded once per request, however many dependencies need it:
    get_permissions and get_theme take `profile: Profile` instead of calling load_profile themselves,
    and FastAPI's per-request cache gives them all the same value.""")
async def test_the_profile_loads_once_per_request(notebook, app):
    notebook.LOADS.clear()
    trace = await book.trace(app, "GET", "/dashboard", headers={"X-User": "1"})
    loads = dict(notebook.LOADS)
    expect(loads == {1: 1}, called="one GET /dashboard with X-User: 1", got=f"load_profile calls by user: {loads}",
           expected="{1: 1}", seen=str(trace))


@check(points=2, hint="""Nothing may be cached beyond the request: no global dict of profiles, no
    lru_cache. Each request loads its own caller's profile, so users never see each other's.""")
async def test_nothing_is_cached_across_requests_or_users(notebook, client):
    notebook.LOADS.clear()
    names = []
    for user in (1, 2, 1, 2, 2):
        response = await dashboard(client, user)
        names.append(response.json().get("name") if response.status_code == 200 else response.status_code)
    expect(names == ["Ada", "Grace", "Ada", "Grace", "Grace"], called="GET /dashboard as users 1, 2, 1, 2, 2",
           got=names, expected='["Ada", "Grace", "Ada", "Grace", "Grace"]')
    expect(dict(notebook.LOADS) == {1: 2, 2: 3}, called="GET /dashboard as users 1, 2, 1, 2, 2",
           got=f"load_profile calls by user: {dict(notebook.LOADS)}", expected="{1: 2, 2: 3}: one per request")


@check(points=2, hint="""Each use of EventId must get a new id: EventId = Annotated[int,
    Depends(new_event_id, use_cache=False)]. With the default use_cache=True, both parameters share one call.""")
async def test_event_ids_are_fresh_at_every_use(client):
    seen = []
    for _ in range(3):
        response = await dashboard(client, 2)
        expect_response(response, status=200)
        seen.append(response.json().get("events"))
    flat = [event for pair in seen for event in (pair or [])]
    expect(len(flat) == 6 and len(set(flat)) == 6 and flat == sorted(flat), called="GET /dashboard three times",
           got=f"events {seen}", expected="two different ids per request, all new")


@check(points=1, hint="""get_permissions and get_theme must be dependencies on Profile (the alias of
    get_profile), used by the endpoint through Depends.""")
async def test_permissions_and_theme_depend_on_the_profile(notebook, app):
    graph = book.graph(app, "GET /dashboard")
    parents = {node.label: [child.label for child in node.children] for node in graph.nodes()}
    ok = all(parents.get(name) == ["get_profile"] for name in ("get_permissions", "get_theme"))
    expect(ok and graph.calls(notebook.get_profile) == 1, called="the graph of GET /dashboard",
           got=f"get_permissions <- {parents.get('get_permissions')}, get_theme <- {parents.get('get_theme')}",
           expected="each depends on get_profile, which runs once", seen=str(graph))


@check(points=1, hint="""Everything about the caller must come from get_profile, so that overriding it
    (as tests do) changes the name, the permissions and the theme, and loads nothing.""")
async def test_overriding_the_profile_reaches_everything(notebook, app, client):
    notebook.LOADS.clear()
    app.dependency_overrides[notebook.get_profile] = lambda: {"name": "Test", "permissions": ["z", "a"], "theme": "contrast"}
    response = await client.get("/dashboard")
    body = {key: value for key, value in response.json().items() if key != "events"} if response.status_code == 200 else response.text
    expect(body == {"name": "Test", "permissions": ["a", "z"], "theme": "contrast"} and not notebook.LOADS,
           called="GET /dashboard with get_profile overridden, no X-User header",
           got=f"{response.status_code} {body}, load_profile calls: {dict(notebook.LOADS)}",
           expected="200 {'name': 'Test', 'permissions': ['a', 'z'], 'theme': 'contrast'}, no load_profile call",
           seen=resolved(app, "GET /dashboard"))
