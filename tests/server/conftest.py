"""Relay fixtures: settings for SQLite and PostgreSQL, an in-memory app, and a live server."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from confide_server.app import create_app
from confide_server.relay import Relay
from confide_server.settings import Settings
from confide_server.store.migrate import new_sqlite_database, upgrade
from confide_server.ws.protocol import RelayWebSocketProtocol, uvicorn_ws
from fastapi import FastAPI

from .helpers import FakeClock

SettingsFactory = Callable[..., Settings]


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each storage test runs once on SQLite and once on PostgreSQL.

    The PostgreSQL database is a copy of one migrated per run; the SQLite file does not
    exist yet, and ``make_settings`` copies a migrated template there.
    """
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'relay.db'}"
    url: str = request.getfixturevalue("migrated_postgres_url")
    return url


@pytest.fixture(params=["sqlite", "postgres"])
def empty_db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """As ``db_url``, but with no schema at all: for tests that run migrations step by step."""
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'relay.db'}"
    url: str = request.getfixturevalue("postgres_url")
    return url


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'relay.db'}"


@pytest.fixture
def make_settings(tmp_path: Path) -> SettingsFactory:
    def build(url: str, **overrides: object) -> Settings:
        prefix = "sqlite+aiosqlite:///"
        if url.startswith(prefix) and not Path(url.removeprefix(prefix)).exists():
            new_sqlite_database(Path(url.removeprefix(prefix)))
        else:
            # Alembic's env runs its own event loop, so it gets a thread of its own here.
            with ThreadPoolExecutor(1) as pool:
                pool.submit(upgrade, url).result()
        values: dict[str, object] = {
            "database_url": url,
            "data_dir": tmp_path,
            "web_dist": None,
            "redis_url": None,
            "sweep_interval_seconds": 3600.0,
        }
        values.update(overrides)
        return Settings.model_validate(values)

    return build


@pytest.fixture
def settings(db_url: str, make_settings: SettingsFactory) -> Settings:
    return make_settings(db_url)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def app(settings: Settings, clock: FakeClock) -> AsyncIterator[FastAPI]:
    application = create_app(settings, clock=clock)
    async with application.router.lifespan_context(application):
        yield application


@asynccontextmanager
async def in_memory(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """Run ``app``'s lifespan and give an HTTP client that calls it without sockets."""
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://relay") as client:
            yield client


@pytest.fixture
def relay(app: FastAPI) -> Relay:
    r: Relay = app.state.relay
    return r


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://relay") as c:
        yield c


class LiveServer:
    """The app served by uvicorn on a real socket in this event loop."""

    def __init__(self, app: Any, max_frame: int, ws: Any = RelayWebSocketProtocol) -> None:
        self.app = app
        config = uvicorn.Config(
            app,
            host="127.0.0.1",
            port=0,
            ws=ws,
            ws_per_message_deflate=False,
            ws_max_size=max_frame,
            access_log=False,
            log_level="warning",
        )
        self.server = uvicorn.Server(config)
        self.task: asyncio.Task[None] | None = None
        self.port = 0

    async def __aenter__(self) -> LiveServer:
        self.server.config.setup_event_loop = lambda: None  # type: ignore[method-assign]
        self.task = asyncio.create_task(self.server.serve())
        while not self.server.started:  # noqa: ASYNC110 - uvicorn offers no event to wait on
            await asyncio.sleep(0.01)
        self.port = self.server.servers[0].sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.server.should_exit = True
        assert self.task is not None
        await self.task

    @property
    def http(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws(self) -> str:
        return f"ws://127.0.0.1:{self.port}/v1/ws"


@pytest.fixture(params=["relay", "asgi"])
def ws_transport(request: pytest.FixtureRequest) -> str:
    """Each live WebSocket test runs on the relay's own transport and on plain ASGI."""
    transport: str = request.param
    return transport


@pytest.fixture
async def live(settings: Settings, ws_transport: str) -> AsyncIterator[LiveServer]:
    app = create_app(settings)
    ws = uvicorn_ws(ws_transport)
    async with LiveServer(app, settings.max_frame_bytes, ws) as server:
        yield server


@pytest.fixture
async def live_client(live: LiveServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=live.http) as c:
        yield c


@pytest.fixture
def live_relay(live: LiveServer) -> Relay:
    r: Relay = live.app.state.relay
    return r
