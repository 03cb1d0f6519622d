"""ws/protocol.py through a real uvicorn: batched writes, the direct path, refusals."""

from __future__ import annotations

import asyncio
import random
from typing import Any

import httpx
import pytest
from confide_server.ws.protocol import SEND_MANY
from confide_server.ws.socket import RawSocket
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed
from websockets.frames import Frame, Opcode

from .conftest import LiveServer

TEXTS = ["one", "two", '{"type":"three"}']


async def lifespan(receive: Any, send: Any) -> None:
    while (await receive())["type"] != "lifespan.shutdown":
        await send({"type": "lifespan.startup.complete"})
    await send({"type": "lifespan.shutdown.complete"})


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        await lifespan(receive, send)
        return
    socket = RawSocket.from_scope(scope, receive, send)
    await socket.accept()
    await socket.send_texts(["batched" if SEND_MANY in scope["extensions"] else "one by one"])
    await socket.send_texts(TEXTS)
    await socket.receive()


@pytest.mark.parametrize("ws", ["websockets-sansio", None])
async def test_frames_arrive_whole_and_in_order_with_or_without_the_extension(
    ws: str | None,
) -> None:
    kwargs = {} if ws is None else {"ws": ws}
    async with (
        LiveServer(app, 1 << 16, **kwargs) as server,
        connect(server.ws, compression=None) as conn,
    ):
        first = await conn.recv()
        assert first == ("one by one" if ws else "batched")
        assert [await conn.recv() for _ in TEXTS] == TEXTS


