"""Hidden checks for exercise 02, a database session per request.

Behaviour (status codes, all-or-nothing writes) through HTTP, with titles made up per grade from its
seed; and wiring: every endpoint gets its session from get_session, one per request, and every
connection goes back to the pool. The pool is watched, and a second database made, in the agent
(the ``@agent_side`` helpers); the checks judge the counts and titles those helpers send back.
"""

import asyncio
from collections import Counter

from book.grader.checks import agent_side, check, expect, expect_response

EXERCISE = "02-db-session"
STUCK_AFTER = 10  # seconds; 60 requests take well under one
WORDS = ["plan", "week", "milk", "garden", "letter", "invoice", "trip", "Ada", "lamp", "piano", "taxes", "bike"]


def titles_for(rng, count):
    """`count` distinct note titles for this grade."""
    words = rng.sample(WORDS, count)
    return [f"{word.capitalize()} {rng.randint(10, 999)}" for word in words]


async def titles(client):
    response = await client.get("/notes")
    expect_response(response, status=200)
    return [note.get("title") if isinstance(note, dict) else note for note in response.json()]


@agent_side
def watch_pool(ctx):
    """Count the connections the notebook's engine hands out, gets back, and loses to the garbage collector."""
    from sqlalchemy import event

    counts = ctx.pool_counts = {"out": 0, "in": 0, "lost": 0}

    def counter(key):
        def count(*args):
            counts[key] += 1
        return count

    engine = ctx.nb.engine.sync_engine
    event.listen(engine, "checkout", counter("out"))
    event.listen(engine, "checkin", counter("in"))
    # A connection never closed is detached when its session is garbage collected: SQLAlchemy warns, and
    # it is not given back, even though it no longer counts as checked out.
    event.listen(engine, "detach", counter("lost"))


@agent_side
def pool_counts(ctx):
    return {**ctx.pool_counts, "checked_out": ctx.nb.engine.pool.checkedout()}


@agent_side
async def use_another_database(ctx, notes):
    """Make an in-memory database with the notebook's tables and `notes` ([id, title, body] each), and
    override get_session with a yield dependency that hands out its sessions."""
    from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine
    from sqlalchemy.pool import StaticPool

    engine = create_async_engine("sqlite+aiosqlite://", poolclass=StaticPool)
    async with engine.begin() as connection:
        await connection.run_sync(ctx.nb.Base.metadata.create_all)
    ctx.other_sessions = async_sessionmaker(engine, expire_on_commit=False)
    async with ctx.other_sessions() as session:
        session.add_all(ctx.nb.Note(id=number, title=title, body=body) for number, title, body in notes)
        await session.commit()

    async def other_session():
        async with ctx.other_sessions() as session:
            yield session

    ctx.app.dependency_overrides[ctx.nb.get_session] = other_session


@agent_side
async def titles_in(ctx, which):
    """The titles in the other database, or in the notebook's own ("own"), in id order."""
    from sqlalchemy import select

    sessions = ctx.nb.SessionLocal if which == "own" else ctx.other_sessions
    async with sessions() as session:
        return list(await session.scalars(select(ctx.nb.Note.title).order_by(ctx.nb.Note.id)))


@agent_side
def global_sessions(ctx):
    """The notebook's global names that hold a session."""
    from sqlalchemy.ext.asyncio import AsyncSession
    from sqlalchemy.orm import Session

    return sorted(name for name, value in vars(ctx.nb).items() if isinstance(value, (AsyncSession, Session)))


@check(points=2, hint="""POST /notes saves the note and answers 201 with its id and title; GET
    /notes/{note_id} reads that note back, body included. Is the note still there when the next
    request, with a session of its own, looks for it?""")
async def test_create_then_read(client, rng):
    for title in titles_for(rng, 2):
        body = f"{rng.choice(WORDS)} first"
        created = await client.post("/notes", json={"title": title, "body": body})
        expect_response(created, status=201)
        answer = created.json()
        expect(isinstance(answer, dict) and answer.get("title") == title and isinstance(answer.get("id"), int),
               called=f"POST /notes {{title: {title}}}", got=answer,
               expected=f'{{"id": <a number>, "title": "{title}"}}')
        expect_response(await client.get(f"/notes/{answer['id']}"), status=200,
                        json={"id": answer["id"], "title": title, "body": body})


@check(points=1, hint="""Asking for a note that does not exist is the client's mistake, not a crash of
    the server: what does session.get give then, and which status says "not found"?""")
async def test_missing_note_is_404(client, rng):
    expect_response(await client.get(f"/notes/{rng.randint(1000, 9999)}"), status=404)
    expect_response(await client.post("/notes", json={"title": titles_for(rng, 1)[0]}), status=201)
    expect_response(await client.get(f"/notes/{rng.randint(1000, 9999)}"), status=404)


@check(points=2, hint="""A second note with a title already taken must be refused with 409, and must
    leave nothing behind. The database refuses it when you commit: which exception tells you so, and
    where can you turn it into an HTTP answer?""")
async def test_duplicate_title_is_409_and_saves_nothing(client, rng):
    title = titles_for(rng, 1)[0]
    expect_response(await client.post("/notes", json={"title": title}), status=201)
    expect_response(await client.post("/notes", json={"title": title, "body": "again"}), status=409)
    after = await titles(client)
    expect(after == [title], called="GET /notes after a 409", got=after, expected=f'["{title}"]')


@check(points=2, hint="""A batch is one transaction: either every note of it is saved, or none is. How
    many times may the endpoint commit for that to hold? When the commit fails, answer 409 and let
    the rollback undo the batch.""")
