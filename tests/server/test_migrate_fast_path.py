"""``upgrade`` on a database already at the newest schema does not import Alembic (the
restart path of ``confide serve``), and still upgrades one that is behind."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from alembic import command
from alembic.script import ScriptDirectory
from confide_server.store.migrate import (
    MIGRATIONS_DIR,
    alembic_config,
    current_revisions,
    head_revisions,
    upgrade,
)


def _url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'confide.db'}"


def test_the_heads_read_from_the_files_are_alembics() -> None:
    script = ScriptDirectory.from_config(alembic_config("sqlite://", MIGRATIONS_DIR))
    assert head_revisions() == set(script.get_heads())


def test_a_database_behind_is_upgraded_and_one_at_head_skips_alembic(tmp_path: Path) -> None:
    url = _url(tmp_path)
    assert current_revisions(url) is None  # nothing recorded yet: Alembic runs
    command.upgrade(alembic_config(url), "0002")
    assert current_revisions(url) == {"0002"}
    upgrade(url)
    assert current_revisions(url) == head_revisions()
    probe = (
        "import sys; from confide_server.store.migrate import upgrade;"
        f" upgrade({url!r}); print('alembic' in sys.modules)"
    )
    imported = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert imported == "False"


def test_unreadable_migration_files_fall_back_to_alembic(tmp_path: Path) -> None:
    (tmp_path / "versions").mkdir()
    (tmp_path / "versions" / "0001_odd.py").write_text("revision = make_one()\n")
    assert head_revisions(tmp_path) == set()
