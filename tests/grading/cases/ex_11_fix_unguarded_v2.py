"""Exercise 11-fix-unguarded-v2: the mistakes its checks must catch, and correct answers written differently."""

EX = "11-fix-unguarded-v2"

# The solution's texts that the mistakes and the alternatives replace.
ROUTER = 'admin = APIRouter(prefix="/admin/articles", tags=["admin"])'
V1 = 'app.include_router(admin, prefix="/v1", dependencies=[Depends(admin_only)])'
V2 = 'app.include_router(admin, prefix="/v2", dependencies=[Depends(admin_only)])'
INCLUDES = f"### BEGIN SOLUTION\n{V1}\n{V2}"
ROUTES = (
    """@admin.post("/{article_id}/publish")
async def publish(article: ArticleDep) -> Article:
    article.status = "published"
    return article


@admin.post("/{article_id}/unpublish")
async def unpublish(article: ArticleDep) -> Article:
    article.status = "draft"
    return article


@admin.delete("/{article_id}", status_code=204)
async def delete_article(article: ArticleDep) -> None:
    del ARTICLES[article.id]


app = FastAPI(title="Newsroom")
for version in ("/v1", "/v2"):
    app.include_router(public, prefix=version)

# /v1 serves the website; /v2, the same API, serves the new mobile app.
"""
    + INCLUDES
)
MOUNTS = (
    """app = FastAPI(title="Newsroom")
for version in ("/v1", "/v2"):
    app.include_router(public, prefix=version)

# /v1 serves the website; /v2, the same API, serves the new mobile app.
"""
    + INCLUDES
)

ALL_CHECKS = {
    "test_every_admin_route_refuses_callers_without_a_valid_token",
    "test_every_admin_route_refuses_authors",
    "test_admins_manage_articles_under_both_prefixes",
    "test_public_routes_need_no_token",
    "test_each_admin_action_writes_one_audit_line",
    "test_a_route_added_to_the_admin_router_is_guarded_everywhere",
    "test_behaves_as_specified_in_any_sequence",
}
# What an open /v2 admin router fails: every check of the guard, none of the features.
OPEN_V2 = {
    "test_every_admin_route_refuses_callers_without_a_valid_token",
    "test_every_admin_route_refuses_authors",
    "test_each_admin_action_writes_one_audit_line",
    "test_a_route_added_to_the_admin_router_is_guarded_everywhere",
    "test_behaves_as_specified_in_any_sequence",
}


def routes_with(decorators: dict[str, str], signature: str = "article: ArticleDep") -> str:
    """The three admin routes, each with its decorator's extra text and the given signature."""
    return f'''@admin.post("/{{article_id}}/publish"{decorators.get("publish", "")})
async def publish({signature}) -> Article:
    article.status = "published"
    return article


@admin.post("/{{article_id}}/unpublish"{decorators.get("unpublish", "")})
async def unpublish({signature}) -> Article:
    article.status = "draft"
    return article


@admin.delete("/{{article_id}}", status_code=204{decorators.get("delete", "")})
async def delete_article({signature}) -> None:
    del ARTICLES[article.id]


app = FastAPI(title="Newsroom")
for version in ("/v1", "/v2"):
    app.include_router(public, prefix=version)

{V1}
app.include_router(admin, prefix="/v2")'''


GUARDED = ", dependencies=[Depends(admin_only)]"

