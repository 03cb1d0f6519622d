"""The relay's WebSocket protocol for uvicorn: one frame reader, two extensions to ASGI.

``confide serve`` hands this class to uvicorn through its documented ``ws=`` option; uvicorn
parses the HTTP request, and on ``Upgrade: websocket`` gives the connection to this class,
which from then on owns every byte: ws/handshake.py answers the opening handshake and
ws/framing.py's ``FrameReader``, the one reader of the connection's frames, reads the rest.
It speaks plain ASGI to any application (``websocket.connect`` / ``receive`` /
``disconnect``; ``accept`` / ``send`` / ``close``), and advertises the ASGI extension
``confide.websocket.send_many``, whose entry in the scope holds:

- ``{"type": "confide.websocket.send_many", "texts": [...]}`` as a message to ``send``:
  several text frames written with one call. A group commit answers many sends at once,
  so a connection often has several frames queued; frame by frame, each would be a
  message and a system call.
- ``write_now(texts) -> bool``: the same without waiting; it writes only if the connection
  is open and its transport is not paused, and says whether it did (ws/outbox.py writes
  from the event loop that way, without a task of its own).
- ``go_direct(sink) -> bool``: each text frame is then passed to ``sink(payload)`` as it is
  read, on the event loop, instead of being queued for ``receive`` (a queue, a task switch
  and a pause of reading per frame, which cost more than acting on most frames). The sink
  returns True if it acted on the frame; False means "not now": the frame, and every frame
  after it, is queued for ``receive``, in order, until the application calls ``go_direct``
  again, which it may only do once it has taken everything queued (False otherwise).

Why this design (docs/benchmarks.md has the figures): the relay's first transport put a
fast reader of whole text frames in front of the general parser of uvicorn's
``WebSocketsSansIOProtocol`` (a subclass reading its private attributes), and it had two
readers of one byte stream: the general parser takes a frame's header out of its buffer
before the rest arrives, so a header sent alone let the fast reader start inside a frame
and act on bytes an RFC 6455 parser reads as payload. With one reader that cannot happen,
there is nothing private of uvicorn's or websockets' to follow, and it costs no more per
message than that transport did (docs/benchmarks.md, current figures). Under the setting
``CONFIDE_WS_TRANSPORT=asgi`` the relay runs on uvicorn's own websockets implementation
instead, with plain ASGI messages (ws/socket.py falls back by itself).

What this class takes from uvicorn is the ``ws=`` protocol's contract: it is built with
``config``, ``server_state`` and ``app_state``; reads the documented settings
``ws_max_size``, ``ws_ping_interval``, ``ws_ping_timeout`` and ``root_path`` and the
application uvicorn wrapped (``config.loaded_app``, with its proxy-headers middleware); joins
``server_state.connections`` (whose ``shutdown()`` uvicorn calls on exit: close 1012) and
``server_state.tasks``; and is given the request bytes by ``data_received``.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections import deque
from collections.abc import Callable
from typing import Any, cast

from confide_server.errors import Forbidden, RelayError
from confide_server.ws import handshake
from confide_server.ws.framing import (
    OP_BINARY,
    OP_PING,
    OP_PONG,
    FrameReader,
    Refused,
    close_frame,
    server_frame,
    text_frames,
)

log = logging.getLogger(__name__)

SEND_MANY = "confide.websocket.send_many"

# Acts on one received text frame (its UTF-8 bytes); False: "queue it, and all after it".
Sink = Callable[[bytes], bool]

CONNECTING, OPEN, CLOSING, CLOSED = range(4)
QUEUE_HIGH = 8  # frames queued for ``receive`` before reading pauses (TCP pushes back)
CLOSE_TIMEOUT = 10.0  # seconds to wait for the peer's close frame after sending ours


class WebSocketClosed(OSError):
    """``send`` on a connection that is closed or closing (ASGI asks for an OSError)."""


class RelayWebSocketProtocol(asyncio.Protocol):
    # One object per connection, and thousands may sit idle: no per-instance dict.
    __slots__ = (
        "_app",
        "_app_state",
        "_connections",
        "_disconnect_queued",
        "_head",
        "_loop",
        "_ping_interval",
        "_ping_payload",
        "_ping_timeout",
        "_queue",
        "_read_paused",
        "_reader",
        "_request",
        "_root_path",
        "_sink",
        "_state",
        "_tasks",
        "_timer",
        "_transport",
        "_waiter",
        "_write_paused",
    )

    def __init__(self, config: Any, server_state: Any, app_state: dict[str, Any]) -> None:
        self._loop = asyncio.get_running_loop()
        self._app = config.loaded_app
        self._root_path: str = config.root_path
        self._ping_interval: float | None = config.ws_ping_interval
        self._ping_timeout: float | None = config.ws_ping_timeout
        self._connections: set[Any] = server_state.connections
        self._tasks: set[asyncio.Task[None]] = server_state.tasks
        self._app_state = app_state
        self._reader = FrameReader(
            config.ws_max_size, self._on_text, self._on_control, self._on_close
        )
        self._transport: asyncio.Transport | None = None
        self._head = bytearray()
        self._request: handshake.Request | None = None
        self._state = CONNECTING
        self._queue: deque[dict[str, Any]] = deque()
        self._waiter: asyncio.Future[None] | None = None
        self._read_paused = False
        self._write_paused: asyncio.Future[None] | None = None
        self._sink: Sink | None = None
        self._disconnect_queued = False
        self._timer: asyncio.TimerHandle | None = None
        self._ping_payload: bytes | None = None

    # asyncio.Protocol

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports implement asyncio.Transport without subclassing it.
        self._transport = cast(asyncio.Transport, transport)
        self._connections.add(self)

    def data_received(self, data: bytes) -> None:
        if self._state == CLOSED:
            return
        if self._request is None:
            data = self._read_head(data)
            if not data or self._state == CLOSED:
                return
        try:
            self._reader.feed(data)
        except Refused as refused:
            self._fail(refused.code, refused.reason)

    def connection_lost(self, exc: Exception | None) -> None:
        self._state = CLOSED
        self._cancel_timer()
        self._connections.discard(self)
        self._disconnected(1006, "")
        if self._write_paused is not None and not self._write_paused.done():
            self._write_paused.set_result(None)  # a paused transport never resumes once lost

    def pause_writing(self) -> None:
        if self._write_paused is None or self._write_paused.done():
            self._write_paused = self._loop.create_future()

    def resume_writing(self) -> None:
        if self._write_paused is not None and not self._write_paused.done():
            self._write_paused.set_result(None)
        self._write_paused = None

    def shutdown(self) -> None:
        """uvicorn is stopping: close an open connection with 1012 ("restarting")."""
        if self._state == OPEN:
            self._send_close(1012, "relay restarting")
            self._disconnected(1012, "relay restarting")
        assert self._transport is not None
        self._transport.close()

    # The opening handshake.

    def _read_head(self, data: bytes) -> bytes:
        """Collect the request head; parse it once whole. Returns the bytes after it."""
        self._head += data
        end = self._head.find(b"\r\n\r\n")
        if end > handshake.MAX_HEAD or (end < 0 and len(self._head) > handshake.MAX_HEAD):
            self._refuse(handshake.HandshakeError(431, "request head too large"))
            return b""
        if end < 0:
            return b""
        head, rest = bytes(self._head[:end]), bytes(self._head[end + 4 :])
        self._head = bytearray()
        try:
            self._request = handshake.parse_request(head)
        except handshake.HandshakeError as exc:
            self._refuse(exc)
            return b""
        self._start_app(self._request)
        return rest

    def _refuse(self, exc: handshake.HandshakeError) -> None:
        assert self._transport is not None
        self._state = CLOSED
        self._transport.write(handshake.refusal(exc))
        self._transport.close()

    def _start_app(self, request: handshake.Request) -> None:
        assert self._transport is not None
        transport = self._transport
        scope = {
            "type": "websocket",
            "asgi": {"version": "3.0", "spec_version": "2.4"},
            "http_version": "1.1",
            "scheme": "wss" if transport.get_extra_info("sslcontext") else "ws",
            "server": _address(transport.get_extra_info("sockname")),
            "client": _address(transport.get_extra_info("peername")),
            "root_path": self._root_path,
            "path": self._root_path + request.path,
            "raw_path": self._root_path.encode() + request.raw_path,
            "query_string": request.query_string,
            "headers": request.headers,
            "subprotocols": request.subprotocols,
            "state": self._app_state.copy(),
            "extensions": {SEND_MANY: {"write_now": self.write_now, "go_direct": self.go_direct}},
        }
        self._queue.append({"type": "websocket.connect"})
        task = self._loop.create_task(self._run_app(scope))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _run_app(self, scope: dict[str, Any]) -> None:
        try:
            await self._app(scope, self.receive, self.send)
        except WebSocketClosed:
            pass
        except Exception:
            log.exception("the WebSocket application failed")
            if self._state == OPEN:
                self._send_close(1011, "internal error")
            elif self._state == CONNECTING:
                self._respond(500, RelayError())
        if self._state == CONNECTING:
            self._respond(500, RelayError("the application neither accepted nor refused"))
        elif self._state == OPEN:
            self._send_close(1000, "")
        if self._timer is None and self._transport is not None:
            self._transport.close()

    def _respond(self, status: int, error: RelayError) -> None:
        """Answer the handshake with an HTTP error (the application refused, or failed)."""
        assert self._transport is not None
        self._state = CLOSED
        self._disconnected(1006, "")
        self._transport.write(handshake.problem_response(status, error))
        self._transport.close()

    # Frames from the reader.

    def _on_text(self, payload: bytes) -> None:
        if self._state == CLOSING:
            return  # read only to find the peer's close frame
        sink = self._sink
        if sink is not None:
            if sink(payload):
                return
            self._sink = None  # this frame and all after it wait in the queue, in order
        self._enqueue({"type": "websocket.receive", "text": payload.decode()})

    def _on_control(self, opcode: int, payload: bytes) -> None:
        if opcode == OP_PING and self._state != CLOSING:
            self._write(server_frame(OP_PONG, payload))
        elif payload == self._ping_payload:  # the pong of our keepalive ping
            self._ping_payload = None
            self._cancel_timer()
            self._schedule_ping()

    def _on_close(self, code: int, reason: str) -> None:
        assert self._transport is not None
        if self._state == OPEN:
            self._write(close_frame(code))  # the closing handshake: echo the code (§5.5.1)
        self._state = CLOSING
        self._disconnected(code, reason)
        self._cancel_timer()
        self._transport.close()

    def _fail(self, code: int, reason: str) -> None:
        """Fail the connection (RFC 6455 §7.1.7): say why, and close at once."""
        assert self._transport is not None
        if self._state == OPEN:
            self._send_close(code, reason)
        self._state = CLOSING
        self._disconnected(code, reason)
        self._cancel_timer()
        self._transport.close()

    # ASGI receive, and the direct path.

    def _enqueue(self, message: dict[str, Any]) -> None:
        self._queue.append(message)
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)
        if len(self._queue) >= QUEUE_HIGH and not self._read_paused and self._transport:
            self._read_paused = True
            self._transport.pause_reading()

    def _disconnected(self, code: int, reason: str) -> None:
        if not self._disconnect_queued:
            self._disconnect_queued = True
            self._sink = None
            self._enqueue({"type": "websocket.disconnect", "code": code, "reason": reason})

    async def receive(self) -> dict[str, Any]:
        while not self._queue:
            self._waiter = self._loop.create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        message = self._queue.popleft()
        if message["type"] == "websocket.disconnect":
            self._queue.append(message)  # every later call gets it too
        elif self._read_paused and len(self._queue) < QUEUE_HIGH // 2:
            self._resume_reading()
        return message

    def _resume_reading(self) -> None:
        if self._read_paused and self._transport is not None and self._state < CLOSED:
            self._read_paused = False
            self._transport.resume_reading()

    def go_direct(self, sink: Sink) -> bool:
        """Pass text frames to ``sink`` from now on, if nothing is left in the queue."""
        if self._queue or self._state != OPEN:
            return False
        self._sink = sink
        self._resume_reading()
        return True

    # ASGI send, and writing.

    def write_now(self, texts: list[str]) -> bool:
        """Frame and write ``texts`` if that needs no waiting; False if nothing was written."""
        if self._state != OPEN or self._write_paused is not None:
            return False
        self._write(text_frames(texts))
        return True

    async def send(self, message: dict[str, Any]) -> None:
        if self._write_paused is not None:
            await self._write_paused
        kind = message["type"]
        if self._state == CONNECTING:
            self._send_handshake(message)
        elif self._state != OPEN:
            if kind == "websocket.close":
                return  # already closing, or closed: nothing more to say
            raise WebSocketClosed("the WebSocket is closed")
        elif kind == SEND_MANY:
            self._write(text_frames(message["texts"]))
        elif kind == "websocket.send":
            text = message.get("text")
            if text is not None:
                self._write(text_frames([text]))
            else:
                self._write(server_frame(OP_BINARY, message.get("bytes") or b""))
        elif kind == "websocket.close":
            reason = message.get("reason") or ""
            code = message.get("code") or 1000
            self._send_close(code, reason)
            self._disconnected(code, reason)
        else:
            raise RuntimeError(f"unexpected ASGI message {kind!r} on an open WebSocket")

    def _send_handshake(self, message: dict[str, Any]) -> None:
        kind = message["type"]
        if kind == "websocket.accept":
            assert self._request is not None and self._transport is not None
            headers = list(message.get("headers") or [])
            self._transport.write(
                handshake.accept_response(self._request, message.get("subprotocol"), headers)
            )
            self._state = OPEN
            self._schedule_ping()
        elif kind == "websocket.close":
            # Closing before accepting refuses the handshake with 403 (ASGI spec).
            self._respond(403, Forbidden("the WebSocket was refused"))
        else:
            raise RuntimeError(f"expected websocket.accept or websocket.close, not {kind!r}")

    def _write(self, data: bytes) -> None:
        assert self._transport is not None
        self._transport.write(data)

    def _send_close(self, code: int, reason: str) -> None:
        """Start the closing handshake; the peer's close frame, or a timeout, ends it."""
        self._write(close_frame(code, reason))
        self._state = CLOSING
        self._resume_reading()  # read on, for the peer's answering close frame
        self._cancel_timer()
        assert self._transport is not None
        self._timer = self._loop.call_later(CLOSE_TIMEOUT, self._transport.close)

    # Keepalive pings (uvicorn's ws_ping_interval and ws_ping_timeout).

    def _schedule_ping(self) -> None:
        if self._ping_interval and self._state == OPEN:
            self._timer = self._loop.call_later(self._ping_interval, self._ping)

    def _ping(self) -> None:
        self._timer = None
        if self._state != OPEN:
            return
        self._ping_payload = os.urandom(4)
        self._write(server_frame(OP_PING, self._ping_payload))
        if self._ping_timeout:
            self._timer = self._loop.call_later(self._ping_timeout, self._ping_timed_out)
        else:
            self._schedule_ping()

    def _ping_timed_out(self) -> None:
        self._timer = None
        self._fail(1011, "keepalive ping timeout")

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None


def uvicorn_ws(transport: str) -> type[asyncio.Protocol] | str:
    """What ``confide serve`` hands to uvicorn's ``ws=`` for ``CONFIDE_WS_TRANSPORT``."""
    return RelayWebSocketProtocol if transport == "relay" else "websockets-sansio"


def _address(value: Any) -> tuple[str, int] | None:
    if isinstance(value, tuple) and len(value) >= 2:
        return str(value[0]), int(value[1])
    return None
