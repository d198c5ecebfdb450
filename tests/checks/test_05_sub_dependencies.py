"""Hidden checks for exercise 05, sub-dependencies.

Tenants never see each other's projects (and cannot tell them from missing ones); the validator
guards every project route; the organisation comes from a dependency; one session per request.
"""

import book
from book.checks import check, expect, expect_response, resolved

EXERCISE = "05-sub-dependencies"

OWN = {"Ada": {1: "Rocket skates", 3: "Giant magnet", 5: "Tunnel paint"},
       "Hank": {2: "Doomsday device", 4: "Volcano lair"}}
ROUTES = ["GET /projects/{id}", "GET /projects/{id}/tasks", "PATCH /projects/{id}?name=Renamed"]


async def call(client, notebook, route, project_id, who):
    method, path = route.split(" ")
    path, _, query = path.format(id=project_id).partition("?")
    params = dict([query.split("=")]) if query else None
    return await client.request(method, path, params=params, headers=notebook.as_user(who))


@check(points=2, hint="""Each user sees the projects of their own organisation: filter on
    Project.org_id == org.id, where org comes from CurrentOrg.""")
async def test_each_tenant_lists_its_own_projects(notebook, client):
    for who, projects in OWN.items():
        expect_response(await client.get("/projects", headers=notebook.as_user(who)), status=200,
                        json=[{"id": pid, "name": name} for pid, name in projects.items()],
                        called=f"GET /projects as {who}")


@check(points=1, hint="""GET /projects/{project_id} answers {"id", "name"} for a project of the caller's
    organisation, and its tasks' titles come from GET /projects/{project_id}/tasks.""")
async def test_own_projects_and_their_tasks(notebook, client):
    for who, projects in OWN.items():
        for pid, name in projects.items():
            expect_response(await client.get(f"/projects/{pid}", headers=notebook.as_user(who)), status=200,
                            json={"id": pid, "name": name}, called=f"GET /projects/{pid} as {who}")
            expect_response(await client.get(f"/projects/{pid}/tasks", headers=notebook.as_user(who)), status=200,
                            json=[f"{name}: step 1", f"{name}: step 2"], called=f"GET /projects/{pid}/tasks as {who}")


@check(points=3, hint="""Another organisation's project must get exactly the same answer as a project
    that does not exist: 404, same body. Load "this id in this organisation" in one query, and raise
    the same HTTPException when it finds nothing. A 403 tells the caller the project exists.""")
async def test_another_tenants_project_is_indistinguishable_from_a_missing_one(notebook, client):
    for who, other in (("Ada", "Hank"), ("Hank", "Ada")):
        for route in ROUTES:
            missing = await call(client, notebook, route, 999, who)
            expect_response(missing, status=404, called=f"{route.format(id=999)} as {who} (no such project)")
            for pid in OWN[other]:
                foreign = await call(client, notebook, route, pid, who)
                expect(foreign.status_code == 404 and foreign.content == missing.content,
                       called=f"{route.format(id=pid)} as {who} ({other}'s project)",
                       got=f"{foreign.status_code} {foreign.text}",
                       expected=f"exactly what a missing project gets: {missing.status_code} {missing.text}")


@check(points=2, hint="""PATCH renames the project through the request's session and commits; a
    foreign project is refused (404) and stays as it was.""")
async def test_rename_own_project_only(notebook, client):
    renamed = await client.patch("/projects/3", params={"name": "Bigger magnet"}, headers=notebook.as_user("Ada"))
    expect_response(renamed, status=200, json={"id": 3, "name": "Bigger magnet"})
    expect_response(await client.get("/projects/3", headers=notebook.as_user("Ada")), status=200,
                    json={"id": 3, "name": "Bigger magnet"}, called="GET /projects/3 as Ada, after renaming it")
    expect_response(await client.patch("/projects/4", params={"name": "Mine now"}, headers=notebook.as_user("Ada")),
                    status=404, called="PATCH /projects/4?name=Mine now as Ada (Globex's project)")
    expect_response(await client.get("/projects/4", headers=notebook.as_user("Hank")), status=200,
                    json={"id": 4, "name": "Volcano lair"}, called="GET /projects/4 as Hank, after Ada's attempt")


@check(points=2, hint="""The organisation must come from CurrentOrg everywhere (the list and the
    validator), so that overriding get_current_org changes which projects every endpoint sees.""")
async def test_the_organisation_comes_from_the_dependency(notebook, app, client):
    async with notebook.SessionLocal() as session:
        globex = await session.get(notebook.Org, 2)
    app.dependency_overrides[notebook.get_current_org] = lambda: globex
    headers = notebook.as_user("Ada")  # Ada, but the organisation says Globex
    expect_response(await client.get("/projects", headers=headers), status=200,
                    json=[{"id": 2, "name": "Doomsday device"}, {"id": 4, "name": "Volcano lair"}],
                    called="GET /projects as Ada, with get_current_org overridden to Globex",
                    seen=resolved(app, "GET /projects"))
    expect_response(await client.get("/projects/2", headers=headers), status=200,
                    json={"id": 2, "name": "Doomsday device"},
                    called="GET /projects/2 as Ada, with get_current_org overridden to Globex",
                    seen=resolved(app, "GET /projects/{project_id}"))
    expect_response(await client.get("/projects/1", headers=headers), status=404,
                    called="GET /projects/1 as Ada, with get_current_org overridden to Globex")


@check(points=2, hint="""Every project route must get its project from ProjectDep, so that the ownership
    check cannot be forgotten by one endpoint: the validator is in each of their graphs.""")
async def test_every_project_route_uses_the_validator(notebook, app):
    for route in ("GET /projects/{project_id}", "PATCH /projects/{project_id}", "GET /projects/{project_id}/tasks"):
        try:
            graph = book.graph(app, route)
        except LookupError as exc:
            expect(False, called=f"book.graph(app, {route!r})", got=str(exc), expected="the route")
        expect(graph.calls(notebook.get_project) == 1, called=f"the dependencies of {route}",
               got=f"get_project appears {graph.calls(notebook.get_project)} time(s)", expected="get_project once",
               seen=str(graph))


@check(points=2, hint="""One request, one session: every dependency takes DBSession with the default
    use_cache=True, so the session is opened once and shared by the user, the organisation, the
    project and the endpoint. Never Depends(get_session, use_cache=False) here.""")
async def test_one_session_per_request(notebook, app):
    for method, path, params in (("GET", "/projects/1/tasks", None), ("PATCH", "/projects/1", {"name": "x"}),
                                 ("GET", "/projects", None)):
        trace = await book.trace(app, method, path, params=params, headers=notebook.as_user("Ada"))
        expect(trace.calls(notebook.get_session) == 1, called=f"{method} {path} as Ada, traced",
               got=f"get_session ran {trace.calls(notebook.get_session)} times", expected="once", seen=str(trace))
