"""Plausible mistakes, each of which the hidden checks must catch, and catch with the right checks.

Each mutant is a wrong answer a learner could write: a text replaced in a solution. The checks it
names must fail, and no other, so that every failure message points at the real mistake.
(A file of its own so that pytest-xdist can run it beside the other meta-tests.)
"""

from pathlib import Path

import nbformat
import pytest

from book import SOLUTIONS

# (exercise, what the learner did wrong, text replaced in the solution, checks that must fail)
EVERY_BUG_CAUGHT = {  # exercise 10: none counts while the tests fail against the given app
    "test_you_catch_an_app_that_accepts_any_token", "test_you_catch_a_401_without_its_challenge",
    "test_you_catch_a_list_of_everyones_bookmarks", "test_you_catch_deleting_someone_elses_bookmark",
    "test_you_catch_a_member_seeing_the_stats", "test_you_catch_an_admin_refused",
    "test_you_catch_duplicate_bookmarks", "test_you_catch_one_url_for_everyone",
    "test_you_catch_a_bookmark_that_is_never_saved",
}
MUTANTS = [
    ("01-typed-aliases", "the alias wraps pagination in a lambda",
     ("PageDep = Annotated[Page, Depends(pagination)]",
      "PageDep = Annotated[Page, Depends(lambda skip=0, limit=10: pagination(skip, limit))]"),
     # The lambda's parameters have no types: skip and limit arrive as strings and slicing fails.
     {"test_aliases_name_the_given_dependencies", "test_overriding_pagination_reaches_both_lists",
      "test_pagination_is_validated", "test_notes_skip_and_limit", "test_notes_filters", "test_tags"}),
    ("01-typed-aliases", "/about builds Settings itself instead of using the alias",
     ("async def about(settings: SettingsDep) -> dict:",
      "async def about() -> dict:\n    settings = Settings()"),
     {"test_overriding_settings_reaches_about"}),
    ("01-typed-aliases", "/notes ignores the filters",
     ("found = [note for note in NOTES if filters.match(note)]", "found = list(NOTES)"),
     {"test_notes_filters", "test_overriding_filters_reaches_notes"}),
    ("01-typed-aliases", "/tags keeps repeated tags",
     ('tags = sorted({tag for note in NOTES for tag in note["tags"]})',
      'tags = sorted(tag for note in NOTES for tag in note["tags"])'),
     {"test_tags", "test_overriding_pagination_reaches_both_lists"}),
    ("01-typed-aliases", "/notes builds NoteFilters from its own query parameters",
     ("async def list_notes(filters: FiltersDep, page: PageDep) -> list[dict]:",
      "async def list_notes(page: PageDep, q: str | None = None, tag: str | None = None) -> list[dict]:\n"
      "    filters = NoteFilters(q, tag)"),
     {"test_overriding_filters_reaches_notes"}),
    ("02-db-session", "get_session returns a session instead of yielding it, so nothing closes it",
     ("""    async with SessionLocal() as session:
        try:
            yield session
        except Exception:
            await session.rollback()
            raise""", """    return SessionLocal()"""),
     {"test_one_fresh_session_per_request", "test_no_connection_is_left_checked_out"}),
    ("02-db-session", "one session made at module level and shared by every request",
     ("""async def get_session() -> AsyncIterator[AsyncSession]:
    async with SessionLocal() as session:""", """shared = SessionLocal()


async def get_session() -> AsyncIterator[AsyncSession]:
    async with shared as session:"""),
     {"test_one_fresh_session_per_request"}),
    ("02-db-session", "GET /notes opens its own session instead of using DBSession",
     ("""async def list_notes(session: DBSession) -> list[dict]:
    rows = await session.scalars(select(Note).order_by(Note.id))""", """async def list_notes() -> list[dict]:
    async with SessionLocal() as session:
        rows = list(await session.scalars(select(Note).order_by(Note.id)))"""),
     {"test_overriding_the_session_reaches_every_endpoint", "test_one_fresh_session_per_request"}),
    ("02-db-session", "the batch commits note by note",
     ("""    session.add_all(rows)
    try:
        await session.commit()""", """    try:
        for row in rows:
            session.add(row)
            await session.commit()"""),
     {"test_batch_is_all_or_nothing"}),
    ("03-current-user", "the sent token is compared with the stored hash, unhashed",
     ("User.token_hash == hash_token(credentials.credentials)", "User.token_hash == credentials.credentials"),
     {"test_known_tokens_give_the_caller", "test_the_scheme_is_case_insensitive", "test_the_stored_hash_is_not_a_token",
      "test_the_user_lookup_goes_through_the_session_dependency", "test_notes_are_the_callers_own"}),
    ("03-current-user", "an unknown token is echoed in the error message",
     ("""    if user is None:
        raise not_authenticated()""", """    if user is None:
        raise HTTPException(401, f"unknown token {credentials.credentials}", headers={"WWW-Authenticate": "Bearer"})"""),
     {"test_no_token_comes_back_in_any_response"}),
    ("03-current-user", "a missing header is answered 403",
     ("""    if credentials is None or not credentials.credentials:
        raise not_authenticated()""", """    if credentials is None or not credentials.credentials:
        raise HTTPException(403, "Not authenticated")"""),
     {"test_every_bad_header_is_401_with_the_bearer_challenge"}),
    ("03-current-user", "the user is looked up in a session of its own, not DBSession",
     ("    user = await session.scalar(select(User).where(User.token_hash == hash_token(credentials.credentials)))",
      "    async with SessionLocal() as own:\n"
      "        user = await own.scalar(select(User).where(User.token_hash == hash_token(credentials.credentials)))"),
     {"test_the_user_lookup_goes_through_the_session_dependency"}),
    ("04-role-checks", "a missing role is answered 401",
     ("""            raise HTTPException(403, f"this needs one of the roles {list(self.roles)}")""",
      """            raise HTTPException(401, f"this needs one of the roles {list(self.roles)}")"""),
     {"test_every_caller_on_every_endpoint", "test_requires_role_works_in_any_app",
      "test_overriding_the_current_user_reaches_every_role_check"}),
    ("04-role-checks", "the admin router has no role check",
     ("""admin = APIRouter(prefix="/admin", dependencies=[Depends(require_admin)])""",
      """admin = APIRouter(prefix="/admin")"""),
     {"test_every_caller_on_every_endpoint", "test_nobody_is_401_before_any_role_check",
      "test_the_admin_router_is_protected_as_a_whole", "test_overriding_the_current_user_reaches_every_role_check",
      "test_a_role_check_runs_once_per_request"}),
    ("04-role-checks", "the router and an endpoint each make their own RequiresRole('admin')",
     ("""async def list_users(session: DBSession) -> list[str]:""",
      """async def list_users(session: DBSession, admin: Annotated[User, Depends(RequiresRole("admin"))]) -> list[str]:"""),
     {"test_a_role_check_runs_once_per_request"}),
    ("05-sub-dependencies", "another tenant's project is answered 403",
     ("""    project = await session.scalar(select(Project).where(Project.id == project_id, Project.org_id == org.id))
    if project is None:
        raise HTTPException(404, "Project not found")""",
      """    project = await session.get(Project, project_id)
    if project is None:
        raise HTTPException(404, "Project not found")
    if project.org_id != org.id:
        raise HTTPException(403, "Not your project")"""),
     {"test_another_tenants_project_is_indistinguishable_from_a_missing_one", "test_rename_own_project_only",
      "test_the_organisation_comes_from_the_dependency"}),
    ("05-sub-dependencies", "the validator opens a session of its own with use_cache=False",
     ("async def get_project(project_id: int, org: CurrentOrg, session: DBSession) -> Project:",
      "async def get_project(project_id: int, org: CurrentOrg, "
      "session: Annotated[AsyncSession, Depends(get_session, use_cache=False)]) -> Project:"),
     {"test_one_session_per_request", "test_rename_own_project_only"}),
    ("05-sub-dependencies", "the list reads the organisation from the user, not CurrentOrg",
     ("""async def list_projects(org: CurrentOrg, session: DBSession) -> list[dict]:
    projects = await session.scalars(select(Project).where(Project.org_id == org.id).order_by(Project.id))""",
      """async def list_projects(user: CurrentUser, session: DBSession) -> list[dict]:
    projects = await session.scalars(select(Project).where(Project.org_id == user.org_id).order_by(Project.id))"""),
     {"test_the_organisation_comes_from_the_dependency"}),
    ("05-sub-dependencies", "the tasks endpoint looks tasks up by the path's id, without the validator",
     ("""async def read_tasks(project: ProjectDep, session: DBSession) -> list[str]:
    return list(await session.scalars(select(Task.title).where(Task.project_id == project.id).order_by(Task.id)))""",
      """async def read_tasks(project_id: int, user: CurrentUser, session: DBSession) -> list[str]:
    return list(await session.scalars(select(Task.title).where(Task.project_id == project_id).order_by(Task.id)))"""),
     {"test_another_tenants_project_is_indistinguishable_from_a_missing_one", "test_every_project_route_uses_the_validator"}),
    ("06-lifespan-resources", "the Redis client is never closed",
     ("""        await http.aclose()
        await redis.aclose()""", """        await http.aclose()"""),
     {"test_both_clients_are_closed_at_shutdown"}),
    ("06-lifespan-resources", "the clients are made at module level, not at startup",
     ("""@asynccontextmanager
async def lifespan(app: FastAPI):
    http = make_http_client()
    redis = make_redis()""", """http = make_http_client()
redis = make_redis()


@asynccontextmanager
async def lifespan(app: FastAPI):"""),
     {"test_one_client_of_each_for_many_requests", "test_both_clients_are_closed_at_shutdown"}),
    ("06-lifespan-resources", "the endpoint reads request.state itself instead of HTTPClient",
     ("""async def convert(currency: str, amount: float, http: HTTPClient, redis: RedisClient) -> dict:""",
      """async def convert(currency: str, amount: float, request: Request, redis: RedisClient) -> dict:
    http = request.state.http"""),
     {"test_the_http_client_comes_through_the_dependency"}),
    ("07-request-cache", "get_permissions loads the profile itself",
     ("""async def get_permissions(profile: Profile) -> list[str]:
    return sorted(profile["permissions"])""", """async def get_permissions(x_user: Annotated[int, Header()]) -> list[str]:
    return sorted((await load_profile(x_user))["permissions"])"""),
     {"test_the_profile_loads_once_per_request", "test_nothing_is_cached_across_requests_or_users",
      "test_permissions_and_theme_depend_on_the_profile", "test_overriding_the_profile_reaches_everything"}),
    ("07-request-cache", "profiles are kept in a global dict between requests",
     ("""async def get_profile(x_user: Annotated[int, Header()]) -> dict:
    profile = await load_profile(x_user)""", """SEEN: dict = {}


async def get_profile(x_user: Annotated[int, Header()]) -> dict:
    profile = SEEN.get(x_user) or await load_profile(x_user)
    SEEN[x_user] = profile"""),
     {"test_nothing_is_cached_across_requests_or_users"}),
    ("07-request-cache", "EventId keeps the default use_cache=True",
     ("EventId = Annotated[int, Depends(new_event_id, use_cache=False)]", "EventId = Annotated[int, Depends(new_event_id)]"),
     {"test_event_ids_are_fresh_at_every_use"}),
    ("08-redis-cache", "the key leaves the tenant out",
     ('        return f"v1:{self.tenant}:product:{name}"', '        return f"v1:product:{name}"'),
     {"test_tenants_never_share_an_entry"}),
    ("08-redis-cache", "entries are stored without a TTL",
     ("await self.redis.set(self.key(name), json.dumps(value), ex=CACHE_TTL)",
      "await self.redis.set(self.key(name), json.dumps(value))"),
     {"test_entries_are_stored_with_a_ttl"}),
    ("08-redis-cache", "a write does not drop the cached entry",
     ("""    await cache.forget(name)
    return response.json()""", """    return response.json()"""),
     {"test_a_write_invalidates_the_entry"}),
    ("08-redis-cache", "a Redis error on read is not caught",
     ("""        try:
            raw = await self.redis.get(self.key(name))
        except redis.exceptions.RedisError:
            return None""", """        raw = await self.redis.get(self.key(name))"""),
     {"test_a_redis_outage_gives_uncached_answers"}),
    ("09-background-work", "the mail is sent in the endpoint, before the response",
     ("    tasks.add_task(send_welcome, mailer, body.email)", "    send_welcome(mailer, body.email)"),
     {"test_the_mail_is_a_task_that_runs_after_the_response"}),
    ("09-background-work", "the task uses the global MAILER, not the request's mailer",
     ("    tasks.add_task(send_welcome, mailer, body.email)", "    tasks.add_task(send_welcome, MAILER, body.email)"),
     {"test_a_failing_mailer_changes_nothing_for_the_client", "test_behaves_as_specified_in_any_sequence", "test_the_mailer_comes_through_the_dependency"}),
    ("09-background-work", "a failing mailer's error escapes the task",
     ("""    try:
        mailer.send(email, "Welcome!")
    except Exception:
        FAILED.append(email)""", """    mailer.send(email, "Welcome!")"""),
     {"test_a_failing_mailer_changes_nothing_for_the_client", "test_behaves_as_specified_in_any_sequence"}),
    ("11-router-scopes", "the route's challenge names only its own extra scope",
     ('@notes.post("", status_code=201, dependencies=[Security(get_token_scopes, scopes=["notes:read", "notes:write"])])',
      '@notes.post("", status_code=201, dependencies=[Security(get_token_scopes, scopes=["notes:write"])])'),
     {"test_behaves_as_specified_in_any_sequence", "test_refusals_carry_the_right_challenge"}),
    ("11-router-scopes", "a missing scope is refused without the scope hint",
     ("""        raise HTTPException(403, f"missing scopes {missing}",
                            headers={"WWW-Authenticate": f'Bearer scope="{required.scope_str}"'})""",
      """        raise HTTPException(403, f"missing scopes {missing}")"""),
     {"test_behaves_as_specified_in_any_sequence", "test_refusals_carry_the_right_challenge"}),
    # Exercise 10 is graded on the learner's tests: these are mistakes in tests, not in an app.
    ("10-testing-overrides", "the api fixture shares one session between all requests",
     ("""    async def session_for_tests():
        async with database() as session:
            yield session
""", """    shared = database()

    async def session_for_tests():
        yield shared
"""),
     {"test_you_catch_a_bookmark_that_is_never_saved"}),
    ("10-testing-overrides", "the api fixture never clears the overrides",
     ("    app.dependency_overrides.clear()  # after every test, passed or failed", "    pass"),
     {"test_no_override_outlives_its_test"}),
    ("10-testing-overrides", "the api fixture replaces SessionLocal instead of overriding get_session",
     ("""    app.dependency_overrides[get_session] = session_for_tests
    yield app
""", """    global SessionLocal
    original, SessionLocal = SessionLocal, database
    yield app
    SessionLocal = original
"""),
     {"test_dependencies_are_swapped_with_overrides"}),
    ("10-testing-overrides", "the api fixture forgets to override get_session",
     ("    app.dependency_overrides[get_session] = session_for_tests\n", ""),
     {"test_your_tests_pass_against_the_given_app", "test_the_apps_own_database_is_never_opened",
      "test_dependencies_are_swapped_with_overrides", *EVERY_BUG_CAUGHT}),
    ("10-testing-overrides", "no test sends an unknown token",
     ("""    assert (await client.get("/bookmarks", headers={"Authorization": "Bearer nobody-token"})).status_code == 401
""", ""),
     {"test_you_catch_an_app_that_accepts_any_token"}),
    ("10-testing-overrides", "a test expects 403 where the app rightly answers 401",
     ("""    response = await client.get("/bookmarks")
    assert response.status_code == 401""", """    response = await client.get("/bookmarks")
    assert response.status_code == 403"""),
     {"test_your_tests_pass_against_the_given_app", *EVERY_BUG_CAUGHT}),
    ("11-router-scopes", "each route asks for notes:read itself; the router asks for nothing",
     ("""notes = APIRouter(prefix="/notes", dependencies=[Security(get_token_scopes, scopes=["notes:read"])])


@notes.get("")""", """notes = APIRouter(prefix="/notes")


@notes.get("", dependencies=[Security(get_token_scopes, scopes=["notes:read"])])"""),
     {"test_behaves_as_specified_in_any_sequence", "test_each_scope_is_declared_where_it_belongs"}),
    ("12-capstone", "get_folder checks only that the folder exists",
     ("    if folder is None or folder.org_id != user.org_id:", "    if folder is None:"),
     {"test_folders_belong_to_the_organisation"}),
    ("12-capstone", "POST /folders takes CurrentUser instead of AdminUser",
     ("async def create_folder(name: str, admin: AdminUser,", "async def create_folder(name: str, admin: CurrentUser,"),
     {"test_only_admins_create_and_delete_folders", "test_one_override_reaches_every_route"}),
    ("12-capstone", "the lifespan never closes the Redis client",
     ("            await cache.aclose()\n", ""),
     {"test_the_lifespan_owns_the_resources"}),
    ("12-capstone", "get_session returns a session instead of yielding it, so nothing closes it",
     ("""    async with request.state.sessions() as session:
        try:
            yield session
        except Exception:
            await session.rollback()
            raise""", """    return request.state.sessions()"""),
     {"test_one_session_per_request_and_no_connection_left"}),
    ("12-capstone", "the cache's TTL is a constant, not settings.cache_ttl",
     ("json.dumps(folders), ex=self.ttl)", "json.dumps(folders), ex=60)"),
     {"test_the_folder_list_is_cached_per_organisation"}),
    ("12-capstone", "creating a folder does not forget the cached list",
     ("""    await session.commit()
    await cache.forget()
    return {"id": folder.id""", """    await session.commit()
    return {"id": folder.id"""),
     {"test_writes_forget_the_cached_list"}),
    ("12-capstone", "the cache lets a Redis outage through on reads",
     ("""            raw = await self.redis.get(self.key)
        except redis.exceptions.RedisError:""", """            raw = await self.redis.get(self.key)
        except KeyError:"""),
     {"test_a_redis_outage_costs_only_the_cache"}),
    ("12-capstone", "the router does not ask for a user; only the routes do",
     ('router = APIRouter(prefix="/folders", dependencies=[Depends(get_current_user)])',
      'router = APIRouter(prefix="/folders")'),
     {"test_the_router_requires_a_user_for_every_route"}),
    ("12-capstone", "one cache key for every organisation",
     ('self.key, self.ttl = redis, f"org:{org_id}:folders", ttl', 'self.key, self.ttl = redis, "folders", ttl'),
     {"test_the_folder_list_is_cached_per_organisation", "test_folders_belong_to_the_organisation"}),
    # --- added with the differential checks (issue 20): what learners got wrong in a trial ---
    ("09-background-work", "the task is scheduled twice", (
        "    tasks.add_task(send_welcome, mailer, body.email)\n",
        "    tasks.add_task(send_welcome, mailer, body.email)\n    tasks.add_task(send_welcome, mailer, body.email)\n"),
     {"test_a_failing_mailer_changes_nothing_for_the_client", "test_behaves_as_specified_in_any_sequence", "test_signup_sends_one_welcome_mail", "test_the_mail_is_a_task_that_runs_after_the_response", "test_the_mailer_comes_through_the_dependency"}),
    ("09-background-work", "the signup answers 200, not 201",
     ('@app.post("/signup", status_code=201)', '@app.post("/signup")'), {"test_a_failing_mailer_changes_nothing_for_the_client", "test_behaves_as_specified_in_any_sequence", "test_signup_sends_one_welcome_mail", "test_the_mailer_comes_through_the_dependency"}),
    ("09-background-work", "a failing mailer is swallowed without a word",
     ("    except Exception:\n        FAILED.append(email)", "    except Exception:\n        pass"), {"test_a_failing_mailer_changes_nothing_for_the_client", "test_behaves_as_specified_in_any_sequence"}),
    ("09-background-work", "the mail has the wrong subject",
     ('mailer.send(email, "Welcome!")', 'mailer.send(email, "Welcome")'), {"test_behaves_as_specified_in_any_sequence", "test_signup_sends_one_welcome_mail", "test_the_mailer_comes_through_the_dependency"}),
    ("09-background-work", "MailerDep wraps get_mailer in a lambda",
     ("MailerDep = Annotated[Mailer, Depends(get_mailer)]",
      "MailerDep = Annotated[Mailer, Depends(lambda: get_mailer())]"), {"test_a_failing_mailer_changes_nothing_for_the_client", "test_behaves_as_specified_in_any_sequence", "test_the_mailer_comes_through_the_dependency"}),
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
    ("10-testing-overrides", "the list test only checks the status code",
     ('    response = await client.get("/bookmarks")\n    assert response.json() == ["https://bob.example"], response.text',
      '    response = await client.get("/bookmarks")\n    assert response.status_code == 200, response.text'),
     {"test_you_catch_a_list_of_everyones_bookmarks"}),
    ("10-testing-overrides", "no test posts the same URL twice",
     ('    assert (await client.post("/bookmarks", params={"url": "https://x.example"})).status_code == 201\n'
      '    assert (await client.post("/bookmarks", params={"url": "https://x.example"})).status_code == 409',
      '    assert (await client.post("/bookmarks", params={"url": "https://x.example"})).status_code == 201'),
     {"test_you_catch_duplicate_bookmarks"}),
    ("08-redis-cache", "the cache catches ConnectionError only, so a timeout escapes",
     ("""        try:
            raw = await self.redis.get(self.key(name))
        except redis.exceptions.RedisError:""", """        try:
            raw = await self.redis.get(self.key(name))
        except redis.exceptions.ConnectionError:"""),
     {"test_a_redis_outage_gives_uncached_answers"}),
    ("12-capstone", "the cache catches ConnectionError only, so a timeout escapes",
     ("""            raw = await self.redis.get(self.key)
        except redis.exceptions.RedisError:""", """            raw = await self.redis.get(self.key)
        except redis.exceptions.ConnectionError:"""),
     {"test_a_redis_outage_costs_only_the_cache"}),
]


