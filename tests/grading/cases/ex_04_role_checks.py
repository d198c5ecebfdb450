"""Exercise 04-role-checks: the mistakes its checks must catch, and correct answers written differently."""

# (exercise, what the learner did wrong, (text of the solution, replaced by), checks that must fail)
MUTANTS = [
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
]

# (exercise, what is written differently, [(text of the solution, replaced by), ...])
ALTERNATIVES = [
]
