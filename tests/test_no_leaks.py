"""No leaks under load: hundreds of concurrent in-process requests against the apps of chapters 02
and 12 leave no database connection checked out, and shutdown leaves no client open.

The apps are the chapters' own code: chapter 02's notebook run as a module, chapter 12's
tracker.py taken from the cell that writes it. ResourceWarning is an error in the whole test run
(pyproject.toml), so an unclosed connection, socket or file found by the garbage collector fails
the test that was running.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import importlib
import sys
import tempfile
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.pool import QueuePool

from book import ROOT, apps
from book.core import nbfiles, notebooks

pytestmark = pytest.mark.anyio
REQUESTS = 300


def watch_pool(engine: AsyncEngine) -> Counter[str]:
    """Counts of checkouts and checkins, and the most connections out at once."""
    counts: Counter[str] = Counter()

    def checkout(*args: object) -> None:
        counts["out"] += 1
        counts["peak"] = max(counts["peak"], counts["out"] - counts["in"])

    event.listen(engine.sync_engine, "checkout", checkout)
    event.listen(engine.sync_engine, "checkin", lambda *args: counts.update(["in"]))
    return counts


async def burst(client: httpx.AsyncClient, requests: list[tuple[str, str, dict[str, Any]]]) -> Counter[int]:
    """Send every request at once; the status codes that came back."""
    answers = await asyncio.gather(*(client.request(method, path, **options) for method, path, options in requests))
    return Counter(response.status_code for response in answers)


@contextlib.asynccontextmanager
async def chapter_02(patch: tuple[str, str] | None = None, **engine_options: Any) -> AsyncIterator[Any]:
    """Chapter 02's notebook as a module, its app on a database of its own (the chapter's last cell
    removed the one it used). The module is Any: its names are the notebook's."""
    chapter: Any = await notebooks.run(
        ROOT / "chapters" / "02-db-session.ipynb", module_name="chapter_02_under_load", patch=patch
    )
    with tempfile.TemporaryDirectory() as folder:
        # get_session reads these globals at each request: the chapter's code, on a new database.
        chapter.engine = create_async_engine(f"sqlite+aiosqlite:///{Path(folder) / 'notes.db'}", **engine_options)
        chapter.SessionLocal = async_sessionmaker(chapter.engine, expire_on_commit=False)
        async with chapter.engine.begin() as connection:
            await connection.run_sync(chapter.Base.metadata.create_all)
        try:
            yield chapter
        finally:
            await chapter.engine.dispose()
            sys.modules.pop("chapter_02_under_load", None)


def chapter_02_requests() -> list[tuple[str, str, dict[str, Any]]]:
    requests = [("POST", "/notes", {"json": {"title": f"note {n % 80}"}}) for n in range(100)]  # 20 duplicates
    return requests + [("GET", f"/notes/{n % 120 + 1}", {}) for n in range(150)] + [("GET", "/notes", {})] * 50


