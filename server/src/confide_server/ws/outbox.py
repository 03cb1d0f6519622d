"""Frames answered by one group commit leave in one pass, from the loop, not one task each.

After a commit the writer answers every request of its batch: ``accepted`` to senders,
``envelope`` to recipients, ``acked`` to ackers. Each connection has a sender task
(ws/connection.py) that would otherwise wake, write and go back to sleep for every one of
them, a task switch per frame (docs/benchmarks.md). A connection whose sender is idle
instead hands its flush to the outbox, which runs every flush due once the current callback
(the commit's answers) is done: the frames a batch queued for one connection still go out
in one write, and the sender task stays asleep. One outbox serves all the connections of an
app (ws/connection.py ``Context``).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

log = logging.getLogger(__name__)


class Outbox:
    """Flushes to run soon, on the event loop, once each; one per app."""

    def __init__(self) -> None:
        self._due: list[Callable[[], None]] = []

    def later(self, flush: Callable[[], None]) -> None:
        if not self._due:
            asyncio.get_running_loop().call_soon(self._run)
        self._due.append(flush)

    def _run(self) -> None:
        due, self._due = self._due, []
        for flush in due:
            try:
                flush()
            except Exception:
                log.exception("writing a connection's frames failed")
