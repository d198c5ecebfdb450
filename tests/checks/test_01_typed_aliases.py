"""Hidden checks for exercise 01, typed dependency aliases.

They test what the endpoints answer, for queries made up per grade from its seed and compared with a
model of the exercise's notes, and how they are wired: each alias must name the given callable, and
an override of that callable must reach every endpoint that uses the alias.
"""

from book.grader.checks import agent_side, check, expect, expect_response

EXERCISE = "01-typed-aliases"

# The exercise's given notes: the model the answers are compared with.
NOTES = [
    (1, "Read the FastAPI tutorial", ["fastapi", "reading"]),
    (2, "Buy coffee", ["errands"]),
    (3, "Write a dependency for pagination", ["fastapi", "code"]),
    (4, "Call the plumber", ["errands", "home"]),
    (5, "Annotated aliases everywhere", ["fastapi", "code"]),
    (6, "Water the plants", ["home"]),
    (7, "Read about dependency overrides", ["fastapi", "reading", "testing"]),
    (8, "Book a table for Friday", ["errands"]),
    (9, "Test the notes API", ["code", "testing"]),
    (10, "Return the library books", ["errands", "reading"]),
    (11, "Refactor settings into a dependency", ["code", "fastapi"]),
    (12, "Fix the kitchen tap", ["home"]),
]
ALL_TAGS = sorted({tag for _, _, tags in NOTES for tag in tags})
WORDS = ["read", "READ", "the", "dependency", "Book", "tap", "a", "notes", "zebra"]


def expected_ids(q=None, tag=None, skip=0, limit=10):
    found = [number for number, text, tags in NOTES
             if (q is None or q.lower() in text.lower()) and (tag is None or tag in tags)]
    return found[skip: skip + limit]


def ids(response):
    try:
        return [note["id"] for note in response.json()]
    except (TypeError, KeyError, ValueError):
        return response.text


def query(params):
    return "&".join(f"{key}={value}" for key, value in params.items())


@agent_side
def alias_parts(ctx, name, type_name, callable_name):
    """What an alias holds: the type and the callable of its Depends, by name."""
    from typing import Annotated, get_args, get_origin

    from fastapi.params import Depends

    alias = getattr(ctx.nb, name, None)
    if alias is None:
        return {"defined": False}
    args = get_args(alias)
    depends = [arg for arg in args[1:] if isinstance(arg, Depends)]
    if get_origin(alias) is not Annotated or len(depends) != 1:
        return {"defined": True, "annotated": False, "shown": repr(alias)[:120]}
    kind, target = args[0], depends[0].dependency
    expected_type = getattr(ctx.nb, type_name, None)
    wanted = expected_type if callable_name is None else getattr(ctx.nb, callable_name, None)
    return {"defined": True, "annotated": True, "type_is_given": kind is expected_type,
            "target_is_given": target is wanted or (callable_name is None and target is None),
            "shown": [getattr(kind, "__name__", repr(kind)), f"Depends({getattr(target, '__name__', target)})"]}


@check(points=2, hint="""Each alias is Annotated[TheType, Depends(the_callable)]. Look at which object
    each Depends(...) holds: it must be the given callable itself (or, for the filters class, the
    class taken from the annotation), not a lambda or a copy of it.""")
async def test_aliases_name_the_given_dependencies(nb):
    for name, type_name, callable_name in (
        ("SettingsDep", "Settings", "get_settings"),
        ("PageDep", "Page", "pagination"),
        ("FiltersDep", "NoteFilters", None),
    ):
        parts = await nb.call(alias_parts, name, type_name, callable_name)
        expected = f"Annotated[{type_name}, Depends({callable_name or ''})]"
        expect(parts["defined"], called=f"the name {name}", got="not defined", expected=expected)
        expect(parts["annotated"], called=f"typing.get_args({name})", got=parts.get("shown"), expected=expected)
        expect(parts["type_is_given"] and parts["target_is_given"], called=f"typing.get_args({name})",
               got=parts["shown"], expected=f"({type_name}, Depends({callable_name or ''}))")


@check(points=1, hint="""GET /notes with no query parameters returns the first page: how many notes
    does pagination give by default, and in which order are they kept?""")
async def test_notes_first_page(client):
    response = await client.get("/notes")
    expect_response(response, status=200)
    expect(ids(response) == expected_ids(), called="GET /notes", got=ids(response),
           expected=f"the notes with ids {expected_ids()}")


@check(points=1, hint="""skip says how many matching notes to leave out, limit how many to give at most:
    apply both to the list of matching notes.""")
async def test_notes_skip_and_limit(client, rng):
    for _ in range(4):
        params = {"skip": rng.randint(0, 13), "limit": rng.randint(1, 6)}
        response = await client.get("/notes", params=params)
        expect(response.status_code == 200 and ids(response) == expected_ids(**params),
               called=f"GET /notes?{query(params)}", got=f"{response.status_code} ids {ids(response)}",
               expected=f"200 ids {expected_ids(**params)}")


