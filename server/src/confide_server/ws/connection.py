"""The socket adapter: runs one connection's session (ws/session.py) over one WebSocket.

The session decides; this module only moves bytes and waits. It feeds the session the
frames the socket receives, does what the session asks through the relay's one door to
mailboxes (mailboxes.py: submit a send or an ack, authenticate, read the queue), and writes
the frames the session queues. Everything runs on the event loop:

- Under ``confide serve`` the protocol hands each received text frame straight to
  ``_on_frame`` (ws/protocol.py), which acts on it at once. A frame it must await
  (``auth``), one it cannot understand, or any frame while the session is paused goes
  through the read loop instead, in order, and the read loop hands the protocol back to
  ``_on_frame`` once it has caught up.
- A second task, the sender, writes queued frames and, when the window has room and the
  queue may hold more, reads the mailbox's queue. While it is idle, frames queued by a
  commit's answers are written by the outbox (ws/outbox.py) instead of waking it.
- When either loop ends, the other is woken, so the connection is always cleaned up: a
  client that stopped reading and then vanished leaves nothing behind.

An unauthenticated connection has ``auth_timeout`` seconds to authenticate, renewed while
envelopes it sends are accepted (docs/protocol.md).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass

from confide_server.errors import InvalidInput, RelayError, Unauthenticated, Unavailable
from confide_server.mailboxes import Mailboxes
from confide_server.metrics import Metrics
from confide_server.settings import Settings
from confide_server.store.batch import SendResult
from confide_server.ws import frames
from confide_server.ws.outbox import Outbox
from confide_server.ws.session import Limits, Session
from confide_server.ws.socket import RawSocket

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Context:
    """What every connection of one relay shares: built once, by create_app."""

    mailboxes: Mailboxes
    metrics: Metrics
    outbox: Outbox
    limits: Limits
    auth_timeout: float

    @classmethod
    def build(cls, settings: Settings, mailboxes: Mailboxes, metrics: Metrics) -> Context:
        limits = Limits(
            max_frame_bytes=settings.max_frame_bytes,
            max_envelope_bytes=settings.max_envelope_bytes,
            delivery_window=settings.delivery_window,
            delivery_window_bytes=settings.delivery_window_bytes,
        )
        return cls(mailboxes, metrics, Outbox(), limits, settings.ws_auth_timeout_seconds)


class Connection:
    def __init__(self, socket: RawSocket, context: Context) -> None:
        self._socket = socket
        self._mailboxes = context.mailboxes
        self._metrics = context.metrics
        self._outbox = context.outbox
        self._auth_timeout = context.auth_timeout
        self._session = Session(context.limits, context.metrics)
        self._idle = False  # the sender waits for a wake-up and writes nothing
        self._flush_due = False  # the outbox will write the session's frames
        self._wake = asyncio.Event()
        self._room = asyncio.Event()  # set when the session may have stopped being paused
        self._token_key: bytes | None = None
        self._closed = False
        self._close_sent = False
        self._closing: asyncio.Task[None] | None = None
        self._auth_timer: asyncio.TimerHandle | None = None

    # Sink, called by fan-out.

    def offer(self, envelope_id: bytes, body: bytes) -> None:
        if self._session.offer(envelope_id, body):
            self._pushed()
        else:
            self._wake.set()

    def notice(self, payload: dict[str, object]) -> None:
        self._session.notice(payload)
        self._after_session()

    def poke(self) -> None:
        self._session.window.mark_dirty()
        self._wake.set()

    # Writing what the session queued.

    def _pushed(self) -> None:
        if not self._idle:
            self._wake.set()
        elif not self._flush_due:
            self._flush_due = True
            self._outbox.later(self._flush_now)

    def _flush_now(self) -> None:
        """From the outbox: write what is queued if the socket takes it at once, else wake
        the sender, which waits until it can."""
        self._flush_due = False
        session = self._session
        if not session.out or self._closed:
            return
        if self._idle and self._socket.write_now(list(session.out)):
            self._take_out()
            if not session.wants_queue:
                return
        self._wake.set()  # the sender writes, or reads the queue into the window

    def _take_out(self) -> list[str]:
        texts = self._session.take_out()
        self._room.set()
        return texts

    def _after_session(self) -> None:
        """After the session took an event: write what it queued, or close if it ended."""
        if self._session.ended and not self._closed:
            self._closed = True
            self._wake.set()
            self._room.set()
            self._closing = asyncio.get_running_loop().create_task(self._close_now())
        elif self._session.out:
            self._pushed()

    # The connection's life.

    async def run(self) -> None:
        await self._socket.accept()
        self._metrics.connections.inc()
        loop = asyncio.get_running_loop()
        self._auth_timer = loop.call_later(self._auth_timeout, self._auth_deadline)
        sender = asyncio.create_task(self._send_loop())
        try:
            await self._read_loop()
        except OSError:
            self._session.close_code = 1000  # the client went away while we waited to write
        finally:
            self._closed = True
            self._wake.set()
            if self._auth_timer is not None:
                self._auth_timer.cancel()
            sender.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await sender
            self._detach()
            self._metrics.connections.dec()
        if self._session.close_code != 1000:
            await self._close_now()

    async def _close_now(self) -> None:
        if self._close_sent:
            return
        self._close_sent = True
        # Say why before closing (the error frames explain the close code), but never wait
        # long on a client that does not read.
        with contextlib.suppress(Exception):
            async with asyncio.timeout(2):
                await self._socket.send_texts(self._take_out())
        with contextlib.suppress(Exception):
            await self._socket.close(self._session.close_code, self._session.close_reason)

    def _detach(self) -> None:
        if self._session.principal is not None:
            self._mailboxes.unregister(self._session.mailbox_id, self)
        if self._token_key is not None:
            self._mailboxes.close_connection(self._token_key)

    def _auth_deadline(self) -> None:
        """No ``auth`` yet: close with 4401, unless a send was accepted since the last check.

        A sealed-sender client need not authenticate, but its sends carry a valid
        capability; a socket that only answers pings holds memory and a descriptor for no
        one. So a connection is closed once a whole ``auth_timeout`` passed with neither.
        """
        self._auth_timer = None
        if self._closed or self._session.principal is not None:
            return
        if self._session.sent_since_asked():
            loop = asyncio.get_running_loop()
            self._auth_timer = loop.call_later(self._auth_timeout, self._auth_deadline)
            return
        self._session.end(
            Unauthenticated(f"authenticate within {self._auth_timeout:g} s of connecting")
        )
        self._after_session()

    # Reading.

    async def _read_loop(self) -> None:
        """Frames the protocol could not pass to ``_on_frame``, then that again (see there)."""
        session = self._session
        while not self._closed:
            while session.paused and not self._closed:
                self._room.clear()
                await self._room.wait()
            if self._closed:
                return  # woken by the sender's end, not by room (see ``_send_loop``)
            self._socket.go_direct(self._on_frame)
            message = await self._socket.receive()
            if message["type"] == "websocket.disconnect" or self._closed:
                return
            data = message.get("text")
            if data is None:
                data = message.get("bytes") or b""
            action = session.receive(data)
            if isinstance(action, frames.AuthFrame):
                await self._authenticate(action)
            elif action is not None:
                self._submit(action)
            if session.ended:
                return
            if session.out:
                self._pushed()

    def _on_frame(self, data: bytes) -> bool:
        """One text frame, straight from the protocol (ws/protocol.py): True if acted on.

        False leaves the frame, and every one after it, to ``_read_loop``: a frame that
        needs awaiting (``auth``), one that is not understood (the read loop answers it and
        counts it), or any frame while the session is paused.
        """
        session = self._session
        if self._closed or session.paused:
            return False
        try:
            frame = session.parse(data)
        except InvalidInput:
            return False
        if isinstance(frame, frames.AuthFrame):
            return False
        try:
            action = session.act(frame)
            if action is not None:
                self._submit(action)
        except Exception:
            # Never into the protocol's data_received: end the connection as the read loop
            # would have, with the frame (already acted on, in part) not acted on again.
            log.exception("acting on a frame failed")
            self._closed = True
            session.close_code, session.close_reason = 1011, "internal error"
            return False
        if session.out:
            self._pushed()
        return True

    def _submit(self, action: frames.SendFrame | frames.AckFrame) -> None:
        if isinstance(action, frames.SendFrame):
            self._send(action)
        else:
            self._ack(action)

    def _send(self, frame: frames.SendFrame) -> None:
        ref = frame.ref

        def answer(outcome: SendResult | RelayError) -> None:
            self._session.send_answered(ref, outcome)
            self._room.set()
            if not self._closed and self._session.out:
                self._pushed()

        self._mailboxes.submit_send(
            frame.mailbox_id,
            frame.capability,
            frame.client_message_id,
            frame.body,
            frame.ttl,
            answer,
        )

    def _ack(self, frame: frames.AckFrame) -> None:
        ref, ids = frame.ref, frame.ids

        def answer(failure: RelayError | None) -> None:
            self._session.ack_answered(ref, ids, failure)
            if not self._closed and self._session.out:
                self._pushed()

        self._mailboxes.submit_ack(self._session.mailbox_id, ids, answer)
        if self._session.wants_queue:
            self._wake.set()  # room in the window for envelopes waiting in the queue

    async def _authenticate(self, frame: frames.AuthFrame) -> None:
        session = self._session
        try:
            principal = await self._mailboxes.authenticate(frame.token)
            self._token_key = self._mailboxes.open_connection(frame.token)
        except RelayError as exc:
            session.auth_refused(exc)
            return
        except Exception:
            log.warning("authenticating a connection failed on storage")
            session.auth_refused(Unavailable("storage is unavailable; reconnect later"))
            return
        if self._auth_timer is not None:
            self._auth_timer.cancel()
            self._auth_timer = None
        session.authenticated(principal)
        self._mailboxes.register(principal.mailbox_id, self)

    # Writing, and reading the queue.

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
                self._session.close_code, self._session.close_reason = 1011, "internal error"
        finally:
            self._sender_done()

    def _sender_done(self) -> None:
        if not self._closed:
            self._closed = True
            # The read loop may wait in ``receive`` on a client that is still there: close.
            self._closing = asyncio.get_running_loop().create_task(self._close_now())
        self._room.set()

    async def _sending(self) -> None:
        session = self._session
        while not self._closed:
            if session.out:
                # Everything queued goes out together: one write for a whole group commit's
                # answers to this connection.
                await self._socket.send_texts(self._take_out())
                continue
            if session.wants_queue:
                await self._read_queue()
                continue
            self._wake.clear()
            self._idle = True
            try:
                await self._wake.wait()
            finally:
                self._idle = False

    async def _read_queue(self) -> None:
        plan = self._session.read_plan()
        if plan is None:
            return
        try:
            rows = await self._mailboxes.pending(
                self._session.mailbox_id, plan.limit, plan.after_seq
            )
        except Exception:
            log.warning("reading a queue failed; will retry")
            await asyncio.sleep(1.0)
            return
        self._session.rows_read(plan, rows)
