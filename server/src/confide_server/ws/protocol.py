"""uvicorn's sans-io WebSocket protocol with two additions: several text frames in one write,
and text frames handed straight to the application.

A group commit answers many sends at once, so a connection often has several frames queued
(``accepted`` for each of a sender's envelopes, ``envelope`` and ``acked`` for a
recipient). Through plain ASGI each frame is one ``websocket.send`` message and one system
call; this protocol advertises the ASGI extension ``confide.websocket.send_many`` and
answers a message of that type, ``{"type": "confide.websocket.send_many", "texts": [...]}``,
by framing every text and writing them with one call. The extension's entry in the scope
also holds ``write_now(texts) -> bool``, the same without waiting: it writes only if the
connection is open and its transport is not paused, and says whether it did, so that
ws/outbox.py can write from the event loop without a task of its own. ``confide serve``
runs uvicorn with this class; under any other server the relay sends frame by frame
(ws/socket.py).

The same entry holds ``go_direct(sink) -> bool``, for the other direction. Through plain
ASGI every received frame is put on a queue, reading from the socket is paused until the
application's task wakes up and takes it, and then resumed: a queue, a task switch and two
changes to the loop's poller per frame, which cost more than acting on most frames. After
``go_direct(sink)`` each text frame is instead passed to ``sink(data)`` as it is parsed, on
the event loop, and reading is not paused. The sink returns True if it acted on the frame;
False means "not now" (a frame it must await, or no room for more work): the frame, and
every frame after it, then goes through the queue as before, until the application calls
``go_direct`` again, which it may only do once it has taken everything queued (the call
returns False otherwise), so frames are always handled in the order they came. Binary
frames always go through the queue. ``websocket.disconnect`` still comes from ``receive``.

While frames go to a sink, bytes that start with whole, final, masked text frames are read
by ws/framing.py, and the general parser only sees what follows the last of them (control
frames, fragments, binary or oversized frames, a frame cut in two by TCP, or the frame the
sink refused); that is done only when the general parser holds no partial frame or message,
so every byte is read by exactly one of the two, in order. Frames sent are framed by
ws/framing.py too.

It relies on the attributes of uvicorn's ``WebSocketsSansIOProtocol`` (``conn``,
``transport``, ``writable``, ``frames``) and of websockets' sans-io ``Protocol`` (``state``,
``reader.buffer``, ``current_size``, ``max_message_size``), which the pinned versions have;
tests/server/test_protocol.py runs it through a real uvicorn, and tests/server/
test_framing.py checks ws/framing.py against websockets' own parser and serializer.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from uvicorn.protocols.utils import ClientDisconnected
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.http11 import Request
from websockets.protocol import State

from confide_server.ws.framing import take_text_frames, text_frames

SEND_MANY = "confide.websocket.send_many"

# Acts on one received text frame (its UTF-8 bytes, not yet checked); False: "queue it".
Sink = Callable[[bytes], bool]


class BatchingWebSocketProtocol(WebSocketsSansIOProtocol):
    _sink: Sink | None = None
    _max_text = 0  # the largest payload ws/framing.py may read; set with the sink

    def handle_connect(self, event: Request) -> None:
        super().handle_connect(event)
        scope = getattr(self, "scope", None)
        if scope is not None:
            scope["extensions"][SEND_MANY] = {
                "write_now": self.write_now,
                "go_direct": self.go_direct,
            }

    def go_direct(self, sink: Sink) -> bool:
        """Pass text frames to ``sink`` from now on, if nothing is left in the queue."""
        if not self.queue.empty() or self.close_sent or self.disconnected:
            return False
        self._sink = sink
        limit = self.conn.max_message_size
        self._max_text = (1 << 62) if limit is None else limit
        if self.read_paused:
            self.read_paused = False
            self.transport.resume_reading()
        return True

    def data_received(self, data: bytes) -> None:
        if self._sink is not None and self._at_frame_boundary():
            taken = take_text_frames(data, self._max_text, self._take)
            if taken == len(data):
                return
            data = data[taken:]
        super().data_received(data)

    def _at_frame_boundary(self) -> bool:
        """Whether the general parser holds no part of a frame or message (so that the
        next bytes start a frame, which ``take_text_frames`` may read instead)."""
        conn = self.conn
        return (
            conn.state is State.OPEN
            and not conn.reader.buffer
            and conn.current_size is None
            and not self.frames
            and not self.close_sent
        )

    def _take(self, data: bytes) -> bool:
        sink = self._sink
        if sink is not None and sink(data):
            return True
        self._sink = None  # this frame and all after it wait in the queue, in order
        return False

    def send_receive_event_to_app(self) -> None:
        if self._sink is not None:
            if self.curr_msg_data_type == "text" and not self.close_sent:
                data = self.frames[0] if len(self.frames) == 1 else b"".join(self.frames)
                if self._take(data):
                    self.frames = []
                    return
            self._sink = None  # this frame and all after it wait in the queue, in order
        super().send_receive_event_to_app()

    def write_now(self, texts: list[str]) -> bool:
        """Frame and write ``texts`` if that needs no waiting; False if nothing was written."""
        if not self.writable.is_set() or self.disconnected or not self._accepted():
            return False
        return self._write(texts)

    async def send(self, message: Any) -> None:
        if message["type"] != SEND_MANY:
            await super().send(message)
            return
        await self.writable.wait()
        if self.disconnected:
            raise ClientDisconnected()
        if not self._accepted():
            raise RuntimeError(f"{SEND_MANY} is for an open, accepted WebSocket")
        if not self._write(message["texts"]):
            raise ClientDisconnected()

    def _accepted(self) -> bool:
        return self.handshake_complete and not self.close_sent and self.initial_response is None

    def _write(self, texts: list[str]) -> bool:
        """Frame ``texts`` and write them in one call; False if the connection is not open."""
        if self.conn.state is not State.OPEN:
            return False
        self.transport.write(text_frames(texts))
        return True
