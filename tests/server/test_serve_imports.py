"""What ``confide serve`` imports before it answers: nothing that only other commands use.

A restarted relay is away for as long as it takes to import what serving needs
(docs/benchmarks.md, start to /healthz); these modules are imported where they are used, so
they must stay out of the serve path. Checked in a fresh interpreter, by ``sys.modules``.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from confide_server.store.migrate import new_sqlite_database

# Alembic: only when the schema is behind (store/migrate.py). Redis: only with a Redis URL.
# difflib: only for a policy diff (services/policies.py). SQLAlchemy's ORM: never
# (store/sqla_async.py). httpx and py_vapid: by the push task, off the event loop, once the
# relay is up (push/sender.py).
NOT_IMPORTED = (
    "alembic",
    "redis",
    "confide_server.fanout.redis",
    "difflib",
    "sqlalchemy.orm",
    "httpx",
    "py_vapid",
)

SERVE_PATH = """
import sys
import confide_server.cli, confide_server.serving, confide_server.logs, uvicorn
from confide_server.app import create_app
from confide_server.serving import uvicorn_options
from confide_server.settings import Settings
settings = Settings()
confide_server.cli.upgrade(settings.resolved_database_url, settings.migrations_dir)
uvicorn_options(settings)
create_app(settings)
print(" ".join(name for name in {names!r} if name in sys.modules))
"""


def test_the_serve_path_leaves_out_what_serving_does_not_use(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONFIDE_")}
    env["CONFIDE_DATA_DIR"] = str(tmp_path)
    # A database at the newest schema, as `confide migrate` leaves it (a copy of the
    # migrated template: the point here is what serving imports, not the migrations).
    new_sqlite_database(tmp_path / "confide.db")
    assert _names_printed(SERVE_PATH.format(names=NOT_IMPORTED), env) == []


def _names_printed(code: str, env: dict[str, str]) -> list[str]:
    """What ``code``, run in a fresh interpreter, prints (names, space-separated)."""
    result = subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.split()


UNCOMPILED = """
import importlib.util, os, sys
import confide_server.cli, confide_server.serving, confide_server.logs, uvicorn
from confide_server.app import create_app
missing = []
for module in list(sys.modules.values()):
    source = getattr(module, "__file__", None) or ""
    if source.endswith(".py") and not os.path.exists(importlib.util.cache_from_source(source)):
        missing.append(module.__name__)
print(" ".join(sorted(missing)))
"""


def test_the_install_compiled_what_serving_imports() -> None:
    """``make install`` compiles the dependencies' and the relay's bytecode: where Python may
    not write it (``PYTHONDONTWRITEBYTECODE``, a read-only install), a restart would
    otherwise compile every module it imports, about twice the time to /healthz."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPYCACHEPREFIX"}
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    assert _names_printed(UNCOMPILED, env) == [], "not compiled; run `make install`"
