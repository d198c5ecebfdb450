"""Exercise 08-redis-cache: the mistakes its checks must catch, and correct answers written differently."""

EX = "08-redis-cache"
DIFFERENTIAL = "test_behaves_as_specified_in_any_sequence"

# The solution's region, whole (the text the rewrites below replace).
_SOLUTION = '''UNKNOWN = "unknown"  # what Redis holds for a city the office does not know


def forecast_key(city: str, lang: str) -> str:
    return f"v1:wx:{city}:{lang}"


def unknown_key(city: str) -> str:
    return f"v1:wx:{city}:unknown"


class ForecastCache:
    """Cache-aside for the office's forecasts; a failing Redis is a miss."""

    def __init__(self, redis: Redis, settings: Settings):
        self.redis, self.settings = redis, settings

    async def find(self, city: str, lang: str) -> dict | str | None:
        try:
            if await self.redis.exists(unknown_key(city)):
                return UNKNOWN
            raw = await self.redis.get(forecast_key(city, lang))
        except RedisError:
            return None
        return None if raw is None else json.loads(raw)

    async def keep(self, city: str, lang: str, forecast: dict) -> None:
        ttl = self.settings.forecast_ttl
        try:
            await self.redis.set(forecast_key(city, lang), json.dumps(forecast), ex=ttl)
        except RedisError:
            pass

    async def keep_unknown(self, city: str) -> None:
        ttl = self.settings.unknown_ttl
        try:
            await self.redis.set(unknown_key(city), UNKNOWN, ex=ttl)
        except RedisError:
            pass

    async def drop(self, city: str) -> None:
        keys = [forecast_key(city, lang) for lang in LANGUAGES]
        try:
            await self.redis.delete(*keys, unknown_key(city))
        except RedisError:
            pass


def get_forecast_cache(redis: RedisClient, settings: SettingsDep) -> ForecastCache:
    return ForecastCache(redis, settings)


Cache = Annotated[ForecastCache, Depends(get_forecast_cache)]


@app.get("/forecast/{city}")
async def read_forecast(
    city: str, lang: Language, cache: Cache, office: Office
) -> dict:
    found = await cache.find(city, lang)
    if found == UNKNOWN:
        raise HTTPException(404, "unknown city")
    if found is not None:
        return found
    answer = await office.get(f"/cities/{city}", params={"lang": lang})
    if answer.status_code == 404:
        await cache.keep_unknown(city)
        raise HTTPException(404, "unknown city")
    await cache.keep(city, lang, answer.json())
    return answer.json()


@app.put("/forecast/{city}")
async def update_forecast(
    city: str, forecast: ForecastIn, cache: Cache, office: Office
) -> dict:
    answer = await office.put(f"/cities/{city}", json=forecast.model_dump())
    await cache.drop(city)
    return answer.json()'''

