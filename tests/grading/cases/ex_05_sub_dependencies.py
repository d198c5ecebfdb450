"""Exercise 05-sub-dependencies: the mistakes its checks must catch, and correct answers written differently."""

# (exercise, what the learner did wrong, (text of the solution, replaced by), checks that must fail)
MUTANTS = [
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
]

# (exercise, what is written differently, [(text of the solution, replaced by), ...])
ALTERNATIVES = [
]
