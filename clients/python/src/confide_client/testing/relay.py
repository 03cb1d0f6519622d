"""The real Confide relay in this process and event loop, for integrators' tests and the SDK's.

:func:`relay` assembles the relay the way ``confide serve`` does (the migrations,
``create_app(settings)``, uvicorn with the relay's own WebSocket protocol) on a fresh SQLite
file, and listens on 127.0.0.1 behind a link the test can cut (link.py). Devices reach it
with the SDK's own :class:`~confide_client.transport.http.HttpTransport`: real HTTP, a real
WebSocket. A test therefore checks a program against the relay's actual rules, not against a
copy of them that could drift; the organisation, its policy and enrolment codes are made by
the same service functions the ``confide`` admin commands call.

Why a real server rather than httpx's ASGI transport: that transport has no WebSocket, and
the relay's WebSocket path starts in its own uvicorn protocol class (ws/protocol.py), which
only a server with sockets runs. Binding 127.0.0.1 costs a fraction of a second per relay.

The settings are the relay's defaults plus the keyword arguments given, never the caller's
CONFIDE_ environment: a test must not pick up, say, the database of a relay the developer
runs beside it.
"""

from __future__ import annotations

import asyncio
import socket
import tempfile
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager, closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import uvicorn
from confide_server.app import create_app
from confide_server.clock import system_clock
from confide_server.services import group_terms, org_settings, organisation, policy_texts
from confide_server.serving import uvicorn_options
from confide_server.settings import Settings
from confide_server.store import schema
from confide_server.store.engine import make_engine
from confide_server.store.migrate import new_sqlite_database, upgrade
from confide_server.store.sqla_async import AsyncEngine
from fastapi import FastAPI
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource
from sqlalchemy import func, select

from confide_client.client import ConfideClient
from confide_client.encoding import b64e
from confide_client.testing.link import CuttableLink
from confide_client.transport.base import Policy, PolicyTranslation
from confide_client.transport.http import HttpTransport

__all__ = [
    "DEFAULT_PASSPHRASE",
    "DEFAULT_POLICY",
    "ConsentRecord",
    "Holdings",
    "LocalRelay",
    "relay",
]

DEFAULT_POLICY = "Test confidentiality policy: what you share stays private, except ..."
DEFAULT_PASSPHRASE = "test relay device passphrase"  # noqa: S105 - for throwaway test devices
#: Settings the helper chooses itself: where the data lives and the URL devices use.
RESERVED = frozenset({"data_dir", "database_url", "public_url"})
#: Bounds on waiting for uvicorn, so a broken relay fails a test instead of hanging it.
START_TIMEOUT_SECONDS = 30.0
SHUTDOWN_GRACE_SECONDS = 5
#: The audit log's actor for what the helper does as the relay's operator.
ACTOR = "cli"


class _ArgumentSettings(Settings):
    """The relay's Settings from the arguments alone; the environment is not read."""

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings,)


@dataclass(frozen=True)
class ConsentRecord:
    """A consent statement the relay keeps for the organisation's records."""

    kind: str  # "receipt" or "revocation"
    statement: bytes  # confide_crypto's canonical bytes, as the client device signed them


@dataclass(frozen=True)
class Holdings:
    """What the relay's database holds right now that devices put there."""

    envelopes: int  # queued for a mailbox and not yet acknowledged
    attachments: int  # encrypted blobs
    consent: tuple[ConsentRecord, ...]


