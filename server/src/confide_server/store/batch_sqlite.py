"""The writer's SQLite backend: a group commit written on the event loop, synced on a thread.

Going through SQLAlchemy and aiosqlite costs a hop between the event loop and the driver's
thread for every statement, and the Python of both layers for each one. Here the writer
keeps one plain ``sqlite3`` connection. A batch's statements (lookup, inserts, deletes) and
its COMMIT run on the event loop; the COMMIT only writes the WAL (``synchronous=NORMAL``),
and the writer's own thread then syncs the WAL file (fdatasync, which is all that
``synchronous=FULL`` adds in WAL mode) before the batch is answered, so "accepted" still
means durable. The thread also checkpoints the WAL into the database now and then, and
truncates it, on a connection of its own, so that no checkpoint runs on the loop
(store/wal.py).
The sqlite3 module lets go of the interpreter lock around every step of every statement
(each row read is a step), and a thread taking it back while the loop is busy waits for the
loop to be made to let go (see ``sys.setswitchinterval`` in cli.py); so a batch takes as
few steps as it can: the lookup returns one row, and rows are written many to a statement.
``transaction`` and ``close_now`` block (tests call them directly).

Idempotency keys are claimed in memory and appended to ``sent_log`` (store/idempotency.py
says why and what is promised); queue depths are exact (store/depth.py). Both are sound only
because one relay process serves the file, which the lock of store/filelock.py enforces: the
backend takes it when it opens and gives it back when it closes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import partial

import orjson

from confide_server.clock import Clock
from confide_server.errors import Unavailable
from confide_server.store import filelock, space, wal
from confide_server.store.batch import Lookup, Plan, RetryBatch
from confide_server.store.engine import sqlite_pragmas
from confide_server.store.idempotency import Ledger, retry_deadline, settle

# SQLite refuses statements with more variables than its limit (32766 on current builds);
# lookups go in chunks well below it.
CHUNK = 512

log = logging.getLogger(__name__)

# Rows are written many to a statement ("[rows]" stands for that many "(?, ...)" groups):
# the sqlite3 module releases and retakes the GIL around every step, so executemany costs
# one GIL round trip per row, each a wait while the event loop holds it; a multi-row
# statement costs one.
_INSERT_SENT = "INSERT INTO sent_log (key, expires_at) VALUES [rows]"
_INSERT_ENVELOPE = "INSERT INTO envelopes (id, mailbox_id, body, expires_at) VALUES [rows]"
# An ack deletes an envelope only from the acker's own mailbox: (mailbox, id) pairs, matched
# through the unique index on id.
_DELETE_ACKED = (
    "DELETE FROM envelopes WHERE seq IN (SELECT e.seq FROM (VALUES [rows]) AS v"
    " JOIN envelopes AS e ON e.id = v.column2 AND e.mailbox_id = v.column1)"
)
# Rows per statement at most. Up to EXACT_ROWS rows go in one statement of exactly that many
# (a batch at moderate load fits in one per table); more go in pieces of powers of two, so
# that few distinct statements compile, and the connection caches them all.
MAX_ROWS = 256
EXACT_ROWS = 32
CACHED_STATEMENTS = 256


# "(?*)" stands for as many placeholders as a lookup has values; only "?" is ever put there.
# One statement finds the live capabilities and the depth of each one's queue, as a single
# row of JSON. The sqlite3 module lets go of the interpreter lock around every step of a
# statement, and each row is a step: while the event loop is busy, taking the lock back
# waited up to the switch interval, so one row per capability made this lookup the longest
# part of a group commit at moderate load (the figures: docs/benchmarks.md, lab notebook).
_LIVE_CAPABILITIES = (
    "SELECT json_group_array(json_array(hex(secret_hash), hex(mailbox_id),"
    " (SELECT count(*) FROM envelopes WHERE envelopes.mailbox_id = capabilities.mailbox_id)))"
    " FROM capabilities WHERE secret_hash IN (?*)"
    " AND revoked = 0 AND (expires_at IS NULL OR expires_at > ?)"
)
_WAIT = "PRAGMA busy_timeout=10000"
_NO_WAIT = "PRAGMA busy_timeout=0"
_KEYS_IN_FORCE = "SELECT key, expires_at FROM sent_log WHERE expires_at > ?"


def _expand(sql: str, n: int) -> str:
    return sql.replace("(?*)", "(" + ",".join("?" * n) + ")")


def _rows(sql: str, width: int, n: int) -> str:
    group = "(" + ",".join("?" * width) + ")"
    return sql.replace("[rows]", ",".join([group] * n))


def _pieces(rows: Sequence[tuple[object, ...]]) -> Iterator[tuple[int, list[object]]]:
    """``rows`` in pieces (see MAX_ROWS and EXACT_ROWS), each flattened."""
    start = 0
    while start < len(rows):
        left = len(rows) - start
        size = left if left <= EXACT_ROWS else min(MAX_ROWS, 1 << (left.bit_length() - 1))
        yield size, [value for row in rows[start : start + size] for value in row]
        start += size


def _write(
    db: sqlite3.Connection, sql: str, width: int, rows: Sequence[tuple[object, ...]]
) -> None:
    for size, values in _pieces(rows):
        db.execute(_rows(sql, width, size), values)


def _chunks(values: list[bytes]) -> Iterator[list[bytes]]:
    """Chunks padded to a power of two (repeating a value), so few statements are compiled."""
    for start in range(0, len(values), CHUNK):
        chunk = values[start : start + CHUNK]
        size = 1 << (len(chunk) - 1).bit_length()
        yield chunk + [chunk[-1]] * (size - len(chunk))


class SQLiteBatches:
    """One connection, used by the event loop and, when the database is busy, the thread.

    Statements and COMMIT run on the event loop, and the thread syncs the WAL: with the
    COMMIT on the thread too, a batch paid two hops between the loop and the thread and a
    wait for the interpreter lock after the disk, and with the statements there as well each
    step waited for the lock (docs/benchmarks.md, lab notebook). A batch never waits for the
    write lock on the loop: the connection's busy timeout is 0, and when another connection
    (the API, the sweeper) holds the lock, the whole batch runs on the thread, which may wait.

    Other connections can read a batch between its COMMIT and the sync (a recipient that
    connects then may be sent an envelope from its queue that a power failure in that
    millisecond would undo; its sender was not yet told "accepted" and will send it again,
    which the recipient's client discards as a repeat). Nothing is answered before the sync.
    """

    def __init__(
        self,
        path: str,
        retry_window: int,
        monotonic: Clock = time.monotonic,
        disk_reserve: int = 0,
    ) -> None:
        self._path = path
        self._room = space.Room(path, disk_reserve)
        self._retry_window = retry_window
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="confide-writer")
        self._db: sqlite3.Connection | None = None
        self._locked = False
        self._used = Ledger()
        self._wal = wal.WalFile(path, monotonic)
        self._tidier: asyncio.Task[None] | None = None
        self._commits = 0  # COMMITs made on the writer's connection
        self._synced = 0  # of which this many are known durable
        self._broken: OSError | None = None

    def open(self) -> None:
        """Take the database's lock (store/filelock.py); raises DatabaseInUse if another
        process holds it."""
        if not self._locked:
            filelock.acquire(self._path)
            self._locked = True
        with contextlib.suppress(RuntimeError):  # no running loop: tests call in directly
            if self._tidier is None:
                self._tidier = asyncio.get_running_loop().create_task(
                    self._tidy_forever(), name="confide-wal-tidier"
                )

    async def _tidy_forever(self) -> None:
        """While writes are idle, the WAL is still truncated within TRUNCATE_EVERY of the
        last one (store/wal.py); under load the syncs do it."""
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(wal.TRUNCATE_EVERY)
            if not self._room.writable:
                self._room.check()  # room again (acks, or the operator), traffic or not
            if self._wal.dirty:
                await loop.run_in_executor(self._thread, self._wal.tidy)

    def room_for(self, incoming: int) -> bool:
        """Whether sends of ``incoming`` bytes may be written (store/space.py)."""
        if self._room.reserve == 0 and self._room.writable:
            return True
        return self._room.check(incoming)

    def writable(self) -> bool:
        return self._room.writable

    async def apply(
        self, hashes: list[bytes], keys: list[bytes], now: int, plan: Callable[[Lookup], Plan]
    ) -> Plan:
        """One batch: written on the event loop, committed on the thread (see the class)."""
        try:
            return await self._apply(hashes, keys, now, plan)
        except Exception as exc:
            if space.is_disk_full(exc):
                self._room.full()
            raise

    async def _apply(
        self, hashes: list[bytes], keys: list[bytes], now: int, plan: Callable[[Lookup], Plan]
    ) -> Plan:
        if self._broken is not None:
            raise Unavailable("storage could not make writes durable; restart the relay")
        db = self._db
        if db is not None:
            try:
                db.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError:
                pass  # busy (or broken): the thread runs the batch, and waits or raises
            else:
                result = self._in_transaction(db, hashes, keys, now, plan)
                self._commit(db, result)
                return result
        return await asyncio.get_running_loop().run_in_executor(
            self._thread, partial(self.transaction, hashes, keys, now, plan)
        )

    def when_durable(self, callback: Callable[[BaseException | None], None]) -> None:
        """Sync the WAL on the thread, then call back on the loop (see the class)."""
        self._thread.submit(self._flush_then, asyncio.get_running_loop(), self._commits, callback)

    def _flush_then(
        self,
        loop: asyncio.AbstractEventLoop,
        upto: int,
        callback: Callable[[BaseException | None], None],
    ) -> None:
        failure: BaseException | None = None
        try:
            self._flush(upto)
        except Exception as exc:
            failure = exc
        loop.call_soon_threadsafe(callback, failure)

    def _flush(self, upto: int) -> None:
        """On the thread: make every commit up to number ``upto`` durable, if not already.

        One fsync covers every commit made before it started, so a flush asked for by a
        batch that committed while the previous fsync ran often finds its work done.
        """
        if self._broken is not None:
            raise self._broken
        if self._synced >= upto:
            return
        covered = self._commits  # commits counted so far have written their WAL frames
        try:
            self._wal.sync()
        except OSError as exc:
            # After a failed fsync the kernel may have dropped the dirty pages; nothing
            # written since can be promised durable, so the writer refuses from now on.
            self._broken = exc
            log.critical("fsync of the SQLite WAL failed; refusing writes until restart")
            raise
        self._synced = covered
        self._wal.synced()

    async def close(self) -> None:
        if self._tidier is not None:
            self._tidier.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._tidier
            self._tidier = None
        await asyncio.get_running_loop().run_in_executor(self._thread, self.close_now)
        self._thread.shutdown()
        self._room.close()

    def _connect(self, now: int) -> sqlite3.Connection:
        if self._db is None:
            self.open()
            # Autocommit mode: this module issues BEGIN IMMEDIATE and COMMIT itself, so the
            # write lock is taken before the lookup and the busy timeout applies to it.
            db = sqlite3.connect(
                self._path,
                isolation_level=None,
                cached_statements=CACHED_STATEMENTS,
                check_same_thread=False,
            )
            sqlite_pragmas(db, None)
            # COMMIT only writes the WAL; _flush syncs it (which is all that synchronous=FULL
            # adds in WAL mode) on the thread, and runs the checkpoints, so that a COMMIT on
            # the event loop never waits for the disk.
            db.execute("PRAGMA synchronous=NORMAL")
            db.execute("PRAGMA wal_autocheckpoint=0")
            db.execute(_NO_WAIT)
            # Records written before the retry window existed ran to the envelope's expiry;
            # in memory they keep no longer than the window from now.
            latest = retry_deadline(now, self._retry_window)
            used = Ledger()
            for key, expires_at in db.execute(_KEYS_IN_FORCE, (now,)):
                used.add(key, min(expires_at, latest))
            self._db, self._used = db, used
        return self._db

    def close_now(self) -> None:
        if self._db is not None:
            if self._broken is None:
                self._flush(self._commits)
            self._db.close()
            self._db = None
        self._wal.close()
        if self._locked:
            filelock.release(self._path)
            self._locked = False

    def transaction(
        self, hashes: list[bytes], keys: list[bytes], now: int, plan: Callable[[Lookup], Plan]
    ) -> Plan:
        """Run one batch's whole transaction, waiting for the write lock; blocks.

        Raises RetryBatch if a uniqueness constraint failed (nothing is written then).
        """
        db = self._connect(now)
        db.execute(_WAIT)
        try:
            db.execute("BEGIN IMMEDIATE")
        finally:
            db.execute(_NO_WAIT)
        result = self._in_transaction(db, hashes, keys, now, plan)
        self._commit(db, result)
        self._flush(self._commits)
        return result

    def _in_transaction(
        self,
        db: sqlite3.Connection,
        hashes: list[bytes],
        keys: list[bytes],
        now: int,
        plan: Callable[[Lookup], Plan],
    ) -> Plan:
        used = self._used
        used.purge(now, retry_deadline(now, self._retry_window))
        try:
            lookup = Lookup()
            for chunk in _chunks(hashes):
                (found,) = db.execute(
                    _expand(_LIVE_CAPABILITIES, len(chunk)), (*chunk, now)
                ).fetchone()
                for secret_hash, mailbox_hex, queued in orjson.loads(found):
                    mailbox_id = bytes.fromhex(mailbox_hex)
                    lookup.valid[bytes.fromhex(secret_hash)] = mailbox_id
                    lookup.depth[mailbox_id] = queued
            lookup.seen = used.known(keys)
            result = plan(lookup)
            # The claim (store/idempotency.py); with ``seen`` complete it changes nothing.
            settle(result, used.unclaimed(key for key, _deadline in result.key_rows))
            _write(db, _INSERT_SENT, 2, result.key_rows)
            _write(db, _INSERT_ENVELOPE, 4, result.envelope_rows)
            _write(db, _DELETE_ACKED, 2, result.delete_rows)
        except sqlite3.IntegrityError:
            self._rollback(db)
            raise RetryBatch from None
        except BaseException:
            self._rollback(db)
            raise
        return result

    def _commit(self, db: sqlite3.Connection, result: Plan) -> None:
        try:
            db.execute("COMMIT")
        except BaseException:
            self._rollback(db)
            raise
        self._commits += 1
        # Only now: keys of a batch that rolled back were never used.
        for key, deadline in result.key_rows:
            self._used.add(key, deadline)

    def _rollback(self, db: sqlite3.Connection) -> None:
        if db.in_transaction:
            with contextlib.suppress(sqlite3.Error):
                db.execute("ROLLBACK")
