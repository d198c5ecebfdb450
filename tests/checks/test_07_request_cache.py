"""Hidden checks for exercise 07, caching within a request.

The profile is loaded once per request (not once per dependent, not once per process); event ids
are fresh at every use; the dependencies are wired through Profile.

Each grade adds a user of its own to the given profiles (id, name, permissions, theme made up from
its seed), and the loads are counted in the agent by the notebook's own LOADS counter.
"""

from book.grader.checks import agent_side, check, expect, expect_response

EXERCISE = "07-request-cache"

# The given profiles: the model the answers are compared with.
PROFILES = {
    1: {"name": "Ada", "permissions": ["write", "read"], "theme": "dark"},
    2: {"name": "Grace", "permissions": ["read"], "theme": "light"},
}
NAMES = ["Hedy", "Alan", "Barbara", "Edsger", "Frances", "Katherine", "Linus", "Margaret"]
PERMISSIONS = ["read", "write", "admin", "billing", "export", "invite"]
THEMES = ["dark", "light", "contrast", "sepia", "solarized"]


@agent_side
def add_profile(ctx, user_id, profile):
    ctx.nb.PROFILES[user_id] = profile


@agent_side
def profile_loads(ctx, clear=False):
    """load_profile's calls by user id so far (the notebook's LOADS), then optionally cleared."""
    found = {str(user): count for user, count in ctx.nb.LOADS.items() if count}
    if clear:
        ctx.nb.LOADS.clear()
    return found


@agent_side
def dashboard_graph(ctx):
    """Who each dependency of GET /dashboard depends on, how often get_profile runs, and the graph's text."""
    from book.dependency_graph import graph

    try:
        found = graph(ctx.app, "GET /dashboard")
    except LookupError as exc:
        return {"route": False, "error": str(exc)[:200]}
    parents = {node.label: [child.label for child in node.children] for node in found.nodes()}
    return {"route": True, "parents": parents, "profile_calls": found.calls(getattr(ctx.nb, "get_profile", None)),
            "text": str(found)}


async def profiles(nb, rng):
    """The given profiles and this grade's extra user, added to the notebook's: {id: profile}."""
    user = rng.randint(3, 999)
    extra = {"name": rng.choice(NAMES), "permissions": rng.sample(PERMISSIONS, rng.randint(2, 4)),
             "theme": rng.choice(THEMES)}
    await nb.call(add_profile, user, extra)
    return {**PROFILES, user: extra}


def shown(profile):
    """What the dashboard shows of a profile, but its event ids."""
    return {"name": profile["name"], "permissions": sorted(profile["permissions"]), "theme": profile["theme"]}


def without_events(response):
    try:
        body = response.json()
    except ValueError:
        return response.text
    return {key: value for key, value in body.items() if key != "events"} if isinstance(body, dict) else body


def counts(by_user):
    """{user: count} as text, users as the notebook's LOADS keeps them."""
    return "{" + ", ".join(f"{user}: {count}" for user, count in by_user.items()) + "}"


async def dashboard(client, user):
    return await client.get("/dashboard", headers={"X-User": str(user)})


@check(points=1, hint="""GET /dashboard answers {"name", "permissions" (sorted), "theme", "events"} for
    the user in the X-User header, and 404 when load_profile finds nobody.""")
async def test_the_dashboard_answers_for_the_caller(nb, client, rng):
    everyone = await profiles(nb, rng)
    for user, profile in everyone.items():
        response = await dashboard(client, user)
        expect_response(response, status=200, called=f"GET /dashboard with X-User: {user}")
        expect(without_events(response) == shown(profile), called=f"GET /dashboard with X-User: {user}",
               got=without_events(response), expected=f"{shown(profile)}, with its events")
    nobody = rng.choice([user for user in range(1000, 2000) if user not in everyone])
    expect_response(await dashboard(client, nobody), status=404, called=f"GET /dashboard with X-User: {nobody}")


@check(points=2, hint="""The profile must be loaded once per request, however many dependencies need it.
    Which dependencies call load_profile, and could they take the profile from another dependency
    instead? FastAPI caches each dependency's value for the rest of the request.""")
