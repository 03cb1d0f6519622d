"""Fixtures for the real-process tests: the relay's database on either backend, and a
private Redis that a test may kill or freeze."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import need_executable

from system.redis_process import RedisProcess


@pytest.fixture(params=["sqlite", "postgres"])
def database_env(request: pytest.FixtureRequest) -> dict[str, str]:
    """Relay settings for one backend: SQLite in the data directory, or a fresh PostgreSQL."""
    if request.param == "sqlite":
        return {}
    url: str = request.getfixturevalue("postgres_url")
    return {"CONFIDE_DATABASE_URL": url}


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[RedisProcess]:
    """A redis-server of this test's own, on its own port (never the machine's shared one)."""
    redis = RedisProcess(need_executable("redis-server"), tmp_path / "redis")
    redis.start()
    try:
        yield redis
    finally:
        redis.stop()
