"""The SDK's pure parts: backoff, the consent gate, the outbox and the receive window."""

from __future__ import annotations

import random

import pytest
from confide_client.backoff import Backoff
from confide_client.consent import ConsentFacts, ConsentGate, ConsentState, PolicyRef
from confide_client.errors import ConsentRequired, ConsentRevoked
from confide_client.ordering import ReceiveWindow
from confide_client.outbox import Outbox, OutboxEntry

V1 = PolicyRef(1, "a" * 64)
V2 = PolicyRef(2, "b" * 64)


def test_backoff_grows_to_its_cap_and_resets() -> None:
    backoff = Backoff(base=1.0, factor=2.0, cap=8.0, rng=random.Random(7))
    ceilings = []
    for _ in range(6):
        ceilings.append(backoff.ceiling())
        assert 0 <= backoff.next_delay() <= ceilings[-1]
    assert ceilings == [1.0, 2.0, 4.0, 8.0, 8.0, 8.0]
    backoff.reset()
    assert backoff.ceiling() == 1.0


def test_backoff_jitter_spreads_delays() -> None:
    delays = {
        Backoff(base=1.0, cap=1.0, rng=random.Random(seed)).next_delay() for seed in range(20)
    }
    assert len(delays) == 20


def test_backoff_refuses_nonsense() -> None:
    with pytest.raises(ValueError):
        Backoff(base=0)


def test_consent_gate_walks_its_states() -> None:
    gate = ConsentGate().with_policy(V1)
    assert gate.state(100) is ConsentState.AWAITING
    with pytest.raises(ConsentRequired):
        gate.check_send(100)
    gate = gate.with_receipt(ConsentFacts(V1, issued_at=100, expires_at=1000))
    gate.check_send(500)
    assert gate.state(1000) is ConsentState.EXPIRED
    assert gate.with_policy(V2).state(500) is ConsentState.OUTDATED
    revoked = gate.with_revocation(600)
    with pytest.raises(ConsentRevoked):
        revoked.check_send(700)
    with pytest.raises(ConsentRevoked):
        revoked.with_receipt(ConsentFacts(V1, issued_at=800, expires_at=None))


def test_consent_gate_keeps_the_newest_receipt_and_round_trips() -> None:
    gate = ConsentGate(policy=V2).with_receipt(ConsentFacts(V2, 200, None))
    assert gate.with_receipt(ConsentFacts(V1, 100, None)) == gate
    assert ConsentGate.from_json(gate.to_json()) == gate
    assert ConsentGate.from_json(ConsentGate().to_json()) == ConsentGate()


def test_outbox_is_fifo_and_forgets_accepted_and_revoked() -> None:
    box = Outbox()
    for i in range(4):
        box.put(OutboxEntry(f"m{i}", "alice" if i % 2 else "bob", bytes([i])))
    assert box.head() == OutboxEntry("m0", "bob", b"\x00")
    box.accepted("m0")
    box.accepted("m2")
    assert [e.client_msg_id for e in box] == ["m1", "m3"]
    assert box.drop_contact("alice") == 2
    assert box.head() is None
    box.put(OutboxEntry("m9", "bob", b"x"))
    assert [e.client_msg_id for e in Outbox.from_json(box.to_json())] == ["m9"]


def test_receive_window_delivers_once_and_in_order() -> None:
    window = ReceiveWindow()
    assert window.offer(2, {"n": 2}) == []
    assert window.offer(1, {"n": 1}) == [{"n": 1}, {"n": 2}]
    assert window.offer(1, {"n": 1}) == []
    assert window.offer(4, {"n": 4}) == []
    restored = ReceiveWindow.from_json(window.to_json())
    assert restored.offer(4, {"n": 4}) == []
    assert restored.offer(3, {"n": 3}) == [{"n": 3}, {"n": 4}]