@check(points=2, hint="""Keep only the notes the filters match, before paginating: `q` matches text in
    any case, `tag` matches one of the note's tags. The filters object already knows how to match.""")
async def test_notes_filters(client, rng):
    cases = [{"tag": "home"}, {"q": "READ"}, {"tag": "errands", "q": "book"}, {"tag": "reading", "limit": 1, "skip": 1}]
    cases += [{"tag": rng.choice(ALL_TAGS), "q": rng.choice(WORDS), "skip": rng.randint(0, 2),
               "limit": rng.randint(1, 4)} for _ in range(4)]
    for params in cases:
        response = await client.get("/notes", params=params)
        wanted = expected_ids(**params)
        expect(response.status_code == 200 and ids(response) == wanted, called=f"GET /notes?{query(params)}",
               got=f"{response.status_code} ids {ids(response)}", expected=f"200 ids {wanted}")


@check(points=1, hint="""Out-of-range paging (a limit over 50, a negative skip, a limit of 0) must be
    refused with 422 before your endpoint runs. Which declaration already knows those bounds?""")
async def test_pagination_is_validated(client):
    for path, params in (("/notes", {"limit": 51}), ("/notes", {"skip": -1}), ("/tags", {"limit": 0}),
                         ("/tags", {"skip": "x"})):
        response = await client.get(path, params=params)
        expect_response(response, status=422, called=f"GET {path}?{query(params)}")


@check(points=1, hint="""GET /tags lists every tag once, in alphabetical order, then paginated like the
    notes. A tag used by several notes must not repeat.""")
async def test_tags(client, rng):
    expect_response(await client.get("/tags"), status=200, json=ALL_TAGS)
    skip, limit = rng.randint(0, 5), rng.randint(1, 4)
    expect_response(await client.get("/tags", params={"skip": skip, "limit": limit}), status=200,
                    json=ALL_TAGS[skip: skip + limit])


@check(points=1, hint="""GET /about answers with the settings' app_name and max_page_size, the settings
    coming from the SettingsDep alias.""")
async def test_about(client):
    expect_response(await client.get("/about"), status=200, json={"app_name": "Notes", "max_page_size": 50})


@check(points=2, hint="""Overriding pagination must change both /notes and /tags. If one of them does not
    change, look at how that endpoint gets its page: through PageDep, and does PageDep name pagination
    itself?""")
async def test_overriding_pagination_reaches_both_lists(nb, client, rng):
    skip, limit = rng.randint(1, 5), rng.randint(1, 3)
    await nb.override_instance("pagination", "Page", skip=skip, limit=limit)
    called = f"with pagination overridden to Page(skip={skip}, limit={limit})"
    notes = await client.get("/notes")
    expect(ids(notes) == expected_ids(skip=skip, limit=limit), called=f"GET /notes {called}",
           got=ids(notes), expected=f"the notes with ids {expected_ids(skip=skip, limit=limit)}",
           seen=await nb.graph("GET /notes"))
    expect_response(await client.get("/tags"), status=200, json=ALL_TAGS[skip: skip + limit],
                    called=f"GET /tags {called}", seen=await nb.graph("GET /tags"))


@check(points=2, hint="""/about must get its settings from the SettingsDep alias, so that overriding
    get_settings changes the answer. Reading Settings() or a global directly ignores the override.""")
async def test_overriding_settings_reaches_about(nb, client, rng):
    name, size = f"Class notes {rng.randint(100, 999)}", rng.randint(2, 40)
    await nb.override_instance("get_settings", "Settings", app_name=name, max_page_size=size)
    expect_response(await client.get("/about"), status=200, json={"app_name": name, "max_page_size": size},
                    called="GET /about with get_settings overridden")


@check(points=1, hint="""/notes must take its filters from FiltersDep, so that overriding NoteFilters
    changes which notes come back.""")
async def test_overriding_filters_reaches_notes(nb, client, rng):
    tag = rng.choice(ALL_TAGS)
    await nb.override_instance("NoteFilters", "NoteFilters", tag=tag)
    response = await client.get("/notes", params={"tag": "nothing-matches-this"})
    wanted = expected_ids(tag=tag)
    expect(ids(response) == wanted, called=f"GET /notes with NoteFilters overridden to tag={tag!r}",
           got=ids(response), expected=f"the notes with ids {wanted}")


@check(points=1, hint="""The documented query parameters come from the dependencies: /notes has q, tag,
    skip and limit; /tags has skip and limit; /about has none. An extra parameter usually means an
    alias was used as a plain type, or a dependency was called by hand.""")
async def test_openapi_parameters(client):
    schema = (await client.get("/openapi.json")).json()
    wanted = {"/notes": {"q", "tag", "skip", "limit"}, "/tags": {"skip", "limit"}, "/about": set()}
    for path, names in wanted.items():
        operation = schema.get("paths", {}).get(path, {}).get("get")
        found = None if operation is None else {p["name"] for p in operation.get("parameters", [])}
        expect(found == names, called=f"GET /openapi.json, parameters of GET {path}",
               got="no such route" if found is None else sorted(found), expected=sorted(names))
