"""Hidden checks for exercise 03, the current user.

Every shape of bad credentials gets 401 with WWW-Authenticate: Bearer; tokens are looked up by
hash, through the session dependency, and never come back in a response.
"""

from book.checks import another_database, check, expect, expect_response, resolved, session_dependency

EXERCISE = "03-current-user"

BAD_HEADERS = {
    "no Authorization header": None,
    "another scheme (Basic)": "Basic YWRhOmV4ZXJjaXNl",
    "the scheme alone": "Bearer",
    "the scheme and a space": "Bearer ",
    "an unknown scheme": "Token ada-exercise-token",
    "an unknown token": "Bearer not-a-real-token",
    "an empty header": "",
}


def auth(value):
    return {} if value is None else {"Authorization": value}


def refused(response, called):
    expect_response(response, status=401, headers={"WWW-Authenticate": "Bearer"}, called=called)


@check(points=2, hint="""A known token gives the caller: look the user up with
    select(User).where(User.token_hash == hash_token(token)), then /me answers {"id", "name"}.""")
async def test_known_tokens_give_the_caller(notebook, client):
    for index, (name, token) in enumerate(notebook.TOKENS.items(), start=1):
        expect_response(await client.get("/me", headers=auth(f"Bearer {token}")), status=200,
                        json={"id": index, "name": name}, called=f"GET /me with {name}'s token")


@check(points=2, hint="""Every request that cannot be tied to a user is 401 with the header
    WWW-Authenticate: Bearer, whatever is wrong with its Authorization header. HTTPBearer(auto_error=False)
    returns None for a missing or malformed header; refuse None and an empty token the same way.""")
async def test_every_bad_header_is_401_with_the_bearer_challenge(client):
    for label, value in BAD_HEADERS.items():
        for path in ("/me", "/notes"):
            refused(await client.get(path, headers=auth(value)), f"GET {path} with {label}")


@check(points=1, hint="""The scheme of an Authorization header is case-insensitive: "bearer <token>"
    is as valid as "Bearer <token>". HTTPBearer already accepts both; a hand-written
    startswith("Bearer ") does not.""")
async def test_the_scheme_is_case_insensitive(notebook, client):
    token = notebook.TOKENS["Grace"]
    expect_response(await client.get("/me", headers=auth(f"bearer {token}")), status=200,
                    json={"id": 2, "name": "Grace"}, called="GET /me with 'bearer <Grace's token>'")


@check(points=2, hint="""Hash the token the client sends, and compare it with the stored hash. Comparing
    the sent token with token_hash directly turns the stored hash into a password: anyone who reads
    the table can log in.""")
async def test_the_stored_hash_is_not_a_token(notebook, client):
    stolen = notebook.hash_token(notebook.TOKENS["Ada"])
    refused(await client.get("/me", headers=auth(f"Bearer {stolen}")), "GET /me with the hash stored for Ada's token")


@check(points=2, hint="""get_current_user must look the user up through DBSession (the session
    dependency), so that overriding get_session, as tests do, changes where users come from.""")
async def test_the_user_lookup_goes_through_the_session_dependency(notebook, app, client):
    async with another_database(notebook.Base) as OtherSession:
        async with OtherSession() as session:
            session.add(notebook.User(id=41, name="Someone else", token_hash=notebook.hash_token(notebook.TOKENS["Ada"])))
            session.add(notebook.Note(id=5, owner_id=41, title="Elsewhere"))
            await session.commit()
        app.dependency_overrides[notebook.get_session] = session_dependency(OtherSession)
        try:
            headers = auth(f"Bearer {notebook.TOKENS['Ada']}")
            expect_response(await client.get("/me", headers=headers), status=200,
                            json={"id": 41, "name": "Someone else"},
                            called="GET /me with Ada's token, get_session overridden by another database",
                            seen=resolved(app, "GET /me"))
            expect_response(await client.get("/notes", headers=headers), status=200, json=["Elsewhere"],
                            called="GET /notes with Ada's token, get_session overridden by another database")
        finally:
            app.dependency_overrides.clear()


@check(points=1, hint="""GET /notes returns only the caller's notes: filter on Note.owner_id == user.id,
    ordered by id.""")
async def test_notes_are_the_callers_own(notebook, client):
    for name, titles in notebook.NOTES.items():
        expect_response(await client.get("/notes", headers=auth(f"Bearer {notebook.TOKENS[name]}")), status=200,
                        json=titles, called=f"GET /notes with {name}'s token")


@check(points=2, hint="""Never repeat a token in a response: not in the body, not in an error message
    (such as "unknown token ..."), not in a header. Error messages end up in logs.""")
async def test_no_token_comes_back_in_any_response(notebook, client):
    secrets = [*notebook.TOKENS.values(), "not-a-real-token", "ada-exercise-token-typo"]
    for path in ("/me", "/notes", "/nothing-here"):
        for value in [*BAD_HEADERS.values(), *(f"Bearer {secret}" for secret in secrets),
                      *(f"Token {secret}" for secret in secrets)]:
            response = await client.get(path, headers=auth(value))
            shown = response.text + " " + " ".join(f"{k}: {v}" for k, v in response.headers.items())
            leaked = [secret for secret in secrets if secret in shown]
            expect(not leaked, called=f"GET {path} with Authorization: {value.split(' ')[0] if value else '(none)'} <token>",
                   got=f"{response.status_code}, and the token is in the response", expected="no token in the response")
