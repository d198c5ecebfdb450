"""Exercise 08-redis-cache: the mistakes its checks must catch, and correct answers written differently."""

# (exercise, what the learner did wrong, (text of the solution, replaced by), checks that must fail)
MUTANTS = [
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
    ("08-redis-cache", "the cache catches ConnectionError only, so a timeout escapes",
     ("""        try:
            raw = await self.redis.get(self.key(name))
        except redis.exceptions.RedisError:""", """        try:
            raw = await self.redis.get(self.key(name))
        except redis.exceptions.ConnectionError:"""),
     {"test_a_redis_outage_gives_uncached_answers"}),
]

# (exercise, what is written differently, [(text of the solution, replaced by), ...])
ALTERNATIVES = [
]
