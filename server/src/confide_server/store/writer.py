"""The group-commit writer: one per process turns many sends and acks into one transaction.

Every enqueue and acknowledgement on the hot path goes through ``Writer``. Requests wait in
an in-memory list while the previous transaction commits; the next transaction takes all of
them at once (up to ``max_batch``). What a batch decides is in store/batch.py; how it reaches
the database is the backend's (store/batch_sqlite.py, store/batch_postgres.py). A request's
reply is called on the event loop only once its commit is durable, so "accepted" means
durable; the next batch is written after that.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from functools import partial
from typing import Any, Protocol

from sqlalchemy.engine import make_url

from confide_server.clock import Clock
from confide_server.errors import RelayError, Unavailable
from confide_server.store.batch import (
    AckReply,
    AckRequest,
    Delivery,
    Lookup,
    Plan,
    Request,
    RetryBatch,
    SendReply,
    SendRequest,
    SendResult,
    plan_batch,
)
from confide_server.store.idempotency import retry_deadline
from confide_server.store.space import is_disk_full
from confide_server.store.sqla_async import AsyncEngine

log = logging.getLogger(__name__)


Planner = Callable[[Lookup], Plan]


class Backend(Protocol):
    def open(self) -> None:
        """Before the first batch: take what the backend must hold (SQLite's file lock)."""

    async def apply(self, hashes: list[bytes], keys: list[bytes], now: int, plan: Planner) -> Plan:
        """Run and commit one batch; may raise RetryBatch, after which the batch is tried again.

        The commit may not be durable yet when this returns: see ``when_durable``."""

    def room_for(self, incoming: int) -> bool:
        """Whether a batch's sends of ``incoming`` bytes may be written now (store/space.py);
        acknowledgements are always tried."""

    def writable(self) -> bool:
        """False while the database's disk is too full for sends (/readyz, /metrics)."""

    def when_durable(self, callback: Callable[[BaseException | None], None]) -> None:
        """Call ``callback`` on the event loop once every batch committed so far is durable
        (with None), or could not be made durable (with the error); callbacks come in the
        order they were asked for."""

    async def close(self) -> None: ...


def backend_for(engine: AsyncEngine, retry_window: int, disk_reserve: int = 0) -> Backend:
    """The batch backend for this engine's database (``retry_window``: store/idempotency.py,
    ``disk_reserve``: store/space.py)."""
    if engine.dialect.name == "sqlite":
        from confide_server.store.batch_sqlite import SQLiteBatches

        database = make_url(str(engine.url)).database
        if not database or database == ":memory:":
            raise ValueError("the relay needs an SQLite file, not an in-memory database")
        return SQLiteBatches(database, retry_window, disk_reserve=disk_reserve)
    from confide_server.store.batch_postgres import PostgresBatches

    return PostgresBatches(engine)


class Writer:
    """The single writer of this process."""

    def __init__(
        self,
        engine: AsyncEngine,
        clock: Clock,
        *,
        max_batch: int,
        max_queue_depth: int,
        on_commit: Callable[[list[Delivery]], None],
        on_batch: Callable[[int], None] = lambda _size: None,
        idempotency_window: int = 3600,
        disk_reserve: int = 0,
    ) -> None:
        self._clock = clock
        self._retry_window = idempotency_window
        self._max_batch = max_batch
        self._max_depth = max_queue_depth
        self._on_commit = on_commit
        self._on_batch = on_batch
        self._backend = backend_for(engine, idempotency_window, disk_reserve)
        # A plain list and one wake-up future, not an asyncio.Queue: a queue costs a method
        # call and a waiter check per request on both ends, where a batch needs one of each.
        self._pending: list[Request] = []
        # A batch committed but not yet answered because it is not yet durable (SQLite syncs
        # its WAL on a thread after a COMMIT made on the loop; see batch_sqlite.py).
        self._unsettled = False
        self._wakeup: asyncio.Future[None] | None = None
        self._task: asyncio.Task[None] | None = None
        self._closing = False

    def writable(self) -> bool:
        """Whether the database's disk has room for sends (store/space.py)."""
        return self._backend.writable()

    def pending(self) -> int:
        """Requests waiting for the next transaction (a gauge for /metrics)."""
        return len(self._pending)

    def start(self) -> None:
        """Start committing; raises DatabaseInUse if another process serves the SQLite file."""
        self._backend.open()
        self._task = asyncio.create_task(self._run(), name="confide-writer")

    async def close(self) -> None:
        """Commit what is already queued, then stop."""
        self._closing = True
        if self._task is not None:
            self._wake()
            await self._task
            self._task = None
        await self._backend.close()

    async def send(
        self,
        mailbox_id: bytes,
        capability_hash: bytes,
        dedupe_key: bytes,
        body: bytes,
        expires_at: int,
    ) -> SendResult:
        """Queue a send and wait for its commit; raises the RelayError it was refused with."""
        future: asyncio.Future[SendResult | RelayError] = asyncio.get_running_loop().create_future()
        self.submit_send(mailbox_id, capability_hash, dedupe_key, body, expires_at, _settle(future))
        outcome = await future
        if isinstance(outcome, RelayError):
            raise outcome
        return outcome

    async def ack(self, mailbox_id: bytes, envelope_ids: Sequence[bytes]) -> None:
        future: asyncio.Future[RelayError | None] = asyncio.get_running_loop().create_future()
        self.submit_ack(mailbox_id, envelope_ids, _settle(future))
        failure = await future
        if failure is not None:
            raise failure

    def submit_send(
        self,
        mailbox_id: bytes,
        capability_hash: bytes,
        dedupe_key: bytes,
        body: bytes,
        expires_at: int,
        reply: SendReply,
    ) -> None:
        """Queue a send; ``reply`` is called once, on the event loop, after the commit."""
        self._submit(SendRequest(mailbox_id, capability_hash, dedupe_key, body, expires_at, reply))

    def submit_ack(self, mailbox_id: bytes, envelope_ids: Sequence[bytes], reply: AckReply) -> None:
        """Queue deletions; ``reply`` gets None once they are durable, or the failure."""
        self._submit(AckRequest(mailbox_id, envelope_ids, reply))

    def _submit(self, request: Request) -> None:
        if self._closing or self._task is None:
            _refuse(request, Unavailable("the relay is shutting down"))
            return
        self._pending.append(request)
        self._wake()

    def _wake(self) -> None:
        wakeup = self._wakeup
        if wakeup is not None and not wakeup.done():
            wakeup.set_result(None)

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            # The next batch is written once the last one is durable and answered. Writing it
            # while the last one's sync ran made many small batches, each waiting for the
            # sync before its own, and longer latency (docs/benchmarks.md, lab notebook).
            if not self._pending or self._unsettled:
                if self._closing and not self._pending and not self._unsettled:
                    return
                self._wakeup = loop.create_future()
                await self._wakeup
                self._wakeup = None
                continue
            batch = self._pending[: self._max_batch]
            del self._pending[: self._max_batch]
            batch = self._without_sends_over_the_reserve(batch)
            if not batch:
                continue
            plan = await self._commit(batch)
            # A refused batch is answered through the same channel, in its turn.
            self._unsettled = True
            self._backend.when_durable(partial(self._settled, plan, batch))

    def _without_sends_over_the_reserve(self, batch: list[Request]) -> list[Request]:
        """Refuse the batch's sends if the disk has no room for them; acks go on, so
        recipients can drain their queues and free the room (store/space.py)."""
        incoming = sum(len(r.body) for r in batch if isinstance(r, SendRequest))
        if not incoming or self._backend.room_for(incoming):
            return batch
        full = Unavailable("the relay's disk is full; try again later")
        for request in batch:
            if isinstance(request, SendRequest):
                _refuse(request, full)
        return [r for r in batch if not isinstance(r, SendRequest)]

    def _settled(
        self, plan: Plan | None, batch: list[Request], failure: BaseException | None
    ) -> None:
        self._unsettled = False
        self._wake()
        if failure is not None:
            log.error("a committed batch could not be made durable", exc_info=failure)
            plan = None
        self._finish(plan, batch)

    async def _commit(self, batch: list[Request]) -> Plan | None:
        now = int(self._clock())
        hashes, keys, planner = self._prepare(batch, now)
        for attempt in range(3):
            try:
                return await self._backend.apply(hashes, keys, now, planner)
            except Exception as exc:
                if not _try_again(exc, attempt):
                    break
        return None

    def _prepare(self, batch: list[Request], now: int) -> tuple[list[bytes], list[bytes], Planner]:
        sends = [r for r in batch if isinstance(r, SendRequest)]
        acks = [r for r in batch if isinstance(r, AckRequest)]
        hashes = list({s.capability_hash for s in sends})
        keys = list({s.dedupe_key for s in sends})
        deadline = retry_deadline(now, self._retry_window)
        return (
            hashes,
            keys,
            partial(plan_batch, sends, acks, max_depth=self._max_depth, deadline=deadline),
        )

    def _finish(self, plan: Plan | None, batch: list[Request]) -> None:
        """Answer a batch's requests; on the event loop."""
        self._on_batch(len(batch))
        if plan is None:
            failure = Unavailable("storage is unavailable")
            for request in batch:
                _refuse(request, failure)
            return
        if plan.deliveries:
            try:
                self._on_commit(plan.deliveries)
            except Exception:
                log.exception("fan-out after commit failed; recipients will read the queue")
        for send, outcome in plan.outcomes:
            _call(send.reply, outcome)
        for request in batch:
            if isinstance(request, AckRequest):
                _call(request.reply, None)


def _try_again(exc: Exception, attempt: int) -> bool:
    """After a failed attempt at a batch (of three): whether to try again."""
    if isinstance(exc, RetryBatch):
        # A row the batch checked for was there after all; the next attempt sees it.
        if attempt < 2:
            return True
        log.error("writer batch kept conflicting")
        return False
    if is_disk_full(exc):
        # Said once, with what to do, when it happens (store/space.py); not per batch.
        log.debug("writer batch failed: the disk is full")
        return False
    log.error("writer batch failed", exc_info=exc)
    return False


def _settle(future: asyncio.Future[Any]) -> Callable[[Any], None]:
    """A reply that resolves ``future``, unless its waiter has gone (a cancelled request)."""

    def reply(outcome: object) -> None:
        if not future.done():
            future.set_result(outcome)

    return reply


def _refuse(request: Request, failure: RelayError) -> None:
    _call(request.reply, failure)


def _call(reply: Callable[[Any], None], outcome: object) -> None:
    # One answer that fails (a connection torn down mid-way) must not stop the others.
    try:
        reply(outcome)
    except Exception:
        log.exception("answering a request after commit failed")