# (exercise, what the learner did wrong, (text of the solution, replaced by), checks that must fail)
MUTANTS = [
    (
        EX,
        "the key leaves the language out",
        ('    return f"v1:wx:{city}:{lang}"', '    return f"v1:wx:{city}"'),
        {"test_each_language_has_its_own_entry", "test_an_update_refreshes_every_language", DIFFERENTIAL},
    ),
    (
        EX,
        "the forecast's TTL is a constant, not the settings'",
        ("        ttl = self.settings.forecast_ttl", "        ttl = 600"),
        {"test_forecasts_live_as_long_as_the_settings_say"},
    ),
    (
        EX,
        "forecasts are stored without a TTL",
        (
            "await self.redis.set(forecast_key(city, lang), json.dumps(forecast), ex=ttl)",
            "await self.redis.set(forecast_key(city, lang), json.dumps(forecast))",
        ),
        {"test_forecasts_live_as_long_as_the_settings_say"},
    ),
    (
        EX,
        "an unknown city is not remembered",
        ("        await cache.keep_unknown(city)\n", ""),
        {"test_an_unknown_city_is_remembered_for_a_shorter_time"},
    ),
    (
        EX,
        "an unknown city is remembered as long as a forecast",
        ("        ttl = self.settings.unknown_ttl", "        ttl = self.settings.forecast_ttl"),
        {"test_an_unknown_city_is_remembered_for_a_shorter_time"},
    ),
    (
        EX,
        "an update drops one language's entry only",
        (
            "        keys = [forecast_key(city, lang) for lang in LANGUAGES]",
            '        keys = [forecast_key(city, "en")]',
        ),
        {"test_an_update_refreshes_every_language", DIFFERENTIAL},
    ),
    (
        EX,
        "an update leaves the city's not-found entry",
        ("await self.redis.delete(*keys, unknown_key(city))", "await self.redis.delete(*keys)"),
        {"test_a_new_city_is_not_hidden_by_its_unknown_entry", DIFFERENTIAL},
    ),
    (
        EX,
        "reads catch ConnectionError only, so a timeout escapes",
        (
            """    async def find(self, city: str, lang: str) -> dict | str | None:
        try:""",
            """    async def find(self, city: str, lang: str) -> dict | str | None:
        from redis.exceptions import ConnectionError as RedisError

        try:""",
        ),
        {"test_a_redis_outage_falls_back_to_the_office"},
    ),
    (
        EX,
        "the invalidation is not guarded, so a PUT fails while Redis is down",
        (
            """        try:
            await self.redis.delete(*keys, unknown_key(city))
        except RedisError:
            pass""",
            """        await self.redis.delete(*keys, unknown_key(city))""",
        ),
        {"test_a_redis_outage_falls_back_to_the_office", DIFFERENTIAL},
    ),
    (
        EX,
        "the cache opens its own Redis client instead of using the dependency",
        ("    return ForecastCache(redis, settings)", "    return ForecastCache(make_redis(), settings)"),
        {"test_a_redis_outage_falls_back_to_the_office", "test_the_cache_follows_the_dependencies"},
    ),
    (
        EX,
        "the cache builds its own Settings instead of using the dependency",
        ("    return ForecastCache(redis, settings)", "    return ForecastCache(redis, Settings())"),
        {"test_forecasts_live_as_long_as_the_settings_say", "test_an_unknown_city_is_remembered_for_a_shorter_time"},
    ),
    (
        EX,
        "the route reads Accept-Language itself, so the Language dependency is bypassed",
        (
            """    city: str, lang: Language, cache: Cache, office: Office
) -> dict:
""",
            """    city: str, cache: Cache, office: Office,
    accept_language: Annotated[str, Header()] = "en",
) -> dict:
    lang = accept_language[:2] if accept_language[:2] in LANGUAGES else "en"
""",
        ),
        {"test_the_cache_follows_the_dependencies"},
    ),
]

# Correct answers written differently. The first two replace the whole solution region.
_FUNCTIONS_AND_NULL = '''from contextlib import suppress


class Forecasts:
    """The caller's forecasts: one entry per city and language; JSON null for no such city."""

    def __init__(self, redis: Redis, settings: Settings, lang: str):
        self.redis, self.settings, self.lang = redis, settings, lang

    def _key(self, city: str, lang: str | None = None) -> str:
        return f"v1:forecasts/{lang or self.lang}/{city}"

    async def lookup(self, city: str) -> tuple[bool, dict | None]:
        with suppress(RedisError):
            raw = await self.redis.get(self._key(city))
            if raw is not None:
                return True, json.loads(raw)
        return False, None

    async def remember(self, city: str, forecast: dict | None) -> None:
        s = self.settings
        ttl = s.forecast_ttl if forecast is not None else s.unknown_ttl
        with suppress(RedisError):
            await self.redis.set(self._key(city), json.dumps(forecast), ex=ttl)

    async def forget(self, city: str) -> None:
        with suppress(RedisError):
            await self.redis.delete(*(self._key(city, lang) for lang in LANGUAGES))


def forecasts(redis: RedisClient, settings: SettingsDep, lang: Language) -> Forecasts:
    return Forecasts(redis, settings, lang)


ForecastsDep = Annotated[Forecasts, Depends(forecasts)]


@app.get("/forecast/{city}")
async def read_forecast(city: str, lang: Language, cache: ForecastsDep, office: Office):
    hit, forecast = await cache.lookup(city)
    if not hit:
        answer = await office.get(f"/cities/{city}", params={"lang": lang})
        forecast = answer.json() if answer.status_code == 200 else None
        await cache.remember(city, forecast)
    if forecast is None:
        raise HTTPException(404, "no forecast for this city")
    return forecast


@app.put("/forecast/{city}")
async def update_forecast(city: str, forecast: ForecastIn, cache: ForecastsDep, office: Office):
    answer = await office.put(f"/cities/{city}", json=forecast.model_dump())
    await cache.forget(city)
    return answer.json()'''

