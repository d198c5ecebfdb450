"""Hidden checks for exercise 05, sub-dependencies.

Tenants never see each other's projects (and cannot tell them from missing ones); the validator
guards every project route; the organisation comes from a dependency; one session per request.

Besides the given tenants, Acme (Ada) and Globex (Hank), each grade adds a third one, made up from
its seed (its user, token, project ids and names), so that the answers cannot be known in advance.
"""

from book.grader.checks import agent_side, check, expect, expect_response

EXERCISE = "05-sub-dependencies"

# The given tenants, as the notebook seeds them: the model the answers are compared with.
GIVEN = {
    "Ada of Acme": {"org": 1, "org_name": "Acme", "token": "ada-tenant-token",
                    "projects": {1: "Rocket skates", 3: "Giant magnet", 5: "Tunnel paint"}},
    "Hank of Globex": {"org": 2, "org_name": "Globex", "token": "hank-tenant-token",
                       "projects": {2: "Doomsday device", 4: "Volcano lair"}},
}
ADA = GIVEN["Ada of Acme"]
ORG_NAMES = ["Initech", "Umbrella", "Hooli", "Wonka", "Soylent", "Cyberdyne"]
USER_NAMES = ["Milton", "Joanna", "Peter", "Samir", "Gavin", "Moss"]
PROJECT_NAMES = ["Stapler recall", "Red swingline", "Cloud migration", "TPS reports", "Chocolate river",
                 "Laser pointer", "Moon base", "Flux capacitor", "Paper airplane", "Quantum toaster"]
ROUTES = ["GET /projects/{id}", "GET /projects/{id}/tasks", "PATCH /projects/{id}?name=Renamed"]


@agent_side
async def add_tenant(ctx, org_id, org_name, user, token, projects):
    """Seed one more organisation, its user and its projects (two tasks each), as the notebook seeds its own."""
    nb = ctx.nb
    async with nb.SessionLocal() as session:
        session.add(nb.Org(id=org_id, name=org_name))
        session.add(nb.User(name=user, org_id=org_id, token_hash=nb.hash_token(token)))
        for project_id, name in projects:
            session.add(nb.Project(id=project_id, org_id=org_id, name=name))
            session.add_all(nb.Task(project_id=project_id, title=f"{name}: step {n}") for n in (1, 2))
        await session.commit()


@agent_side
async def load_org(ctx, org_id):
    """The Org row `org_id`, loaded with the notebook's session factory (it stays in the agent)."""
    async with ctx.nb.SessionLocal() as session:
        return await session.get(ctx.nb.Org, org_id)


@agent_side
def validator_calls(ctx, route):
    """How many times one request of `route` calls get_project, and the route's graph as text."""
    from book.dependency_graph import graph

    try:
        found = graph(ctx.app, route)
    except LookupError as exc:
        return {"route": False, "error": str(exc)[:200]}
    return {"route": True, "calls": found.calls(getattr(ctx.nb, "get_project", None)), "text": str(found)}


async def tenants(nb, rng):
    """The given tenants and this grade's third one, seeded into the notebook's database."""
    user, org_name = rng.choice(USER_NAMES), rng.choice(ORG_NAMES)
    ids = sorted(rng.sample(range(6, 60), 3))
    third = {"org": 3, "org_name": org_name, "token": f"{user.lower()}-{rng.getrandbits(64):016x}",
             "projects": dict(zip(ids, rng.sample(PROJECT_NAMES, 3), strict=True))}
    await nb.call(add_tenant, 3, org_name, user, third["token"], list(third["projects"].items()))
    return {**GIVEN, f"{user} of {org_name}": third}


def as_user(tenant):
    return {"Authorization": f"Bearer {tenant['token']}"}


def listed(projects):
    return [{"id": pid, "name": name} for pid, name in sorted(projects.items())]


async def call(client, route, project_id, tenant):
    method, target = route.format(id=project_id).split(" ")
    path, _, query = target.partition("?")
    params = dict([query.split("=")]) if query else None
    return await client.request(method, path, params=params, headers=as_user(tenant))


@check(points=2, hint="""Each user sees the projects of their own organisation, by id: which
    organisation is that, and where does the list endpoint get it from?""")
async def test_each_tenant_lists_its_own_projects(nb, client, rng):
    for who, tenant in (await tenants(nb, rng)).items():
        expect_response(await client.get("/projects", headers=as_user(tenant)), status=200,
                        json=listed(tenant["projects"]), called=f"GET /projects as {who}")


@check(points=1, hint="""GET /projects/{project_id} answers {"id", "name"} for a project of the caller's
    organisation, and GET /projects/{project_id}/tasks the titles of that project's tasks, by id.""")
async def test_own_projects_and_their_tasks(nb, client, rng):
    for who, tenant in (await tenants(nb, rng)).items():
        for pid, name in tenant["projects"].items():
            expect_response(await client.get(f"/projects/{pid}", headers=as_user(tenant)), status=200,
                            json={"id": pid, "name": name}, called=f"GET /projects/{pid} as {who}")
            expect_response(await client.get(f"/projects/{pid}/tasks", headers=as_user(tenant)), status=200,
                            json=[f"{name}: step 1", f"{name}: step 2"], called=f"GET /projects/{pid}/tasks as {who}")


