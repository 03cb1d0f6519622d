"""A deliberately small WebSocket client for the load generator (RFC 6455, client side).

The generator must not be the bottleneck, so it speaks the protocol directly on an asyncio
transport instead of going through a general-purpose library: frames are built with one
header and a zero masking key (legal, and the server still unmasks every byte, so its work
is unchanged), and incoming frames are cut out of one buffer without copies per event.
Only what a benchmark client needs is here: text and binary messages, ping/pong, close.
Connections go to loopback only.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import os
import struct
from collections import deque
from collections.abc import Callable

_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
_ZERO_MASK = b"\x00\x00\x00\x00"
_OP_CONT, _OP_TEXT, _OP_BINARY, _OP_CLOSE, _OP_PING, _OP_PONG = 0, 1, 2, 8, 9, 10
LOOPBACK = "127.0.0.1"
RECV_TIMEOUT_S = 30.0

MessageHandler = Callable[[bytes], None]


class HandshakeError(Exception):
    """The server did not switch protocols; the status line and body say why."""


def _frame(opcode: int, payload: bytes) -> bytes:
    """One final, masked frame; the zero key leaves the payload bytes as they are."""
    n = len(payload)
    if n < 126:
        head = struct.pack("!BB", 0x80 | opcode, 0x80 | n)
    elif n < 65536:
        head = struct.pack("!BBH", 0x80 | opcode, 0x80 | 126, n)
    else:
        head = struct.pack("!BBQ", 0x80 | opcode, 0x80 | 127, n)
    return head + _ZERO_MASK + payload


class WebSocketClient(asyncio.Protocol):
    """One client connection; incoming messages go to `on_message` or to `recv()`."""

    def __init__(self, request: bytes, accept: bytes) -> None:
        self._request = request
        self._accept = accept
        self.transport: asyncio.Transport | None = None
        self._buffer = bytearray()
        self._handshake: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._open = False
        self._fragments: list[bytes] = []
        self._inbox: deque[bytes] = deque()
        self._waiter: asyncio.Future[None] | None = None
        self.on_message: MessageHandler | None = None
        self.closed: asyncio.Future[int] = asyncio.get_running_loop().create_future()

    # asyncio.Protocol callbacks

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports implement asyncio.Transport without subclassing it.
        self.transport = transport  # type: ignore[assignment]
        transport.write(self._request)

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        if not self._open:
            self._read_handshake()
        if self._open:
            self._read_frames()

    def connection_lost(self, exc: Exception | None) -> None:
        if not self._handshake.done():
            self._handshake.set_exception(exc or ConnectionError("closed during handshake"))
        if not self.closed.done():
            self.closed.set_result(1006)
        self._wake()

    # Sending

    def send_text(self, payload: bytes) -> None:
        """Send one text message; the payload must already be UTF-8."""
        assert self.transport is not None
        self.transport.write(_frame(_OP_TEXT, payload))

    def send_binary(self, payload: bytes) -> None:
        assert self.transport is not None
        self.transport.write(_frame(_OP_BINARY, payload))

    def close(self, code: int = 1000) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(_frame(_OP_CLOSE, struct.pack("!H", code)))
            self.transport.close()

    # Receiving, for the setup phase; the hot path sets `on_message` instead.

    async def recv(self) -> bytes:
        async with asyncio.timeout(RECV_TIMEOUT_S):
            while not self._inbox:
                if self.closed.done():
                    raise ConnectionError(f"connection closed ({self.closed.result()})")
                self._waiter = asyncio.get_running_loop().create_future()
                await self._waiter
        return self._inbox.popleft()

    def _wake(self) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    def _read_handshake(self) -> None:
        end = self._buffer.find(b"\r\n\r\n")
        if end < 0:
            return
        head = bytes(self._buffer[:end])
        del self._buffer[: end + 4]
        status = head.split(b"\r\n", 1)[0]
        if b" 101 " not in status + b" " or self._accept not in head:
            self._handshake.set_exception(HandshakeError(status.decode("latin-1")))
            assert self.transport is not None
            self.transport.close()
            return
        self._open = True
        self._handshake.set_result(None)

    def _read_frames(self) -> None:
        buf = self._buffer
        pos = 0
        size = len(buf)
        while size - pos >= 2:
            b0, b1 = buf[pos], buf[pos + 1]
            n = b1 & 0x7F
            start = pos + 2
            if n == 126:
                if size - start < 2:
                    break
                n = int.from_bytes(buf[start : start + 2], "big")
                start += 2
            elif n == 127:
                if size - start < 8:
                    break
                n = int.from_bytes(buf[start : start + 8], "big")
                start += 8
            if size - start < n:
                break
            payload = bytes(buf[start : start + n])
            pos = start + n
            self._on_frame(b0 & 0x0F, bool(b0 & 0x80), payload)
        if pos:
            del buf[:pos]

    def _on_frame(self, opcode: int, fin: bool, payload: bytes) -> None:
        if opcode in (_OP_TEXT, _OP_BINARY, _OP_CONT):
            if not fin or self._fragments:
                self._fragments.append(payload)
                if not fin:
                    return
                payload = b"".join(self._fragments)
                self._fragments = []
            if self.on_message is not None:
                self.on_message(payload)
            else:
                self._inbox.append(payload)
                self._wake()
        elif opcode == _OP_PING:
            assert self.transport is not None
            self.transport.write(_frame(_OP_PONG, payload))
        elif opcode == _OP_CLOSE:
            code = int.from_bytes(payload[:2], "big") if len(payload) >= 2 else 1005
            if not self.closed.done():
                self.closed.set_result(code)
            self.close(code if code not in (1005, 1006) else 1000)
            self._wake()


async def connect(port: int, path: str, headers: dict[str, str] | None = None) -> WebSocketClient:
    """Open a WebSocket to 127.0.0.1:port; raises HandshakeError unless the server says 101."""
    key = base64.b64encode(os.urandom(16))
    accept = base64.b64encode(hashlib.sha1(key + _GUID, usedforsecurity=False).digest())
    lines = [
        f"GET {path} HTTP/1.1",
        f"Host: {LOOPBACK}:{port}",
        "Upgrade: websocket",
        "Connection: Upgrade",
        f"Sec-WebSocket-Key: {key.decode()}",
        "Sec-WebSocket-Version: 13",
    ]
    lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
    request = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
    loop = asyncio.get_running_loop()
    _, client = await loop.create_connection(
        lambda: WebSocketClient(request, accept), LOOPBACK, port
    )
    await client._handshake
    return client
