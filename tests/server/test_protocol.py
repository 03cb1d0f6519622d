"""ws/protocol.py: several text frames in one write, through a real uvicorn."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from confide_server.ws.protocol import SEND_MANY
from confide_server.ws.socket import RawSocket
from websockets.asyncio.client import connect

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
