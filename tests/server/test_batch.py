"""What one group commit decides (store/batch.py), without a database."""

from __future__ import annotations

import asyncio

from confide_server.errors import CapabilityRejected, QueueFull
from confide_server.store.batch import AckRequest, Lookup, SendRequest, SendResult, plan_batch

MAILBOX, OTHER, CAP = b"m" * 16, b"o" * 16, b"c" * 32


async def send(key: bytes, mailbox: bytes = MAILBOX) -> SendRequest:
    future: asyncio.Future[SendResult] = asyncio.get_running_loop().create_future()
    return SendRequest(mailbox, CAP, key, b"sealed " + key, 60, future)


async def test_one_envelope_per_key_within_a_batch_and_after() -> None:
    sends = [await send(b"k1"), await send(b"k1"), await send(b"k0"), await send(b"k2")]
    lookup = Lookup(valid={CAP: MAILBOX}, depth={MAILBOX: 0}, seen={b"k0"})
    plan = plan_batch(sends, [], lookup, max_depth=10)
    outcomes = [outcome for _send, outcome in plan.outcomes]
    assert [o.duplicate for o in outcomes if isinstance(o, SendResult)] == [
        False,
        True,
        True,
        False,
    ]
    assert [row[0] for row in plan.dedupe_rows] == [b"k1", b"k2"]
    # Envelopes keep the order of arrival, which is the order of delivery.
    assert [row[2] for row in plan.envelope_rows] == [b"sealed k1", b"sealed k2"]
    assert [d.envelope_id for d in plan.deliveries] == [row[0] for row in plan.envelope_rows]


async def test_wrong_mailbox_and_full_queue_are_refused() -> None:
    sends = [await send(b"a", OTHER), await send(b"b"), await send(b"c")]
    lookup = Lookup(valid={CAP: MAILBOX}, depth={MAILBOX: 1})
    plan = plan_batch(sends, [], lookup, max_depth=2)
    outcomes = [outcome for _send, outcome in plan.outcomes]
    assert isinstance(outcomes[0], CapabilityRejected)
    assert isinstance(outcomes[1], SendResult)
    assert isinstance(outcomes[2], QueueFull)
    assert len(plan.envelope_rows) == 1


async def test_acks_delete_only_in_the_ackers_mailbox() -> None:
    future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    plan = plan_batch([], [AckRequest(MAILBOX, (b"e1", b"e2"), future)], Lookup(), max_depth=1)
    assert plan.delete_rows == [(MAILBOX, b"e1"), (MAILBOX, b"e2")]
