"""Hidden checks for exercise 11, router dependencies and scopes.

Every token on every route; the 401 and 403 headers; where each scope is declared; what OpenAPI
shows; and the app-wide dependency running once per request.
"""

import book
from book.checks import check, expect, expect_response

EXERCISE = "11-router-scopes"

TOKENS = [None, "reader-token", "writer-token", "admin-token", "write-only-token", "unknown-token"]
MATRIX = {
    ("GET", "/notes"): [401, 200, 200, 200, 403, 401],
    ("POST", "/notes?title=New"): [401, 403, 201, 201, 403, 401],
    ("DELETE", "/notes"): [401, 403, 403, 200, 403, 401],
}


@check(points=3, hint="""Every route needs notes:read (from the router); POST also needs notes:write and
    DELETE notes:admin (from their decorators). No token or an unknown one is 401; a known token
    missing a scope is 403.""")
async def test_every_token_on_every_route(notebook, client):
    for (method, path), statuses in MATRIX.items():
        for token, status in zip(TOKENS, statuses):
            expect_response(await client.request(method, path, headers=notebook.bearer(token)), status=status,
                            called=f"{method} {path} with {token or 'no token'}")


@check(points=2, hint="""A 403 for a missing scope carries WWW-Authenticate: Bearer scope="..." with
    SecurityScopes.scope_str, the scopes that check required; a 401 carries WWW-Authenticate: Bearer.""")
async def test_refusals_carry_the_right_challenge(notebook, client):
    cases = [
        ("POST", "/notes?title=x", "reader-token", 403, 'Bearer scope="notes:write"'),
        ("DELETE", "/notes", "writer-token", 403, 'Bearer scope="notes:admin"'),
        ("GET", "/notes", "write-only-token", 403, 'Bearer scope="notes:read"'),
        ("GET", "/notes", "unknown-token", 401, "Bearer"),
    ]
    for method, path, token, status, challenge in cases:
        expect_response(await client.request(method, path, headers=notebook.bearer(token)), status=status,
                        headers={"WWW-Authenticate": challenge}, called=f"{method} {path} with {token}")


@check(points=1, hint="""Adding and deleting change NOTES: POST answers 201 {"title": ...}, DELETE answers
    {"deleted": true}, and GET /notes shows the result.""")
async def test_the_routes_do_their_job(notebook, client):
    admin = notebook.bearer("admin-token")
    expect_response(await client.post("/notes", params={"title": "Plan"}, headers=admin), status=201,
                    json={"title": "Plan"})
    expect_response(await client.get("/notes", headers=admin), status=200, json=["Welcome", "Plan"])
    expect_response(await client.delete("/notes", headers=admin), status=200, json={"deleted": True})
    expect_response(await client.get("/notes", headers=admin), status=200, json=[], called="GET /notes after DELETE")


@check(points=2, hint="""Declare each scope where it belongs: notes:read once, in the router's
    dependencies=[Security(...)], and the extra scope in the route's decorator. Then a route added to
    the router later cannot forget the read check.""")
async def test_each_scope_is_declared_where_it_belongs(notebook, app):
    for route, extra in (("GET /notes", None), ("POST /notes", "notes:write"), ("DELETE /notes", "notes:admin")):
        graph = book.graph(app, route)
        declared = {(node.declared, scope) for node in graph.nodes()[1:]
                    if node.call is notebook.get_token_scopes for scope in node.scopes}
        wanted = {("router", "notes:read")} | ({("decorator", extra)} if extra else set())
        expect(wanted <= declared, called=f"where the scopes of {route} are declared",
               got=sorted(declared) or "no Security(get_token_scopes, ...) at all", expected=sorted(wanted),
               seen=str(graph))


@check(points=1, hint="""Security(...) puts the scopes into the OpenAPI schema: every operation lists the
    OAuth2PasswordBearer scopes it needs, so clients and the docs page know them.""")
async def test_openapi_lists_the_scopes(client):
    schema = (await client.get("/openapi.json")).json()
    for method, wanted in (("get", {"notes:read"}), ("post", {"notes:read", "notes:write"}),
                           ("delete", {"notes:read", "notes:admin"})):
        operation = schema.get("paths", {}).get("/notes", {}).get(method, {})
        listed = {scope for requirement in operation.get("security", []) for scopes in requirement.values()
                  for scope in scopes}
        expect(listed == wanted, called=f"GET /openapi.json, security of {method.upper()} /notes",
               got=sorted(listed), expected=sorted(wanted))


@check(points=2, hint="""count_request belongs in FastAPI(dependencies=[Depends(count_request)]): it then
    runs once for every request to every route, refused ones included (it runs first).""")
async def test_the_app_wide_dependency_runs_once_per_request(notebook, client):
    notebook.REQUESTS.clear()
    for method, path in (("GET", "/notes"), ("POST", "/notes?title=a"), ("DELETE", "/notes")):
        for token in ("admin-token", "reader-token", None):
            await client.request(method, path, headers=notebook.bearer(token))
    expect(len(notebook.REQUESTS) == 9, called="9 requests to the three routes, some refused",
           got=f"count_request ran {len(notebook.REQUESTS)} times", expected="9 times")
