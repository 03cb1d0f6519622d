"""Building the async engine, with the SQLite settings that make it durable and forgetful."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url

from confide_server.store.sqla_async import AsyncEngine, create_async_engine


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets readers run beside the single writer; synchronous=FULL makes a commit survive
    # power loss, which "accepted" promises; secure_delete overwrites deleted envelopes.
    cursor = dbapi_connection.cursor()
    for pragma in (
        "PRAGMA journal_mode=WAL",
        "PRAGMA synchronous=FULL",
        "PRAGMA secure_delete=ON",
        "PRAGMA busy_timeout=10000",
        "PRAGMA foreign_keys=ON",
    ):
        cursor.execute(pragma)
    cursor.close()


def _writes_take_the_lock(dbapi_connection: Any, _record: Any) -> None:
    # A deferred SQLite transaction that reads, then writes, fails at once with "database is
    # locked" if another connection wrote in between (the busy timeout does not apply to
    # that case). The driver's implicit BEGIN before the first write is made IMMEDIATE, so
    # writers queue on busy_timeout instead. (An SQLAlchemy "begin" event would do the same
    # for the whole transaction, but event dispatch costs on every statement.)
    dbapi_connection.isolation_level = "IMMEDIATE"


def make_engine(url: str, *, for_writes: bool = True) -> AsyncEngine:
    """An engine for either backend; the SQLite file's directory is created if missing.

    ``hide_parameters`` keeps bound values (mailbox ids, ciphertext) out of error messages,
    which end up in logs.
    """
    if is_sqlite(url):
        database = make_url(url).database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(url, pool_size=8, max_overflow=8, hide_parameters=True)
        event.listen(engine.sync_engine, "connect", sqlite_pragmas)
        if for_writes:
            event.listen(engine.sync_engine, "connect", _writes_take_the_lock)
        return engine
    return create_async_engine(
        url, pool_size=10, max_overflow=10, pool_pre_ping=True, hide_parameters=True
    )
