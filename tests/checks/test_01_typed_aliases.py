"""Hidden checks for exercise 01, typed dependency aliases.

They test what the endpoints answer and how they are wired: each alias must name the given
callable, and an override of that callable must reach every endpoint that uses the alias.
"""

from typing import Annotated, get_args, get_origin

from book.checks import CheckFailed, check, expect, expect_response, resolved

EXERCISE = "01-typed-aliases"

ALL_TAGS = ["code", "errands", "fastapi", "home", "reading", "testing"]


def ids(response):
    try:
        return [note["id"] for note in response.json()]
    except (TypeError, KeyError, ValueError):
        return response.text


def alias_parts(notebook, name):
    """(type, Depends) of an alias, or a failure saying what the name holds instead."""
    from fastapi.params import Depends

    alias = getattr(notebook, name, None)
    if alias is None:
        raise CheckFailed(called=f"the name {name}", got="not defined", expected="an Annotated alias")
    args = get_args(alias)
    depends = [arg for arg in args[1:] if isinstance(arg, Depends)]
    if get_origin(alias) is not Annotated or len(depends) != 1:
        raise CheckFailed(called=f"the name {name}", got=alias, expected="Annotated[<type>, Depends(...)]")
    return args[0], depends[0]


@check(points=2, hint="""Each alias is Annotated[TheType, Depends(the_callable)]: SettingsDep names
    get_settings, PageDep names pagination, and FiltersDep is Annotated[NoteFilters, Depends()]
    (or Depends(NoteFilters)). Name the callables themselves, not lambdas or copies.""")
async def test_aliases_name_the_given_dependencies(notebook):
    for name, type_name, callable_name in (
        ("SettingsDep", "Settings", "get_settings"),
        ("PageDep", "Page", "pagination"),
        ("FiltersDep", "NoteFilters", None),
    ):
        kind, depends = alias_parts(notebook, name)
        expected_type = getattr(notebook, type_name)
        target = depends.dependency
        if callable_name is None:  # Depends() takes the class from the annotation
            ok = kind is expected_type and target in (None, expected_type)
        else:
            ok = kind is expected_type and target is getattr(notebook, callable_name)
        expect(
            ok,
            called=f"typing.get_args({name})",
            got=(getattr(kind, "__name__", kind), f"Depends({getattr(target, '__name__', target)})"),
            expected=f"({type_name}, Depends({callable_name or ''}))",
        )


@check(points=1, hint="""GET /notes with no query parameters returns the first page of notes:
    ten note dicts, in the order of NOTES, because pagination's default limit is 10.""")
async def test_notes_first_page(client):
    response = await client.get("/notes")
    expect_response(response, status=200)
    expect(ids(response) == list(range(1, 11)), called="GET /notes", got=ids(response),
           expected="the notes with ids 1 to 10")


@check(points=1, hint="""Slice the filtered notes with the page: found[page.skip : page.skip + page.limit].""")
async def test_notes_skip_and_limit(client):
    response = await client.get("/notes", params={"skip": 4, "limit": 3})
    expect_response(response, status=200)
    expect(ids(response) == [5, 6, 7], called="GET /notes?skip=4&limit=3", got=ids(response),
           expected="the notes with ids 5, 6, 7")


@check(points=2, hint="""Keep only the notes for which filters.match(note) is true, before paginating:
    `q` matches text in any case, `tag` matches one of the note's tags.""")
async def test_notes_filters(client):
    cases = [
        ({"tag": "home"}, [4, 6, 12]),
        ({"q": "READ"}, [1, 7]),
        ({"tag": "errands", "q": "book"}, [8, 10]),
        ({"tag": "reading", "limit": 1, "skip": 1}, [7]),
    ]
    for params, expected in cases:
        response = await client.get("/notes", params=params)
        query = "&".join(f"{key}={value}" for key, value in params.items())
        expect(response.status_code == 200 and ids(response) == expected, called=f"GET /notes?{query}",
               got=f"{response.status_code} ids {ids(response)}", expected=f"200 ids {expected}")


@check(points=1, hint="""Use the PageDep alias in /notes and /tags: pagination declares limit <= 50 and
    skip >= 0, and FastAPI answers 422 before your endpoint runs when they are broken.""")
async def test_pagination_is_validated(client):
    for path, params in (("/notes", {"limit": 51}), ("/notes", {"skip": -1}), ("/tags", {"limit": 0})):
        response = await client.get(path, params=params)
        query = "&".join(f"{key}={value}" for key, value in params.items())
        expect_response(response, status=422, called=f"GET {path}?{query}")


@check(points=1, hint="""GET /tags returns every tag of every note once, sorted, then paginated:
    sorted({tag for note in NOTES for tag in note["tags"]}).""")
async def test_tags(client):
    expect_response(await client.get("/tags"), status=200, json=ALL_TAGS)
    expect_response(await client.get("/tags", params={"skip": 2, "limit": 2}), status=200, json=ALL_TAGS[2:4])


@check(points=1, hint="""GET /about returns {"app_name": settings.app_name, "max_page_size":
    settings.max_page_size}, with settings from the SettingsDep alias.""")
async def test_about(client):
    expect_response(await client.get("/about"), status=200, json={"app_name": "Notes", "max_page_size": 50})


@check(points=2, hint="""Overriding pagination must change both /notes and /tags. If it does not, an
    endpoint is not using PageDep, or PageDep wraps pagination instead of naming it.""")
async def test_overriding_pagination_reaches_both_lists(notebook, app, client):
    app.dependency_overrides[notebook.pagination] = lambda: notebook.Page(skip=3, limit=2)
    notes = await client.get("/notes")
    expect(ids(notes) == [4, 5], called="GET /notes with pagination overridden to Page(skip=3, limit=2)",
           got=ids(notes), expected="the notes with ids 4, 5", seen=resolved(app, "GET /notes"))
    expect_response(await client.get("/tags"), status=200, json=ALL_TAGS[3:5],
                    called="GET /tags with pagination overridden to Page(skip=3, limit=2)",
                    seen=resolved(app, "GET /tags"))


@check(points=2, hint="""/about must get its settings from the SettingsDep alias, so that overriding
    get_settings changes the answer. Reading Settings() or a global directly ignores the override.""")
async def test_overriding_settings_reaches_about(notebook, app, client):
    app.dependency_overrides[notebook.get_settings] = lambda: notebook.Settings(app_name="Class notes", max_page_size=5)
    expect_response(await client.get("/about"), status=200, json={"app_name": "Class notes", "max_page_size": 5},
                    called="GET /about with get_settings overridden")


@check(points=1, hint="""/notes must take its filters from FiltersDep (Annotated[NoteFilters, Depends()]),
    so that overriding NoteFilters changes which notes come back.""")
async def test_overriding_filters_reaches_notes(notebook, app, client):
    app.dependency_overrides[notebook.NoteFilters] = lambda: notebook.NoteFilters(tag="testing")
    response = await client.get("/notes")
    expect(ids(response) == [7, 9], called="GET /notes with NoteFilters overridden to tag='testing'",
           got=ids(response), expected="the notes with ids 7, 9")


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
