"""Hidden checks for exercise 02, a database session per request.

Behaviour (status codes, all-or-nothing writes) and wiring: every endpoint gets its session from
get_session, one per request, and every connection goes back to the pool.
"""

import asyncio
from collections import Counter

from sqlalchemy import event, func, select
from sqlalchemy.ext.asyncio import AsyncSession

import book
from book.checks import another_database, check, expect, expect_response, resolved, session_dependency

EXERCISE = "02-db-session"
STUCK_AFTER = 10  # seconds; 60 requests take well under one


async def titles(client):
    response = await client.get("/notes")
    expect_response(response, status=200)
    return [note["title"] for note in response.json()]


@check(points=2, hint="""POST /notes saves the note, commits, and answers 201 with {"id", "title"};
    GET /notes/{note_id} reads it back with session.get(Note, note_id).""")
async def test_create_then_read(client):
    created = await client.post("/notes", json={"title": "Plan the week", "body": "Monday first"})
    expect_response(created, status=201)
    body = created.json()
    expect(isinstance(body, dict) and body.get("title") == "Plan the week" and isinstance(body.get("id"), int),
           called="POST /notes {title: Plan the week}", got=body, expected='{"id": <a number>, "title": "Plan the week"}')
    expect_response(await client.get(f"/notes/{body['id']}"), status=200,
                    json={"id": body["id"], "title": "Plan the week", "body": "Monday first"})


@check(points=1, hint="""When session.get(Note, note_id) returns None, raise HTTPException(404).""")
async def test_missing_note_is_404(client):
    expect_response(await client.get("/notes/4242"), status=404)


@check(points=2, hint="""Commit in the endpoint and catch IntegrityError there: raise HTTPException(409).
    The dependency then rolls the session back, and nothing is saved.""")
async def test_duplicate_title_is_409_and_saves_nothing(client):
    expect_response(await client.post("/notes", json={"title": "Once"}), status=201)
    expect_response(await client.post("/notes", json={"title": "Once", "body": "again"}), status=409)
    after = await titles(client)
    expect(after == ["Once"], called="GET /notes after a 409", got=after, expected='["Once"]')


@check(points=2, hint="""Add every note of the batch, then commit once: one transaction. If the commit
    raises IntegrityError, answer 409; the rollback undoes the whole batch.""")
async def test_batch_is_all_or_nothing(client):
    expect_response(await client.post("/notes", json={"title": "Existing"}), status=201)
    for batch, why in (([{"title": "New one"}, {"title": "Existing"}], "clashes with a saved note"),
                       ([{"title": "Twin"}, {"title": "Twin"}], "repeats a title")):
        response = await client.post("/notes/batch", json=batch)
        expect_response(response, status=409, called=f"POST /notes/batch with a batch that {why}")
        after = await titles(client)
        expect(after == ["Existing"], called=f"GET /notes after a batch that {why}", got=after,
               expected='["Existing"]: nothing of the failed batch saved')
    saved = await client.post("/notes/batch", json=[{"title": "A"}, {"title": "B"}])
    expect_response(saved, status=201)
    expect([note.get("title") for note in saved.json()] == ["A", "B"], called="POST /notes/batch [A, B]",
           got=saved.json(), expected='[{"id": ..., "title": "A"}, {"id": ..., "title": "B"}]')


@check(points=2, hint="""Every request must give its connection back, failing ones included. Open the
    session with `async with SessionLocal() as session:` around the yield, so it closes however the
    request ends, and re-raise after rolling back.""")