@check(points=3, hint="""Another organisation's project must get exactly the same answer as a project
    that does not exist: 404, same body. Ask the database for "this id in this organisation" at once,
    and answer the same way whenever that finds nothing. A 403 tells the caller the project exists.""")
async def test_another_tenants_project_is_indistinguishable_from_a_missing_one(nb, client, rng):
    everyone = await tenants(nb, rng)
    missing_id = rng.randint(100, 999)
    for who, tenant in everyone.items():
        for route in ROUTES:
            missing = await call(client, route, missing_id, tenant)
            expect_response(missing, status=404, called=f"{route.format(id=missing_id)} as {who} (no such project)")
            for other, theirs in everyone.items():
                if other == who:
                    continue
                for pid in theirs["projects"]:
                    foreign = await call(client, route, pid, tenant)
                    expect(foreign.status_code == 404 and foreign.content == missing.content,
                           called=f"{route.format(id=pid)} as {who} ({other}'s project)",
                           got=f"{foreign.status_code} {foreign.text}",
                           expected=f"exactly what a missing project gets: {missing.status_code} {missing.text}")


@check(points=2, hint="""PATCH renames the project through the request's session and saves it; a
    foreign project is refused (404) and stays as it was. Is the project you change in the session
    you commit?""")
async def test_rename_own_project_only(nb, client, rng):
    everyone = await tenants(nb, rng)
    who, other = rng.sample(sorted(everyone), 2)
    mine, theirs = everyone[who], everyone[other]
    pid, foreign = rng.choice(sorted(mine["projects"])), rng.choice(sorted(theirs["projects"]))
    name = f"{rng.choice(PROJECT_NAMES)} v{rng.randint(2, 99)}"
    renamed = await client.patch(f"/projects/{pid}", params={"name": name}, headers=as_user(mine))
    expect_response(renamed, status=200, json={"id": pid, "name": name},
                    called=f"PATCH /projects/{pid}?name={name} as {who}")
    expect_response(await client.get(f"/projects/{pid}", headers=as_user(mine)), status=200,
                    json={"id": pid, "name": name}, called=f"GET /projects/{pid} as {who}, after renaming it")
    expect_response(await client.patch(f"/projects/{foreign}", params={"name": "Mine now"}, headers=as_user(mine)),
                    status=404, called=f"PATCH /projects/{foreign}?name=Mine now as {who} ({other}'s project)")
    expect_response(await client.get(f"/projects/{foreign}", headers=as_user(theirs)), status=200,
                    json={"id": foreign, "name": theirs["projects"][foreign]},
                    called=f"GET /projects/{foreign} as {other}, after {who}'s attempt")


@check(points=2, hint="""The organisation must come from CurrentOrg everywhere (the list and the
    validator), so that overriding get_current_org changes which projects every endpoint sees.""")
async def test_the_organisation_comes_from_the_dependency(nb, client, rng):
    everyone = await tenants(nb, rng)
    who, other = rng.sample(sorted(everyone), 2)
    caller, org = everyone[who], everyone[other]
    await nb.override_value("get_current_org", await nb.call(load_org, org["org"]))
    called = f"as {who}, with get_current_org overridden to {org['org_name']}"
    expect_response(await client.get("/projects", headers=as_user(caller)), status=200,
                    json=listed(org["projects"]), called=f"GET /projects {called}",
                    seen=await nb.graph("GET /projects"))
    pid, name = rng.choice(sorted(org["projects"].items()))
    expect_response(await client.get(f"/projects/{pid}", headers=as_user(caller)), status=200,
                    json={"id": pid, "name": name}, called=f"GET /projects/{pid} {called}",
                    seen=await nb.graph("GET /projects/{project_id}"))
    own = rng.choice(sorted(caller["projects"]))
    expect_response(await client.get(f"/projects/{own}", headers=as_user(caller)), status=404,
                    called=f"GET /projects/{own} {called}")


@check(points=2, hint="""Every project route must get its project from ProjectDep, so that the ownership
    check cannot be forgotten by one endpoint: the validator is in each of their graphs.""")
async def test_every_project_route_uses_the_validator(nb):
    for route in ("GET /projects/{project_id}", "PATCH /projects/{project_id}", "GET /projects/{project_id}/tasks"):
        found = await nb.call(validator_calls, route)
        expect(found["route"], called=f"book.graph(app, {route!r})", got=found.get("error"), expected="the route")
        expect(found["calls"] == 1, called=f"the dependencies of {route}",
               got=f"get_project appears {found['calls']} time(s)", expected="get_project once", seen=found["text"])


@check(points=2, hint="""One request, one session: the user, the organisation, the project and the
    endpoint must all share the session FastAPI opened for the request. What makes FastAPI call a
    dependency a second time in the same request?""")
async def test_one_session_per_request(nb, rng):
    pid = rng.choice(sorted(ADA["projects"]))
    for method, path, params in (("GET", f"/projects/{pid}/tasks", None), ("PATCH", f"/projects/{pid}", {"name": "x"}),
                                 ("GET", "/projects", None)):
        trace = await nb.trace(method, path, params=params, headers=as_user(ADA))
        expect(trace.calls("get_session") == 1, called=f"{method} {path} as Ada, traced",
               got=f"get_session ran {trace.calls('get_session')} times", expected="once", seen=trace.text)
