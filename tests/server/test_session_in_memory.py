"""Alice ↔ relay ↔ Bob in memory: the real session and store, no socket (STYLE.md, 3).

The first tests drive ws/session.py alone, as a state machine: frames in, actions and frames
out. The rest run the real connection (ws/connection.py) over memory_ws.py against the real
store on a temporary SQLite file, with devices registered over the real HTTP API in memory.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import httpx
import pytest
from confide_server.app import create_app
from confide_server.errors import QueueFull
from confide_server.metrics import Metrics
from confide_server.relay import Relay
from confide_server.services.auth import Principal
from confide_server.store.batch import SendResult
from confide_server.ws import frames, session
from confide_server.ws.session import Limits, Session

from .conftest import SettingsFactory
from .helpers import Device, b64d, b64e, capability, enrol, join
from .memory_ws import MemoryWebSocket

LIMITS = Limits(
    max_frame_bytes=1 << 16,
    max_envelope_bytes=1 << 14,
    delivery_window=2,
    delivery_window_bytes=1 << 20,
)
MAILBOX = b"m" * 16


def principal() -> Principal:
    return Principal(b"d" * 16, "worker", MAILBOX, b"k" * 32, b"w" * 16, "worker", b"h" * 32)


def text(frame: dict[str, object]) -> str:
    return json.dumps(frame)


def written(s: Session) -> list[dict[str, object]]:
    return [json.loads(t) for t in s.take_out()]


# The session alone.


def test_ping_is_answered_by_the_session_itself() -> None:
    s = Session(LIMITS, Metrics())
    assert s.receive(text({"type": "ping", "ref": 7})) is None
    assert written(s) == [{"type": "pong", "ref": 7}]


def test_auth_is_an_action_and_its_outcome_starts_delivery() -> None:
    s = Session(LIMITS, Metrics())
    action = s.receive(text({"type": "auth", "token": b64e(b"t" * 32)}))
    assert action == frames.AuthFrame(b"t" * 32)
    assert not s.wants_queue  # nothing to read before the device is known
    s.authenticated(principal())
    assert written(s)[0]["type"] == "ready"
    assert s.wants_queue and s.read_plan() is not None
    s.receive(text({"type": "auth", "token": b64e(b"t" * 32)}))
    assert written(s)[0]["error"] == "invalid-input"  # already authenticated


def test_ack_before_auth_is_refused_and_not_submitted() -> None:
    s = Session(LIMITS, Metrics())
    assert s.receive(text({"type": "ack", "ids": [b64e(b"i" * 16)]})) is None
    assert written(s)[0]["error"] == "unauthenticated"


def test_a_send_is_submitted_and_its_answer_written() -> None:
    s = Session(LIMITS, Metrics())
    frame = {
        "type": "send",
        "ref": "r",
        "mailbox_id": b64e(MAILBOX),
        "capability": b64e(b"c" * 32),
        "client_message_id": "x",
        "body": b64e(b"hello"),
    }
    action = s.receive(text(frame))
    assert isinstance(action, frames.SendFrame) and action.body == b"hello"
    assert s.unanswered == 1
    s.send_answered("r", SendResult(b"e" * 16, False))
    assert written(s) == [
        {"type": "accepted", "ref": "r", "id": b64e(b"e" * 16), "duplicate": False}
    ]
    assert s.unanswered == 0
    s.receive(text(frame | {"ref": "q"}))
    s.send_answered("q", QueueFull("full"))
    assert written(s)[0] | {"detail": ""} == {
        "type": "error",
        "ref": "q",
        "error": "queue-full",
        "detail": "",
    }


def test_too_many_unanswered_sends_pause_reading(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(session, "MAX_UNANSWERED_SENDS", 2)
    s = Session(LIMITS, Metrics())
    frame = frames.SendFrame(1, MAILBOX, b"c" * 32, "x", b"b", None)
    s.act(frame)
    assert not s.paused
    s.act(frame)
    assert s.paused
    s.send_answered(1, SendResult(b"e" * 16, False))
    assert not s.paused


def test_bad_frames_are_answered_then_end_the_session() -> None:
    s = Session(LIMITS, Metrics())
    for _ in range(session.MAX_BAD_FRAMES):
        s.receive("{not json")
    assert not s.ended and len(s.take_out()) == session.MAX_BAD_FRAMES
    s.receive("{not json")
    assert s.ended and s.close_code == 4400


def test_the_window_bounds_live_envelopes_and_the_queue_fills_it() -> None:
    s = Session(LIMITS, Metrics())
    s.authenticated(principal())
    s.take_out()
    plan = s.read_plan()
    assert plan is not None
    s.rows_read(plan, [(1, b"a" * 16, b"A"), (2, b"b" * 16, b"B"), (3, b"c" * 16, b"C")])
    assert [f["id"] for f in written(s)] == [b64e(b"a" * 16), b64e(b"b" * 16)]
    assert not s.offer(b"d" * 16, b"D")  # the window (2) is full
    s.receive(text({"type": "ack", "ids": [b64e(b"a" * 16)]}))
    assert s.wants_queue


def test_a_cut_off_notice_ends_the_session_with_4408() -> None:
    s = Session(LIMITS, Metrics())
    s.authenticated(principal())
    s.take_out()
    from confide_server.cutoff import NOTICE_KIND

    s.notice({"kind": NOTICE_KIND})
    assert s.ended and s.close_code == 4408
    assert written(s)[0]["error"] == "revoked"


def test_nothing_is_queued_once_the_session_ended() -> None:
    # Found by tests/server/test_session_fuzz.py: fan-out and a queue read in flight still
    # reach a session that ended (the connection stays registered until it is cleaned up),
    # and ws/connection.py's close writes whatever is queued, so a device cut off with 4408
    # was sent envelopes after its "revoked" error.
    from confide_server.cutoff import NOTICE_KIND

    s = Session(LIMITS, Metrics())
    s.authenticated(principal())
    plan = s.read_plan()
    assert plan is not None
    s.take_out()
    s.notice({"kind": NOTICE_KIND})
    assert [f["error"] for f in written(s)] == ["revoked"]
    assert not s.offer(b"a" * 16, b"A")
    s.notice({"kind": "prekeys-low", "remaining": 1})
    s.rows_read(plan, [(1, b"b" * 16, b"B")])
    assert s.take_out() == []
    assert not s.wants_queue


# Alice ↔ relay ↔ Bob: the real connection and store, in memory.


@pytest.fixture
async def alice_bob(
    sqlite_url: str, make_settings: SettingsFactory
) -> AsyncIterator[tuple[Relay, Device, Device, str, str]]:
    """A worker (Alice), a client who joined by her invite (Bob), and a capability each way."""
    app = create_app(make_settings(sqlite_url))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://relay") as http:
            relay: Relay = app.state.relay
            alice = await enrol(http, relay)
            bob, joined = await join(http, alice)
            to_bob = await capability(http, bob)
            yield relay, alice, bob, joined["worker_capability"], to_bob


def send_frame(to: Device, cap: str, cmid: str, body: bytes, ref: object) -> dict[str, object]:
    return {
        "type": "send",
        "ref": ref,
        "mailbox_id": to.mailbox_id,
        "capability": cap,
        "client_message_id": cmid,
        "body": b64e(body),
    }


async def test_alice_and_bob_exchange_envelopes_through_the_real_store(
    alice_bob: tuple[Relay, Device, Device, str, str],
) -> None:
    relay, alice, bob, to_alice, to_bob = alice_bob
    a, b = MemoryWebSocket.of(relay), MemoryWebSocket.of(relay)
    assert (await a.authenticate(alice.token))["type"] == "ready"
    assert (await b.authenticate(bob.token))["type"] == "ready"
    await a.put(send_frame(bob, to_bob, "hello-1", b"sealed for bob", 1))
    accepted = await a.get()
    assert accepted["type"] == "accepted" and accepted["ref"] == 1
    envelope = await b.get()
    assert envelope["type"] == "envelope" and b64d(envelope["body"]) == b"sealed for bob"
    assert envelope["id"] == accepted["id"]
    await b.put({"type": "ack", "ids": [envelope["id"]], "ref": "ack-1"})
    assert await b.get() == {"type": "acked", "ref": "ack-1"}
    await b.put(send_frame(alice, to_alice, "reply-1", b"sealed for alice", "r"))
    assert (await b.get())["type"] == "accepted"
    assert b64d((await a.get())["body"]) == b"sealed for alice"
    # A retry of Alice's first send is recognised, and Bob gets nothing again.
    await a.put(send_frame(bob, to_bob, "hello-1", b"sealed for bob", 2))
    assert (await a.get())["duplicate"] is True
    await b.put({"type": "ping", "ref": "p"})
    assert await b.get() == {"type": "pong", "ref": "p"}
    await a.close()
    await b.close()
    assert relay.metrics.connections._value.get() == 0


async def test_unacknowledged_envelopes_come_back_on_the_next_connection(
    alice_bob: tuple[Relay, Device, Device, str, str],
) -> None:
    relay, alice, bob, _, to_bob = alice_bob
    a = MemoryWebSocket.of(relay)
    for i in range(3):
        await a.put(send_frame(bob, to_bob, f"m{i}", b"%d" % i, i))
        assert (await a.get())["type"] == "accepted"
    b = MemoryWebSocket.of(relay)
    await b.authenticate(bob.token)
    first = [await b.get() for _ in range(3)]
    assert [b64d(f["body"]) for f in first] == [b"0", b"1", b"2"]
    await b.put({"type": "ack", "ids": [first[0]["id"]], "ref": 1})
    assert await b.get() == {"type": "acked", "ref": 1}
    await b.close()
    again = MemoryWebSocket.of(relay)
    await again.authenticate(bob.token)
    assert [b64d((await again.get())["body"]) for _ in range(2)] == [b"1", b"2"]
    await again.close()
    await a.close()
    assert alice.token


async def test_the_token_limit_counts_live_connections_and_frees_them(
    alice_bob: tuple[Relay, Device, Device, str, str],
) -> None:
    relay, alice, _, _, _ = alice_bob
    limit = relay.settings.connections_per_token
    held = [MemoryWebSocket.of(relay) for _ in range(limit)]
    for ws in held:
        assert (await ws.authenticate(alice.token))["type"] == "ready"
    extra = MemoryWebSocket.of(relay)
    assert (await extra.authenticate(alice.token))["error"] == "rate-limited"
    assert await extra.get() == {"type": "closed", "code": 4429}
    await held[0].close()
    again = MemoryWebSocket.of(relay)
    assert (await again.authenticate(alice.token))["type"] == "ready"
    for ws in [*held[1:], again]:
        await ws.close()


async def test_an_unauthenticated_connection_is_closed_at_its_deadline(
    alice_bob: tuple[Relay, Device, Device, str, str],
) -> None:
    relay = alice_bob[0]
    ws = MemoryWebSocket.of(relay, ws_auth_timeout_seconds=0.05)
    assert (await ws.get())["error"] == "unauthenticated"
    assert await ws.get() == {"type": "closed", "code": 4401}
