"""Fixtures for the real-process tests: the relay's database on either backend."""

from __future__ import annotations

import pytest


@pytest.fixture(params=["sqlite", "postgres"])
def database_env(request: pytest.FixtureRequest) -> dict[str, str]:
    """Relay settings for one backend: SQLite in the data directory, or a fresh PostgreSQL."""
    if request.param == "sqlite":
        return {}
    url: str = request.getfixturevalue("postgres_url")
    return {"CONFIDE_DATABASE_URL": url}
