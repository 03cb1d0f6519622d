"""The socket adapter: moves frames between one WebSocket and the relay, and nothing else.

Parsing lives in ws/frames.py and flow control in ws/window.py. Under ``confide serve`` the
protocol hands each received text frame straight to ``_on_frame`` (ws/protocol.py), which
acts on it at once; a frame it must await (``auth``), one it cannot understand, or any frame
while the connection has no room for more work goes through the reader task instead, in
order, and the reader hands the protocol back to ``_on_frame`` once it has caught up. A
second task, the sender, writes queued frames and, when the window has room and the queue
may hold more, reads the mailbox's queue from the database. While the sender is idle,
frames queued by a commit's answers are written by the relay's outbox (ws/outbox.py)
instead of waking it. Reading from the socket pauses while too many answers wait to be
written, so a client that sends without reading is slowed by TCP instead of growing our
memory.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque

from confide_server.cutoff import NOTICE_KIND
from confide_server.errors import (
    InvalidInput,
    RelayError,
    Revoked,
    TooLarge,
    Unauthenticated,
    Unavailable,
)
from confide_server.relay import Relay
from confide_server.services import auth
from confide_server.store import queue
from confide_server.store.batch import SendResult
from confide_server.ws import frames
from confide_server.ws.socket import RawSocket
from confide_server.ws.window import DeliveryWindow

log = logging.getLogger(__name__)

MAX_PENDING_FRAMES = 1024
MAX_UNANSWERED_SENDS = 1024
MAX_BAD_FRAMES = 20


class Connection:
    def __init__(self, socket: RawSocket, relay: Relay) -> None:
        self._socket = socket
        self._relay = relay
        self._settings = relay.settings
        self._max_frame = relay.settings.max_frame_bytes
        self._max_envelope = relay.settings.max_envelope_bytes
        self._window = DeliveryWindow(
            relay.settings.delivery_window, relay.settings.delivery_window_bytes
        )
        self._out: deque[str] = deque()
        self._outbox = relay.outbox
        self._idle = False  # the sender waits for a wake-up and writes nothing
        self._flush_due = False  # the outbox will write self._out
        self._wake = asyncio.Event()
        self._room = asyncio.Event()
        self._room.set()
        self._unanswered = 0
        self._send_room = asyncio.Event()
        self._send_room.set()
        self._principal: auth.Principal | None = None
        self._token_key: bytes | None = None
        self._closed = False
        self._bad_frames = 0
        self._close_code = 1000
        self._close_reason = ""
        self._close_sent = False
        self._closing: asyncio.Task[None] | None = None
        self._auth_timeout = relay.settings.ws_auth_timeout_seconds
        self._auth_timer: asyncio.TimerHandle | None = None
        self._last_accepted = 0.0  # loop time of the last send accepted before auth

    # Sink, called by fan-out.
    def offer(self, envelope_id: bytes, body: bytes) -> None:
        if self._window.offer(envelope_id, len(body)):
            self._push(frames.envelope(envelope_id, body))
            self._relay.metrics.delivered.inc()
        else:
            self._wake.set()

    def notice(self, payload: dict[str, object]) -> None:
        if payload.get("kind") == NOTICE_KIND:
            self._cut_off()
            return
        self._push(frames.notice(payload))

    def _cut_off(self) -> None:
        """The device was revoked or its worker disabled (cutoff.py): close now, with 4408."""
        self._end(Revoked("this device was revoked or its worker disabled"))

    def _auth_deadline(self) -> None:
        """No ``auth`` yet: close with 4401, unless a send was accepted within the timeout.

        A sealed-sender client need not authenticate, but it sends envelopes with a valid
        capability; a socket that only answers pings holds memory and a descriptor for no
        one, and is closed (issue: unauthenticated sockets that answer pings).
        """
        self._auth_timer = None
        if self._closed or self._principal is not None:
            return
        loop = asyncio.get_running_loop()
        left = self._last_accepted + self._auth_timeout - loop.time()
        if left > 0:
            self._auth_timer = loop.call_later(left, self._auth_deadline)
            return
        self._end(Unauthenticated(f"authenticate within {self._auth_timeout:g} s of connecting"))

    def _end(self, failure: RelayError) -> None:
        """Say why and close now, from the loop.

        The read loop may be waiting on a client that sends nothing, so the close is sent
        from a task of its own; the client's answer then ends the read loop.
        """
        if self._closed:
            return
        self._push(frames.error(None, failure))
        self._fail(failure)
        self._closed = True
        self._wake.set()
        task = asyncio.get_running_loop().create_task(self._close_now())
        self._closing = task  # keeps a reference until it is done

    def poke(self) -> None:
        self._window.mark_dirty()
        self._wake.set()

    def _push(self, frame: str) -> None:
        self._out.append(frame)
        if not self._idle:
            self._wake.set()
        elif not self._flush_due:
            self._flush_due = True
            self._outbox.later(self._flush_now)
        if len(self._out) >= MAX_PENDING_FRAMES:
            self._room.clear()

    def _flush_now(self) -> None:
        """From the outbox: write what is queued if the socket takes it at once, else wake
        the sender, which waits until it can."""
        self._flush_due = False
        if not self._out or self._closed:
            return
        if self._idle and self._socket.write_now(list(self._out)):
            self._take_out()
            if self._window.want() <= 0:
                return
        self._wake.set()  # the sender writes, or reads the queue into the window

    async def run(self) -> None:
        await self._socket.accept()
        self._relay.metrics.connections.inc()
        loop = asyncio.get_running_loop()
        self._auth_timer = loop.call_later(self._auth_timeout, self._auth_deadline)
        sender = asyncio.create_task(self._send_loop())
        try:
            await self._read_loop()
        except OSError:
            self._close_code = 1000  # the client went away while we waited to write
        finally:
            self._closed = True
            self._wake.set()
            if self._auth_timer is not None:
                self._auth_timer.cancel()
            sender.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await sender
            self._detach()
            self._relay.metrics.connections.dec()
        if self._close_code != 1000:
            await self._close_now()

    async def _close_now(self) -> None:
        if self._close_sent:
            return
        self._close_sent = True
        # Say why before closing (the error frames explain the close code), but never wait
        # long on a client that does not read.
        with contextlib.suppress(Exception):
            async with asyncio.timeout(2):
                await self._flush()
        with contextlib.suppress(Exception):
            await self._socket.close(self._close_code, self._close_reason)

    def _detach(self) -> None:
        if self._principal is not None:
            self._relay.fanout.unregister(self._principal.mailbox_id, self)
        if self._token_key is not None:
            self._relay.close_connection(self._token_key)

    async def _read_loop(self) -> None:
        """Frames the protocol could not pass to ``_on_frame``, then that again (see there)."""
        while not self._closed:
            if not self._room.is_set():
                await self._room.wait()
            if not self._send_room.is_set():
                await self._send_room.wait()
            if self._closed:
                return  # woken by the sender's end, not by room (see ``_send_loop``)
            self._socket.go_direct(self._on_frame)
            message = await self._socket.receive()
            if message["type"] == "websocket.disconnect" or self._closed:
                return
            data = message.get("text")
            if data is None:
                data = message.get("bytes") or b""
            if not await self._handle(data):
                return

    def _on_frame(self, data: bytes) -> bool:
        """One text frame, straight from the protocol (ws/protocol.py): True if acted on.

        False leaves the frame, and every one after it, to ``_read_loop``: a frame that
        needs awaiting (``auth``), one that is not understood (the read loop answers it and
        counts it), or any frame while this connection has no room for more work.
        """
        if self._closed or not self._room.is_set() or not self._send_room.is_set():
            return False
        try:
            frame = self._parse(data)
        except InvalidInput:
            return False
        if isinstance(frame, frames.AuthFrame):
            return False
        try:
            self._act(frame)
        except Exception:
            # Never into the protocol's data_received: end the connection as the read loop
            # would have, with the frame (already acted on, in part) not acted on again.
            log.exception("acting on a frame failed")
            self._closed = True
            self._close_code, self._close_reason = 1011, "internal error"
            return False
        return True

    async def _handle(self, data: str | bytes) -> bool:
        """Act on one frame; False ends the connection."""
        try:
            frame = self._parse(data)
        except TooLarge as exc:
            return self._fail(exc)
        except frames.FrameError as exc:
            self._bad_frames += 1
            self._push(frames.error(exc.ref, exc))
            if self._bad_frames > MAX_BAD_FRAMES:
                return self._fail(InvalidInput("too many invalid frames"))
            return True
        if isinstance(frame, frames.AuthFrame):
            return await self._authenticate(frame)
        self._act(frame)
        return True

    def _parse(self, data: str | bytes) -> frames.ClientFrame:
        return frames.parse(
            data, max_frame_bytes=self._max_frame, max_envelope_bytes=self._max_envelope
        )

    def _act(self, frame: frames.SendFrame | frames.AckFrame | frames.PingFrame) -> None:
        if isinstance(frame, frames.SendFrame):
            self._send(frame)
        elif isinstance(frame, frames.AckFrame):
            self._ack(frame)
        else:
            self._push(frames.pong(frame.ref))

    def _fail(self, exc: RelayError) -> bool:
        self._close_code, self._close_reason = exc.close_code, exc.detail[:120]
        return False

    def _send(self, frame: frames.SendFrame) -> None:
        ref = frame.ref
        self._unanswered += 1
        if self._unanswered >= MAX_UNANSWERED_SENDS:
            self._send_room.clear()

        def answer(outcome: SendResult | RelayError) -> None:
            self._unanswered -= 1
            self._send_room.set()
            if self._closed:
                return
            if isinstance(outcome, SendResult):
                if self._principal is None:
                    self._last_accepted = asyncio.get_running_loop().time()
                if outcome.duplicate:
                    self._relay.metrics.duplicates.inc()
                self._push(frames.accepted(ref, outcome.envelope_id, outcome.duplicate))
            else:
                self._relay.metrics.rejected.labels(outcome.slug).inc()
                self._push(frames.error(ref, outcome))

        self._relay.submit_send(
            frame.mailbox_id,
            frame.capability,
            frame.client_message_id,
            frame.body,
            frame.ttl,
            answer,
        )

    def _ack(self, frame: frames.AckFrame) -> None:
        if self._principal is None:
            self._push(frames.error(None, Unauthenticated("authenticate before acking")))
            return
        self._window.acked(frame.ids)
        self._relay.metrics.acked.inc(len(frame.ids))
        ref, ids = frame.ref, frame.ids

        def answer(failure: RelayError | None) -> None:
            self._window.ack_committed(ids)
            if self._closed or ref is None:
                return
            self._push(frames.acked(ref) if failure is None else frames.error(ref, failure))

        self._relay.writer.submit_ack(self._principal.mailbox_id, ids, answer)
        if self._window.want() > 0:
            self._wake.set()  # room in the window for envelopes waiting in the queue

    async def _authenticate(self, frame: frames.AuthFrame) -> bool:
        if self._principal is not None:
            self._push(frames.error(None, InvalidInput("already authenticated")))
            return True
        try:
            async with self._relay.reader.connect() as conn:
                principal = await auth.authenticate(conn, frame.token, self._relay.clock())
            self._token_key = self._relay.open_connection(frame.token)
        except RelayError as exc:
            self._push(frames.error(None, exc))
            return self._fail(exc)
        except Exception:
            log.warning("authenticating a connection failed on storage")
            failure = Unavailable("storage is unavailable; reconnect later")
            self._push(frames.error(None, failure))
            return self._fail(failure)
        self._principal = principal
        if self._auth_timer is not None:
            self._auth_timer.cancel()
            self._auth_timer = None
        self._relay.fanout.register(principal.mailbox_id, self)
        self._push(frames.ready(principal.device_id, principal.mailbox_id))
        self._window.mark_dirty()
        return True

    def _take_out(self) -> list[str]:
        """Everything queued, removed from the queue; the reader may go on."""
        texts = list(self._out)
        self._out.clear()
        self._room.set()
        return texts

    async def _flush(self) -> None:
        await self._socket.send_texts(self._take_out())

    async def _send_loop(self) -> None:
        """Write, read the queue, or sleep, until the connection ends; then wake the reader.

        The read loop may be waiting for room that only this task makes (a client that
        stopped reading): when writing fails because the client is gone, or this task fails
        at all, the read loop must still end, or the connection is never cleaned up.
        """
        try:
            await self._sending()
        except OSError:
            pass  # the client went away while we waited to write
        except Exception:
            log.exception("writing to a connection failed")
            if not self._closed:
                self._close_code, self._close_reason = 1011, "internal error"
        finally:
            self._sender_done()

    def _sender_done(self) -> None:
        if not self._closed:
            self._closed = True
            # The read loop may wait in ``receive`` on a client that is still there: close.
            self._closing = asyncio.get_running_loop().create_task(self._close_now())
        self._room.set()
        self._send_room.set()

    async def _sending(self) -> None:
        while not self._closed:
            if self._out:
                # Everything queued goes out together: one write for a whole group commit's
                # answers to this connection.
                await self._socket.send_texts(self._take_out())
                continue
            if self._principal is not None and self._window.want() > 0:
                await self._read_queue(self._principal.mailbox_id)
                continue
            self._wake.clear()
            self._idle = True
            try:
                await self._wake.wait()
            finally:
                self._idle = False

    async def _read_queue(self, mailbox_id: bytes) -> None:
        plan = self._window.read_plan()
        if plan is None:
            return
        try:
            rows = await queue.pending(
                self._relay.reader, mailbox_id, plan.limit, int(self._relay.clock()), plan.after_seq
            )
        except Exception:
            log.warning("reading a queue failed; will retry")
            await asyncio.sleep(1.0)
            return
        last_seq, stopped = 0, False
        for seq, envelope_id, body in rows:
            if self._window.room() <= 0:
                stopped = True  # the byte budget ran out; the cursor stays before this row
                break
            if self._window.from_queue(envelope_id, len(body)):
                self._out.append(frames.envelope(envelope_id, body))
                self._relay.metrics.delivered.inc()
            last_seq = seq
        self._window.read_done(plan, plan.limit if stopped else len(rows), last_seq)
