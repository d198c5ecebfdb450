"""Exercise 06-lifespan-resources: the mistakes its checks must catch, and correct answers written differently."""

# (exercise, what the learner did wrong, (text of the solution, replaced by), checks that must fail)
MUTANTS = [
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
]

# (exercise, what is written differently, [(text of the solution, replaced by), ...])
ALTERNATIVES = [
]
