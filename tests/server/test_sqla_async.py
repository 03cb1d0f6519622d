"""SQLAlchemy's asyncio engine loads without the ORM, and the package still works whole."""

from __future__ import annotations

import subprocess
import sys

CHECK = """
import sys
from confide_server.store.sqla_async import AsyncConnection, AsyncEngine, create_async_engine
import asyncio
from sqlalchemy import text

async def main():
    engine = create_async_engine("sqlite+aiosqlite:///:memory:")
    async with engine.connect() as conn:
        assert isinstance(conn, AsyncConnection)
        assert (await conn.execute(text("SELECT 41 + 1"))).scalar() == 42
    await engine.dispose()

asyncio.run(main())
print("orm-before", "sqlalchemy.orm" in sys.modules)
from sqlalchemy.ext.asyncio import AsyncSession, AsyncEngine as Again, async_engine_from_config
import sqlalchemy.ext.asyncio as package
assert Again is AsyncEngine and package.AsyncEngine is AsyncEngine
assert AsyncSession.__module__ == "sqlalchemy.ext.asyncio.session"
print("orm-after", "sqlalchemy.orm" in sys.modules)
"""


def _run(code: str) -> list[str]:
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.splitlines()


def test_the_engine_works_without_the_orm_and_the_package_is_whole_when_asked() -> None:
    assert _run(CHECK) == ["orm-before False", "orm-after True"]


def test_a_package_imported_before_is_left_as_it_was() -> None:
    code = (
        "import sqlalchemy.ext.asyncio as before\n"
        "import confide_server.store.sqla_async as ours\n"
        "import sys\n"
        "assert sys.modules['sqlalchemy.ext.asyncio'] is before\n"
        "assert ours.AsyncEngine is before.AsyncEngine\n"
        "print('same')\n"
    )
    assert _run(code) == ["same"]
