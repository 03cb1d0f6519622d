"""A database copied from the migrated template is the database the migrations write."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from confide_server.store.migrate import (
    current_revisions,
    head_revisions,
    new_sqlite_database,
    upgrade,
)


def _schema(path: Path) -> dict[str, list[str]]:
    """Each table's and index's definition, as its sorted lines: the migrations' batch table
    rebuilds on SQLite list a table's constraints in an order that varies from run to run."""
    with sqlite3.connect(path) as conn:
        rows = conn.execute("SELECT name, sql FROM sqlite_master WHERE sql IS NOT NULL")
        schema = {
            str(name): sorted(line.strip().rstrip(",") for line in str(sql).splitlines())
            for name, sql in rows
        }
    conn.close()
    return schema


def test_copy_matches_a_migrated_database(tmp_path: Path) -> None:
    migrated, copied = tmp_path / "migrated.db", tmp_path / "copied.db"
    upgrade(f"sqlite+aiosqlite:///{migrated}")
    new_sqlite_database(copied)
    assert _schema(copied) == _schema(migrated)
    assert current_revisions(f"sqlite+aiosqlite:///{copied}") == head_revisions()


def test_copies_are_independent(tmp_path: Path) -> None:
    first, second = tmp_path / "a.db", tmp_path / "b.db"
    new_sqlite_database(first)
    with sqlite3.connect(first) as conn:
        conn.execute("CREATE TABLE scribble (x)")
    conn.close()
    new_sqlite_database(second)
    assert "scribble" in _schema(first)
    assert "scribble" not in _schema(second)


def test_refuses_to_overwrite(tmp_path: Path) -> None:
    existing = tmp_path / "relay.db"
    existing.write_bytes(b"someone's data")
    with pytest.raises(FileExistsError):
        new_sqlite_database(existing)
    assert existing.read_bytes() == b"someone's data"
