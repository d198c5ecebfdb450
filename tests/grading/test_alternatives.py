"""Correct answers written differently must score full marks, every time.

Each alternative is a solution with parts rewritten as a learner who understood the chapter might
write them. It is graded through the judge (the mirror of its cells included) under five seeds, so
under five sets of made-up data: every check must pass in every run.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from book import CHECKS, SOLUTIONS
from tests.conftest import run_checks

SEEDS = (1, 2, 3, 4, 5)

# (exercise, what is written differently, [(text of the solution, replaced by), ...])
ALTERNATIVES = [
    ("09-background-work", "the task is a response's background, not BackgroundTasks", [
        ("""@app.post("/signup", status_code=201)
async def signup(body: SignupIn, mailer: MailerDep, tasks: BackgroundTasks) -> dict:
    tasks.add_task(send_welcome, mailer, body.email)
    return {"email": body.email}""", """from fastapi.responses import JSONResponse
from starlette.background import BackgroundTask


@app.post("/signup", status_code=201)
async def signup(body: SignupIn, mailer: MailerDep) -> JSONResponse:
    welcome = BackgroundTask(send_welcome, mailer, body.email)
    return JSONResponse({"email": body.email}, status_code=201, background=welcome)"""),
    ]),
    ("09-background-work", "an async task", [
        ("def send_welcome(mailer: Mailer, email: str) -> None:", "async def send_welcome(mailer: Mailer, email: str) -> None:"),
    ]),
    ("09-background-work", "a response model and a sync endpoint", [
        ("""@app.post("/signup", status_code=201)
async def signup(body: SignupIn, mailer: MailerDep, tasks: BackgroundTasks) -> dict:
    tasks.add_task(send_welcome, mailer, body.email)
    return {"email": body.email}""", """class SignupOut(BaseModel):
    email: str


@app.post("/signup", status_code=201, response_model=SignupOut)
def signup(body: SignupIn, mailer: MailerDep, tasks: BackgroundTasks) -> SignupOut:
    tasks.add_task(send_welcome, mailer, email=body.email)
    return SignupOut(email=body.email)"""),
    ]),
    ("09-background-work", "the task is scheduled by a dependency", [
        ("""@app.post("/signup", status_code=201)
async def signup(body: SignupIn, mailer: MailerDep, tasks: BackgroundTasks) -> dict:
    tasks.add_task(send_welcome, mailer, body.email)
    return {"email": body.email}""", """def welcomer(tasks: BackgroundTasks, mailer: MailerDep):
    def welcome(email: str) -> None:
        tasks.add_task(send_welcome, mailer, email)

    return welcome


@app.post("/signup", status_code=201)
async def signup(body: SignupIn, welcome: Annotated[object, Depends(welcomer)]) -> dict:
    welcome(body.email)
    return {"email": body.email}"""),
    ]),
    ("09-background-work", "the failure is caught around the whole send, with a log line", [
        ("""    try:
        mailer.send(email, "Welcome!")
    except Exception:
        FAILED.append(email)""", """    import logging

    try:
        mailer.send(email, subject="Welcome!")
    except Exception as error:
        logging.getLogger("signup").debug("welcome to %s failed: %s", email, error)
        FAILED.append(email)"""),
    ]),
    ("11-router-scopes", "the route scopes as Security parameters, not decorator dependencies", [
        ("""@notes.post("", status_code=201, dependencies=[Security(get_token_scopes, scopes=["notes:read", "notes:write"])])
async def add_note(title: str) -> dict:""", """WRITE = ["notes:read", "notes:write"]
ADMIN = ["notes:read", "notes:admin"]


@notes.post("", status_code=201)
async def add_note(title: str, _: Annotated[list[str], Security(get_token_scopes, scopes=WRITE)]) -> dict:"""),
        ("""@notes.delete("", dependencies=[Security(get_token_scopes, scopes=["notes:read", "notes:admin"])])
