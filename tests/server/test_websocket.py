"""Live delivery over a real WebSocket: order, acks, idempotency, flow control, bad frames."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from confide_server.relay import Relay
from confide_server.settings import Settings
from websockets.exceptions import ConnectionClosed

from .conftest import LiveServer, SettingsFactory
from .helpers import b64d, b64e, capability, enrol, join, send
from .wsclient import WsClient


async def test_queued_then_live_in_order(
    live: LiveServer, live_client: httpx.AsyncClient, live_relay: Relay
) -> None:
    worker = await enrol(live_client, live_relay)
    client_device, out = await join(live_client, worker)
    cap = out["worker_capability"]
    for i in range(3):
        assert (
            await send(live_client, worker.mailbox_id, cap, f"q{i}", b"q%d" % i)
        ).status_code == 202
    receiver = await WsClient.open(live.ws, worker.token)
    sender = await WsClient.open(live.ws)  # sending needs no authentication
    for i in range(3, 6):
        await sender.send(worker.mailbox_id, cap, f"q{i}", b"q%d" % i, ref=i)
        accepted = await sender.get()
        assert accepted == {"type": "accepted", "ref": i, "id": accepted["id"], "duplicate": False}
    got = [await receiver.get() for _ in range(6)]
    assert [b64d(f["body"]) for f in got] == [b"q%d" % i for i in range(6)]
    await receiver.put({"type": "ack", "ids": [f["id"] for f in got], "ref": "a"})
    assert await receiver.get() == {"type": "acked", "ref": "a"}
    await receiver.close()
    # Reconnecting delivers nothing again: acknowledged envelopes are gone.
    again = await WsClient.open(live.ws, worker.token)
    await again.put({"type": "ping", "ref": 1})
    assert (await again.get())["type"] == "pong"
    # A retried send after the ack is recognised and not delivered.
    await sender.send(worker.mailbox_id, cap, "q0", b"q0", ref=99)
    assert (await sender.get())["duplicate"] is True
    await again.put({"type": "ping", "ref": 2})
    assert (await again.get()) == {"type": "pong", "ref": 2}
    await sender.close()
    await again.close()
    assert client_device.token


async def test_unacked_envelopes_come_back_after_reconnect(
    live: LiveServer, live_client: httpx.AsyncClient, live_relay: Relay
) -> None:
    worker = await enrol(live_client, live_relay)
    cap = await capability(live_client, worker)
    receiver = await WsClient.open(live.ws, worker.token)
    await send(live_client, worker.mailbox_id, cap, "a", b"a")
    first = await receiver.get()
    await receiver.close()
    receiver = await WsClient.open(live.ws, worker.token)
    again = await receiver.get()
    assert again["id"] == first["id"]
    await receiver.close()


@pytest.fixture
def small_window(sqlite_url: str, make_settings: SettingsFactory) -> Settings:
    return make_settings(sqlite_url, delivery_window=4)


async def test_a_client_that_never_acks_gets_only_the_window(small_window: Settings) -> None:
    from confide_server.app import create_app

    server = LiveServer(create_app(small_window), small_window.max_frame_bytes)
    async with server, httpx.AsyncClient(base_url=server.http) as client:
        relay: Relay = server.app.state.relay
        worker = await enrol(client, relay)
        cap = await capability(client, worker)
        for i in range(6):
            await send(client, worker.mailbox_id, cap, f"w{i}", b"w%d" % i)
        receiver = await WsClient.open(server.ws, worker.token)
        window = [await receiver.get() for _ in range(4)]
        await receiver.put({"type": "ping", "ref": "after-window"})
        # Nothing beyond the window is pushed until something is acknowledged.
        assert (await receiver.get()) == {"type": "pong", "ref": "after-window"}
        live_sender = await WsClient.open(server.ws)
        await live_sender.send(worker.mailbox_id, cap, "w6", b"w6")
        assert (await live_sender.get())["type"] == "accepted"
        await receiver.put({"type": "ping", "ref": "still"})
        assert (await receiver.get()) == {"type": "pong", "ref": "still"}
        await receiver.put({"type": "ack", "ids": [window[0]["id"], window[1]["id"]]})
        more = [await receiver.get() for _ in range(2)]
        assert [b64d(f["body"]) for f in more] == [b"w4", b"w5"]
        await receiver.put({"type": "ack", "ids": [f["id"] for f in window[2:] + more]})
        last = await receiver.get()
        assert b64d(last["body"]) == b"w6"
        await receiver.close()
        await live_sender.close()


async def test_bad_frames_get_error_frames(
    live: LiveServer, live_client: httpx.AsyncClient, live_relay: Relay
) -> None:
    worker = await enrol(live_client, live_relay)
    cap = await capability(live_client, worker)
    ws = await WsClient.open(live.ws)
    await ws.conn.send("{nope")
    assert (await ws.get())["error"] == "invalid-input"
    await ws.put({"type": "send", "ref": 7, "mailbox_id": "short", "capability": cap})
    error = await ws.get()
    assert error["ref"] == 7 and error["error"] == "invalid-input"
    await ws.put({"type": "warp"})
    assert (await ws.get())["type"] == "error"
    await ws.put({"type": "ack", "ids": [b64e(bytes(16))]})
    assert (await ws.get())["error"] == "unauthenticated"
    await ws.send(b64e(bytes(16)), cap, "x", b"x", ref=8)
    rejected = await ws.get()
    assert rejected == {
        "type": "error",
        "ref": 8,
        "error": "capability-rejected",
        "detail": rejected["detail"],
    }
    # The connection survives all of that.
    await ws.send(worker.mailbox_id, cap, "ok", b"ok", ref=9)
    assert (await ws.get())["type"] == "accepted"
    await ws.close()


async def test_bad_token_closes_4401(live: LiveServer) -> None:
    ws = await WsClient.open(live.ws)
    await ws.put({"type": "auth", "token": b64e(bytes(32))})
    assert (await ws.get())["error"] == "unauthenticated"
    with pytest.raises(ConnectionClosed) as closed:
        await ws.get()
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4401


async def test_oversized_frame_closes_the_connection(live: LiveServer, settings: Settings) -> None:
    ws = await WsClient.open(live.ws)
    await ws.conn.send("x" * (settings.max_frame_bytes + 1))
    with pytest.raises(ConnectionClosed) as closed:
        await ws.get()
    assert closed.value.rcvd is not None and closed.value.rcvd.code in (1009, 4413)


async def test_dropped_mid_send_loses_nothing_accepted(
    live: LiveServer, live_client: httpx.AsyncClient, live_relay: Relay
) -> None:
    worker = await enrol(live_client, live_relay)
    cap = await capability(live_client, worker)
    sender = await WsClient.open(live.ws)
    for i in range(50):
        await sender.send(worker.mailbox_id, cap, f"d{i}", b"d%d" % i, ref=i)
    accepted = [await sender.get() for _ in range(10)]
    sender.conn.transport.abort()  # type: ignore[attr-defined]
    # Whatever was answered "accepted" is in the queue, exactly once.
    receiver = await WsClient.open(live.ws, worker.token)
    ids = {a["id"] for a in accepted}
    seen: list[str] = []
    while not ids <= set(seen):
        seen.append((await receiver.get())["id"])
    assert len(seen) == len(set(seen))
    await receiver.close()
    # The relay is still serving.
    assert (await live_client.get("/healthz")).status_code == 200
    await asyncio.sleep(0)


async def test_connections_per_token_are_limited(
    live: LiveServer, live_client: httpx.AsyncClient, live_relay: Relay, settings: Settings
) -> None:
    worker = await enrol(live_client, live_relay)
    open_ = [
        await WsClient.open(live.ws, worker.token) for _ in range(settings.connections_per_token)
    ]
    extra = await WsClient.open(live.ws)
    await extra.put({"type": "auth", "token": worker.token})
    assert (await extra.get())["error"] == "rate-limited"
    with pytest.raises(ConnectionClosed) as closed:
        await extra.get()
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4429
    for ws in open_:
        await ws.close()


async def test_too_many_bad_frames_close_4400(live: LiveServer) -> None:
    ws = await WsClient.open(live.ws)
    for _ in range(21):
        await ws.conn.send("[]")
    errors = 0
    with pytest.raises(ConnectionClosed) as closed:
        while True:
            assert (await ws.get())["type"] == "error"
            errors += 1
    assert errors == 21
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4400


async def test_expired_token_closes_4410(sqlite_url: str, make_settings: SettingsFactory) -> None:
    from confide_server.app import create_app

    from .helpers import FakeClock

    clock = FakeClock()
    settings = make_settings(sqlite_url)
    server = LiveServer(create_app(settings, clock=clock), settings.max_frame_bytes)
    async with server, httpx.AsyncClient(base_url=server.http) as client:
        worker = await enrol(client, server.app.state.relay)
        clock.now += settings.token_ttl_seconds + 1
        ws = await WsClient.open(server.ws)
        await ws.put({"type": "auth", "token": worker.token})
        assert (await ws.get())["error"] == "expired"
        with pytest.raises(ConnectionClosed) as closed:
            await ws.get()
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4410


async def test_a_client_that_stops_reading_is_not_buffered_without_bound(
    live: LiveServer, live_client: httpx.AsyncClient, live_relay: Relay, settings: Settings
) -> None:
    from websockets.asyncio.client import connect

    worker = await enrol(live_client, live_relay)
    cap = await capability(live_client, worker)
    # This client reads at most a couple of frames into its own buffer and then stops, so
    # TCP pushes back on the relay.
    stalled = await connect(live.ws, compression=None, max_queue=2, max_size=2**22)
    await stalled.send(f'{{"type": "auth", "token": "{worker.token}"}}')
    sender = await WsClient.open(live.ws)
    body = b"z" * 32_000
    for i in range(300):
        await sender.send(worker.mailbox_id, cap, f"s{i}", body, ref=i)
    for _ in range(300):
        assert (await sender.get())["type"] == "accepted"
    (connection,) = live_relay.fanout._sinks[b64d(worker.mailbox_id)]  # type: ignore[attr-defined]
    session = connection._session
    budget = settings.delivery_window_bytes + len(body)
    assert session.window._bytes <= budget
    assert len(session.out) * len(body) <= budget
    await sender.close()
    stalled.transport.abort()


async def test_frames_right_after_auth_wait_for_it(
    live: LiveServer, live_client: httpx.AsyncClient, live_relay: Relay
) -> None:
    """auth is awaited, so the frames behind it in the same burst go through the read loop
    after it, in order, and an ack among them is already authenticated."""
    worker = await enrol(live_client, live_relay)
    ws = await WsClient.open(live.ws)
    await ws.put({"type": "auth", "token": worker.token})
    await ws.put({"type": "ping", "ref": 1})
    await ws.put({"type": "ack", "ids": [b64e(bytes(16))], "ref": 2})
    await ws.put({"type": "ping", "ref": 3})
    got = [await ws.get() for _ in range(4)]
    assert got[0]["type"] == "ready"
    assert got[1] == {"type": "pong", "ref": 1}
    # "acked" waits for the deletion's commit, so the last pong may overtake it.
    assert sorted(got[2:], key=lambda f: f["ref"]) == [
        {"type": "acked", "ref": 2},
        {"type": "pong", "ref": 3},
    ]
    await ws.close()


async def test_a_flood_of_sends_is_held_back_and_every_one_answered(
    live: LiveServer,
    live_client: httpx.AsyncClient,
    live_relay: Relay,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With small limits, the connection keeps refusing frames from the protocol and taking
    them back through its read loop; none is lost, repeated or reordered."""
    from confide_server.ws import session

    monkeypatch.setattr(session, "MAX_UNANSWERED_SENDS", 4)
    monkeypatch.setattr(session, "MAX_PENDING_FRAMES", 4)
    worker = await enrol(live_client, live_relay)
    cap = await capability(live_client, worker)
    receiver = await WsClient.open(live.ws, worker.token)
    sender = await WsClient.open(live.ws)
    n = 300
    for i in range(n):
        await sender.send(worker.mailbox_id, cap, f"f{i}", b"f%d" % i, ref=i)
    answers = [await sender.get() for _ in range(n)]
    assert [a["ref"] for a in answers] == list(range(n))
    assert all(a["type"] == "accepted" and a["duplicate"] is False for a in answers)
    bodies = []
    while len(bodies) < n:
        frame = await receiver.get()
        bodies.append(b64d(frame["body"]))
        await receiver.put({"type": "ack", "ids": [frame["id"]]})
    assert bodies == [b"f%d" % i for i in range(n)]
    await sender.close()
    await receiver.close()


# Only the relay's transport passes frames straight to the connection (ws/protocol.py).
@pytest.mark.parametrize("ws_transport", ["relay"])
async def test_a_frame_that_fails_inside_the_relay_closes_1011(
    live: LiveServer,
    live_client: httpx.AsyncClient,
    live_relay: Relay,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An error while acting on a frame taken straight from the protocol never reaches the
    protocol: the connection ends with 1011, and the frame is not acted on twice."""
    from confide_server.ws.connection import Connection

    calls = []

    def failing(self: Connection, frame: object) -> None:
        calls.append(frame)
        raise RuntimeError("boom")

    monkeypatch.setattr(Connection, "_send", failing)
    worker = await enrol(live_client, live_relay)
    cap = await capability(live_client, worker)
    ws = await WsClient.open(live.ws)
    await ws.send(worker.mailbox_id, cap, "x", b"x", ref=1)
    with pytest.raises(ConnectionClosed) as closed:
        await ws.get()
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1011
    assert len(calls) == 1