# (exercise, what the learner did wrong, (text of the solution, replaced by), checks that must fail)
MUTANTS = [
    (
        EX,
        "the bug as shipped: /v2 includes the admin router without the guard",
        (V2, 'app.include_router(admin, prefix="/v2")'),
        OPEN_V2,
    ),
    (
        EX,
        "only the reported route is guarded: a decorator guard on publish",
        (ROUTES, routes_with({"publish": GUARDED})),
        OPEN_V2,
    ),
    (
        EX,
        "a middleware refuses /v2 .../publish without an admin token, the other routes stay open",
        (
            V2,
            """app.include_router(admin, prefix="/v2")


from fastapi.responses import JSONResponse


@app.middleware("http")
async def guard_v2_publish(request, call_next):
    path = request.url.path
    if path.startswith("/v2/admin/") and path.endswith("/publish"):
        token = request.headers.get("authorization", "").removeprefix("Bearer ")
        member = STAFF.get(token_hash(token))
        if member is None:
            return JSONResponse({"detail": "Not authenticated"}, 401,
                                headers={"WWW-Authenticate": "Bearer"})
        if member.role != "admin":
            return JSONResponse({"detail": "admins only"}, 403)
    return await call_next(request)""",
        ),
        OPEN_V2,
    ),
    (
        EX,
        "the whole app is guarded: the public routes then need an admin token",
        (
            MOUNTS,
            f"""app = FastAPI(title="Newsroom", dependencies=[Depends(admin_only)])
for version in ("/v1", "/v2"):
    app.include_router(public, prefix=version)

{V1}
app.include_router(admin, prefix="/v2")""",
        ),
        {"test_public_routes_need_no_token", "test_behaves_as_specified_in_any_sequence"},
    ),
    (
        EX,
        "everything under /v2 is guarded, the public routes included",
        (
            MOUNTS,
            f"""app = FastAPI(title="Newsroom")
app.include_router(public, prefix="/v1")
{V1}
v2 = APIRouter(prefix="/v2", dependencies=[Depends(admin_only)])
v2.include_router(public)
v2.include_router(admin)
app.include_router(v2)""",
        ),
        {"test_public_routes_need_no_token", "test_behaves_as_specified_in_any_sequence"},
    ),
    (
        EX,
        "the /v2 admin include is removed: the mobile app's admin routes are gone",
        (V2, ""),
        ALL_CHECKS - {"test_public_routes_need_no_token"},
    ),
    (
        EX,
        "/v2 is dropped altogether, public routes included",
        (
            MOUNTS,
            f"""app = FastAPI(title="Newsroom")
app.include_router(public, prefix="/v1")
{V1}""",
        ),
        ALL_CHECKS,
    ),
    (
        EX,
        "the guards swapped: /v2 guarded, /v1 left open",
        (
            INCLUDES,
            """### BEGIN SOLUTION
app.include_router(admin, prefix="/v1")
app.include_router(admin, prefix="/v2", dependencies=[Depends(admin_only)])""",
        ),
        OPEN_V2,
    ),
    (
        EX,
        "/v2 checks the token but not the role (current_staff, not the admin guard)",
        (V2, 'app.include_router(admin, prefix="/v2", dependencies=[Depends(current_staff)])'),
        {
            "test_every_admin_route_refuses_authors",
            "test_each_admin_action_writes_one_audit_line",
            "test_a_route_added_to_the_admin_router_is_guarded_everywhere",
            "test_behaves_as_specified_in_any_sequence",
        },
    ),
    (
        EX,
        "a guard of its own for /v2 that answers 403 to everyone who is not an admin, and audits nothing",
        (
            V2,
            """def v2_admin(credentials: CredentialsDep) -> None:
    member = STAFF.get(token_hash(credentials.credentials)) if credentials else None
    if member is None or member.role != "admin":
        raise HTTPException(403, "admins only")


app.include_router(admin, prefix="/v2", dependencies=[Depends(v2_admin)])""",
        ),
        {
            "test_every_admin_route_refuses_callers_without_a_valid_token",
            "test_each_admin_action_writes_one_audit_line",
            "test_a_route_added_to_the_admin_router_is_guarded_everywhere",
            "test_behaves_as_specified_in_any_sequence",
        },
    ),
    (
        EX,
        "a second guard, made anew with role_guard, on the router: the includes' guard runs too",
        (
            ROUTER,
            'admin = APIRouter(prefix="/admin/articles", tags=["admin"], dependencies=[Depends(role_guard("admin"))])',
        ),
        {"test_each_admin_action_writes_one_audit_line", "test_behaves_as_specified_in_any_sequence"},
    ),
    (
        EX,
        "each admin route guarded by its decorator, /v2 included bare: the next route is open",
        (ROUTES, routes_with({"publish": GUARDED, "unpublish": GUARDED, "delete": GUARDED})),
        {"test_a_route_added_to_the_admin_router_is_guarded_everywhere"},
    ),
    (
        EX,
        "each admin endpoint takes the guard as a parameter after the article: a missing id is 404 to anybody",
        (ROUTES, routes_with({}, "article: ArticleDep, _: Annotated[Staff, Depends(admin_only)]")),
        {
            "test_every_admin_route_refuses_callers_without_a_valid_token",
            "test_a_route_added_to_the_admin_router_is_guarded_everywhere",
            "test_behaves_as_specified_in_any_sequence",
        },
    ),
    (
        EX,
        "the token check answers 401 without WWW-Authenticate",
        (', headers={"WWW-Authenticate": "Bearer"})', ")"),
        {"test_every_admin_route_refuses_callers_without_a_valid_token", "test_behaves_as_specified_in_any_sequence"},
    ),
]