async def test_the_profile_loads_once_per_request(nb, rng):
    user = rng.choice(sorted(await profiles(nb, rng)))
    await nb.call(profile_loads, True)
    trace = await nb.trace("GET", "/dashboard", headers={"X-User": str(user)})
    loads = await nb.call(profile_loads)
    expect(loads == {str(user): 1}, called=f"one GET /dashboard with X-User: {user}",
           got=f"load_profile calls by user: {counts(loads)}", expected=counts({user: 1}), seen=trace.text)


@check(points=2, hint="""Nothing may be cached beyond the request: no global dict of profiles, no
    lru_cache. Each request loads its own caller's profile, so users never see each other's.""")
async def test_nothing_is_cached_across_requests_or_users(nb, client, rng):
    everyone = await profiles(nb, rng)
    users = [rng.choice(sorted(everyone)) for _ in range(6)]
    await nb.call(profile_loads, True)
    names = []
    for user in users:
        response = await dashboard(client, user)
        body = without_events(response)
        ok = response.status_code == 200 and isinstance(body, dict)
        names.append(body.get("name") if ok else response.status_code)
    called = f"GET /dashboard as users {', '.join(map(str, users))}"
    wanted = [everyone[user]["name"] for user in users]
    expect(names == wanted, called=called, got=names, expected=str(wanted))
    loads = await nb.call(profile_loads)
    per_request = {str(user): users.count(user) for user in dict.fromkeys(users)}
    expect(loads == per_request, called=called, got=f"load_profile calls by user: {counts(loads)}",
           expected=f"{counts(per_request)}: one per request")


@check(points=2, hint="""Each use of EventId must get a new id, even twice in one request. By default
    FastAPI calls a dependency once per request and reuses its value: how do you ask it not to?""")
async def test_event_ids_are_fresh_at_every_use(client, rng):
    seen = []
    for _ in range(3):
        response = await dashboard(client, rng.choice(sorted(PROFILES)))
        expect_response(response, status=200)
        seen.append(response.json().get("events"))
    flat = [event for pair in seen for event in (pair or [])]
    expect(len(flat) == 6 and len(set(flat)) == 6 and flat == sorted(flat), called="GET /dashboard three times",
           got=f"events {seen}", expected="two different ids per request, all new")


@check(points=1, hint="""get_permissions and get_theme must be dependencies on Profile (the alias of
    get_profile), used by the endpoint through Depends.""")
async def test_permissions_and_theme_depend_on_the_profile(nb):
    found = await nb.call(dashboard_graph)
    expect(found["route"], called="the graph of GET /dashboard", got=found.get("error"), expected="the route")
    parents = found["parents"]
    ok = all(parents.get(name) == ["get_profile"] for name in ("get_permissions", "get_theme"))
    expect(ok and found["profile_calls"] == 1, called="the graph of GET /dashboard",
           got=f"get_permissions <- {parents.get('get_permissions')}, get_theme <- {parents.get('get_theme')}, "
               f"get_profile runs {found['profile_calls']} time(s)",
           expected="each depends on get_profile, which runs once", seen=found["text"])


@check(points=1, hint="""Everything about the caller must come from get_profile, so that overriding it
    (as tests do) changes the name, the permissions and the theme, and loads nothing.""")
async def test_overriding_the_profile_reaches_everything(nb, client, rng):
    profile = {"name": f"Test {rng.randint(100, 999)}", "permissions": rng.sample(PERMISSIONS, 3),
               "theme": rng.choice(THEMES)}
    await nb.override_value("get_profile", profile)
    await nb.call(profile_loads, True)
    response = await client.get("/dashboard")
    body = without_events(response) if response.status_code == 200 else response.text
    loads = await nb.call(profile_loads)
    expect(body == shown(profile) and not loads, called="GET /dashboard with get_profile overridden, no X-User header",
           got=f"{response.status_code} {body}, load_profile calls: {counts(loads)}",
           expected=f"200 {shown(profile)}, no load_profile call", seen=await nb.graph("GET /dashboard"))
