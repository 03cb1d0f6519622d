"""Sending to and reading from mailboxes: the part of the hot path above the writer.

A send names a mailbox and presents a capability, never a sender. Retries are recognised by
SHA-256 of (mailbox id, capability hash, client message id), kept for the retry window (or
until the envelope would have expired, if sooner; store/idempotency.py has the contract), so
a retry after the envelope was acknowledged and deleted is answered "duplicate" and not
queued again. The capability is part of the key so that two senders
(who hold different capabilities) can never collide on a client message id.
"""

from __future__ import annotations

import hashlib

from confide_server.clock import expiry as rounded_expiry


def dedupe_key(mailbox_id: bytes, capability_hash: bytes, client_message_id: str) -> bytes:
    material = mailbox_id + capability_hash + client_message_id.encode("utf-8")
    return hashlib.sha256(material).digest()


def expiry(now: float, ttl: int | None, default_ttl: int, max_retention: int) -> int:
    """The envelope's expiry: its TTL (or the default), never beyond the retention limit."""
    chosen = default_ttl if ttl is None else ttl
    return rounded_expiry(now, max(60, chosen), limit=max(60, max_retention))
