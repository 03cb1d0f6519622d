"""The relay's database as HTTP routes use it: short reads, and transactions.

Routes depend on this (api/deps.py ``DatabaseDep``) instead of reaching for the engines:
``read()`` connects through the read engine, which on SQLite is a separate pool that never
waits for the write lock (store/engine.py); ``write()`` begins a transaction on the write
engine. The hot path of sends and acks does not come here: it goes through the group-commit
writer behind mailboxes.py.
"""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass

from confide_server.store.sqla_async import AsyncConnection, AsyncEngine


@dataclass(frozen=True, slots=True)
class Database:
    engine: AsyncEngine
    reader: AsyncEngine

    def read(self) -> AbstractAsyncContextManager[AsyncConnection]:
        """A connection for reads (no transaction is committed)."""
        return self.reader.connect()

    def write(self) -> AbstractAsyncContextManager[AsyncConnection]:
        """A transaction, committed when the block ends without an exception."""
        return self.engine.begin()
