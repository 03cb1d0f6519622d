"""Exactly-once, in-order delivery to the application, per sender.

Every message a device sends carries a sequence number (1, 2, 3, ...) inside the encrypted
payload, one counter per conversation. The relay already delivers a mailbox in order, but a
reconnect can replay an envelope whose acknowledgement was lost, so the receiver keeps this
window per sender: a number it has already delivered is dropped, an early arrival is held
until the gap before it fills, and everything else is released in order.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["ReceiveWindow"]

# How many early arrivals a window holds before it gives up on a gap. A gap this long means
# envelopes expired on the relay unread; releasing what is held beats stalling forever.
MAX_HELD = 2048


@dataclass
class ReceiveWindow:
    """The next sequence number expected from one sender, and what arrived early."""

    next_seq: int = 1
    held: dict[int, dict[str, Any]] = field(default_factory=dict)

    def offer(self, seq: int, item: dict[str, Any]) -> list[dict[str, Any]]:
        """Take an arrival; return what may now be delivered, in order (maybe nothing)."""
        if seq < self.next_seq or seq in self.held:
            return []
        self.held[seq] = item
        if len(self.held) > MAX_HELD:
            self.next_seq = min(self.held)
        return self._release()

    def _release(self) -> list[dict[str, Any]]:
        ready: list[dict[str, Any]] = []
        while self.next_seq in self.held:
            ready.append(self.held.pop(self.next_seq))
            self.next_seq += 1
        return ready

    def to_json(self) -> dict[str, Any]:
        """Held items persist too: their envelopes were acknowledged once decrypted."""
        return {"next_seq": self.next_seq, "held": [[k, v] for k, v in sorted(self.held.items())]}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ReceiveWindow:
        return cls(next_seq=int(data["next_seq"]), held={int(k): v for k, v in data["held"]})
