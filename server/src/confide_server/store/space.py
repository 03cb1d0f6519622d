"""Room on the SQLite database's disk: sends stop before the disk is full, acks never do.

When the queue itself filled the disk (19 §9), SQLite could not checkpoint its WAL (a
checkpoint copies new pages into the database file, which must grow), so every later write,
the recipients' acknowledgements included, failed with "database or disk is full" until
restart, while /readyz said 200. So the writer asks before each batch with sends whether
there is room: the disk's free space plus the database's free pages (what acknowledged and
expired envelopes leave behind, which new ones reuse) less the size of the WAL
(which the next checkpoint may copy into new pages of the database), must stay at least
``CONFIDE_DISK_RESERVE_BYTES``, and the free space alone a quarter of it, for the WAL to
grow and to be checkpointed. Below that, sends are refused with 503 and acknowledgements go
on, so recipients drain the queue, and the relay takes sends again once their deletions
have freed pages: by itself, without a restart. A write that fails because the disk is full
anyway (something else filled it) is refused the same way, and marks storage as not
writable until a check finds room again.

``Room.writable`` is what /readyz (``storage``) and /metrics (``confide_storage_writable``)
report. PostgreSQL keeps its own disk; its writes fail and recover without the relay's help.
"""

from __future__ import annotations

import logging
import os
import sqlite3

log = logging.getLogger(__name__)


def is_disk_full(exc: BaseException) -> bool:
    """Whether ``exc`` is SQLite's (or the OS's) "no space left" error."""
    if isinstance(exc, sqlite3.Error):
        code = getattr(exc, "sqlite_errorcode", None)
        return code == sqlite3.SQLITE_FULL or "disk is full" in str(exc)
    return isinstance(exc, OSError) and exc.errno == 28  # ENOSPC


class Room:
    """The room check of one SQLite database (see the module docstring)."""

    def __init__(self, path: str, reserve: int) -> None:
        self._path = path
        self._directory = os.path.dirname(os.path.abspath(path))
        self.reserve = reserve
        self.writable = True
        self._db: sqlite3.Connection | None = None  # its own, for the free-page count

    def free_bytes(self) -> int:
        stats = os.statvfs(self._directory)
        return stats.f_bavail * stats.f_frsize

    def check(self, incoming: int = 0) -> bool:
        """Whether ``incoming`` more bytes of envelopes fit above the reserve; updates
        ``writable``. On the event loop: a statvfs, and near the reserve one PRAGMA."""
        # The WAL's frames go into the database at the next checkpoint, which may grow the
        # file by as much: until then that space is spoken for (all of it, to be safe).
        free = self.free_bytes() - incoming - self._wal_bytes()
        if free >= 2 * self.reserve and free > 0:
            room = True  # far from the reserve: no need to count free pages
        else:
            room = free > 0 and free >= self.reserve // 4
            room = room and free + self._reusable() >= self.reserve
        self._became(room)
        return room

    def _wal_bytes(self) -> int:
        try:
            return os.stat(self._path + "-wal").st_size
        except OSError:
            return 0

    def _reusable(self) -> int:
        """Bytes of the database's free pages (what deleted rows left), which new rows reuse."""
        try:
            if self._db is None:
                self._db = sqlite3.connect(self._path, isolation_level=None)
            (pages,) = self._db.execute("PRAGMA freelist_count").fetchone()
            (page_size,) = self._db.execute("PRAGMA page_size").fetchone()
        except sqlite3.Error:
            return 0
        return int(pages) * int(page_size)

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None

    def full(self) -> None:
        """A write failed for want of space."""
        self._became(False)

    def _became(self, writable: bool) -> None:
        if writable != self.writable:
            if writable:
                log.warning("the database's disk has room again; sends are accepted")
            else:
                log.error(
                    "the database's disk is full (below CONFIDE_DISK_RESERVE_BYTES): sends"
                    " are refused with 503 until acknowledgements or the operator free space"
                )
        self.writable = writable
