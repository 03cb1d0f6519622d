"""SQLite's write-ahead log, as the writer's thread syncs, checkpoints and truncates it.

Every commit's frames are appended to ``<database>-wal``; a checkpoint copies them into the
database, and SQLite then writes the log again from its start, over the old frames, but
never shortens the file. So an acknowledged envelope, deleted in the database (where
``secure_delete`` overwrites it), lived on in old frames (issue 19 §3), because readers had
held back the checkpoints for a while, the log had grown, and the later, shorter rounds
never reached the end of the file.

So the writer's thread checkpoints the log into the database every ``CHECKPOINT_EVERY``
syncs without waiting for anyone (PASSIVE), and at least every ``TRUNCATE_EVERY`` seconds,
if anything was written, it checkpoints all of it and truncates the file to nothing
(TRUNCATE), waiting up to ``WAIT_MS`` for readers to move on. Under load a sync makes the
check; when writes stop, the backend's timer does (store/batch_sqlite.py). The bound: a
copy of the data directory holds no acknowledged envelope once ``TRUNCATE_EVERY`` seconds
(plus one sync) have passed since its acknowledgement, unless a reader held an old
snapshot all that time, in which case the next attempt, ``RETRY_AFTER`` seconds later,
tries again (the database file itself holds none once the deletion is checkpointed). What
the truncation costs is in docs/benchmarks.md.
"""

from __future__ import annotations

import logging
import os
import sqlite3

from confide_server.clock import Clock
from confide_server.store.space import is_disk_full

# A PASSIVE checkpoint after this many syncs (SQLite's own automatic checkpoint, at 1,000
# pages, came about as often under load).
CHECKPOINT_EVERY = 32
# A truncating checkpoint at least this often while anything is written (seconds).
TRUNCATE_EVERY = 1.0
# After a truncation that readers kept from completing, the next try comes this much later.
RETRY_AFTER = 0.25
# How long a truncating checkpoint waits for the write lock and for readers (milliseconds).
WAIT_MS = 50

log = logging.getLogger(__name__)


class WalFile:
    """The WAL of one database; every method but ``dirty`` runs on the writer's thread."""

    def __init__(self, path: str, monotonic: Clock) -> None:
        self._path = path
        self._wal = path + "-wal"
        self._monotonic = monotonic
        self._fd: int | None = None
        self._checkpointer: sqlite3.Connection | None = None
        self._since_checkpoint = 0
        self._truncated_at = monotonic()
        self.dirty = False  # written to since the last truncation
        self.checkpoints = 0
        self.truncations = 0

    def sync(self) -> None:
        """fsync the WAL file: every transaction committed to it so far becomes durable."""
        fd = self._fd
        if fd is None or os.fstat(fd).st_ino != os.stat(self._wal).st_ino:
            # First use, or SQLite replaced the file (it deletes the WAL when the last
            # connection closes, after checkpointing it into the database).
            self.close_fd()
            fd = self._fd = os.open(self._wal, os.O_RDONLY | os.O_CLOEXEC)
        os.fdatasync(fd)

    def synced(self) -> None:
        """After a sync: checkpoint, or truncate, if it is time."""
        self.dirty = True
        self._since_checkpoint += 1
        if not self.tidy() and self._since_checkpoint >= CHECKPOINT_EVERY:
            self._checkpoint("PASSIVE")

    def tidy(self) -> bool:
        """Truncate the log if it was written to and ``TRUNCATE_EVERY`` has passed; whether
        it was truncated now."""
        now = self._monotonic()
        if not self.dirty or now - self._truncated_at < TRUNCATE_EVERY:
            return False
        if self._checkpoint("TRUNCATE"):
            self.dirty = False
            self._truncated_at = now
            self.truncations += 1
            return True
        self._truncated_at = now - TRUNCATE_EVERY + RETRY_AFTER
        return False

    def _checkpoint(self, mode: str) -> bool:
        """Run one checkpoint; whether it completed (False when readers held it back)."""
        self._since_checkpoint = 0
        try:
            if self._checkpointer is None:
                self._checkpointer = sqlite3.connect(self._path, isolation_level=None)
                self._checkpointer.execute(f"PRAGMA busy_timeout={WAIT_MS}")
            (busy, _frames, _copied) = self._checkpointer.execute(
                f"PRAGMA wal_checkpoint({mode})"
            ).fetchone()
        except sqlite3.Error as exc:
            if is_disk_full(exc):
                # store/space.py says so once, with what to do; the next try comes soon.
                log.debug("a WAL checkpoint failed: the disk is full")
            else:
                log.warning("a WAL checkpoint failed; the next one tries again", exc_info=True)
            return False
        self.checkpoints += 1
        return int(busy) == 0

    def close_fd(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def close(self) -> None:
        self.close_fd()
        if self._checkpointer is not None:
            self._checkpointer.close()
            self._checkpointer = None