class LocalRelay:
    """A running test relay: its URL, its admin actions, and devices that talk to it."""

    def __init__(
        self,
        directory: Path,
        settings: Settings,
        url: str,
        engine: AsyncEngine,
        stack: AsyncExitStack,
        link: CuttableLink,
    ) -> None:
        self.directory = directory
        self.settings = settings
        #: The base URL devices use (``HttpTransport(url)``, ``invite_link(url, token)``).
        self.url = url
        #: The organisation's current confidentiality policy (None until one is published).
        self.policy: Policy | None = None
        self._engine = engine
        self._stack = stack
        self._link = link

    # What an administrator does (the ``confide`` admin commands' service functions).

    async def publish_policy(self, text: str) -> Policy:
        """Publish a new version of the organisation's confidentiality policy."""
        async with self._engine.begin() as conn:
            published = await organisation.publish_policy(conn, text, system_clock(), ACTOR)
        self.policy = Policy(published.version, published.text, published.sha256)
        return self.policy

    async def publish_group_terms(self, text: str) -> Policy:
        """Publish a new version of the terms for peer support groups (``confide
        publish-group-terms``)."""
        async with self._engine.begin() as conn:
            published = await group_terms.publish(conn, text, system_clock(), ACTOR)
        return Policy(published.version, published.text, published.sha256)

    async def translate_policy(self, language: str, text: str) -> Policy:
        """Publish the current version in one more language, as ``confide publish-policy
        --language LANGUAGE --translation-of VERSION``."""
        assert self.policy is not None, "publish a policy first"
        async with self._engine.begin() as conn:
            version = self.policy.version
            await policy_texts.add(conn, version, language, text, system_clock(), ACTOR)
            current = await organisation.current_policy(conn)
        assert current is not None
        others = tuple(
            PolicyTranslation(t.language, t.text, t.sha256) for t in current.translations
        )
        self.policy = Policy(
            current.version, current.text, current.sha256, current.language, others
        )
        return self.policy

    async def enrolment_code(self, role: str = "worker") -> str:
        """A one-time code that enrols one new worker's device, as ``confide enrol-worker``."""
        async with self._engine.begin() as conn:
            _worker, code = await organisation.enrol_worker(
                conn, role, system_clock(), self.settings.enrolment_code_ttl_seconds, ACTOR
            )
        return b64e(code)

    async def set_org_setting(self, name: str, seconds: int) -> None:
        """Change one organisation setting, as ``confide settings set NAME VALUE``."""
        async with self._engine.begin() as conn:
            await org_settings.change(conn, name, seconds, system_clock(), ACTOR)

    # Devices.

    def transport(self) -> HttpTransport:
        """A transport to this relay; the helper closes it when the relay stops."""
        transport = HttpTransport(self.url)
        self._stack.push_async_callback(transport.aclose)
        return transport

    def device(
        self, name: str, *, passphrase: str = DEFAULT_PASSPHRASE, **options: Any
    ) -> ConfideClient:
        """A new, unregistered device whose state file is ``devices/<name>`` in the directory.

        ``options`` go to :meth:`ConfideClient.create`; ``key_cost`` defaults to "min" (fast,
        for tests only). The helper closes the device when the relay stops.
        """
        options.setdefault("key_cost", "min")
        folder = self.directory / "devices"
        folder.mkdir(exist_ok=True)
        client = ConfideClient.create(folder / name, passphrase, self.transport(), **options)
        self._stack.push_async_callback(client.close)
        return client

    async def worker(
        self, name: str = "worker", *, role: str = "worker", **options: Any
    ) -> ConfideClient:
        """A new worker device, enrolled with a fresh enrolment code (not started yet)."""
        client = self.device(name, **options)
        await client.enrol(await self.enrolment_code(role))
        return client

    # What a test looks at or breaks.

    def drop_connections(self) -> None:
        """Cut every open connection to the relay at once, as a network failure would."""
        self._link.cut()

    def stored_bytes(self) -> bytes:
        """Every file the relay keeps (the SQLite database, its WAL), for plaintext searches."""
        data = self.settings.data_dir
        return b"\n".join(p.read_bytes() for p in sorted(data.rglob("*")) if p.is_file())

    async def holdings(self) -> Holdings:
        """Counts of what devices left in the relay's database, and the consent statements."""
        async with self._engine.connect() as conn:
            envelopes = await conn.scalar(select(func.count()).select_from(schema.envelopes))
            blobs = await conn.scalar(select(func.count()).select_from(schema.attachments))
            rows = await conn.execute(
                select(schema.consent_receipts.c.kind, schema.consent_receipts.c.receipt)
            )
            consent = tuple(ConsentRecord(r.kind, r.receipt) for r in rows)
        return Holdings(int(envelopes or 0), int(blobs or 0), consent)


