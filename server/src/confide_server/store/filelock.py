"""One relay process per SQLite database, enforced by a lock held for the life of the process.

SQLite's writer keeps the claimed idempotency keys in memory (store/idempotency.py) and
counts queue depths as exact (store/depth.py); both are sound only while one process writes
the file. So a process that serves an SQLite database takes an exclusive ``flock`` on
``<database>.lock`` beside it and keeps it until it ends (the kernel lets go when the
process dies, even by kill -9). A second ``confide serve`` on the same file is refused with
``DatabaseInUse`` and exits with status 1. Within one process the lock is counted, so the
command line and the writer can both hold it; flock is per open file, so opening the file
once per process is what makes that work.

The admin commands (``confide create-org`` and the others) and backups do not take the lock:
they never send, and SQLite's own locking keeps their transactions apart from the relay's.
"""

from __future__ import annotations

import fcntl
import os
import threading

from confide_server.errors import Unavailable


class DatabaseInUse(Unavailable):
    """Another process holds the database's lock."""


_lock = threading.Lock()
_held: dict[str, tuple[int, int]] = {}  # lock file -> (descriptor, holders in this process)


def lock_path(database: str) -> str:
    return os.path.abspath(database) + ".lock"


def acquire(database: str) -> None:
    """Hold the database's lock, or raise DatabaseInUse if another process holds it."""
    path = lock_path(database)
    with _lock:
        if path in _held:
            fd, holders = _held[path]
            _held[path] = (fd, holders + 1)
            return
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise DatabaseInUse(
                f"another relay process is serving the SQLite database {database} (it holds"
                f" {path}); SQLite serves one relay process: stop the other one, or use"
                " PostgreSQL for several"
            ) from None
        except BaseException:
            os.close(fd)
            raise
        _held[path] = (fd, 1)


def release(database: str) -> None:
    """Give back one hold; the lock goes when this process's last holder lets go."""
    path = lock_path(database)
    with _lock:
        if path not in _held:
            return
        fd, holders = _held.pop(path)
        if holders > 1:
            _held[path] = (fd, holders - 1)
            return
        os.close(fd)  # closing the only descriptor releases the flock
