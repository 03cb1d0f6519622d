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
from collections.abc import Iterator

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


async def _pg_admin(statement: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(PG_ADMIN_DSN)
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A SQLAlchemy URL to a brand-new PostgreSQL database, dropped afterwards."""
    need(_port_open("127.0.0.1", 5432), "PostgreSQL is not running on 127.0.0.1:5432")
    name = f"confide_test_{uuid.uuid4().hex[:12]}"
    asyncio.run(_pg_admin(f'CREATE DATABASE "{name}"'))
    try:
        yield f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}"
    finally:
        asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
def redis_url() -> str:
    """A Redis URL on a database index of its own for this test."""
    need(_port_open(REDIS_HOST, REDIS_PORT), f"Redis is not running on {REDIS_HOST}:{REDIS_PORT}")
    return f"redis://{REDIS_HOST}:{REDIS_PORT}/{uuid.uuid4().int % 15 + 1}"
