"""The delivery window of one connection: which envelopes are in flight, and when to read the queue.

No I/O here. The socket adapter asks ``offer`` whether a live envelope may be pushed now,
asks ``read_plan`` what to read from the queue, and reports acknowledgements. A client that
never reads never acknowledges, so at most ``size`` envelopes and about ``max_bytes`` bytes
are ever in flight to it; the rest wait in the database, not in memory.

Live envelopes that cannot be pushed (window full, or a queue read in progress) only mark the
window "dirty"; the next queue read finds them. ``epoch`` counts such marks so that a queue
read which raced with a new envelope does not wrongly declare the queue drained.

Queue reads continue from a cursor (the last sequence number read) so that a slow reader
does not re-read its whole window each time. Sequence numbers need not commit in order when
several relay processes write, so before declaring the queue drained the window makes one
full pass from the start, which catches any envelope that committed behind the cursor.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ReadPlan:
    after_seq: int
    limit: int
    epoch: int


class DeliveryWindow:
    def __init__(self, size: int, max_bytes: int = 1 << 20, remember: int | None = None) -> None:
        self.size = size
        self.max_bytes = max_bytes
        self._inflight: dict[bytes, int] = {}
        self._bytes = 0
        self._recent: OrderedDict[bytes, None] = OrderedDict()
        self._uncommitted: set[bytes] = set()
        self._remember = remember if remember is not None else size * 4
        self._cursor = 0
        self.dirty = True
        self.epoch = 0

    def room(self) -> int:
        if self._bytes >= self.max_bytes:
            return 0
        return self.size - len(self._inflight)

    def _seen(self, envelope_id: bytes) -> bool:
        # An id whose delete has not committed stays "seen" even after it leaves the bounded
        # memory of recent acks: until then a queue read can still return its row.
        return (
            envelope_id in self._inflight
            or envelope_id in self._recent
            or envelope_id in self._uncommitted
        )

    def offer(self, envelope_id: bytes, size: int) -> bool:
        """A live envelope arrived: True if it should be pushed now."""
        if self._seen(envelope_id):
            return False
        if self.dirty or self.room() <= 0:
            self.mark_dirty()
            return False
        self._take(envelope_id, size)
        return True

    def mark_dirty(self) -> None:
        self.dirty = True
        self.epoch += 1

    def want(self) -> int:
        """How many envelopes a queue read should deliver now (0: none)."""
        return max(self.room(), 0) if self.dirty else 0

    def read_plan(self) -> ReadPlan | None:
        wanted = self.want()
        if wanted <= 0:
            return None
        # Rows that will be skipped still count against the limit, so ask for that many more.
        if self._cursor:
            return ReadPlan(self._cursor, wanted + len(self._uncommitted), self.epoch)
        extra = len(self._inflight) + len(self._uncommitted)
        return ReadPlan(0, wanted + extra, self.epoch)

    def from_queue(self, envelope_id: bytes, size: int) -> bool:
        """An envelope read from the queue (the caller checked ``room``): True to push it."""
        if self._seen(envelope_id):
            return False
        self._take(envelope_id, size)
        return True

    def read_done(self, plan: ReadPlan, rows: int, last_seq: int) -> None:
        """After a read: ``rows`` read (``plan.limit`` if stopped early), cursor ``last_seq``."""
        self._cursor = max(self._cursor, last_seq)
        if rows >= plan.limit:
            return  # there may be more: keep reading from the cursor
        if plan.after_seq:
            self._cursor = 0  # reached the end from the cursor: one full pass next
        elif self.epoch == plan.epoch:
            self.dirty = False
            self._cursor = 0

    def acked(self, envelope_ids: tuple[bytes, ...]) -> None:
        # Acknowledged ids are remembered even if they were sent on an earlier connection:
        # until the delete commits, a queue read could otherwise return them again; and a
        # late copy from another relay process must not be pushed again afterwards.
        for envelope_id in envelope_ids:
            self._bytes -= self._inflight.pop(envelope_id, 0)
            self._recent[envelope_id] = None
            self._uncommitted.add(envelope_id)
        while len(self._recent) > self._remember:
            self._recent.popitem(last=False)

    def ack_committed(self, envelope_ids: tuple[bytes, ...]) -> None:
        self._uncommitted.difference_update(envelope_ids)

    def _take(self, envelope_id: bytes, size: int) -> None:
        self._inflight[envelope_id] = size
        self._bytes += size