async def delete_notes() -> dict:""", """@notes.delete("")
async def delete_notes(_: Annotated[list[str], Security(get_token_scopes, scopes=ADMIN)]) -> dict:"""),
    ]),
    ("11-router-scopes", "a sync scope check with sets", [
        ("""async def get_token_scopes(required: SecurityScopes, token: Annotated[str, Depends(oauth2)]) -> list[str]:
    granted = TOKEN_SCOPES.get(token)
    if granted is None:""", """def get_token_scopes(required: SecurityScopes, token: Annotated[str, Depends(oauth2)]) -> list[str]:
    if token not in TOKEN_SCOPES:"""),
        ("""    missing = [scope for scope in required.scopes if scope not in granted]
    if missing:""", """    granted = TOKEN_SCOPES[token]
    missing = set(required.scopes) - set(granted)
    if missing:"""),
    ]),
    ("11-router-scopes", "status constants and the routes with a slash", [
        ("""        raise HTTPException(401, "Not authenticated", headers={"WWW-Authenticate": "Bearer"})""",
         """        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "Not authenticated", headers={"WWW-Authenticate": "Bearer"})"""),
        ("""        raise HTTPException(403, f"missing scopes {missing}",""",
         """        raise HTTPException(status.HTTP_403_FORBIDDEN, "Not enough permissions","""),
        ("async def get_token_scopes(", "from fastapi import status\n\n\nasync def get_token_scopes("),
    ]),
    ("11-router-scopes", "the router built before the app, the counter added with the app", [
        ("""app = FastAPI(title="Notes", dependencies=[Depends(count_request)])
notes = APIRouter(prefix="/notes", dependencies=[Security(get_token_scopes, scopes=["notes:read"])])""",
         """notes = APIRouter(prefix="/notes", dependencies=[Security(get_token_scopes, scopes=["notes:read"])])
counted = [Depends(count_request)]
app = FastAPI(title="Notes", dependencies=counted)"""),
        ("    NOTES.append(title)\n    return {\"title\": title}", "    NOTES.append(title)\n    return {\"title\": NOTES[-1]}"),
    ]),
    ("10-testing-overrides", "an in-memory test database and a try/finally fixture", [
        ("""    test_engine = create_async_engine(f"sqlite+aiosqlite:///{tmp_path / 'test.db'}")""",
         """    from sqlalchemy.pool import StaticPool

    test_engine = create_async_engine("sqlite+aiosqlite://", poolclass=StaticPool)"""),
        ("""    app.dependency_overrides[get_session] = session_for_tests
    yield app
    app.dependency_overrides.clear()  # after every test, passed or failed""",
         """    app.dependency_overrides[get_session] = session_for_tests
    try:
        yield app
    finally:
        app.dependency_overrides.pop(get_session, None)
        app.dependency_overrides.pop(get_current_user, None)"""),
    ]),
    ("10-testing-overrides", "tests parametrized over the roles", [
        ("""async def test_a_member_may_not_see_the_stats(client, users, login):
    login(users["bob"])
    assert (await client.get("/admin/stats")).status_code == 403


async def test_an_admin_sees_the_stats(client, users, login):
    login(users["ada"])
    response = await client.get("/admin/stats")
    assert response.status_code == 200, response.text
    assert response.json() == {"users": 2, "bookmarks": 0}""",
         """@pytest.mark.parametrize("name, status", [("bob", 403), ("ada", 200)])
async def test_only_an_admin_sees_the_stats(client, users, login, name, status):
    login(users[name])
    response = await client.get("/admin/stats")
    assert response.status_code == status, response.text
    if status == 200:
        assert response.json() == {"users": 2, "bookmarks": 0}"""),
    ]),
    ("10-testing-overrides", "a login that overrides with a function of its own", [
        ("""    def act_as(user: User) -> None:
        api.dependency_overrides[get_current_user] = lambda: user""",
         """    def act_as(user: User) -> None:
        async def current_user() -> User:
            return user

        api.dependency_overrides[get_current_user] = current_user"""),
    ]),
    ("10-testing-overrides", "real tokens in every request instead of a login override", [
        ("""@pytest.fixture
def login(api):
    def act_as(user: User) -> None:
        api.dependency_overrides[get_current_user] = lambda: user

    return act_as""", """@pytest.fixture
def login(api):
    # Overrides get_current_user only while a test asks for someone else's view of the app.
    seen: dict[str, User] = {}

    def act_as(user: User) -> None:
        seen["current"] = user
        api.dependency_overrides[get_current_user] = lambda: seen["current"]

    return act_as"""),
    ]),
]


def patched(folder: Path, exercise: str, patches: list[tuple[str, str]]) -> Path:
    solution = nbformat.read(SOLUTIONS / f"{exercise}.ipynb", as_version=4)
    for old, new in patches:
        cells = [cell for cell in solution.cells if cell.cell_type == "code" and old in cell.source]
        assert len(cells) == 1 and cells[0].source.count(old) == 1, f"{exercise}: not once in the solution: {old!r}"
        cells[0].source = cells[0].source.replace(old, new)
    folder.mkdir(parents=True)
    nbformat.write(solution, folder / f"{exercise}.ipynb")
    return folder / f"{exercise}.ipynb"


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """{(exercise, seed): {description: results}}, each exercise's alternatives in one judge per seed."""
    cache: dict[tuple[str, int], dict[str, list[dict]]] = {}
    written: dict[str, dict[str, Path]] = {}

    def results(exercise: str, seed: int) -> dict[str, list[dict]]:
        if exercise not in written:
            root = tmp_path_factory.mktemp(f"alternatives-{exercise}")
            written[exercise] = {description: patched(root / str(number), exercise, patches)
                                 for number, (name, description, patches) in enumerate(ALTERNATIVES)
                                 if name == exercise}
        if (exercise, seed) not in cache:
            paths = written[exercise]
            module = CHECKS / f"test_{exercise.replace('-', '_')}.py"
            report = tmp_path_factory.mktemp(f"report-{exercise}-{seed}") / "report.jsonl"
            found = run_checks(module, list(paths.values()), report, "--book-seed", str(seed), "--book-mirror")
            cache[(exercise, seed)] = {description: found[str(path)] for description, path in paths.items()}
        return cache[(exercise, seed)]

    return results


@pytest.mark.parametrize("exercise, description, patches", ALTERNATIVES,
                         ids=[f"ex{exercise[:2]}: {description}" for exercise, description, _ in ALTERNATIVES])
def test_a_correct_alternative_scores_full_marks_under_every_seed(exercise, description, patches, graded):
    for seed in SEEDS:
        results = graded(exercise, seed)[description]
        assert results, f"seed {seed}: no result"
        failed = [(result.get("name", result["kind"]), result["message"]) for result in results
                  if not result["passed"]]
        assert not failed, f"seed {seed}: {failed}"


def test_every_exercise_proven_here_has_four_alternatives():
    counts: dict[str, int] = {}
    for exercise, _, _ in ALTERNATIVES:
        counts[exercise] = counts.get(exercise, 0) + 1
    assert all(count >= 4 for count in counts.values()), counts