# (exercise, what is written differently, [(text of the solution, replaced by), ...])
ALTERNATIVES = [
    (
        EX,
        "the guard on the router itself, both includes bare",
        [
            (ROUTER, 'admin = APIRouter(prefix="/admin/articles", tags=["admin"], dependencies=[Depends(admin_only)])'),
            (
                INCLUDES,
                '### BEGIN SOLUTION\napp.include_router(admin, prefix="/v1")\napp.include_router(admin, prefix="/v2")',
            ),
        ],
    ),
    (
        EX,
        "the guard on the router, and /v1 keeps its own: the same guard at two levels runs once",
        [
            (ROUTER, 'admin = APIRouter(prefix="/admin/articles", tags=["admin"], dependencies=[Depends(admin_only)])'),
            (V2, 'app.include_router(admin, prefix="/v2")'),
        ],
    ),
    (
        EX,
        "one list of dependencies, one loop over the versions",
        [
            (
                INCLUDES,
                """### BEGIN SOLUTION
ADMIN_ONLY = [Depends(admin_only)]
for version in ("/v1", "/v2"):
    app.include_router(admin, prefix=version, dependencies=ADMIN_ONLY)""",
            ),
        ],
    ),
    (
        EX,
        "Security instead of Depends on both includes",
        [
            (
                INCLUDES,
                """### BEGIN SOLUTION
from fastapi import Security

app.include_router(admin, prefix="/v1", dependencies=[Security(admin_only)])
app.include_router(admin, prefix="/v2", dependencies=[Security(admin_only)])""",
            ),
        ],
    ),
    (
        EX,
        "/v2 gets a guard of its own, made with role_guard('admin')",
        [
            (V2, 'app.include_router(admin, prefix="/v2", dependencies=[Depends(role_guard("admin"))])'),
        ],
    ),
    (
        EX,
        "the fix, and the learner's own tries left in the notebook: articles changed, AUDIT written",
        [
            (
                V2,
                V2
                + """


async with client_for(app) as client:  # trying the fix by hand
    for version in ("/v1", "/v2"):
        await client.post(f"{version}/admin/articles/3/publish")
    await client.post("/v2/admin/articles/3/publish", headers=as_token(ADMIN_TOKEN))
    await client.delete("/v1/admin/articles/2", headers=as_token(ADMIN_TOKEN))
print(AUDIT)""",
            ),
        ],
    ),
    (
        EX,
        "a router per version, the admin router included in each with the guard",
        [
            (
                MOUNTS,
                """app = FastAPI(title="Newsroom")
for version in ("/v1", "/v2"):
    api = APIRouter(prefix=version)
    api.include_router(public)
    api.include_router(admin, dependencies=[Depends(admin_only)])
    app.include_router(api)""",
            ),
        ],
    ),
]
