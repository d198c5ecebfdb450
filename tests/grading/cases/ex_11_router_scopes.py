"""Exercise 11-router-scopes: the mistakes its checks must catch, and correct answers written differently."""

# (exercise, what the learner did wrong, (text of the solution, replaced by), checks that must fail)
MUTANTS = [
    ("11-router-scopes", "the route's challenge names only its own extra scope",
     ('@notes.post("", status_code=201, dependencies=[Security(get_token_scopes, scopes=["notes:read", "notes:write"])])',
      '@notes.post("", status_code=201, dependencies=[Security(get_token_scopes, scopes=["notes:write"])])'),
     {"test_behaves_as_specified_in_any_sequence", "test_refusals_carry_the_right_challenge"}),
    ("11-router-scopes", "a missing scope is refused without the scope hint",
     ("""        raise HTTPException(403, f"missing scopes {missing}",
                            headers={"WWW-Authenticate": f'Bearer scope="{required.scope_str}"'})""",
      """        raise HTTPException(403, f"missing scopes {missing}")"""),
     {"test_behaves_as_specified_in_any_sequence", "test_refusals_carry_the_right_challenge"}),
    ("11-router-scopes", "each route asks for notes:read itself; the router asks for nothing",
     ("""notes = APIRouter(prefix="/notes", dependencies=[Security(get_token_scopes, scopes=["notes:read"])])


@notes.get("")""", """notes = APIRouter(prefix="/notes")


@notes.get("", dependencies=[Security(get_token_scopes, scopes=["notes:read"])])"""),
     {"test_behaves_as_specified_in_any_sequence", "test_each_scope_is_declared_where_it_belongs"}),
    ("11-router-scopes", "an unknown token is 403",
     ('raise HTTPException(401, "Not authenticated", headers={"WWW-Authenticate": "Bearer"})',
      'raise HTTPException(403, "Not authenticated", headers={"WWW-Authenticate": "Bearer"})'), {"test_behaves_as_specified_in_any_sequence", "test_every_token_on_every_route", "test_refusals_carry_the_right_challenge"}),
    ("11-router-scopes", "a missing scope is 401",
     ('raise HTTPException(403, f"missing scopes {missing}",', 'raise HTTPException(401, f"missing scopes {missing}",'),
     {"test_behaves_as_specified_in_any_sequence", "test_every_token_on_every_route", "test_refusals_carry_the_right_challenge"}),
    ("11-router-scopes", "DELETE asks for notes:write, not notes:admin",
     ('@notes.delete("", dependencies=[Security(get_token_scopes, scopes=["notes:read", "notes:admin"])])',
      '@notes.delete("", dependencies=[Security(get_token_scopes, scopes=["notes:read", "notes:write"])])'), {"test_behaves_as_specified_in_any_sequence", "test_each_scope_is_declared_where_it_belongs", "test_every_token_on_every_route", "test_openapi_lists_the_scopes", "test_refusals_carry_the_right_challenge"}),
    ("11-router-scopes", "POST answers the title without adding the note",
     ("    NOTES.append(title)\n", ""), {"test_behaves_as_specified_in_any_sequence", "test_the_routes_do_their_job"}),
    ("11-router-scopes", "the scopes asked for are never compared",
     ("    missing = [scope for scope in required.scopes if scope not in granted]", "    missing = []"), {"test_behaves_as_specified_in_any_sequence", "test_every_token_on_every_route", "test_refusals_carry_the_right_challenge"}),
    ("11-router-scopes", "the request counter is on the router, not the app",
     ('app = FastAPI(title="Notes", dependencies=[Depends(count_request)])\n'
      'notes = APIRouter(prefix="/notes", dependencies=[Security(get_token_scopes, scopes=["notes:read"])])',
      'app = FastAPI(title="Notes")\n'
      'notes = APIRouter(prefix="/notes", dependencies=[Depends(count_request),\n'
      '                                                 Security(get_token_scopes, scopes=["notes:read"])])'),
     {"test_the_app_wide_dependency_runs_once_per_request"}),
]

# (exercise, what is written differently, [(text of the solution, replaced by), ...])
ALTERNATIVES = [
    ("11-router-scopes", "the route scopes as Security parameters, not decorator dependencies", [
        ("""@notes.post("", status_code=201, dependencies=[Security(get_token_scopes, scopes=["notes:read", "notes:write"])])
async def add_note(title: str) -> dict:""", """WRITE = ["notes:read", "notes:write"]
ADMIN = ["notes:read", "notes:admin"]


@notes.post("", status_code=201)
async def add_note(title: str, _: Annotated[list[str], Security(get_token_scopes, scopes=WRITE)]) -> dict:"""),
        ("""@notes.delete("", dependencies=[Security(get_token_scopes, scopes=["notes:read", "notes:admin"])])
async def delete_notes() -> dict:""", """@notes.delete("")
async def delete_notes(_: Annotated[list[str], Security(get_token_scopes, scopes=ADMIN)]) -> dict:"""),
    ]),
    ("11-router-scopes", "a sync scope check with sets", [
        ("""async def get_token_scopes(required: SecurityScopes, token: Annotated[str, Depends(oauth2)]) -> list[str]:
    granted = TOKEN_SCOPES.get(token)
    if granted is None:""", """def get_token_scopes(required: SecurityScopes, token: Annotated[str, Depends(oauth2)]) -> list[str]:
    if token not in TOKEN_SCOPES:"""),
        ("""    missing = [scope for scope in required.scopes if scope not in granted]
    if missing:""", """    granted = TOKEN_SCOPES[token]
    missing = set(required.scopes) - set(granted)
    if missing:"""),
    ]),
    ("11-router-scopes", "status constants and the routes with a slash", [
        ("""        raise HTTPException(401, "Not authenticated", headers={"WWW-Authenticate": "Bearer"})""",
         """        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "Not authenticated", headers={"WWW-Authenticate": "Bearer"})"""),
        ("""        raise HTTPException(403, f"missing scopes {missing}",""",
         """        raise HTTPException(status.HTTP_403_FORBIDDEN, "Not enough permissions","""),
        ("async def get_token_scopes(", "from fastapi import status\n\n\nasync def get_token_scopes("),
    ]),
    ("11-router-scopes", "the router built before the app, the counter added with the app", [
        ("""app = FastAPI(title="Notes", dependencies=[Depends(count_request)])
notes = APIRouter(prefix="/notes", dependencies=[Security(get_token_scopes, scopes=["notes:read"])])""",
         """notes = APIRouter(prefix="/notes", dependencies=[Security(get_token_scopes, scopes=["notes:read"])])
counted = [Depends(count_request)]
app = FastAPI(title="Notes", dependencies=counted)"""),
        ("    NOTES.append(title)\n    return {\"title\": title}", "    NOTES.append(title)\n    return {\"title\": NOTES[-1]}"),
    ]),
]
