"""The outbox: sealed envelopes waiting for the relay to answer "accepted".

A message is encrypted once, when the application hands it over, and the resulting envelope
waits here under a client message id until the relay confirms it is durable. Retrying the
same envelope with the same id is what makes sending idempotent (the relay drops a repeat),
so a send that was accepted but whose answer was lost is never delivered twice. Entries
leave strictly in the order they entered, which, with the relay's per-mailbox ordering, is
what keeps a conversation in order for the recipient.
"""

from __future__ import annotations

import itertools
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from confide_client.encoding import b64d, b64e

__all__ = ["Outbox", "OutboxEntry"]


@dataclass(frozen=True)
class OutboxEntry:
    """One sealed envelope bound for a contact's mailbox."""

    client_msg_id: str
    contact_id: str
    envelope: bytes

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.client_msg_id,
            "contact": self.contact_id,
            "envelope": b64e(self.envelope),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> OutboxEntry:
        return cls(str(data["id"]), str(data["contact"]), b64d(str(data["envelope"])))


class Outbox:
    """A first-in, first-out queue of envelopes not yet accepted by the relay."""

    def __init__(self, entries: list[OutboxEntry] | None = None) -> None:
        self._entries: deque[OutboxEntry] = deque(entries or [])

    def __len__(self) -> int:
        return len(self._entries)

    def __iter__(self) -> Iterator[OutboxEntry]:
        return iter(list(self._entries))

    def put(self, entry: OutboxEntry) -> None:
        """Queue an envelope behind everything already waiting."""
        self._entries.append(entry)

    def head(self) -> OutboxEntry | None:
        """The envelope to send next, or None when nothing is waiting."""
        return self._entries[0] if self._entries else None

    def first(self, count: int) -> list[OutboxEntry]:
        """Up to ``count`` envelopes from the head, oldest first."""
        return list(itertools.islice(self._entries, count))

    def accepted(self, client_msg_id: str) -> None:
        """The relay holds this envelope durably; stop retrying it."""
        if self._entries and self._entries[0].client_msg_id == client_msg_id:
            self._entries.popleft()
            return
        self._entries = deque(e for e in self._entries if e.client_msg_id != client_msg_id)

    def drop_contact(self, contact_id: str) -> int:
        """Discard everything bound for a contact (consent revoked); returns how many."""
        before = len(self._entries)
        self._entries = deque(e for e in self._entries if e.contact_id != contact_id)
        return before - len(self._entries)

    def to_json(self) -> list[dict[str, Any]]:
        return [e.to_json() for e in self._entries]

    @classmethod
    def from_json(cls, data: list[dict[str, Any]]) -> Outbox:
        return cls([OutboxEntry.from_json(item) for item in data])
