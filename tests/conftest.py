"""Shared fixtures: real services (PostgreSQL, Redis) with a fresh database per run.

A test that needs a service which is not running skips with a reason on a developer's
machine, and fails when CONFIDE_REQUIRE_SERVICES=1 (CI sets it), so CI can never go green
by skipping the real parts.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

PG_ADMIN_DSN = os.environ.get("CONFIDE_TEST_PG_DSN", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_HOST = os.environ.get("CONFIDE_TEST_REDIS_HOST", "127.0.0.1")
REDIS_PORT = int(os.environ.get("CONFIDE_TEST_REDIS_PORT", "6379"))


def services_required() -> bool:
    return os.environ.get("CONFIDE_REQUIRE_SERVICES", "") not in ("", "0", "false", "no")


def need(available: bool, reason: str) -> None:
    """Skip (developer machine) or fail (CI) when a real service is missing."""
    if available:
        return
    if services_required():
        pytest.fail(f"required service missing: {reason}", pytrace=False)
    pytest.skip(reason)


def _port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1.0):
            return True
    except OSError:
        return False


def need_executable(name: str) -> str:
    path = shutil.which(name)
    need(path is not None, f"{name} is not installed")
    assert path is not None
    return path


async def _pg_admin_async(statement: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(PG_ADMIN_DSN)
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


def _pg_admin(statement: str) -> None:
    # A thread of its own, so that an async test may call a factory below from its loop.
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, _pg_admin_async(statement)).result()


PostgresFactory = Callable[..., str]


class _PostgresTemplate:
    """One database per test run with the newest schema, for tests to be copied from.

    Migrating a new database takes about a second and most storage tests want one each;
    ``CREATE DATABASE ... TEMPLATE`` copies the migrated one in a fraction of that. Tests
    that exercise the migrations themselves keep asking for empty databases.
    """

    def __init__(self) -> None:
        self.name: str | None = None

    def get(self) -> str:
        if self.name is None:
            from confide_server.store.migrate import upgrade

            name = f"confide_template_{uuid.uuid4().hex[:12]}"
            _pg_admin(f'CREATE DATABASE "{name}"')
            self.name = name
            with ThreadPoolExecutor(1) as pool:
                pool.submit(
                    upgrade, f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}"
                ).result()
        return self.name


@pytest.fixture(scope="session")
def _postgres_template() -> Iterator[_PostgresTemplate]:
    template = _PostgresTemplate()
    yield template
    if template.name is not None:
        _pg_admin(f'DROP DATABASE IF EXISTS "{template.name}" WITH (FORCE)')


@pytest.fixture
def make_postgres_url(_postgres_template: _PostgresTemplate) -> Iterator[PostgresFactory]:
    """Makes SQLAlchemy URLs to brand-new PostgreSQL databases, all dropped afterwards.

    ``make(migrated=True)`` gives one that already has the newest schema.
    """
    need(_port_open("127.0.0.1", 5432), "PostgreSQL is not running on 127.0.0.1:5432")
    names: list[str] = []

    def make(migrated: bool = False) -> str:
        name = f"confide_test_{uuid.uuid4().hex[:12]}"
        template = f' TEMPLATE "{_postgres_template.get()}"' if migrated else ""
        _pg_admin(f'CREATE DATABASE "{name}"{template}')
        names.append(name)
        return f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}"

    try:
        yield make
    finally:
        for name in names:
            _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def postgres_url(make_postgres_url: PostgresFactory) -> str:
    """A SQLAlchemy URL to a brand-new, empty PostgreSQL database, dropped afterwards."""
    return make_postgres_url()


@pytest.fixture
def migrated_postgres_url(make_postgres_url: PostgresFactory) -> str:
    """A brand-new PostgreSQL database with the newest schema, dropped afterwards."""
    return make_postgres_url(migrated=True)


@pytest.fixture
def redis_url() -> str:
    """The shared Redis server.

    A database index would isolate nothing: pub/sub ignores database numbers. What keeps one
    test's fan-out apart from another's (and from other runs on this machine) is the relay's
    channel prefix, which by default names the relay's own database (fanout/redis.py); every
    test relay has a database of its own, so its channels are its own.
    """
    need(_port_open(REDIS_HOST, REDIS_PORT), f"Redis is not running on {REDIS_HOST}:{REDIS_PORT}")
    return f"redis://{REDIS_HOST}:{REDIS_PORT}/0"
