"""A push service stand-in on loopback: a small HTTP/1.1 server that records what it is sent.

Each request is kept whole (method, path, headers, body) and answered with the status the
test chose for its path (201 by default). A path marked ``hold`` is not answered until the
test releases it, like a push service that has stopped responding.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field


@dataclass
class PushRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class PushEndpoint:
    status: dict[str, int] = field(default_factory=dict)
    hold: set[str] = field(default_factory=set)
    requests: list[PushRequest] = field(default_factory=list)
    released: asyncio.Event = field(default_factory=asyncio.Event)
    _arrived: asyncio.Condition = field(default_factory=asyncio.Condition)
    _server: asyncio.Server | None = None
    port: int = 0

    async def __aenter__(self) -> PushEndpoint:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.released.set()
        assert self._server is not None
        self._server.close()
        await self._server.wait_closed()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    async def wait_for(self, count: int, path: str | None = None) -> list[PushRequest]:
        """Waits (bounded) until ``count`` requests (to ``path``, if given) have arrived."""

        def matching() -> list[PushRequest]:
            return [r for r in self.requests if path is None or r.path == path]

        async with asyncio.timeout(10), self._arrived:
            await self._arrived.wait_for(lambda: len(matching()) >= count)
        return matching()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError, asyncio.IncompleteReadError):
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                method, path, _version = lines[0].split(" ", 2)
                headers = {}
                for line in lines[1:]:
                    if line:
                        name, _, value = line.partition(":")
                        headers[name.strip().lower()] = value.strip()
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                async with self._arrived:
                    self.requests.append(PushRequest(method, path, headers, body))
                    self._arrived.notify_all()
                if path in self.hold:
                    await self.released.wait()
                status = self.status.get(path, 201)
                writer.write(f"HTTP/1.1 {status} X\r\ncontent-length: 0\r\n\r\n".encode())
                await writer.drain()
        writer.close()
