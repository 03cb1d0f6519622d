"""The group-commit writer: one task per process turns many sends and acks into one transaction.

Every enqueue and acknowledgement on the hot path goes through ``Writer``. Requests wait in
an in-memory queue while the previous transaction commits; the next transaction takes all of
them at once (up to ``max_batch``). What a batch decides is in store/batch.py; how it reaches
the database is the backend's (store/batch_sqlite.py, store/batch_postgres.py), each of which
runs a whole batch in one thread hop or two round trips. A send's future resolves only after
the commit, so "accepted" means durable.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from functools import partial
from typing import Protocol

from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from confide_server.clock import Clock
from confide_server.errors import RelayError, Unavailable
from confide_server.store.batch import (
    AckRequest,
    Conflict,
    Delivery,
    Lookup,
    Plan,
    Request,
    SendRequest,
    SendResult,
    plan_batch,
)

log = logging.getLogger(__name__)


class Backend(Protocol):
    async def apply(
        self, hashes: list[bytes], keys: list[bytes], now: int, plan: Callable[[Lookup], Plan]
    ) -> Plan: ...

    async def close(self) -> None: ...


def backend_for(engine: AsyncEngine) -> Backend:
    """The batch backend for this engine's database."""
    if engine.dialect.name == "sqlite":
        from confide_server.store.batch_sqlite import SQLiteBatches

        database = make_url(str(engine.url)).database
        if not database or database == ":memory:":
            raise ValueError("the relay needs an SQLite file, not an in-memory database")
        return SQLiteBatches(database)
    from confide_server.store.batch_postgres import PostgresBatches

    return PostgresBatches(engine)


class Writer:
    """The single writer task of this process."""

    def __init__(
        self,
        engine: AsyncEngine,
        clock: Clock,
        *,
        max_batch: int,
        max_queue_depth: int,
        on_commit: Callable[[list[Delivery]], None],
        on_batch: Callable[[int], None] = lambda _size: None,
    ) -> None:
        self._engine = engine
        self._clock = clock
        self._max_batch = max_batch
        self._max_depth = max_queue_depth
        self._on_commit = on_commit
        self._on_batch = on_batch
        self._queue: asyncio.Queue[Request | None] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self._closing = False
        self._backend = backend_for(engine)

    def pending(self) -> int:
        """Requests waiting for the next transaction (a gauge for /metrics)."""
        return self._queue.qsize()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="confide-writer")

    async def close(self) -> None:
        """Commit what is already queued, then stop."""
        self._closing = True
        if self._task is not None:
            self._queue.put_nowait(None)
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
        return await self.send_nowait(mailbox_id, capability_hash, dedupe_key, body, expires_at)

    def send_nowait(
        self,
        mailbox_id: bytes,
        capability_hash: bytes,
        dedupe_key: bytes,
        body: bytes,
        expires_at: int,
    ) -> asyncio.Future[SendResult]:
        """Queue a send and return its future, for callers that answer in a callback."""
        future: asyncio.Future[SendResult] = asyncio.get_running_loop().create_future()
        self._submit(SendRequest(mailbox_id, capability_hash, dedupe_key, body, expires_at, future))
        return future

    def ack_nowait(self, mailbox_id: bytes, envelope_ids: Sequence[bytes]) -> asyncio.Future[None]:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._submit(AckRequest(mailbox_id, envelope_ids, future))
        return future

    async def ack(self, mailbox_id: bytes, envelope_ids: Sequence[bytes]) -> None:
        await self.ack_nowait(mailbox_id, envelope_ids)

    def _submit(self, request: Request) -> None:
        if self._closing or self._task is None:
            request.future.set_exception(Unavailable("the relay is shutting down"))
            return
        self._queue.put_nowait(request)

    async def _run(self) -> None:
        while True:
            first = await self._queue.get()
            if first is None:
                return
            batch: list[Request] = [first]
            stop = False
            while len(batch) < self._max_batch and not self._queue.empty():
                item = self._queue.get_nowait()
                if item is None:
                    stop = True
                    break
                batch.append(item)
            try:
                await self._commit(batch)
            except Exception:
                # The writer must outlive any one batch, or every later send would hang.
                log.exception("writer batch could not be completed")
                for request in batch:
                    if not request.future.done():
                        request.future.set_exception(Unavailable("storage is unavailable"))
            if stop:
                return

    async def _commit(self, batch: list[Request]) -> None:
        self._on_batch(len(batch))
        sends = [r for r in batch if isinstance(r, SendRequest)]
        acks = [r for r in batch if isinstance(r, AckRequest)]
        hashes = list({s.capability_hash for s in sends})
        keys = list({s.dedupe_key for s in sends})
        planner = partial(plan_batch, sends, acks, max_depth=self._max_depth)
        plan: Plan | None = None
        for attempt in range(3):
            try:
                plan = await self._backend.apply(hashes, keys, int(self._clock()), planner)
                break
            except Conflict:
                # Another relay process committed the same idempotency key between our check
                # and our insert; the next attempt sees it and answers "duplicate".
                if attempt == 2:
                    log.error("writer batch kept conflicting")
            except Exception:
                log.exception("writer batch failed")
                break
        if plan is None:
            for request in batch:
                if not request.future.done():
                    request.future.set_exception(Unavailable("storage is unavailable"))
            return
        self._answer(plan, acks)

    def _answer(self, plan: Plan, acks: list[AckRequest]) -> None:
        if plan.deliveries:
            try:
                self._on_commit(plan.deliveries)
            except Exception:
                log.exception("fan-out after commit failed; recipients will read the queue")
        for request, outcome in plan.outcomes:
            if request.future.done():
                continue
            if isinstance(outcome, RelayError):
                request.future.set_exception(outcome)
            else:
                request.future.set_result(outcome)
        for ack in acks:
            if not ack.future.done():
                ack.future.set_result(None)
