"""What the generator sends and what it checks: envelope stamps, pairs, jobs and tallies.

Every envelope starts with an 18-byte stamp (worker, pair, sequence number, intended send
time). Eighteen bytes are exactly 24 base64 characters, so the stamp's encoding can be
joined to a precomputed encoding of the filler: building an envelope costs one small
encode, and reading one back costs decoding 24 characters. The receiving side uses the
stamp to measure latency and to catch any envelope that is missing or arrives twice.
"""

from __future__ import annotations

import base64
import os
import struct
from array import array
from dataclasses import dataclass, field
from typing import Any

STAMP = struct.Struct(">HHId2x")
STAMP_B64_LEN = 24


def b64(data: bytes) -> str:
    """base64url without padding, the project's encoding for bytes in JSON."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64(text: str | bytes) -> bytes:
    if isinstance(text, str):
        text = text.encode()
    return base64.urlsafe_b64decode(text + b"=" * (-len(text) % 4))


class EnvelopeMaker:
    """Envelopes of one size whose bytes are random apart from the stamp."""

    def __init__(self, size: int) -> None:
        assert size >= STAMP.size
        self.size = size
        self._filler = b64(os.urandom(size - STAMP.size)) if size > STAMP.size else ""

    def make(self, worker: int, pair: int, seq: int, intended: float) -> str:
        stamp = STAMP.pack(worker, pair, seq, intended)
        return base64.urlsafe_b64encode(stamp).decode() + self._filler


def read_stamp(envelope_b64: str | bytes) -> tuple[int, int, int, float]:
    """(worker, pair, seq, intended time) from the first 24 characters of an envelope."""
    worker, pair, seq, intended = STAMP.unpack(unb64(envelope_b64[:STAMP_B64_LEN]))
    return worker, pair, seq, intended


@dataclass(frozen=True)
class Pair:
    """One sender and one recipient device. `recipient` and `sender` hold dialect secrets."""

    mailbox: str
    capability: str
    recipient: dict[str, str] = field(default_factory=dict)
    sender: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Job:
    """What one generator process does. `rate` is per process; 0 means closed loop."""

    dialect: str
    port: int
    pairs: list[Pair]
    worker: int
    count: int
    duration: float
    envelope_size: int
    window: int = 8
    rate: float = 0.0
    drain_timeout: float = 30.0
    # "both" sends and receives; "send" fills queues; "receive" drains them; "idle" only
    # holds its recipients' connections open.
    role: str = "both"


@dataclass
class Tally:
    """Counts and latencies from one generator process, merged by the coordinator."""

    sent: int = 0
    accepted: int = 0
    rejected: int = 0
    delivered: int = 0
    acknowledged: int = 0
    duplicates: int = 0
    unexpected: int = 0
    errors: list[str] = field(default_factory=list)
    latencies: array[float] = field(default_factory=lambda: array("d"))
    lags: array[float] = field(default_factory=lambda: array("d"))
    started: float = 0.0
    finished: float = 0.0
    cpu_s: float = 0.0

    def merge(self, other: Tally) -> None:
        self.sent += other.sent
        self.accepted += other.accepted
        self.rejected += other.rejected
        self.delivered += other.delivered
        self.acknowledged += other.acknowledged
        self.duplicates += other.duplicates
        self.unexpected += other.unexpected
        self.errors += other.errors
        self.latencies.extend(other.latencies)
        self.lags.extend(other.lags)
        self.started = min(self.started or other.started, other.started)
        self.finished = max(self.finished, other.finished)
        self.cpu_s += other.cpu_s

    def problems(self, role: str = "both", expected: int = 0) -> list[str]:
        """Why these counts do not add up; empty when every envelope went through once.

        A "send" run only fills queues, so nothing is delivered; a "receive" run drains
        `expected` envelopes that an earlier run queued.
        """
        found = list(self.errors)
        if role != "receive" and self.accepted != self.sent:
            found.append(f"{self.sent - self.accepted} sent envelopes were never accepted")
        if role == "both" and self.delivered != self.sent:
            found.append(f"{self.sent - self.delivered} sent envelopes were never delivered")
        if role == "receive" and self.delivered != expected:
            found.append(f"{expected - self.delivered} queued envelopes were never delivered")
        if self.acknowledged != self.delivered:
            found.append(f"{self.delivered - self.acknowledged} deliveries were not acknowledged")
        if self.rejected:
            found.append(f"{self.rejected} sends were refused")
        if self.duplicates:
            found.append(f"{self.duplicates} envelopes or acceptances arrived twice")
        if self.unexpected:
            found.append(f"{self.unexpected} frames nobody asked for")
        return found

    def as_dict(self) -> dict[str, Any]:
        return {
            "sent": self.sent,
            "accepted": self.accepted,
            "rejected": self.rejected,
            "delivered": self.delivered,
            "acknowledged": self.acknowledged,
            "duplicates": self.duplicates,
            "unexpected": self.unexpected,
        }
