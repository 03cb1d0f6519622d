#!/usr/bin/env python3
"""Back up and restore the relay's database, SQLite or PostgreSQL.

    python3 deploy/backup/confide_backup.py backup --out /srv/backups
    python3 deploy/backup/confide_backup.py restore /srv/backups/confide-sqlite-....sqlite3
    confide migrate   # after a restore, bring the schema up to the running version

The database is the one the relay would use: CONFIDE_DATABASE_URL, or the SQLite file
confide.db in CONFIDE_DATA_DIR (default ./data), read through the relay's own Settings when
they can be imported. SQLite is copied online with VACUUM INTO, which needs no pause of the
relay and, unlike a page-by-page copy, carries no free pages, so deleted envelopes do not live
on in the backup. PostgreSQL is dumped with pg_dump in its custom format. The password from
the URL is handed to pg_dump in the environment, never on its command line.

A backup holds queued ciphertext, public keys and hashed capabilities: keep it encrypted and
delete it once it is older than the relay's retention period (docs/operations.md).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import unquote, urlsplit, urlunsplit


def database_url() -> str:
    """The relay's database URL, resolved the way the relay resolves it."""
    try:
        from confide_server.settings import Settings
    except ImportError:
        explicit = os.environ.get("CONFIDE_DATABASE_URL")
        if explicit:
            return explicit
        data_dir = Path(os.environ.get("CONFIDE_DATA_DIR", "data"))
        return f"sqlite+aiosqlite:///{(data_dir / 'confide.db').resolve()}"
    return Settings().resolved_database_url


def sqlite_path(url: str) -> Path | None:
    """The file of a sqlite URL (sqlite:///relative or sqlite:////absolute), else None."""
    scheme, _, rest = url.partition("://")
    if not scheme.startswith("sqlite"):
        return None
    return Path(rest.removeprefix("/").split("?", 1)[0])


def libpq_target(url: str) -> tuple[str, dict[str, str]]:
    """A libpq URI without password or driver suffix, and the environment that carries it."""
    parts = urlsplit(url)
    scheme = parts.scheme.split("+", 1)[0]
    env = dict(os.environ)
    netloc = parts.hostname or ""
    if parts.port:
        netloc = f"{netloc}:{parts.port}"
    if parts.username:
        netloc = f"{unquote(parts.username)}@{netloc}"
    if parts.password:
        env["PGPASSWORD"] = unquote(parts.password)
    return urlunsplit((scheme, netloc, parts.path, parts.query, "")), env


def _stamp() -> str:
    return time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())


def backup_sqlite(source: Path, out_dir: Path) -> Path:
    if not source.is_file():
        raise SystemExit(f"no SQLite database at {source}")
    target = out_dir / f"confide-sqlite-{_stamp()}.sqlite3"
    connection = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    try:
        connection.execute("VACUUM INTO ?", (str(target),))
    finally:
        connection.close()
    target.chmod(0o600)
    _check_sqlite(target)
    return target


def _check_sqlite(path: Path) -> None:
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        (result,) = connection.execute("PRAGMA integrity_check").fetchone()
    finally:
        connection.close()
    if result != "ok":
        raise SystemExit(f"integrity check of {path} failed: {result}")


def restore_sqlite(backup: Path, target: Path) -> None:
    """Puts ``backup`` in place of ``target``; the relay must be stopped meanwhile."""
    _check_sqlite(backup)
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.exists():
        aside = target.with_name(f"{target.name}.before-restore-{_stamp()}")
        target.rename(aside)
        print(f"the previous database is kept at {aside}; delete it when the restore is checked")
    for suffix in ("-wal", "-shm"):
        stale = target.with_name(target.name + suffix)
        if stale.exists():
            stale.unlink()
    staging = target.with_name(target.name + ".restoring")
    shutil.copyfile(backup, staging)
    staging.chmod(0o600)
    staging.replace(target)


def backup_postgres(url: str, out_dir: Path) -> Path:
    target = out_dir / f"confide-postgres-{_stamp()}.pgdump"
    uri, env = libpq_target(url)
    command = ["pg_dump", "--format=custom", "--no-owner", "--no-privileges"]
    command += [f"--file={target}", f"--dbname={uri}"]
    # The program is fixed and its arguments come from the operator's own settings.
    subprocess.run(command, env=env, check=True)  # noqa: S603
    target.chmod(0o600)
    return target


def restore_postgres(backup: Path, url: str) -> None:
    uri, env = libpq_target(url)
    command = ["pg_restore", "--clean", "--if-exists", "--no-owner", "--no-privileges"]
    command += ["--single-transaction", "--exit-on-error", f"--dbname={uri}", str(backup)]
    subprocess.run(command, env=env, check=True)  # noqa: S603


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    backup = commands.add_parser("backup", help="write a backup file into a directory")
    backup.add_argument("--out", type=Path, required=True)
    restore = commands.add_parser("restore", help="replace the database with a backup")
    restore.add_argument("file", type=Path)
    parser.add_argument("--database-url", help="defaults to the relay's own setting")
    args = parser.parse_args(argv)

    url = args.database_url or database_url()
    path = sqlite_path(url)
    if args.command == "backup":
        args.out.mkdir(parents=True, exist_ok=True)
        if path is not None:
            written = backup_sqlite(path, args.out)
        else:
            written = backup_postgres(url, args.out)
        print(written)
    elif path is not None:
        restore_sqlite(args.file, path)
    else:
        restore_postgres(args.file, url)
    return 0


if __name__ == "__main__":
    sys.exit(main())
