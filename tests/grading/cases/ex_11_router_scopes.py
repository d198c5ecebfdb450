"""Exercise 11-router-scopes: the mistakes its checks must catch, and correct answers written differently."""

# (exercise, what the learner did wrong, (text of the solution, replaced by), checks that must fail)
MUTANTS = [
    (
        "11-router-scopes",
        "the implied scopes are followed one step only",
        (
            """    while pending:
        scope = pending.pop()
        if scope not in held:
            held.add(scope)
            pending.extend(IMPLIES.get(scope, ()))
    return held""",
            """    for scope in pending:
        held.add(scope)
        held.update(IMPLIES.get(scope, ()))
    return held""",
        ),
        {
            "test_a_scope_grants_what_it_implies",
            "test_behaves_as_specified_in_any_sequence",
            "test_every_token_on_every_route",
            "test_the_routes_do_their_job",
        },
    ),
    (
        "11-router-scopes",
        "the implied scopes are ignored",
        ("    held = held_scopes(granted)\n", "    held = set(granted)\n"),
        {
            "test_a_scope_grants_what_it_implies",
            "test_behaves_as_specified_in_any_sequence",
            "test_every_token_on_every_route",
            "test_refusals_carry_the_right_challenge",
            "test_the_routes_do_their_job",
        },
    ),
    (
        "11-router-scopes",
        "a missing scope is refused without the scope challenge",
        (
            """        raise HTTPException(403, "A scope is missing",
                            headers={"WWW-Authenticate": challenge})""",
            """        raise HTTPException(403, "A scope is missing")""",
        ),
        {"test_behaves_as_specified_in_any_sequence", "test_refusals_carry_the_right_challenge"},
    ),
    (
        "11-router-scopes",
        "each route asks for stock:read itself; the router asks for nothing",
        (
            """items = APIRouter(
    prefix="/items", dependencies=[Security(require_scopes, scopes=[READ])]
)


@items.get("")""",
            """items = APIRouter(prefix="/items")


@items.get("", dependencies=[Security(require_scopes, scopes=[READ])])""",
        ),
        {
            "test_behaves_as_specified_in_any_sequence",
            "test_each_scope_is_declared_where_it_belongs",
            "test_openapi_lists_the_scopes",
        },
    ),
    (
        "11-router-scopes",
        "an unknown token is 403",
        ('raise HTTPException(401, "Unknown token",', 'raise HTTPException(403, "Unknown token",'),
        {
            "test_behaves_as_specified_in_any_sequence",
            "test_every_token_on_every_route",
            "test_refusals_carry_the_right_challenge",
        },
    ),
    (
        "11-router-scopes",
        "a missing scope is 401",
        ('raise HTTPException(403, "A scope is missing",', 'raise HTTPException(401, "A scope is missing",'),
        {
            "test_behaves_as_specified_in_any_sequence",
            "test_every_token_on_every_route",
            "test_refusals_carry_the_right_challenge",
        },
    ),
    (
        "11-router-scopes",
        "DELETE asks for stock:write, not stock:admin",
        (
            '@items.delete("", dependencies=[Security(require_scopes, scopes=[ADMIN])])',
            '@items.delete("", dependencies=[Security(require_scopes, scopes=[WRITE])])',
        ),
        {
            "test_behaves_as_specified_in_any_sequence",
            "test_each_scope_is_declared_where_it_belongs",
            "test_every_token_on_every_route",
            "test_openapi_lists_the_scopes",
            "test_refusals_carry_the_right_challenge",
        },
    ),
    (
        "11-router-scopes",
        "POST answers the name without adding the item",
        ("    ITEMS.append(name)\n", ""),
        {"test_behaves_as_specified_in_any_sequence", "test_the_routes_do_their_job"},
    ),
    (
        "11-router-scopes",
        "the challenge names the scopes the token holds, not those asked for",
        (
            """        challenge = f'Bearer scope="{asked.scope_str}"'""",
            """        challenge = f'Bearer scope="{" ".join(sorted(held))}"'""",
        ),
        {"test_behaves_as_specified_in_any_sequence", "test_refusals_carry_the_right_challenge"},
    ),
    (
        "11-router-scopes",
        "the call log is on the router, not the app",
        (
            'app = FastAPI(title="Stock room", dependencies=[Depends(log_call)])\n'
            "items = APIRouter(\n"
            '    prefix="/items", dependencies=[Security(require_scopes, scopes=[READ])]\n'
            ")",
            'app = FastAPI(title="Stock room")\n'
            'items = APIRouter(prefix="/items", dependencies=[Depends(log_call),\n'
            "                                                 Security(require_scopes, scopes=[READ])])",
        ),
        {"test_every_call_is_logged_once"},
    ),
    (
        "11-router-scopes",
        "the POST route repeats the router's scope, so its challenge names both",
        (
            '@items.post(\n    "", status_code=201, dependencies=[Security(require_scopes, scopes=[WRITE])]\n)',
            '@items.post("", status_code=201, dependencies=[Security(require_scopes, scopes=[READ, WRITE])])',
        ),
        {"test_behaves_as_specified_in_any_sequence", "test_refusals_carry_the_right_challenge"},
    ),
]

