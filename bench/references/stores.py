"""Where a reference keeps envelopes: nowhere, SQLite, or PostgreSQL, each with group commit.

A store takes operations (enqueue an envelope, delete acknowledged ones) and runs a
callback once the operation is durable. Operations that arrive while a commit is in flight
wait and go together into the next transaction, so one fsync covers many envelopes: that
is group commit, the technique the relay is expected to use on its hot path.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor

Done = Callable[[int], Awaitable[None]]
Deleted = Callable[[], Awaitable[None]]


class NullStore:
    """No storage at all: the forwarder reference. Ids only count up."""

    def __init__(self) -> None:
        self._next_id = 0

    async def open(self) -> None:
        return None

    async def close(self) -> None:
        return None

    def enqueue(self, mailbox: bytes, envelope: bytes, done: Done) -> None:
        self._next_id += 1
        asyncio.get_running_loop().create_task(done(self._next_id))

    def delete(self, message_ids: list[int], deleted: Deleted | None) -> None:
        if deleted is not None:
            asyncio.get_running_loop().create_task(deleted())


class _GroupCommitStore:
    """Queues operations and writes them in batches, one transaction per batch."""

    def __init__(self) -> None:
        self._next_id = 0
        self._inserts: list[tuple[int, bytes, bytes]] = []
        self._callbacks: list[tuple[Done, int]] = []
        self._deletes: list[int] = []
        self._deleted: list[Deleted] = []
        self._wakeup = asyncio.Event()
        self._writer: asyncio.Task[None] | None = None

    def enqueue(self, mailbox: bytes, envelope: bytes, done: Done) -> None:
        self._next_id += 1
        self._inserts.append((self._next_id, mailbox, envelope))
        self._callbacks.append((done, self._next_id))
        self._wakeup.set()

    def delete(self, message_ids: list[int], deleted: Deleted | None) -> None:
        self._deletes.extend(message_ids)
        if deleted is not None:
            self._deleted.append(deleted)
        self._wakeup.set()

    def start(self) -> None:
        self._writer = asyncio.get_running_loop().create_task(self._write_forever())

    async def stop(self) -> None:
        if self._writer is not None:
            self._writer.cancel()

    async def _write_forever(self) -> None:
        while True:
            await self._wakeup.wait()
            self._wakeup.clear()
            inserts, self._inserts = self._inserts, []
            callbacks, self._callbacks = self._callbacks, []
            deletes, self._deletes = self._deletes, []
            deleted, self._deleted = self._deleted, []
            await self._commit(inserts, deletes)
            # A client that hung up must not stop the writer: its answers are dropped, and
            # everyone else's still go out.
            for done, message_id in callbacks:
                with contextlib.suppress(Exception):
                    await done(message_id)
            for confirm in deleted:
                with contextlib.suppress(Exception):
                    await confirm()

    async def _commit(self, inserts: list[tuple[int, bytes, bytes]], deletes: list[int]) -> None:
        raise NotImplementedError


class SQLiteStore(_GroupCommitStore):
    """SQLite in WAL mode with synchronous=FULL, written from one dedicated thread."""

    def __init__(self, path: str) -> None:
        super().__init__()
        self._path = path
        self._thread = ThreadPoolExecutor(max_workers=1)
        self._db: sqlite3.Connection | None = None

    async def open(self) -> None:
        await asyncio.get_running_loop().run_in_executor(self._thread, self._connect)
        self.start()

    def _connect(self) -> None:
        db = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=FULL")
        db.execute(
            "CREATE TABLE IF NOT EXISTS envelopes"
            " (id INTEGER PRIMARY KEY, mailbox BLOB NOT NULL, body BLOB NOT NULL)"
        )
        self._db = db

    async def close(self) -> None:
        await self.stop()
        if self._db is not None:
            self._db.close()
        self._thread.shutdown()

    async def _commit(self, inserts: list[tuple[int, bytes, bytes]], deletes: list[int]) -> None:
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._thread, self._write, inserts, deletes)

    def _write(self, inserts: list[tuple[int, bytes, bytes]], deletes: list[int]) -> None:
        assert self._db is not None
        self._db.execute("BEGIN")
        self._db.executemany("INSERT INTO envelopes VALUES (?, ?, ?)", inserts)
        self._db.executemany("DELETE FROM envelopes WHERE id = ?", [(i,) for i in deletes])
        self._db.execute("COMMIT")


class PostgresStore(_GroupCommitStore):
    """PostgreSQL through asyncpg: one multi-row INSERT and one DELETE per transaction."""

    def __init__(self, dsn: str) -> None:
        super().__init__()
        self._dsn = dsn
        self._conn: object | None = None

    async def open(self) -> None:
        import asyncpg

        conn = await asyncpg.connect(self._dsn)
        await conn.execute(
            "CREATE TABLE IF NOT EXISTS envelopes"
            " (id BIGINT PRIMARY KEY, mailbox BYTEA NOT NULL, body BYTEA NOT NULL)"
        )
        self._conn = conn
        self.start()

    async def close(self) -> None:
        await self.stop()
        if self._conn is not None:
            await self._conn.close()  # type: ignore[attr-defined]

    async def _commit(self, inserts: list[tuple[int, bytes, bytes]], deletes: list[int]) -> None:
        conn = self._conn
        assert conn is not None
        async with conn.transaction():  # type: ignore[attr-defined]
            if inserts:
                ids, mailboxes, bodies = zip(*inserts, strict=True)
                await conn.execute(  # type: ignore[attr-defined]
                    "INSERT INTO envelopes SELECT * FROM"
                    " unnest($1::bigint[], $2::bytea[], $3::bytea[])",
                    list(ids),
                    list(mailboxes),
                    list(bodies),
                )
            if deletes:
                await conn.execute(  # type: ignore[attr-defined]
                    "DELETE FROM envelopes WHERE id = ANY($1::bigint[])", deletes
                )
