"""What one group commit decides (store/batch.py), without a database."""

from __future__ import annotations

from confide_server.errors import CapabilityRejected, QueueFull
from confide_server.store.batch import AckRequest, Lookup, SendRequest, SendResult, plan_batch

MAILBOX, OTHER, CAP = b"m" * 16, b"o" * 16, b"c" * 32


def send(key: bytes, mailbox: bytes = MAILBOX) -> SendRequest:
    return SendRequest(mailbox, CAP, key, b"sealed " + key, 60, lambda _outcome: None)


def test_one_envelope_per_key_within_a_batch_and_after() -> None:
    sends = [send(b"k1"), send(b"k1"), send(b"k0"), send(b"k2")]
    lookup = Lookup(valid={CAP: MAILBOX}, depth={MAILBOX: 0}, seen={b"k0"})
    plan = plan_batch(sends, [], lookup, max_depth=10, deadline=60)
    outcomes = [outcome for _send, outcome in plan.outcomes]
    assert [o.duplicate for o in outcomes if isinstance(o, SendResult)] == [
        False,
        True,
        True,
        False,
    ]
    assert [row[0] for row in plan.key_rows] == [b"k1", b"k2"]
    # Envelopes keep the order of arrival, which is the order of delivery.
    assert [row[2] for row in plan.envelope_rows] == [b"sealed k1", b"sealed k2"]
    assert [d.envelope_id for d in plan.deliveries] == [row[0] for row in plan.envelope_rows]


def test_wrong_mailbox_and_full_queue_are_refused() -> None:
    sends = [send(b"a", OTHER), send(b"b"), send(b"c")]
    lookup = Lookup(valid={CAP: MAILBOX}, depth={MAILBOX: 1})
    plan = plan_batch(sends, [], lookup, max_depth=2, deadline=60)
    outcomes = [outcome for _send, outcome in plan.outcomes]
    assert isinstance(outcomes[0], CapabilityRejected)
    assert isinstance(outcomes[1], SendResult)
    assert isinstance(outcomes[2], QueueFull)
    assert len(plan.envelope_rows) == 1


def test_acks_delete_only_in_the_ackers_mailbox() -> None:
    ack = AckRequest(MAILBOX, (b"e1", b"e2"), lambda _failure: None)
    plan = plan_batch([], [ack], Lookup(), max_depth=1, deadline=60)
    assert plan.delete_rows == [(MAILBOX, b"e1"), (MAILBOX, b"e2")]


def test_every_envelope_gets_its_own_random_id() -> None:
    sends = [send(bytes([n])) for n in range(40)]
    plan = plan_batch(sends, [], Lookup(valid={CAP: MAILBOX}), max_depth=100, deadline=60)
    ids = [row[0] for row in plan.envelope_rows]
    assert len(ids) == 40 and all(len(i) == 16 for i in ids)
    assert len(set(ids)) == 40