# (exercise, what is written differently, [(text of the solution, replaced by), ...])
ALTERNATIVES = [
    (
        "11-router-scopes",
        "the route scopes as Security parameters, not decorator dependencies",
        [
            (
                """@items.post(
    "", status_code=201, dependencies=[Security(require_scopes, scopes=[WRITE])]
)
async def add_item(name: str) -> dict:""",
                """@items.post("", status_code=201)
async def add_item(name: str, _: Annotated[set[str], Security(require_scopes, scopes=[WRITE])]) -> dict:""",
            ),
            (
                """@items.delete("", dependencies=[Security(require_scopes, scopes=[ADMIN])])
async def clear_items() -> dict:""",
                """@items.delete("")
async def clear_items(_: Annotated[set[str], Security(require_scopes, scopes=[ADMIN])]) -> dict:""",
            ),
        ],
    ),
    (
        "11-router-scopes",
        "a sync check with a recursive expansion and a list of missing scopes",
        [
            (
                """def held_scopes(granted: list[str]) -> set[str]:
    \"\"\"The granted scopes and everything they imply, however deep.\"\"\"
    held: set[str] = set()
    pending = list(granted)
    while pending:
        scope = pending.pop()
        if scope not in held:
            held.add(scope)
            pending.extend(IMPLIES.get(scope, ()))
    return held""",
                """def held_scopes(granted: list[str]) -> set[str]:
    out = set(granted)
    for scope in granted:
        out |= held_scopes(IMPLIES.get(scope, []))
    return out""",
            ),
            ("async def require_scopes(", "def require_scopes("),
            ("    if not set(asked.scopes) <= held:", "    if [scope for scope in asked.scopes if scope not in held]:"),
        ],
    ),
    (
        "11-router-scopes",
        "status constants and a compare_digest scan instead of the dict lookup",
        [
            (
                """    granted = GRANTS.get(digest(token))
    if granted is None:
        raise HTTPException(401, "Unknown token",
                            headers={"WWW-Authenticate": "Bearer"})""",
                """    import hmac

    from fastapi import status

    wanted = digest(token)
    found = [scopes for key, scopes in GRANTS.items() if hmac.compare_digest(key, wanted)]
    if not found:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "who?", headers={"WWW-Authenticate": "Bearer"})
    granted = found[0]""",
            ),
            (
                '        raise HTTPException(403, "A scope is missing",',
                '        raise HTTPException(status.HTTP_403_FORBIDDEN, "no",',
            ),
        ],
    ),
    (
        "11-router-scopes",
        "the router built before the app, the log added with the app, include with the prefix",
        [
            (
                """app = FastAPI(title="Stock room", dependencies=[Depends(log_call)])
items = APIRouter(
    prefix="/items", dependencies=[Security(require_scopes, scopes=[READ])]
)""",
                """items = APIRouter(dependencies=[Security(require_scopes, scopes=[READ])])
logged = [Depends(log_call)]
app = FastAPI(title="Stock room", dependencies=logged)""",
            ),
            ("app.include_router(items)", 'app.include_router(items, prefix="/items")'),
            (
                '    ITEMS.append(name)\n    return {"name": name}',
                '    ITEMS.append(name)\n    return {"name": ITEMS[-1]}',
            ),
        ],
    ),
]
