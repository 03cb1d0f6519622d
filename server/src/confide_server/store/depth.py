"""Queue depth: how many envelopes a mailbox holds when a send is planned, on either backend.

``CONFIDE_MAX_QUEUE_DEPTH`` guards a recipient against being flooded; it is not a quota.
A send planned against a queue at the limit is refused with ``queue-full``. Duplicates
never take a place (store/idempotency.py). The policy, tested on both backends by
tests/server/test_store_contract.py:

- **SQLite: exact.** One process writes (store/filelock.py), and every batch counts the
  queues it sends to inside its own transaction, in the statement that reads the
  capabilities (store/batch_sqlite.py): a count over the ``(mailbox_id, seq)`` index.
- **PostgreSQL: at most ``MAX_AGE`` seconds stale.** On a table of constant inserts and
  deletes, ``count(*)`` visits every dead row version until vacuum has run (after a long
  run, most of each batch's time: docs/benchmarks.md, lab notebook), so ``Depths`` counts a mailbox
  at most every ``MAX_AGE`` seconds (by the monotonic clock) and adds what this process has
  queued since. Within one process the limit holds exactly; sends queued by other processes
  and acknowledgements (this process's too) show at the next count. So several processes
  together can overshoot the limit by what they queue within ``MAX_AGE``, and a queue just
  drained may be refused for up to ``MAX_AGE``. On a count that fails, everything known is
  forgotten (what was counted may not have been written).
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Iterable

from confide_server.clock import Clock

MAX_AGE = 5.0
# Beyond this many mailboxes in memory, those counted more than MAX_AGE ago are dropped.
KEEP = 10_000

Count = Callable[[list[bytes]], Awaitable[dict[bytes, int]]]


class Depths:
    """PostgreSQL's queue depths: a count at most ``MAX_AGE`` old, plus this process's sends."""

    def __init__(self, monotonic: Clock = time.monotonic) -> None:
        self._monotonic = monotonic
        self._known: dict[bytes, tuple[float, int]] = {}  # mailbox -> (counted at, depth)

    async def of(self, mailboxes: Iterable[bytes], count: Count) -> dict[bytes, int]:
        """Each mailbox's depth; ``count`` is asked for the mailboxes whose count is stale."""
        now = self._monotonic()
        wanted = set(mailboxes)
        stale = [m for m in wanted if now - self._known.get(m, (-MAX_AGE, 0))[0] >= MAX_AGE]
        if stale:
            if len(self._known) > KEEP:
                self._known = {m: v for m, v in self._known.items() if now - v[0] < MAX_AGE}
            counted = await count(stale)
            for mailbox_id in stale:
                self._known[mailbox_id] = (now, counted.get(mailbox_id, 0))
        return {m: self._known[m][1] for m in wanted}

    def planned(self, depths: dict[bytes, int]) -> None:
        """After a batch committed: the depths it left (its own sends added)."""
        for mailbox_id, depth in depths.items():
            counted_at, _before = self._known[mailbox_id]
            self._known[mailbox_id] = (counted_at, depth)

    def forget(self) -> None:
        self._known.clear()
