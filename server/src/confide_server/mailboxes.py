"""The one door to mailbox operations: sends, acks, queue reads and live connections.

Both the WebSocket session (ws/) and the HTTP routes (api/mailboxes.py) go through this
class, so the rules of a send (capability hash, idempotency key, expiry within the
organisation's retention limit), of an ack, and of a queue read live in one place. It owns
the group-commit writer (store/writer.py) for sends and acks, the read engine for queue
reads and authentication, and fan-out for the connections that receive live envelopes.
Nothing here opens a socket; ``submit_*`` queue work for the next group commit and call
their ``reply`` on the event loop once it is durable.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Sequence

from confide_server.clock import Clock
from confide_server.errors import RateLimited
from confide_server.fanout import Fanout, Sink
from confide_server.services import auth, mailbox
from confide_server.store import queue
from confide_server.store.batch import AckReply, SendReply, SendResult
from confide_server.store.sqla_async import AsyncEngine
from confide_server.store.writer import Writer


class Mailboxes:
    def __init__(
        self,
        writer: Writer,
        reader: AsyncEngine,
        fanout: Fanout,
        clock: Clock,
        *,
        default_ttl: int,
        max_retention: int,
        connections_per_token: int,
    ) -> None:
        self._writer = writer
        self._reader = reader
        self._fanout = fanout
        self._clock = clock
        self._default_ttl = default_ttl
        # The organisation's retention limit; the relay refreshes it (the CLI may change it).
        self.max_retention = max_retention
        self._connections_per_token = connections_per_token
        self._connections: Counter[bytes] = Counter()

    # Sends.

    def _addressed(
        self, mailbox_id: bytes, capability: bytes, client_message_id: str, ttl: int | None
    ) -> tuple[bytes, bytes, int]:
        """The capability's hash, the idempotency key and the expiry of one send."""
        capability_hash = hashlib.sha256(capability).digest()
        key = mailbox.dedupe_key(mailbox_id, capability_hash, client_message_id)
        expires_at = mailbox.expiry(self._clock(), ttl, self._default_ttl, self.max_retention)
        return capability_hash, key, expires_at

    def submit_send(
        self,
        mailbox_id: bytes,
        capability: bytes,
        client_message_id: str,
        body: bytes,
        ttl: int | None,
        reply: SendReply,
    ) -> None:
        """Queue one envelope for the next group commit; ``reply`` gets the outcome."""
        capability_hash, key, expires_at = self._addressed(
            mailbox_id, capability, client_message_id, ttl
        )
        self._writer.submit_send(mailbox_id, capability_hash, key, body, expires_at, reply)

    async def send(
        self,
        mailbox_id: bytes,
        capability: bytes,
        client_message_id: str,
        body: bytes,
        ttl: int | None,
    ) -> SendResult:
        """Queue one envelope and wait until it is durable (or refused: RelayError)."""
        capability_hash, key, expires_at = self._addressed(
            mailbox_id, capability, client_message_id, ttl
        )
        return await self._writer.send(mailbox_id, capability_hash, key, body, expires_at)

    # Acknowledgements and queue reads, by the mailbox's own device.

    def submit_ack(self, mailbox_id: bytes, envelope_ids: Sequence[bytes], reply: AckReply) -> None:
        """Delete delivered envelopes at the next group commit; ``reply`` once durable."""
        self._writer.submit_ack(mailbox_id, envelope_ids, reply)

    async def ack(self, mailbox_id: bytes, envelope_ids: Sequence[bytes]) -> None:
        await self._writer.ack(mailbox_id, envelope_ids)

    async def pending(
        self, mailbox_id: bytes, limit: int, after_seq: int = 0
    ) -> list[tuple[int, bytes, bytes]]:
        """Up to ``limit`` unexpired envelopes (seq, id, body) after ``after_seq``, in order."""
        return await queue.pending(self._reader, mailbox_id, limit, int(self._clock()), after_seq)

    # Live connections.

    async def authenticate(self, token: bytes) -> auth.Principal:
        """The device behind a session token (Unauthenticated, Expired, Revoked if not)."""
        async with self._reader.connect() as conn:
            return await auth.authenticate(conn, token, self._clock())

    def open_connection(self, token: bytes) -> bytes:
        """Count one more connection for ``token`` (RateLimited over the limit); its key."""
        key = auth.digest(token)
        if self._connections[key] >= self._connections_per_token:
            raise RateLimited("too many connections with this token")
        self._connections[key] += 1
        return key

    def close_connection(self, key: bytes) -> None:
        self._connections[key] -= 1
        if self._connections[key] <= 0:
            del self._connections[key]

    def register(self, mailbox_id: bytes, sink: Sink) -> None:
        """Live envelopes and notices for ``mailbox_id`` go to ``sink`` from now on."""
        self._fanout.register(mailbox_id, sink)

    def unregister(self, mailbox_id: bytes, sink: Sink) -> None:
        self._fanout.unregister(mailbox_id, sink)