async def writing_now(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        await lifespan(receive, send)
        return
    socket = RawSocket.from_scope(scope, receive, send)
    before_accept = socket.write_now(["too early"])
    await socket.accept()
    written = socket.write_now(TEXTS)
    if not written:
        await socket.send_texts(TEXTS)
    await socket.send_texts([f"before accept {before_accept}, written {written}"])
    await socket.receive()


@pytest.mark.parametrize("ws", ["websockets-sansio", None])
async def test_write_now_writes_at_once_on_an_open_socket_or_says_it_did_not(
    ws: str | None,
) -> None:
    kwargs = {} if ws is None else {"ws": ws}
    async with (
        LiveServer(writing_now, 1 << 16, **kwargs) as server,
        connect(server.ws, compression=None) as conn,
    ):
        assert [await conn.recv() for _ in TEXTS] == TEXTS
        # Only the relay's protocol offers it, and only once the socket is open.
        expected = "written False" if ws else "written True"
        assert await conn.recv() == f"before accept False, {expected}"


def direct_app(log: list[str]) -> Any:
    """Takes frames straight from the protocol, except those starting with "hold", which it
    reads from ``receive``; a frame ending in "end" that comes through the queue
    is answered "done"."""

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            await lifespan(receive, send)
            return
        socket = RawSocket.from_scope(scope, receive, send)

        def sink(data: bytes) -> bool:
            text = bytes(data).decode()
            if text.startswith("hold"):
                return False
            log.append("direct " + text)
            return True

        await socket.accept()
        while True:
            went_direct = socket.go_direct(sink)
            log.append(f"go_direct {went_direct}")
            message = await receive()
            if message["type"] == "websocket.disconnect":
                return
            text = message.get("text")
            log.append("queued " + (text if text is not None else f"bytes {message['bytes']!r}"))
            if text is not None and text.endswith("end"):
                await socket.send_texts(["done"])

    return app


def _frames_by_way(log: list[str]) -> list[str]:
    return [entry for entry in log if not entry.startswith("go_direct")]


async def test_go_direct_passes_frames_in_order_and_falls_back_to_the_queue() -> None:
    log: list[str] = []
    sent = ["a", "hold 1", "b", "c", "hold 2", "d", "e"]
    async with (
        LiveServer(direct_app(log), 1 << 16) as server,
        connect(server.ws, compression=None) as conn,
    ):
        for text in sent:
            await conn.send(text)
        await conn.send("f")
        await conn.send("hold end")
        async with asyncio.timeout(10):
            assert await conn.recv() == "done"
    by_way = _frames_by_way(log)
    # Every frame arrives once and in the order sent, whichever way it took.
    assert [entry.split(" ", 1)[1] for entry in by_way] == [
        *sent,
        "f",
        "hold end",
    ]
    # A refused frame goes through the queue, and so does everything behind it until the
    # application has taken the queue and asked again.
    assert by_way[0] == "direct a"
    assert "queued hold 1" in by_way and "queued hold 2" in by_way
    assert by_way[-1] == "queued hold end"
    assert log[0] == "go_direct True"


async def test_go_direct_is_refused_by_plain_uvicorn() -> None:
    log: list[str] = []
    async with (
        LiveServer(direct_app(log), 1 << 16, ws="websockets-sansio") as server,
        connect(server.ws, compression=None) as conn,
    ):
        await conn.send("a")
        await conn.send("end")
        async with asyncio.timeout(10):
            assert await conn.recv() == "done"
    assert _frames_by_way(log) == ["queued a", "queued end"]
    assert set(log) - {"queued a", "queued end"} == {"go_direct False"}


@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_frames_cut_anywhere_by_tcp_arrive_whole_and_in_order(seed: int) -> None:
    """One reader reads every byte; however TCP cuts them, each frame arrives once, in
    order, whether the sink took it or the queue did."""
    log: list[str] = []
    small = [f"t{i}" for i in range(30)]
    texts = [*small[:10], "ping", *small[10:20], "b" * 200, *small[20:]]
    texts += ["c" * 70_000, "d\u00e9", "hold x", "e", "f" * 300]
    frames = []
    for text in texts:
        if text == "ping":
            frames.append(Frame(Opcode.PING, b"keepalive"))
        else:
            frames.append(Frame(Opcode.TEXT, text.encode()))
    serialized = [f.serialize(mask=True) for f in frames]
    stream = b"".join(serialized)
    # Cuts inside frames (headers too), and at half of the frames' ends.
    rng = random.Random(seed)
    starts = [sum(map(len, serialized[:i])) for i in range(len(serialized))]
    ends = starts[1:]
    headers = [s + rng.randint(1, 7) for s in starts]
    cuts = set(rng.sample(range(1, len(stream)), 40) + rng.sample(ends, len(ends) // 2) + headers)
    cuts = sorted(c for c in cuts if 0 < c < len(stream))
    chunks = [stream[i:j] for i, j in zip([0, *cuts], [*cuts, len(stream)], strict=True)]
    async with (
        LiveServer(direct_app(log), 1 << 17) as server,
        connect(server.ws, compression=None) as conn,
    ):
        for chunk in chunks:
            conn.transport.write(chunk)
            await asyncio.sleep(0.002)
        conn.transport.write(Frame(Opcode.TEXT, b"hold end").serialize(mask=True))
        async with asyncio.timeout(10):
            assert await conn.recv() == "done"
    by_way = _frames_by_way(log)
    expected = [t for t in texts if t != "ping"]
    assert [entry.split(" ", 1)[1] for entry in by_way] == [*expected, "hold end"]
    assert "direct c" + "c" * 69_999 in by_way  # the 64-bit length form, on the direct path


def raw(opcode: int, payload: bytes, *, fin: bool = True, rsv: int = 0, mask: bool = True) -> bytes:
    """A client frame written by hand, for what websockets' own client refuses to send."""
    first = (0x80 if fin else 0) | rsv | opcode
    key = b"\x01\x02\x03\x04"
    n = len(payload)
    length = bytes([n]) if n < 126 else bytes([126]) + n.to_bytes(2, "big")
    if not mask:
        return bytes([first, length[0]]) + length[1:] + payload
    body = bytes(b ^ key[i % 4] for i, b in enumerate(payload))
    return bytes([first, 0x80 | length[0]]) + length[1:] + key + body


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        (raw(0x2, b"\x00bin"), 1003),
        (raw(0x1, b"frag", fin=False), 1003),
        (raw(0x0, b"ment"), 1002),
        (raw(0x1, b"x" * 300), 4413),
        (raw(0x1, b"plain", mask=False), 1002),
        (raw(0x1, b"x", rsv=0x40), 1002),
        (raw(0x3, b"x"), 1002),
        (raw(0x9, b"x" * 126), 1002),
        (raw(0x9, b"x", fin=False), 1002),
        (raw(0x1, b"\xff\xfe"), 1007),
        (raw(0x8, b"\x03\xed"), 1002),
        (raw(0x8, b"\x03"), 1002),
    ],
    ids=[
        "binary",
        "fragment",
        "continuation",
        "too-large",
        "unmasked",
        "rsv",
        "opcode",
        "long-ping",
        "fragmented-ping",
        "not-utf8",
        "close-1005",
        "close-one-byte",
    ],
)
async def test_what_the_relay_does_not_use_is_refused_with_its_close_code(
    frame: bytes, code: int
) -> None:
    log: list[str] = []
    async with (
        LiveServer(direct_app(log), 256) as server,
        connect(server.ws, compression=None) as conn,
    ):
        await conn.send("a")
        conn.transport.write(frame + raw(0x1, b"never read"))
        with pytest.raises(ConnectionClosed) as closed:
            async with asyncio.timeout(10):
                await conn.recv()
        assert closed.value.rcvd is not None and closed.value.rcvd.code == code
    assert "direct never read" not in log and "queued never read" not in log


async def test_pings_are_answered_and_a_close_is_echoed() -> None:
    async with (
        LiveServer(direct_app([]), 1 << 16) as server,
        connect(server.ws, compression=None) as conn,
    ):
        pong = await conn.ping(b"are you there")
        async with asyncio.timeout(10):
            await pong
        await conn.close(4000, "bye")
        rcvd = conn.protocol.close_rcvd
        assert rcvd is not None and (rcvd.code, rcvd.reason) == (4000, "")


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({"Sec-WebSocket-Version": "13"}, 400),
        ({"Sec-WebSocket-Version": "8", "Sec-WebSocket-Key": "AAAAAAAAAAAAAAAAAAAAAA=="}, 426),
        ({"Sec-WebSocket-Version": "13", "Sec-WebSocket-Key": "c2hvcnQ="}, 400),
        (
            {
                "Sec-WebSocket-Version": "13",
                "Sec-WebSocket-Key": "AAAAAAAAAAAAAAAAAAAAAA==",
                "X-Padding": "p" * 20_000,
            },
            431,
        ),
    ],
    ids=["no-key", "version", "short-key", "head-too-large"],
)
async def test_a_bad_handshake_gets_problem_json(headers: dict[str, str], status: int) -> None:
    async with LiveServer(direct_app([]), 1 << 16) as server:
        upgrade = {"Upgrade": "websocket", "Connection": "Upgrade", **headers}
        async with httpx.AsyncClient() as client:
            response = await client.get(f"{server.http}/v1/ws", headers=upgrade)
    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"] == "https://confide.invalid/problems/invalid-input"