async def test_chapter_02_leaves_no_connection_checked_out() -> None:
    async with chapter_02() as chapter:
        pool = watch_pool(chapter.engine)
        transport = httpx.ASGITransport(app=chapter.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            statuses = await burst(client, chapter_02_requests())
        assert sum(statuses.values()) == REQUESTS and not statuses.keys() - {200, 201, 404, 409}, statuses
        assert statuses[409] == 20, statuses  # the duplicates took the rollback path
        assert pool["peak"] > 1, "the requests never overlapped: not a test of concurrency"
        assert chapter.engine.pool.checkedout() == 0, f"{chapter.engine.pool.checkedout()} connections left out"
        assert pool["out"] == pool["in"] >= REQUESTS, pool


async def test_a_session_never_closed_is_seen_as_a_leak() -> None:
    """The measure can fail: a get_session that never closes its session leaves connections out."""
    # pool_timeout: a leak exhausts the pool (5 + 10 overflow); later requests fail fast, not after 30 s.
    async with chapter_02(pool_timeout=0.2) as chapter:
        opened = []

        async def leaking_get_session() -> AsyncIterator[AsyncSession]:
            opened.append(session := chapter.SessionLocal())  # never closed
            yield session

        chapter.app.dependency_overrides[chapter.get_session] = leaking_get_session
        try:
            transport = httpx.ASGITransport(app=chapter.app, raise_app_exceptions=False)
            async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
                statuses = await burst(client, [("GET", "/notes", {})] * 20)
            assert chapter.engine.pool.checkedout() == 15, statuses  # all the pool may hand out
        finally:
            chapter.app.dependency_overrides.clear()
            for session in opened:  # so that the leak ends with this test
                await session.close()


@pytest.fixture
def tracker(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """Chapter 12's tracker.py, as the chapter writes it, imported from a folder of its own (Any: its names
    are the chapter's)."""
    chapter = nbfiles.read(ROOT / "chapters" / "12-capstone.ipynb", as_version=4)
    source = next(cell.source for cell in chapter.cells if cell.source.startswith("%%writefile tracker.py"))
    (tmp_path / "tracker.py").write_text(source.split("\n", 1)[1], encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    sys.modules.pop("tracker", None)
    yield importlib.import_module("tracker")
    sys.modules.pop("tracker", None)


async def test_chapter_12_leaves_no_connection_out_and_no_client_open(
    tracker: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    engines: list[AsyncEngine] = []
    caches: list[Any] = []
    real_engine = tracker.create_async_engine

    def recording_engine(*args: object, **kwargs: Any) -> AsyncEngine:
        engine: AsyncEngine = real_engine(*args, **kwargs)
        engines.append(engine)
        return engine

    class RecordingRedis(tracker.FakeAsyncRedis):  # type: ignore[misc]  # the chapter's class, known at run time
        closed = False

        def __init__(self, *args: object, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            caches.append(self)

        async def aclose(self, *args: object, **kwargs: Any) -> None:
            RecordingRedis.closed = True
            await super().aclose(*args, **kwargs)

    monkeypatch.setattr(tracker, "create_async_engine", recording_engine)
    monkeypatch.setattr(tracker, "FakeAsyncRedis", RecordingRedis)
    app = tracker.create_app(tracker.Settings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'load.db'}"))

    async with apps.serving(app) as served:
        (engine,) = engines
        pool = watch_pool(engine)
        async with served.lifespan_state["sessions"]() as session:
            acme, globex = tracker.Org(name="Acme"), tracker.Org(name="Globex")
            session.add_all([acme, globex])
            await session.flush()
            session.add_all(
                [
                    tracker.User(org_id=acme.id, name="ada", role="admin", token_hash=tracker.hash_token("ada")),
                    tracker.User(org_id=acme.id, name="bob", token_hash=tracker.hash_token("bob")),
                    tracker.User(org_id=globex.id, name="gus", role="admin", token_hash=tracker.hash_token("gus")),
                ]
            )
            await session.commit()

        def as_user(token: str) -> dict[str, dict[str, str]]:
            return {"headers": {"Authorization": f"Bearer {token}"}}

        requests = [("POST", f"/projects?name=p{n}", as_user("ada")) for n in range(40)]
        requests += [("GET", "/projects", as_user(who)) for who in ("ada", "bob", "gus") for _ in range(50)]
        requests += [("GET", f"/projects/{n % 50 + 1}", as_user("gus")) for n in range(40)]  # another org's: 404
        requests += [("POST", "/projects?name=nope", as_user("bob")) for _ in range(20)]  # a member: 403
        requests += [("GET", "/projects", as_user("stolen")) for _ in range(25)]  # an unknown token: 401
        requests += [("GET", "/projects", {}) for _ in range(25)]  # no token: 401
        async with apps.client(served) as client:
            statuses = await burst(client, requests)
        assert sum(statuses.values()) == REQUESTS, statuses
        assert statuses == Counter({200: 150, 201: 40, 404: 40, 403: 20, 401: 50}), statuses
        assert pool["peak"] > 1, "the requests never overlapped: not a test of concurrency"
        connections = engine.pool
        assert isinstance(connections, QueuePool), connections
        assert connections.checkedout() == 0, f"{connections.checkedout()} connections left out"
        assert pool["out"] == pool["in"], pool

    # After shutdown: the engine disposed (its pool holds no connection) and the Redis client closed.
    assert connections.checkedout() == 0 and connections.checkedin() == 0, connections.status()
    assert len(caches) == 1 and RecordingRedis.closed, "the lifespan's Redis client was not closed"
    gc.collect()  # an unclosed connection found now is a ResourceWarning, an error in this run