def write_mutant(folder: Path, exercise: str, replace: tuple[str, str]) -> Path | None:
    """The solution with `old` replaced by `new`, or None when `old` is no longer in it once."""
    solution = nbformat.read(SOLUTIONS / f"{exercise}.ipynb", as_version=4)
    old, new = replace
    sources = [cell for cell in solution.cells if cell.cell_type == "code" and old in cell.source]
    if len(sources) != 1:
        return None
    sources[0].source = sources[0].source.replace(old, new)
    folder.mkdir(parents=True)
    nbformat.write(solution, folder / f"{exercise}.ipynb")
    return folder / f"{exercise}.ipynb"


@pytest.fixture(scope="session")
def mutants_of(tmp_path_factory, checks_in_batches):
    """Every mutant of an exercise, checked in one pytest process: {mistake: results, or None}."""
    written: dict[str, dict[str, Path | None]] = {}

    def results(exercise: str) -> dict[str, list[dict] | None]:
        if exercise not in written:
            root = tmp_path_factory.mktemp(f"mutants-{exercise}")
            written[exercise] = {mistake: write_mutant(root / str(number), exercise, replace)
                                 for number, (name, mistake, replace, _) in enumerate(MUTANTS) if name == exercise}
        paths = written[exercise]
        found = checks_in_batches(exercise, {mistake: path for mistake, path in paths.items() if path})
        return {mistake: found.get(mistake) for mistake in paths}

    return results


@pytest.mark.parametrize("exercise, mistake, replace, must_fail", MUTANTS, ids=[f"ex{m[0][:2]}: {m[1]}" for m in MUTANTS])
def test_the_checks_catch_a_plausible_mistake(exercise, mistake, replace, must_fail, mutants_of):
    results = mutants_of(exercise)[mistake]
    assert results is not None, f"the mutant's text is no longer in the solution, once: {replace[0]!r}"
    failed = {result["name"] for result in results if not result["passed"]}
    assert must_fail <= failed, f"missed: {must_fail - failed}"
    assert failed <= must_fail, f"also failed, so the mutant is not the mistake it says: {failed - must_fail}"