async def refusing(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        await lifespan(receive, send)
        return
    await receive()
    if scope["path"] == "/fail":
        raise RuntimeError("the application failed before accepting")
    await send({"type": "websocket.close", "code": 1000})


@pytest.mark.parametrize(("path", "status"), [("/refuse", 403), ("/fail", 500)])
async def test_an_application_that_refuses_or_fails_before_accepting_answers_http(
    path: str, status: int, caplog: pytest.LogCaptureFixture
) -> None:
    async with LiveServer(refusing, 1 << 16) as server:
        upgrade = {
            "Upgrade": "websocket",
            "Connection": "Upgrade",
            "Sec-WebSocket-Version": "13",
            "Sec-WebSocket-Key": "AAAAAAAAAAAAAAAAAAAAAA==",
        }
        async with httpx.AsyncClient() as client:
            response = await client.get(server.http + path, headers=upgrade)
    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"
    assert ("the WebSocket application failed" in caplog.text) == (status == 500)


async def test_shutting_down_closes_open_sockets_with_1012() -> None:
    server = LiveServer(direct_app([]), 1 << 16)
    async with server:
        conn = await connect(server.ws, compression=None)
        server.server.should_exit = True
        with pytest.raises(ConnectionClosed) as closed:
            async with asyncio.timeout(10):
                await conn.recv()
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1012
