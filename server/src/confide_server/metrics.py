"""Prometheus metrics with no per-user labels: counts and sizes of the relay's own work.

Per-message counters are plain integers read at scrape time (``Tally``): prometheus_client's
own counters take a lock on every increment, which showed up in profiles of the hot path.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Gauge, Histogram
from prometheus_client.core import CounterMetricFamily
from prometheus_client.registry import Collector


class Tally:
    """A counter that only this process's event loop touches, so it needs no lock."""

    __slots__ = ("value",)

    def __init__(self) -> None:
        self.value = 0

    def inc(self, amount: int = 1) -> None:
        self.value += amount


class LabelledTally:
    def __init__(self) -> None:
        self.children: dict[str, Tally] = {}

    def labels(self, value: str) -> Tally:
        child = self.children.get(value)
        if child is None:
            child = self.children[value] = Tally()
        return child


class _Tallies(Collector):
    def __init__(self, metrics: Metrics) -> None:
        self._metrics = metrics

    def collect(self) -> Iterator[CounterMetricFamily]:
        m = self._metrics
        for name, help_text, tally in (
            ("confide_envelopes_accepted", "Envelopes made durable", m.accepted),
            ("confide_envelopes_duplicate", "Sends recognised as retries", m.duplicates),
            ("confide_envelopes_delivered", "Envelopes pushed over WebSocket", m.delivered),
            ("confide_envelopes_acked", "Envelopes acknowledged", m.acked),
        ):
            yield CounterMetricFamily(name, help_text, value=tally.value)
        rejected = CounterMetricFamily("confide_sends_rejected", "Sends refused", labels=["reason"])
        for reason, tally in sorted(m.rejected.children.items()):
            rejected.add_metric([reason], tally.value)
        yield rejected
        push = CounterMetricFamily(
            "confide_push_requests", "Web Push wake-ups, by outcome", labels=["outcome"]
        )
        for outcome, tally in sorted(m.push.children.items()):
            push.add_metric([outcome], tally.value)
        yield push


@dataclass
class Metrics:
    registry: CollectorRegistry = field(default_factory=CollectorRegistry)

    def __post_init__(self) -> None:
        r = self.registry
        self.accepted = Tally()
        self.duplicates = Tally()
        self.delivered = Tally()
        self.acked = Tally()
        self.rejected = LabelledTally()
        # Replaced by the relay's Pusher's own tallies when push is on (push/sender.py).
        self.push = LabelledTally()
        r.register(_Tallies(self))
        self.connections = Gauge(
            "confide_websocket_connections", "Open WebSocket connections", registry=r
        )
        self.writer_pending = Gauge(
            "confide_writer_pending", "Sends and acks waiting for the next commit", registry=r
        )
        self.fanout_healthy = Gauge(
            "confide_fanout_healthy", "1 when fan-out works (Redis reachable, if used)", registry=r
        )
        self.fanout_dropped = Gauge(
            "confide_fanout_dropped",
            "fan-out messages not published to Redis since start (recipients read the queue)",
            registry=r,
        )
        self.storage_writable = Gauge(
            "confide_storage_writable",
            "1 while the database's disk has room for sends (store/space.py)",
            registry=r,
        )
        self.batch = Histogram(
            "confide_writer_batch_size",
            "Requests per group-commit transaction",
            buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024),
            registry=r,
        )
