"""The group-commit writer: one task per process turns many sends and acks into one transaction.

Every enqueue and acknowledgement on the hot path goes through ``Writer``. Requests wait in
an in-memory queue while the previous transaction commits; the next transaction takes all of
them at once (up to ``max_batch``), using a handful of Core statements whatever the batch
size. A send's future resolves only after the commit, so "accepted" means durable.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from sqlalchemy import bindparam, delete, func, insert, or_, select
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.expression import ClauseElement

from confide_server.clock import Clock
from confide_server.errors import CapabilityRejected, QueueFull, RelayError, Unavailable
from confide_server.store.schema import capabilities, envelopes, sent_messages

log = logging.getLogger(__name__)


@dataclass(slots=True, frozen=True)
class Delivery:
    """An envelope just made durable, handed to fan-out for live delivery."""

    mailbox_id: bytes
    envelope_id: bytes
    body: bytes


@dataclass(slots=True, frozen=True)
class SendResult:
    envelope_id: bytes | None
    duplicate: bool


@dataclass(slots=True)
class SendRequest:
    mailbox_id: bytes
    capability_hash: bytes
    dedupe_key: bytes
    body: bytes
    expires_at: int
    future: asyncio.Future[SendResult] = field(repr=False)


@dataclass(slots=True)
class AckRequest:
    mailbox_id: bytes
    envelope_ids: Sequence[bytes]
    future: asyncio.Future[None] = field(repr=False)


Request = SendRequest | AckRequest


class _Bulk:
    """A Core statement compiled once for this engine's driver, run with plain tuples.

    executemany through the compiled-statement path builds a parameter dictionary per row;
    handing the driver the compiled SQL and positional tuples skips that per-row work, which
    is most of the writer's Python time at large batches.
    """

    def __init__(self, statement: ClauseElement, dialect: Dialect, order: tuple[str, ...]) -> None:
        compiled = statement.compile(dialect=dialect)
        assert isinstance(compiled, SQLCompiler)
        # Both drivers take positional parameters, in the order the compiler chose.
        assert tuple(compiled.positiontup or ()) == order, compiled.positiontup
        self.sql = compiled.string

    async def run(self, conn: AsyncConnection, rows: list[tuple[object, ...]]) -> None:
        if rows:
            await conn.exec_driver_sql(self.sql, rows)


@dataclass(slots=True)
class _Plan:
    """What one transaction will do, and what each request will be told afterwards."""

    envelope_rows: list[tuple[object, ...]] = field(default_factory=list)
    dedupe_rows: list[tuple[object, ...]] = field(default_factory=list)
    outcomes: list[tuple[SendRequest, SendResult | RelayError]] = field(default_factory=list)
    deliveries: list[Delivery] = field(default_factory=list)


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
        dialect = engine.dialect
        columns = ("id", "mailbox_id", "body", "expires_at")
        self._insert_envelopes = _Bulk(
            insert(envelopes).inline().values({c: bindparam(c) for c in columns}),
            dialect,
            columns,
        )
        self._insert_sent = _Bulk(
            insert(sent_messages)
            .inline()
            .values(key=bindparam("key"), expires_at=bindparam("expires_at")),
            dialect,
            ("key", "expires_at"),
        )
        self._delete_acked = _Bulk(
            delete(envelopes).where(
                envelopes.c.mailbox_id == bindparam("m"), envelopes.c.id == bindparam("i")
            ),
            dialect,
            ("m", "i"),
        )

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
        plan: _Plan | None = None
        for attempt in range(3):
            try:
                async with self._engine.begin() as conn:
                    plan = await self._apply(conn, sends, acks)
                break
            except IntegrityError:
                # Another relay process committed the same idempotency key between our check
                # and our insert; the next attempt sees it and answers "duplicate".
                if attempt == 2:
                    log.exception("writer batch kept conflicting")
            except Exception:
                log.exception("writer batch failed")
                break
        if plan is None:
            for request in batch:
                if not request.future.done():
                    request.future.set_exception(Unavailable("storage is unavailable"))
            return
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

    async def _apply(
        self, conn: AsyncConnection, sends: list[SendRequest], acks: list[AckRequest]
    ) -> _Plan:
        plan = _Plan()
        if sends:
            await self._plan_sends(conn, sends, plan)
            await self._insert_sent.run(conn, plan.dedupe_rows)
            await self._insert_envelopes.run(conn, plan.envelope_rows)
        await self._delete_acked.run(
            conn,
            [(ack.mailbox_id, envelope_id) for ack in acks for envelope_id in ack.envelope_ids],
        )
        return plan

    async def _plan_sends(
        self, conn: AsyncConnection, sends: list[SendRequest], plan: _Plan
    ) -> None:
        now = int(self._clock())
        # One statement finds the live capabilities and the depth of each one's queue.
        queue_depth = (
            select(func.count())
            .where(envelopes.c.mailbox_id == capabilities.c.mailbox_id)
            .scalar_subquery()
        )
        live_capability = select(
            capabilities.c.secret_hash, capabilities.c.mailbox_id, queue_depth
        ).where(
            capabilities.c.secret_hash.in_({s.capability_hash for s in sends}),
            capabilities.c.revoked.is_(False),
            or_(capabilities.c.expires_at.is_(None), capabilities.c.expires_at > now),
        )
        valid: dict[bytes, bytes] = {}
        depth: dict[bytes, int] = {}
        for secret_hash, mailbox_id, queued in await conn.execute(live_capability):
            valid[secret_hash] = mailbox_id
            depth[mailbox_id] = queued
        already = select(sent_messages.c.key).where(
            sent_messages.c.key.in_({s.dedupe_key for s in sends})
        )
        seen: set[bytes] = set((await conn.scalars(already)).all())
        for send in sends:
            plan.outcomes.append((send, self._decide(send, valid, seen, depth, plan)))

    def _decide(
        self,
        send: SendRequest,
        valid: dict[bytes, bytes],
        seen: set[bytes],
        depth: dict[bytes, int],
        plan: _Plan,
    ) -> SendResult | RelayError:
        # An unknown mailbox and a wrong capability get the same answer, so a sender cannot
        # probe which mailbox ids exist.
        if valid.get(send.capability_hash) != send.mailbox_id:
            return CapabilityRejected("the capability does not allow sending to this mailbox")
        if send.dedupe_key in seen:
            return SendResult(envelope_id=None, duplicate=True)
        if depth.get(send.mailbox_id, 0) >= self._max_depth:
            return QueueFull("the recipient's queue is full; try again later")
        envelope_id = os.urandom(16)
        seen.add(send.dedupe_key)
        depth[send.mailbox_id] = depth.get(send.mailbox_id, 0) + 1
        plan.dedupe_rows.append((send.dedupe_key, send.expires_at))
        plan.envelope_rows.append((envelope_id, send.mailbox_id, send.body, send.expires_at))
        plan.deliveries.append(Delivery(send.mailbox_id, envelope_id, send.body))
        return SendResult(envelope_id=envelope_id, duplicate=False)
