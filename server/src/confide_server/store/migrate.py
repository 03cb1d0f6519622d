"""Applying the Alembic migrations in migrations/ programmatically (no alembic.ini needed).

A restarted relay is the recovery path after every crash, and importing Alembic (with Mako
and Pygments behind it) and running it took about a third of ``confide serve``'s start
(docs/benchmarks.md). So ``upgrade`` first asks the database which revision it is at and
reads the newest one from the migration files' ``revision`` and ``down_revision`` lines;
only when they differ, or either cannot be read, does it import Alembic and upgrade.
"""

from __future__ import annotations

import asyncio
import re
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import text

from confide_server.settings import REPO_ROOT
from confide_server.store.engine import make_engine

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS_DIR = REPO_ROOT / "migrations"

_REVISION = re.compile(r"^revision\s*(?::[^=]*)?=\s*[\"']([^\"']+)[\"']\s*$", re.M)
_DOWN_REVISION = re.compile(r"^down_revision\s*(?::[^=]*)?=\s*(.+?)\s*$", re.M)
_QUOTED = re.compile(r"[\"']([^\"']+)[\"']")


def alembic_config(url: str, directory: Path = MIGRATIONS_DIR) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(directory))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str, directory: Path = MIGRATIONS_DIR) -> None:
    """Bring the database at ``url`` to the newest schema (blocking; call off the event loop)."""
    heads = head_revisions(directory)
    if heads and current_revisions(url) == heads:
        return
    from alembic import command

    command.upgrade(alembic_config(url, directory), "head")


def head_revisions(directory: Path = MIGRATIONS_DIR) -> set[str]:
    """The newest revisions in ``directory``'s migrations (empty if a file cannot be read
    as the project's template writes them; the caller then asks Alembic)."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for script in sorted((directory / "versions").glob("*.py")):
        source = script.read_text(encoding="utf-8")
        revision, down = _REVISION.search(source), _DOWN_REVISION.search(source)
        if revision is None or down is None:
            return set()
        revisions.add(revision.group(1))
        parents.update(_QUOTED.findall(down.group(1)))
    return revisions - parents


def current_revisions(url: str) -> set[str] | None:
    """The revisions the database records (None if it records none, or cannot be asked)."""

    async def ask() -> set[str]:
        engine = make_engine(url)
        try:
            async with engine.connect() as conn:
                rows = await conn.execute(text("SELECT version_num FROM alembic_version"))
                return {str(row[0]) for row in rows}
        finally:
            await engine.dispose()

    try:
        return asyncio.run(ask()) or None
    except Exception:
        return None


_templates: dict[tuple[Path, frozenset[str]], Path] = {}
_templates_lock = threading.Lock()


def new_sqlite_database(path: Path, directory: Path = MIGRATIONS_DIR) -> None:
    """Create a SQLite database at ``path`` with the newest schema, by copying a template.

    Running the migrations on an empty SQLite file takes about a second; test suites (ours,
    and integrators' through ``confide_client.testing``) make a fresh database per test, so
    each process migrates one template per set of migration heads and copies it. The copy is
    byte for byte what ``upgrade`` writes, so no second description of the schema exists.
    """
    # Imported here: `confide serve` never copies a template, and its start is measured.
    import atexit
    import shutil
    import sqlite3
    import tempfile
    from concurrent.futures import ThreadPoolExecutor

    if path.exists():
        raise FileExistsError(f"{path} already exists")
    heads = frozenset(head_revisions(directory))
    if not heads:
        upgrade(f"sqlite+aiosqlite:///{path}", directory)
        return
    key = (directory.resolve(), heads)
    with _templates_lock:
        template = _templates.get(key)
        if template is None or not template.exists():
            folder = Path(tempfile.mkdtemp(prefix="confide-schema-"))
            atexit.register(shutil.rmtree, folder, True)
            template = folder / "template.db"
            # Alembic's env runs an event loop of its own: a thread, in case one runs here.
            with ThreadPoolExecutor(1) as pool:
                pool.submit(upgrade, f"sqlite+aiosqlite:///{template}", directory).result()
            # Fold the write-ahead log into the main file, so that one file is the copy.
            with sqlite3.connect(template) as conn:
                conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            conn.close()
            _templates[key] = template
    shutil.copyfile(template, path)
