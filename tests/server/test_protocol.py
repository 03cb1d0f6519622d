"""ws/protocol.py: several text frames in one write, through a real uvicorn."""

from __future__ import annotations

import asyncio
import random
from typing import Any

import pytest
from confide_server.ws import protocol
from confide_server.ws.framing import take_text_frames
from confide_server.ws.protocol import SEND_MANY
from confide_server.ws.socket import RawSocket
from websockets.asyncio.client import connect
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
    """Takes frames straight from the protocol, except those starting with "hold" and binary
    ones, which it reads from ``receive``; a frame ending in "end" that comes through the queue
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
        await conn.send(b"\x00binary")
        await conn.send("f")
        await conn.send("hold end")
        async with asyncio.timeout(10):
            assert await conn.recv() == "done"
    by_way = _frames_by_way(log)
    # Every frame arrives once and in the order sent, whichever way it took.
    assert [entry.split(" ", 1)[1] for entry in by_way] == [
        *sent,
        "bytes b'\\x00binary'",
        "f",
        "hold end",
    ]
    # A refused frame goes through the queue, and so does everything behind it until the
    # application has taken the queue and asked again; binary frames always do.
    assert by_way[0] == "direct a"
    assert "queued hold 1" in by_way and "queued hold 2" in by_way
    assert "queued bytes b'\\x00binary'" in by_way
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
async def test_frames_cut_anywhere_by_tcp_arrive_whole_and_in_order(
    seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Whole text frames are read by ws/framing.py and everything else by the general
    parser; however the bytes are cut, each frame arrives once, in order."""
    taken: list[int] = []

    def counting(data: bytes, max_size: int, sink: Any) -> int:
        n = take_text_frames(data, max_size, sink)
        taken.append(n)
        return n

    monkeypatch.setattr(protocol, "take_text_frames", counting)
    log: list[str] = []
    small = [f"t{i}" for i in range(30)]
    texts = [
        *small[:10],
        "ping",
        *small[10:20],
        "b" * 200,
        "fragment",
        "binary",
        *small[20:],
        "c" * 70_000,
        "d\u00e9",
        "hold x",
        "e",
    ]
    frames = []
    for text in texts:
        if text == "ping":
            frames.append(Frame(Opcode.PING, b"keepalive"))
        elif text == "fragment":
            frames += [Frame(Opcode.TEXT, b"frag", fin=False), Frame(Opcode.CONT, b"ment")]
        elif text == "binary":
            frames.append(Frame(Opcode.BINARY, b"\x00bin"))
        else:
            frames.append(Frame(Opcode.TEXT, text.encode()))
    serialized = [f.serialize(mask=True) for f in frames]
    stream = b"".join(serialized)
    # Cuts inside frames, and at half of the frames' ends (where TCP usually cuts).
    rng = random.Random(seed)
    ends = [sum(map(len, serialized[: i + 1])) for i in range(len(serialized) - 1)]
    cuts = sorted(set(rng.sample(range(1, len(stream)), 40) + rng.sample(ends, len(ends) // 2)))
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
    expected[expected.index("binary")] = "bytes b'\\x00bin'"
    assert [entry.split(" ", 1)[1] for entry in by_way] == [*expected, "hold end"]
    # The short frames were read both before and after the general parser had its turn.
    assert sum(1 for n in taken if n) >= 2
