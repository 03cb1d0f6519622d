"""deploy/backup/confide_backup.py round-trips a database, SQLite and PostgreSQL.

The script is run as the operator runs it, as a subprocess, against a real SQLite file in
WAL mode (with the changes still in the write-ahead log) and a real PostgreSQL database.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import need_executable

from deploy.conftest import DEPLOY

SCRIPT = DEPLOY / "backup" / "confide_backup.py"
DELETED_MARKER = b"DELETED-ENVELOPE-MARKER-6f1c"


def run_script(*args: str, url: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONFIDE_")}
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--database-url", url, *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result


def make_wal_database(path: Path) -> sqlite3.Connection:
    """A WAL database whose latest rows are still in the log, held open like a live relay."""
    connection = sqlite3.connect(path)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA wal_autocheckpoint=0")
    connection.execute("CREATE TABLE envelopes (id INTEGER PRIMARY KEY, body BLOB)")
    connection.executemany(
        "INSERT INTO envelopes (body) VALUES (?)", [(bytes([i]) * 100,) for i in range(50)]
    )
    connection.execute("INSERT INTO envelopes (body) VALUES (?)", (DELETED_MARKER * 50,))
    connection.commit()
    connection.execute("DELETE FROM envelopes WHERE body = ?", (DELETED_MARKER * 50,))
    connection.commit()
    return connection


def test_sqlite_backup_is_consistent_and_forgets_deleted_rows(tmp_path: Path) -> None:
    live = tmp_path / "live" / "confide.db"
    live.parent.mkdir()
    connection = make_wal_database(live)
    try:
        wal = Path(f"{live}-wal").read_bytes()
        assert wal, "rows must still be in the WAL"
        # The deleted row is still on disk in the live files; the backup must not carry it.
        assert DELETED_MARKER in wal + live.read_bytes()
        url = f"sqlite+aiosqlite:///{live}"
        written = Path(run_script("backup", "--out", str(tmp_path / "out"), url=url).stdout.strip())
    finally:
        connection.close()
    assert written.parent == tmp_path / "out"
    assert written.stat().st_mode & 0o077 == 0, "a backup must be readable by its owner only"
    assert DELETED_MARKER not in written.read_bytes()

    restored = tmp_path / "restored" / "confide.db"
    run_script("restore", str(written), url=f"sqlite:///{restored}")
    with sqlite3.connect(restored) as check:
        (count,) = check.execute("SELECT count(*) FROM envelopes").fetchone()
    assert count == 50


def test_sqlite_restore_keeps_the_previous_database_aside(tmp_path: Path) -> None:
    first = tmp_path / "a.db"
    make_wal_database(first).close()
    backup = Path(run_script("backup", "--out", str(tmp_path), url=f"sqlite:///{first}").stdout)
    target = tmp_path / "b.db"
    target.write_bytes(b"old contents")
    run_script("restore", str(backup).strip(), url=f"sqlite:///{target}")
    kept = [p for p in tmp_path.iterdir() if p.name.startswith("b.db.before-restore-")]
    assert len(kept) == 1 and kept[0].read_bytes() == b"old contents"


async def _pg(url: str, statement: str) -> list[tuple[object, ...]]:
    import asyncpg

    connection = await asyncpg.connect(url.replace("+asyncpg", ""))
    try:
        return [tuple(r) for r in await connection.fetch(statement)]
    finally:
        await connection.close()


@pytest.mark.postgres
def test_postgres_backup_and_restore(postgres_url: str, tmp_path: Path) -> None:
    need_executable("pg_dump")
    need_executable("pg_restore")
    asyncio.run(_pg(postgres_url, "CREATE TABLE envelopes (id serial PRIMARY KEY, body bytea)"))
    asyncio.run(
        _pg(
            postgres_url,
            "INSERT INTO envelopes (body) SELECT '\\x00ff' FROM generate_series(1, 40)",
        )
    )
    written = Path(run_script("backup", "--out", str(tmp_path), url=postgres_url).stdout.strip())
    assert written.suffix == ".pgdump"

    asyncio.run(_pg(postgres_url, "DELETE FROM envelopes WHERE id > 10"))
    run_script("restore", str(written), url=postgres_url)
    rows = asyncio.run(_pg(postgres_url, "SELECT count(*) FROM envelopes"))
    assert rows == [(40,)]
