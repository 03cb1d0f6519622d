"""A TCP link in front of the test relay that a test can cut, as a failing network would.

Every byte between the SDK and the in-process relay passes through here, unchanged. ``cut``
aborts every connection open at that moment, both halves at once and without a WebSocket
close frame, the way a dropped Wi-Fi link or a NAT timeout ends them; the devices see
exactly what they would see in the field and must reconnect on their own. New connections
are accepted as before.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Coroutine
from typing import Any

__all__ = ["CuttableLink"]

#: How much one read takes from a socket before handing it on.
CHUNK = 64 * 1024


class CuttableLink:
    """Listens on 127.0.0.1 and forwards each connection to ``upstream_port``."""

    def __init__(self, upstream_port: int) -> None:
        self._upstream_port = upstream_port
        self._server: asyncio.Server | None = None
        self._open: set[asyncio.StreamWriter] = set()
        self._handlers: set[asyncio.Task[None]] = set()
        self.port = 0

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = int(self._server.sockets[0].getsockname()[1])

    def cut(self) -> None:
        """Abort every connection passing through now."""
        for writer in list(self._open):
            writer.transport.abort()

    async def close(self) -> None:
        """Stop listening, abort what is open, and wait for every forwarding task to end."""
        if self._server is not None:
            self._server.close()
        self.cut()
        if self._handlers:
            await asyncio.gather(*self._handlers, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._handlers.add(task)
        self._open.add(writer)
        try:
            try:
                up_reader, up_writer = await asyncio.open_connection(
                    "127.0.0.1", self._upstream_port
                )
            except OSError:
                return
            self._open.add(up_writer)
            try:
                # Whichever side ends first ends the pair, as a router would.
                await _first_of(_pump(reader, up_writer), _pump(up_reader, writer))
            finally:
                self._open.discard(up_writer)
                await _close(up_writer)
        finally:
            self._open.discard(writer)
            await _close(writer)
            self._handlers.discard(task)


async def _pump(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
    with contextlib.suppress(OSError):
        while data := await source.read(CHUNK):
            sink.write(data)
            await sink.drain()


async def _first_of(*pumps: Coroutine[Any, Any, None]) -> None:
    tasks = [asyncio.create_task(p) for p in pumps]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def _close(writer: asyncio.StreamWriter) -> None:
    writer.close()
    with contextlib.suppress(OSError):
        await writer.wait_closed()
