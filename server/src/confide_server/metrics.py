"""Prometheus metrics with no per-user labels: counts and sizes of the relay's own work."""

from __future__ import annotations

from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


@dataclass
class Metrics:
    registry: CollectorRegistry = field(default_factory=CollectorRegistry)

    def __post_init__(self) -> None:
        r = self.registry
        self.accepted = Counter("confide_envelopes_accepted", "Envelopes made durable", registry=r)
        self.duplicates = Counter(
            "confide_envelopes_duplicate", "Sends recognised as retries", registry=r
        )
        self.rejected = Counter("confide_sends_rejected", "Sends refused", ["reason"], registry=r)
        self.delivered = Counter(
            "confide_envelopes_delivered", "Envelopes pushed over WebSocket", registry=r
        )
        self.acked = Counter("confide_envelopes_acked", "Envelopes acknowledged", registry=r)
        self.connections = Gauge(
            "confide_websocket_connections", "Open WebSocket connections", registry=r
        )
        self.writer_pending = Gauge(
            "confide_writer_pending", "Sends and acks waiting for the next commit", registry=r
        )
        self.fanout_healthy = Gauge(
            "confide_fanout_healthy", "1 when fan-out works (Redis reachable, if used)", registry=r
        )
        self.batch = Histogram(
            "confide_writer_batch_size",
            "Requests per group-commit transaction",
            buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024),
            registry=r,
        )
