"""Fan-out: telling the connections of a mailbox that an envelope (or a notice) arrived.

``LocalFanout`` serves one process. ``confide_server.fanout.redis.RedisFanout`` adds Redis
pub/sub so that several relay processes sharing one database reach each other's connections.
Fan-out is only a shortcut: the queue in the database stays the truth, and a sink that misses
a message reads it from there (``Sink.poke``).
"""

from __future__ import annotations

from typing import Protocol

from confide_server.store.batch import Delivery


class Sink(Protocol):
    """One live connection, as fan-out sees it."""

    def offer(self, envelope_id: bytes, body: bytes) -> None: ...

    def notice(self, payload: dict[str, object]) -> None: ...

    def poke(self) -> None:
        """Something may have been missed: read the queue again."""


class Fanout(Protocol):
    @property
    def healthy(self) -> bool: ...

    @property
    def dropped(self) -> int:
        """Messages not passed on to other processes (they read the queue instead)."""
        ...

    def register(self, mailbox_id: bytes, sink: Sink) -> None: ...

    def unregister(self, mailbox_id: bytes, sink: Sink) -> None: ...

    def publish(self, deliveries: list[Delivery]) -> None: ...

    def notify(self, mailbox_id: bytes, payload: dict[str, object]) -> None: ...

    def notify_here(self, mailbox_id: bytes, payload: dict[str, object]) -> None:
        """A notice for this process's connections only."""
        ...

    def connected(self) -> list[bytes]:
        """The mailboxes with a connection on this process."""
        ...

    def connected_here(self, mailbox_id: bytes) -> bool:
        """Whether this mailbox has a connection on this process."""
        ...

    async def start(self) -> None: ...

    async def close(self) -> None: ...

    async def check(self) -> bool: ...


class LocalFanout:
    """In-process fan-out: a map from mailbox id to the sinks connected here."""

    def __init__(self) -> None:
        self._sinks: dict[bytes, set[Sink]] = {}
        self.dropped = 0

    @property
    def healthy(self) -> bool:
        return True

    def register(self, mailbox_id: bytes, sink: Sink) -> None:
        self._sinks.setdefault(mailbox_id, set()).add(sink)

    def unregister(self, mailbox_id: bytes, sink: Sink) -> None:
        sinks = self._sinks.get(mailbox_id)
        if sinks is not None:
            sinks.discard(sink)
            if not sinks:
                del self._sinks[mailbox_id]

    def publish(self, deliveries: list[Delivery]) -> None:
        for delivery in deliveries:
            self.deliver_here(delivery.mailbox_id, delivery.envelope_id, delivery.body)

    def deliver_here(self, mailbox_id: bytes, envelope_id: bytes, body: bytes) -> None:
        for sink in self._sinks.get(mailbox_id, ()):
            sink.offer(envelope_id, body)

    def notify(self, mailbox_id: bytes, payload: dict[str, object]) -> None:
        self.notify_here(mailbox_id, payload)

    def notify_here(self, mailbox_id: bytes, payload: dict[str, object]) -> None:
        for sink in self._sinks.get(mailbox_id, ()):
            sink.notice(payload)

    def connected(self) -> list[bytes]:
        return list(self._sinks)

    def connected_here(self, mailbox_id: bytes) -> bool:
        return mailbox_id in self._sinks

    def poke_all(self) -> None:
        for sinks in list(self._sinks.values()):
            for sink in list(sinks):
                sink.poke()

    async def start(self) -> None:
        return None

    async def close(self) -> None:
        return None

    async def check(self) -> bool:
        return True
