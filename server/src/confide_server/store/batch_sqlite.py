"""The writer's SQLite backend: a whole group commit in one call on the writer's own thread.

Going through SQLAlchemy and aiosqlite costs a hop between the event loop and the driver's
thread for every statement, and the Python of both layers for each one; a batch took seven
such hops. Here the writer keeps one plain ``sqlite3`` connection on a dedicated thread and
hands it the whole transaction (lookup, decisions, inserts, deletes, commit) as one function:
one hop per batch, and ``executemany`` loops in C. The connection gets the engine's pragmas
(WAL, synchronous=FULL, secure_delete, busy timeout), so "accepted" still means durable.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from functools import partial

from confide_server.store.batch import Conflict, Lookup, Plan
from confide_server.store.engine import sqlite_pragmas

# SQLite refuses statements with more variables than its limit (32766 on current builds);
# lookups go in chunks well below it.
CHUNK = 512

_INSERT_SENT = "INSERT INTO sent_messages (key, expires_at) VALUES (?, ?)"
_INSERT_ENVELOPE = "INSERT INTO envelopes (id, mailbox_id, body, expires_at) VALUES (?, ?, ?, ?)"
_DELETE_ACKED = "DELETE FROM envelopes WHERE mailbox_id = ? AND id = ?"


# "(?*)" stands for as many placeholders as a lookup has values; only "?" is ever put there.
_LIVE_CAPABILITIES = (
    # One statement finds the live capabilities and the depth of each one's queue.
    "SELECT secret_hash, mailbox_id,"
    " (SELECT count(*) FROM envelopes WHERE envelopes.mailbox_id = capabilities.mailbox_id)"
    " FROM capabilities WHERE secret_hash IN (?*)"
    " AND revoked = 0 AND (expires_at IS NULL OR expires_at > ?)"
)
_USED_KEYS = "SELECT key FROM sent_messages WHERE key IN (?*)"


def _expand(sql: str, n: int) -> str:
    return sql.replace("(?*)", "(" + ",".join("?" * n) + ")")


def _chunks(values: list[bytes]) -> Iterator[list[bytes]]:
    """Chunks padded to a power of two (repeating a value), so few statements are compiled."""
    for start in range(0, len(values), CHUNK):
        chunk = values[start : start + CHUNK]
        size = 1 << (len(chunk) - 1).bit_length()
        yield chunk + [chunk[-1]] * (size - len(chunk))


class SQLiteBatches:
    def __init__(self, path: str) -> None:
        self._path = path
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="confide-writer")
        self._db: sqlite3.Connection | None = None

    async def apply(
        self, hashes: list[bytes], keys: list[bytes], now: int, plan: Callable[[Lookup], Plan]
    ) -> Plan:
        """Run one batch's transaction; raises Conflict if an idempotency key was taken."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(
            self._thread, partial(self._transaction, hashes, keys, now, plan)
        )

    async def close(self) -> None:
        await asyncio.get_running_loop().run_in_executor(self._thread, self._close)
        self._thread.shutdown()

    def _connect(self) -> sqlite3.Connection:
        if self._db is None:
            # Autocommit mode: this module issues BEGIN IMMEDIATE and COMMIT itself, so the
            # write lock is taken before the lookup and the busy timeout applies to it.
            db = sqlite3.connect(self._path, isolation_level=None)
            sqlite_pragmas(db, None)
            self._db = db
        return self._db

    def _close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None

    def _transaction(
        self, hashes: list[bytes], keys: list[bytes], now: int, plan: Callable[[Lookup], Plan]
    ) -> Plan:
        db = self._connect()
        db.execute("BEGIN IMMEDIATE")
        try:
            lookup = Lookup()
            for chunk in _chunks(hashes):
                for secret_hash, mailbox_id, queued in db.execute(
                    _expand(_LIVE_CAPABILITIES, len(chunk)), (*chunk, now)
                ):
                    lookup.valid[secret_hash] = mailbox_id
                    lookup.depth[mailbox_id] = queued
            for chunk in _chunks(keys):
                used = db.execute(_expand(_USED_KEYS, len(chunk)), chunk)
                lookup.seen.update(key for (key,) in used)
            result = plan(lookup)
            db.executemany(_INSERT_SENT, result.dedupe_rows)
            db.executemany(_INSERT_ENVELOPE, result.envelope_rows)
            db.executemany(_DELETE_ACKED, result.delete_rows)
            db.execute("COMMIT")
        except sqlite3.IntegrityError:
            self._rollback(db)
            raise Conflict from None
        except BaseException:
            self._rollback(db)
            raise
        return result

    def _rollback(self, db: sqlite3.Connection) -> None:
        if db.in_transaction:
            with contextlib.suppress(sqlite3.Error):
                db.execute("ROLLBACK")
