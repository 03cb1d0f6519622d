"""ws/protocol.py: several text frames in one write, through a real uvicorn."""

from __future__ import annotations

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
