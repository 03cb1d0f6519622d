"""The models (schema.py) and the migrations agree: autogenerate finds nothing to do."""

from __future__ import annotations

import asyncio

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from confide_server.store.engine import make_engine
from confide_server.store.migrate import upgrade
from confide_server.store.schema import metadata


def _diff(url: str) -> list[object]:
    async def compare() -> list[object]:
        engine = make_engine(url)
        try:
            async with engine.connect() as conn:
                return await conn.run_sync(
                    lambda sync: compare_metadata(
                        MigrationContext.configure(sync, opts={"compare_type": True}), metadata
                    )
                )
        finally:
            await engine.dispose()

    return asyncio.run(compare())


def test_models_and_migrations_agree(db_url: str) -> None:
    upgrade(db_url)
    assert _diff(db_url) == []


def test_upgrade_twice_is_harmless(db_url: str) -> None:
    upgrade(db_url)
    upgrade(db_url)
    assert _diff(db_url) == []
