"""Background delivery: the outbox goes out, live envelopes come in, both survive outages.

Two tasks run while a :class:`~confide_client.client.ConfideClient` is started. The sender
sends the outbox head first, one envelope at a time, and removes it only when the relay has
answered "accepted"; a retry reuses the client message id, so the relay never queues it
twice. The receiver holds a live connection, decrypts each batch, saves the state once, hands
the events to the application and only then acknowledges the batch. Either task meets a
network failure by waiting a backoff delay (exponential, with jitter) and trying again.

Before any envelope leaves, the state that produced it is saved: a restarted device must
never re-use a ratchet step it has already spent on a message the relay holds.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING

from confide_client.backoff import Backoff
from confide_client.errors import RelayRejected, RelayUnavailable
from confide_client.messages import Event
from confide_client.transport.base import Delivery, PrekeysLow

if TYPE_CHECKING:
    from confide_client.client import ConfideClient

__all__ = ["Sync"]

log = logging.getLogger("confide_client")

#: Envelopes decrypted per batch, between saves of the state.
BATCH = 256
#: Events the application has not read yet before the receiver stops reading the relay.
EVENT_QUEUE = 4096


class Sync:
    """The sender and receiver tasks of one client."""

    def __init__(self, client: ConfideClient) -> None:
        self._client = client
        self.events: asyncio.Queue[Event] = asyncio.Queue(maxsize=EVENT_QUEUE)
        self._wake = asyncio.Event()
        self._idle = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._unsaved = True

    def start(self) -> None:
        if self._tasks:
            return
        self._tasks = [
            asyncio.create_task(self._send_loop(), name="confide-send"),
            asyncio.create_task(self._receive_loop(), name="confide-receive"),
        ]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []

    def outbox_changed(self) -> None:
        self._unsaved = True
        self._idle.clear()
        self._wake.set()

    async def drained(self) -> None:
        while self._client.pending:
            self._idle.clear()
            await self._idle.wait()

    async def _send_loop(self) -> None:
        client, backoff = self._client, Backoff()
        outbox = client._state.outbox
        while True:
            entry = outbox.head()
            if entry is None:
                self._idle.set()
                self._wake.clear()
                await self._wake.wait()
                continue
            if self._unsaved:
                client.save()
                self._unsaved = False
            contact = client._state.contacts.get(entry.contact_id)
            if contact is None or contact.mailbox_id is None or contact.capability is None:
                outbox.accepted(entry.client_msg_id)
                continue
            try:
                await client._transport.send(
                    contact.mailbox_id, contact.capability, entry.client_msg_id, entry.envelope
                )
            except RelayUnavailable:
                await asyncio.sleep(backoff.next_delay())
                continue
            except RelayRejected as exc:
                if exc.status == 401:
                    await self._relogin(backoff)
                    continue
                # A refusal that a retry cannot fix (a revoked capability, a full queue
                # that the caller should see): the envelope is dropped so the rest can go.
                log.warning("the relay refused a queued message (%s)", exc.status)
            backoff.reset()
            outbox.accepted(entry.client_msg_id)

    async def _relogin(self, backoff: Backoff) -> None:
        try:
            await self._client.login()
        except (RelayUnavailable, RelayRejected):
            await asyncio.sleep(backoff.next_delay())

    async def _receive_loop(self) -> None:
        backoff = Backoff()
        while True:
            try:
                await self._receive(backoff)
            except RelayUnavailable:
                await asyncio.sleep(backoff.next_delay())
            except RelayRejected as exc:
                log.warning("live connection refused (%s); logging in again", exc.status)
                await self._relogin(backoff)

    async def _receive(self, backoff: Backoff) -> None:
        client = self._client
        live = await client._transport.live()
        try:
            backoff.reset()
            await client.replenish_prekeys()
            while True:
                batch = await live.next_batch(BATCH)
                events: list[Event] = []
                acks: list[str] = []
                low = False
                for item in batch:
                    if isinstance(item, PrekeysLow):
                        low = True
                    elif isinstance(item, Delivery):
                        events += client._inbound.receive(item.envelope)
                        acks.append(item.delivery_id)
                if acks:
                    client.save()
                for event in events:
                    await self.events.put(event)
                if acks:
                    await live.ack(acks)
                if low:
                    await client.replenish_prekeys()
                if client.pending:
                    self.outbox_changed()
        finally:
            await live.close()