async def test_batch_is_all_or_nothing(client, rng):
    existing, new, twin, first, second = titles_for(rng, 5)
    expect_response(await client.post("/notes", json={"title": existing}), status=201)
    for batch, why in (([{"title": new}, {"title": existing}], "clashes with a saved note"),
                       ([{"title": twin}, {"title": twin}], "repeats a title")):
        response = await client.post("/notes/batch", json=batch)
        expect_response(response, status=409, called=f"POST /notes/batch with a batch that {why}")
        after = await titles(client)
        expect(after == [existing], called=f"GET /notes after a batch that {why}", got=after,
               expected=f'["{existing}"]: nothing of the failed batch saved')
    saved = await client.post("/notes/batch", json=[{"title": first}, {"title": second}])
    expect_response(saved, status=201)
    got = [note.get("title") if isinstance(note, dict) else note for note in saved.json()]
    expect(got == [first, second], called=f"POST /notes/batch [{first}, {second}]", got=saved.json(),
           expected=f'[{{"id": ..., "title": "{first}"}}, {{"id": ..., "title": "{second}"}}]')
    after = await titles(client)
    expect(after == [existing, first, second], called="GET /notes after a batch that saved", got=after,
           expected=str([existing, first, second]))


@check(points=2, hint="""Every request must give its connection back, failing ones included (404, 409,
    422). What closes the session however the request ends, and what must happen to an error after
    you rolled back?""")
async def test_no_connection_is_left_checked_out(nb, client):
    await nb.call(watch_pool)
    requests = []
    for n in range(12):
        requests += [
            client.post("/notes", json={"title": f"t{n % 5}"}),  # 5 created, the rest 409
            client.get(f"/notes/{n + 100}"),  # 404
            client.post("/notes", json={"wrong": "shape"}),  # 422
            client.post("/notes/batch", json=[{"title": f"b{n}"}, {"title": "t0"}]),  # 409
            client.get("/notes"),
        ]
    called = "60 requests at once: creates, 404s, 409s, 422s and lists"
    try:  # connections that are never given back make the pool wait 30 s for each request over its size
        responses = await asyncio.wait_for(asyncio.gather(*requests), timeout=STUCK_AFTER)
    except TimeoutError:
        try:
            stuck = f": {(await nb.call(pool_counts, timeout=5))['checked_out']} connections not given back"
        except Exception:  # the notebook's process may not answer any more: the wait says enough
            stuck = ""
        expect(False, called=called, expected="every connection given back",
               got=f"still waiting for a database connection after {STUCK_AFTER} s{stuck}")
    pool = await nb.call(pool_counts)
    statuses = Counter(response.status_code for response in responses)
    lost = f", {pool['lost']} never closed (left to the garbage collector)" if pool["lost"] else ""
    expect(pool["out"] == pool["in"] and pool["lost"] == 0 and pool["checked_out"] == 0, called=called,
           got=f"{pool['out']} connections handed out, {pool['in']} given back{lost} "
               f"(answers: {dict(sorted(statuses.items()))})",
           expected="every connection given back")


@check(points=2, hint="""Every endpoint must take its session from DBSession, so that overriding
    get_session (as tests do) changes the database of every endpoint. An endpoint that opens
    SessionLocal() itself ignores the override.""")
async def test_overriding_the_session_reaches_every_endpoint(nb, client, rng):
    number = rng.randint(2, 99)
    there, sent, batched = titles_for(rng, 3)
    await nb.call(use_another_database, [[number, there, "other db"]])
    called = "with get_session overridden by another database"
    expect_response(await client.get("/notes"), status=200, json=[{"id": number, "title": there}],
                    called=f"GET /notes {called}", seen=await nb.graph("GET /notes"))
    expect_response(await client.get(f"/notes/{number}"), status=200,
                    json={"id": number, "title": there, "body": "other db"},
                    called=f"GET /notes/{number} {called}", seen=await nb.graph("GET /notes/{note_id}"))
    expect_response(await client.post("/notes", json={"title": sent}), status=201, called=f"POST /notes {called}")
    expect_response(await client.post("/notes/batch", json=[{"title": batched}]), status=201,
                    called=f"POST /notes/batch {called}")
    found = await nb.call(titles_in, "other")
    expect(found == [there, sent, batched], called="the overriding database after POST /notes and POST /notes/batch",
           got=found, expected=str([there, sent, batched]))
    own = await nb.call(titles_in, "own")
    expect(own == [], called="the notebook's own database after those requests", got=f"{len(own)} notes",
           expected="0 notes: every write went to the override")


@check(points=2, hint="""get_session must hand out a session and take it back after the request (a
    dependency with yield does both), and each request must get a session of its own: never create a
    session at module level or keep one in a global.""")
async def test_one_fresh_session_per_request(nb, rng):
    found = await nb.call(global_sessions)
    expect(not found, called="the notebook's global names", got=f"sessions in {found}",
           expected="no session outside a request")
    title = titles_for(rng, 1)[0]
    for method, path, body in (("GET", "/notes", None), ("POST", "/notes", {"title": title}),
                               ("GET", "/notes/1", None)):
        traced = await nb.trace(method, path, json=body)
        opened, closed = traced.calls("get_session"), traced.exits("get_session")
        expect(opened == 1 and closed == 1, called=f"{method} {path}, traced",
               got=f"get_session opened {opened} time(s), torn down {closed} time(s)",
               expected="opened once and torn down once", seen=traced.text)
