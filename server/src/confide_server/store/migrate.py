"""Applying the Alembic migrations in migrations/ programmatically (no alembic.ini needed)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

from confide_server.settings import REPO_ROOT

MIGRATIONS_DIR = REPO_ROOT / "migrations"


def alembic_config(url: str, directory: Path = MIGRATIONS_DIR) -> Config:
    config = Config()
    config.set_main_option("script_location", str(directory))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str, directory: Path = MIGRATIONS_DIR) -> None:
    """Bring the database at ``url`` to the newest schema (blocking; call off the event loop)."""
    command.upgrade(alembic_config(url, directory), "head")