@asynccontextmanager
async def relay(
    directory: str | Path | None = None,
    *,
    organisation_name: str = "Test organisation",
    policy: str | None = DEFAULT_POLICY,
    **settings: Any,
) -> AsyncIterator[LocalRelay]:
    """Run the real relay on a fresh SQLite database until the block ends.

    The database and the devices' state files live in ``directory`` (a temporary folder,
    removed afterwards, if none is given); it must not hold a relay already. The organisation
    is created with ``policy`` as its first confidentiality policy (None publishes none).
    ``settings`` override the relay's Settings by field name, e.g. ``max_queue_depth=3``.
    On exit, every device and transport the helper made is closed, then the relay stops.
    """
    values = _settings_values(settings)
    async with AsyncExitStack() as stack:
        if directory is None:
            directory = stack.enter_context(tempfile.TemporaryDirectory(prefix="confide-relay-"))
        root = Path(directory)
        listener = stack.enter_context(closing(_bound_socket()))
        link = CuttableLink(listener.getsockname()[1])
        await link.start()
        stack.push_async_callback(link.close)
        url = f"http://127.0.0.1:{link.port}"
        server_settings = _ArgumentSettings(**values, data_dir=root / "relay", public_url=url)
        engine = await _prepared_database(server_settings)
        stack.push_async_callback(engine.dispose)
        async with engine.begin() as conn:
            retention = server_settings.default_max_retention_seconds
            await organisation.create(conn, organisation_name, retention, system_clock())
        app = create_app(server_settings)
        await stack.enter_async_context(app.router.lifespan_context(app))
        await stack.enter_async_context(_serving(app, server_settings, listener))
        local = LocalRelay(root, server_settings, url, engine, stack, link)
        if policy is not None:
            await local.publish_policy(policy)
        yield local


def _settings_values(overrides: dict[str, Any]) -> dict[str, Any]:
    unknown = sorted(set(overrides) - set(Settings.model_fields))
    if unknown:
        raise TypeError(f"not relay settings: {', '.join(unknown)}")
    reserved = sorted(set(overrides) & RESERVED)
    if reserved:
        raise TypeError(f"the test relay chooses these itself: {', '.join(reserved)}")
    # No web app and no Redis unless asked for: a test relay needs neither to be the relay.
    return {"web_dist": None, "redis_url": None, **overrides}


async def _prepared_database(settings: Settings) -> AsyncEngine:
    url = settings.resolved_database_url
    settings.data_dir.mkdir(parents=True, exist_ok=False)
    await asyncio.to_thread(_migrated, url, settings.migrations_dir)
    return make_engine(url)


def _migrated(url: str, migrations: Path) -> None:
    """Bring the database at ``url`` to the newest schema (blocking: run in a thread)."""
    path = Path(url.removeprefix("sqlite+aiosqlite:///"))
    if url.startswith("sqlite+aiosqlite:///") and not path.exists():
        # A copy of this process's migrated template: a suite with a relay per test pays
        # for the migrations once.
        new_sqlite_database(path, migrations)
    else:
        upgrade(url, migrations)


def _bound_socket() -> socket.socket:
    """A TCP socket on a free port of 127.0.0.1, for uvicorn to listen on."""
    # The protocol is named: asyncio turns Nagle's algorithm off only on sockets whose
    # protocol is IPPROTO_TCP, and with it on, every response uvicorn writes in two parts
    # waits for the peer's delayed ACK (about 40 ms on Linux).
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


@asynccontextmanager
async def _serving(
    app: FastAPI, settings: Settings, listener: socket.socket
) -> AsyncIterator[None]:
    """uvicorn on ``listener`` in this event loop, with the options ``confide serve`` uses.

    The app's lifespan is run by the caller (so a relay that fails to start raises here,
    with its own traceback, rather than making uvicorn exit the process).
    """
    config = uvicorn.Config(
        app,
        lifespan="off",
        log_config=None,
        timeout_graceful_shutdown=SHUTDOWN_GRACE_SECONDS,
        **uvicorn_options(settings),
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[listener]), name="confide-test-relay")
    try:
        await _started(server, task)
        yield
    finally:
        server.should_exit = True
        await task


async def _started(server: uvicorn.Server, task: asyncio.Task[None]) -> None:
    steps = int(START_TIMEOUT_SECONDS / 0.01)
    for _ in range(steps):
        if server.started:
            return
        if task.done():
            task.result()
            raise RuntimeError("the test relay stopped before it was serving")
        await asyncio.sleep(0.01)  # uvicorn offers no event to wait on
    raise TimeoutError(f"the test relay was not serving within {START_TIMEOUT_SECONDS} s")
