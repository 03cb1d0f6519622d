"""The delivery window of one connection: which envelopes are in flight, and when to read the queue.

No I/O here. The socket adapter asks ``offer`` whether a live envelope may be pushed now,
asks ``want`` how many to read from the queue, and reports acknowledgements. A client that
never reads never acknowledges, so at most ``size`` envelopes and about ``max_bytes`` bytes
are ever in flight to it; the rest wait in the database, not in memory.

Live envelopes that cannot be pushed (window full, or a queue read in progress) only mark the
window "dirty"; the next queue read finds them. ``epoch`` counts such marks so that a queue
read which raced with a new envelope does not wrongly declare the queue drained.
"""

from __future__ import annotations

from collections import OrderedDict


class DeliveryWindow:
    def __init__(self, size: int, max_bytes: int = 1 << 20, remember: int | None = None) -> None:
        self.size = size
        self.max_bytes = max_bytes
        self._inflight: dict[bytes, int] = {}
        self._bytes = 0
        self._recent: OrderedDict[bytes, None] = OrderedDict()
        self._remember = remember if remember is not None else size * 4
        self.dirty = True
        self.epoch = 0

    def room(self) -> int:
        if self._bytes >= self.max_bytes:
            return 0
        return self.size - len(self._inflight)

    def offer(self, envelope_id: bytes, size: int) -> bool:
        """A live envelope arrived: True if it should be pushed now."""
        if envelope_id in self._inflight or envelope_id in self._recent:
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
        """How many envelopes to read from the queue now (0: none)."""
        return max(self.room(), 0) if self.dirty else 0

    def skip(self) -> frozenset[bytes]:
        """Ids a queue read must leave out: in flight, or acknowledged but maybe not yet gone."""
        return frozenset(self._inflight) | frozenset(self._recent)

    def from_queue(self, envelope_id: bytes, size: int) -> bool:
        """An envelope read from the queue: True if it should be pushed."""
        if envelope_id in self._inflight or envelope_id in self._recent:
            return False
        if self.room() <= 0:
            # The byte budget ran out part-way through a read; the rest stays queued.
            self.mark_dirty()
            return False
        self._take(envelope_id, size)
        return True

    def queue_read_done(self, epoch_before: int, asked: int, got: int) -> None:
        if got < asked and self.epoch == epoch_before:
            self.dirty = False

    def acked(self, envelope_ids: tuple[bytes, ...]) -> None:
        # Acknowledged ids are remembered even if they were sent on an earlier connection:
        # until the delete commits, a queue read could otherwise return them again.
        for envelope_id in envelope_ids:
            self._bytes -= self._inflight.pop(envelope_id, 0)
            self._recent[envelope_id] = None
        while len(self._recent) > self._remember:
            self._recent.popitem(last=False)

    def _take(self, envelope_id: bytes, size: int) -> None:
        self._inflight[envelope_id] = size
        self._bytes += size