async def test_no_connection_is_left_checked_out(notebook, client):
    pool = Counter()
    engine = notebook.engine.sync_engine
    event.listen(engine, "checkout", lambda *args: pool.update(["out"]))
    event.listen(engine, "checkin", lambda *args: pool.update(["in"]))
    requests = []
    for n in range(12):
        requests += [
            client.post("/notes", json={"title": f"t{n % 5}"}),  # 5 created, the rest 409
            client.get(f"/notes/{n + 100}"),  # 404
            client.post("/notes", json={"wrong": "shape"}),  # 422
            client.post("/notes/batch", json=[{"title": f"b{n}"}, {"title": "t0"}]),  # 409
            client.get("/notes"),
        ]
    try:  # connections that are never given back make the pool wait 30 s for each request over its size
        responses = await asyncio.wait_for(asyncio.gather(*requests), timeout=STUCK_AFTER)
    except TimeoutError:
        expect(False, called="60 requests at once: creates, 404s, 409s, 422s and lists",
               got=f"still waiting for a database connection after {STUCK_AFTER} s: "
                   f"{pool['out'] - pool['in']} connections not given back", expected="every connection given back")
    statuses = Counter(response.status_code for response in responses)
    expect(pool["out"] == pool["in"] and notebook.engine.pool.checkedout() == 0,
           called="60 requests at once: creates, 404s, 409s, 422s and lists",
           got=f"{pool['out']} connections handed out, {pool['in']} given back (answers: {dict(sorted(statuses.items()))})",
           expected="every connection given back")


@check(points=2, hint="""Every endpoint must take its session from DBSession, so that overriding
    get_session (as tests do) changes the database of every endpoint. An endpoint that opens
    SessionLocal() itself ignores the override.""")
async def test_overriding_the_session_reaches_every_endpoint(notebook, app, client):
    async with another_database(notebook.Base) as OtherSession:
        async with OtherSession() as session:
            session.add(notebook.Note(id=7, title="Elsewhere", body="other db"))
            await session.commit()
        app.dependency_overrides[notebook.get_session] = session_dependency(OtherSession)
        try:
            seen = resolved(app, "GET /notes")
            listed = await client.get("/notes")
            expect_response(listed, status=200, json=[{"id": 7, "title": "Elsewhere"}],
                            called="GET /notes with get_session overridden by another database", seen=seen)
            expect_response(await client.get("/notes/7"), status=200,
                            json={"id": 7, "title": "Elsewhere", "body": "other db"},
                            called="GET /notes/7 with get_session overridden by another database")
            expect_response(await client.post("/notes", json={"title": "Sent elsewhere"}), status=201,
                            called="POST /notes with get_session overridden by another database")
            expect_response(await client.post("/notes/batch", json=[{"title": "Batch elsewhere"}]), status=201,
                            called="POST /notes/batch with get_session overridden by another database")
            async with OtherSession() as session:
                there = list(await session.scalars(select(notebook.Note.title).order_by(notebook.Note.id)))
            expect(there == ["Elsewhere", "Sent elsewhere", "Batch elsewhere"],
                   called="the overriding database after POST /notes and POST /notes/batch", got=there,
                   expected='["Elsewhere", "Sent elsewhere", "Batch elsewhere"]')
        finally:
            app.dependency_overrides.clear()
    async with notebook.SessionLocal() as session:
        own = await session.scalar(select(func.count()).select_from(notebook.Note))
    expect(own == 0, called="the notebook's own database after those requests", got=f"{own} notes",
           expected="0 notes: every write went to the override")


@check(points=2, hint="""get_session must be a generator dependency (it yields) so that FastAPI closes
    the session after each request, and each request must get a session of its own: never create a
    session at module level or keep one in a global.""")
async def test_one_fresh_session_per_request(notebook, app):
    module_sessions = [name for name, value in vars(notebook).items() if isinstance(value, AsyncSession)]
    expect(not module_sessions, called="the notebook's global names", got=f"sessions in {module_sessions}",
           expected="no session outside a request")
    for method, path, body in (("GET", "/notes", None), ("POST", "/notes", {"title": "Traced"}),
                               ("GET", "/notes/1", None)):
        trace = await book.trace(app, method, path, json=body)
        opened = trace.calls(notebook.get_session)
        closed = sum(1 for event in trace.events if event.kind == "exit" and event.who == "get_session")
        expect(opened == 1 and closed == 1, called=f"{method} {path}, traced",
               got=f"get_session opened {opened} time(s), torn down {closed} time(s)",
               expected="opened once and torn down once", seen=str(trace))