_ONE_HASH_PER_CITY = '''class CityCache:
    """One Redis hash per city: a field per language, or the field "?" for no such city."""

    def __init__(self, redis: Redis, settings: Settings):
        self.redis, self.settings = redis, settings

    async def _safely(self, command, *args, **kwargs):
        try:
            return await command(*args, **kwargs)
        except RedisError:
            return None

    async def fields(self, city: str, lang: str) -> list:
        found = await self._safely(self.redis.hmget, f"v1:city:{city}", ["?", lang])
        return found or [None, None]

    async def store(self, city: str, field: str, value: str, ttl: int) -> None:
        async def both():
            await self.redis.hset(f"v1:city:{city}", field, value)
            await self.redis.expire(f"v1:city:{city}", ttl)

        await self._safely(both)

    async def clear(self, city: str) -> None:
        await self._safely(self.redis.delete, f"v1:city:{city}")


def city_cache(redis: RedisClient, settings: SettingsDep) -> CityCache:
    return CityCache(redis, settings)


@app.get("/forecast/{city}")
async def read_forecast(
    city: str, lang: Language, office: Office,
    cache: Annotated[CityCache, Depends(city_cache)], settings: SettingsDep,
) -> dict:
    unknown, raw = await cache.fields(city, lang)
    if unknown:
        raise HTTPException(404, "unknown city")
    if raw:
        return json.loads(raw)
    answer = await office.get(f"/cities/{city}", params={"lang": lang})
    if answer.status_code == 404:
        await cache.store(city, "?", "1", settings.unknown_ttl)
        raise HTTPException(404, "unknown city")
    await cache.store(city, lang, answer.text, settings.forecast_ttl)
    return answer.json()


@app.put("/forecast/{city}")
async def update_forecast(
    city: str, forecast: ForecastIn, office: Office,
    cache: Annotated[CityCache, Depends(city_cache)],
) -> dict:
    answer = await office.put(f"/cities/{city}", json=forecast.model_dump())
    await cache.clear(city)
    return answer.json()'''

_ROUTES_ON_REDIS = """async def cached(redis: Redis, *keys: str) -> list:
    try:
        return await redis.mget(keys)
    except RedisError:
        return [None] * len(keys)


async def cache_set(redis: Redis, key: str, value: str, seconds: int) -> None:
    try:
        await redis.setex(key, seconds, value)
    except RedisError:
        pass


@app.get("/forecast/{city}")
async def read_forecast(
    city: str, lang: Language, redis: RedisClient, settings: SettingsDep, office: Office
) -> dict:
    missing, raw = await cached(redis, f"v1:{city}#missing", f"v1:{city}#{lang}")
    if missing is not None:
        raise HTTPException(404, "unknown city")
    if raw is not None:
        return json.loads(raw)
    answer = await office.get(f"/cities/{city}", params={"lang": lang})
    if answer.status_code == 404:
        await cache_set(redis, f"v1:{city}#missing", "1", settings.unknown_ttl)
        raise HTTPException(404, "unknown city")
    await cache_set(redis, f"v1:{city}#{lang}", answer.text, settings.forecast_ttl)
    return answer.json()


@app.put("/forecast/{city}")
async def update_forecast(city: str, forecast: ForecastIn, redis: RedisClient,
                          office: Office) -> dict:
    answer = await office.put(f"/cities/{city}", json=forecast.model_dump())
    stale = [f"v1:{city}#{name}" for name in (*LANGUAGES, "missing")]
    try:
        await redis.delete(*stale)
    except RedisError:
        pass
    return answer.json()"""

ALTERNATIVES = [
    (
        EX,
        "no class of the solution's shape: the language bound in the cache, JSON null as not found per "
        "language, contextlib.suppress",
        [(_SOLUTION, _FUNCTIONS_AND_NULL)],
    ),
    (EX, "one Redis hash per city, cleared with one DEL", [(_SOLUTION, _ONE_HASH_PER_CITY)]),
    (
        EX,
        "no cache object: the routes use RedisClient with two helpers, MGET and SETEX",
        [(_SOLUTION, _ROUTES_ON_REDIS)],
    ),
    (
        EX,
        "invalidation by scanning the city's keys instead of listing them",
        [
            (
                """        keys = [forecast_key(city, lang) for lang in LANGUAGES]
        try:
            await self.redis.delete(*keys, unknown_key(city))
        except RedisError:
            pass""",
                """        try:
            stale = [key async for key in self.redis.scan_iter(match=f"v1:wx:{city}:*")]
            if stale:
                await self.redis.delete(*stale)
        except RedisError:
            pass""",
            ),
        ],
    ),
]
