"""Exercise 07-request-cache: the mistakes its checks must catch, and correct answers written differently."""

# (exercise, what the learner did wrong, (text of the solution, replaced by), checks that must fail)
MUTANTS = [
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
]

# (exercise, what is written differently, [(text of the solution, replaced by), ...])
ALTERNATIVES = [
]
