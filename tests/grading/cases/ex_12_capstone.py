"""Exercise 12-capstone: the mistakes its checks must catch, and correct answers written differently."""

# (exercise, what the learner did wrong, (text of the solution, replaced by), checks that must fail)
MUTANTS = [
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
    ("12-capstone", "the cache catches ConnectionError only, so a timeout escapes",
     ("""            raw = await self.redis.get(self.key)
        except redis.exceptions.RedisError:""", """            raw = await self.redis.get(self.key)
        except redis.exceptions.ConnectionError:"""),
     {"test_a_redis_outage_costs_only_the_cache"}),
]

# (exercise, what is written differently, [(text of the solution, replaced by), ...])
ALTERNATIVES = [
]
