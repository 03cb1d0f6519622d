"""Background delivery: the outbox goes out, live envelopes come in, both survive outages.

Two tasks run while a :class:`~confide_client.client.ConfideClient` is started. The sender
sends a window of envelopes from the outbox head concurrently (so the relay can commit them
together) and removes each only when the relay has answered "accepted"; a retry reuses the
client message id, so the relay never queues it twice. Envelopes may therefore reach the
relay out of order; the receiver's window puts them back in order by sequence number. The
receiver holds a live connection, gathers a batch (lingering briefly so one save covers
many envelopes), decrypts it, keeps the resulting events in the state's inbox for the
application, saves the state once (so the events survive a restart) and only then
acknowledges the batch. Either task meets a network failure by waiting a backoff
delay (exponential, with jitter) and trying again.

Before any envelope leaves, the state that produced it is saved: a restarted device must
never re-use a ratchet step it has already spent on a message the relay holds.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from confide_client.backoff import Backoff
from confide_client.errors import RelayRejected, RelayUnavailable
from confide_client.groups.fanout import DESTINATION_PREFIX, resolve
from confide_client.messages import Event
from confide_client.outbox import OutboxEntry
from confide_client.transport.base import (
    Delivery,
    LiveConnection,
    LiveItem,
    PolicyPublished,
    PrekeysLow,
)

if TYPE_CHECKING:
    from confide_client.client import ConfideClient

__all__ = ["Sync"]

log = logging.getLogger("confide_client")

#: Envelopes decrypted per batch, between saves of the state.
BATCH = 256
#: How long the receiver waits for more envelopes before saving and acknowledging a batch.
LINGER_SECONDS = 0.02
#: Envelopes sent concurrently.
SEND_WINDOW = 64
#: Events the application has not taken yet before the receiver stops reading the relay.
INBOX_LIMIT = 4096


class Sync:
    """The sender and receiver tasks of one client."""

    def __init__(self, client: ConfideClient, max_backoff: float) -> None:
        self._client = client
        self._max_backoff = max_backoff
        #: The last unexpected error a background task recovered from, for diagnostics.
        self.last_error: Exception | None = None
        self._inbox_changed = asyncio.Condition()
        self._wake = asyncio.Event()
        self._idle = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._unsaved = True

    def start(self) -> None:
        if self._tasks:
            return
        self._tasks = [
            asyncio.create_task(self._supervised(self._send_loop), name="confide-send"),
            asyncio.create_task(self._supervised(self._receive_loop), name="confide-receive"),
        ]

    async def _supervised(self, loop: Callable[[], Awaitable[None]]) -> None:
        """Run a loop forever: an unexpected error is logged and the loop starts again.

        A background task that died silently would stop delivery without anyone noticing,
        so nothing but cancellation ends these tasks. Expected failures (the relay being
        away) are handled inside the loops; this catches the rest, such as a full disk.
        """
        backoff = self._backoff()
        while True:
            try:
                await loop()
            except Exception as exc:
                self.last_error = exc
                log.error("background %s failed; restarting it", loop.__name__, exc_info=True)
                await asyncio.sleep(backoff.next_delay())

    async def stop(self) -> None:
        tasks, self._tasks = self._tasks, []
        for task in tasks:
            task.cancel()
        if tasks:
            # Waited for, not awaited: a cancellation of the caller is not theirs to swallow.
            await asyncio.wait(tasks)

    async def add(self, events: list[Event]) -> None:
        """Events that arise outside an envelope (a new policy version) join the inbox."""
        if events:
            self._client._state.inbox.extend(events)
            async with self._inbox_changed:
                self._inbox_changed.notify_all()

    async def next_event(self) -> Event:
        inbox = self._client._state.inbox
        async with self._inbox_changed:
            await self._inbox_changed.wait_for(lambda: bool(inbox))
            event = inbox.popleft()
            self._inbox_changed.notify_all()
        # Taking an event is saved with the next save; after a crash before then, the
        # application sees the event again (at least once), never not at all.
        self._unsaved = True
        return event

    def _inbox_has_room(self) -> bool:
        return len(self._client._state.inbox) < INBOX_LIMIT

    def outbox_changed(self) -> None:
        self._unsaved = True
        self._idle.clear()
        self._wake.set()

    async def drained(self) -> None:
        while self._client.pending:
            self._idle.clear()
            await self._idle.wait()

    async def _send_loop(self) -> None:
        client, backoff = self._client, self._backoff()
        outbox = client._state.outbox
        while True:
            window = outbox.first(SEND_WINDOW)
            if not window:
                self._idle.set()
                self._wake.clear()
                await self._wake.wait()
                continue
            if self._unsaved:
                client.save()
                self._unsaved = False
            outcomes = await asyncio.gather(*(self._send_one(e) for e in window))
            for entry, outcome in zip(window, outcomes, strict=True):
                if outcome in ("accepted", "dropped"):
                    outbox.accepted(entry.client_msg_id)
            if "relogin" in outcomes:
                await self._relogin(backoff)
            elif "retry" in outcomes:
                await asyncio.sleep(backoff.next_delay())
            else:
                backoff.reset()

    async def _send_one(self, entry: OutboxEntry) -> str:
        client = self._client
        target = self._destination(entry.contact_id)
        if target is None:
            return "dropped"
        try:
            await client._transport.send(target[0], target[1], entry.client_msg_id, entry.envelope)
        except RelayUnavailable:
            return "retry"
        except RelayRejected as exc:
            if exc.status == 401:
                return "relogin"
            # A refusal that a retry cannot fix (a revoked capability): the envelope is
            # dropped so that the rest of the outbox can go.
            log.warning("the relay refused a queued message (%s)", exc.status)
            return "dropped"
        return "accepted"

    def _destination(self, name: str) -> tuple[bytes, bytes] | None:
        """The mailbox and capability an outbox entry goes to, looked up as it is sent."""
        state = self._client._state
        if name.startswith(DESTINATION_PREFIX):
            return resolve(state, name)
        contact = state.contacts.get(name)
        if contact is None or contact.mailbox_id is None or contact.capability is None:
            return None
        return contact.mailbox_id, contact.capability

    async def _relogin(self, backoff: Backoff) -> None:
        try:
            await self._client.login()
        except (RelayUnavailable, RelayRejected):
            await asyncio.sleep(backoff.next_delay())

    def _backoff(self) -> Backoff:
        return Backoff(base=min(0.2, self._max_backoff), cap=self._max_backoff)

    async def _receive_loop(self) -> None:
        backoff = self._backoff()
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
            await client.rotate_signed_prekey()
            while True:
                batch = await self._gather(live)
                acks = await self.take(batch)
                if acks:
                    await live.ack(acks)
                if any(isinstance(item, PrekeysLow) for item in batch):
                    await client.replenish_prekeys()
                if any(isinstance(item, PolicyPublished) for item in batch):
                    # A new version needs fresh consent: the gate follows at once, and the
                    # application hears of each conversation that now waits for it.
                    await client.refresh_policy()
        finally:
            await live.close()

    async def add_events(self, events: list[Event]) -> None:
        """Put events made outside delivery (a confirmed key change) in the inbox."""
        self._client._state.inbox.extend(events)
        async with self._inbox_changed:
            self._inbox_changed.notify_all()

    async def take(self, batch: list[LiveItem]) -> list[str]:
        """Decrypt a batch into the inbox and save; returns the delivery ids to acknowledge."""
        client = self._client
        inbox = client._state.inbox
        async with self._inbox_changed:
            await self._inbox_changed.wait_for(self._inbox_has_room)
        acks: list[str] = []
        for item in batch:
            if isinstance(item, Delivery):
                inbox.extend(client._inbound.receive(item.envelope))
                acks.append(item.delivery_id)
        if acks:
            client.save()
            # Group changes may need the relay (a new capability after a removal); if it
            # fails now, the group keeps the mark and the next batch tries again.
            try:
                await client.groups.settle()
            except (RelayUnavailable, RelayRejected) as exc:
                log.warning("a group change could not reach the relay yet (%s)", exc)
        async with self._inbox_changed:
            self._inbox_changed.notify_all()
        return acks

    @staticmethod
    async def _gather(live: LiveConnection) -> list[LiveItem]:
        batch = await live.next_batch(BATCH)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + LINGER_SECONDS
        while len(batch) < BATCH and (remaining := deadline - loop.time()) > 0:
            try:
                # asyncio.timeout, not wait_for: on Python 3.11 wait_for drops a cancellation
                # that arrives with the result, and a stopped client would keep receiving.
                async with asyncio.timeout(remaining):
                    batch += await live.next_batch(BATCH - len(batch))
            except TimeoutError:
                break
            except RelayUnavailable:
                # Keep what arrived; the failure shows again on the next call.
                break
        return batch
