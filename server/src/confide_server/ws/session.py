"""One WebSocket connection's protocol state, sans-io: frames in, actions and frames out.

The session knows the frame catalogue (ws/frames.py), who the connection is, what it has
in flight (ws/window.py) and which frames wait to be written; it never touches a socket,
the database or the event loop, in the way h11 keeps HTTP's state machine apart from
sockets. Its caller, the socket adapter (ws/connection.py), or a test driving it in memory,
does the work the session asks for and reports back:

- ``receive(text)`` (or ``parse`` then ``act``) returns what to do with a client frame: a
  ``SendFrame`` to submit, an ``AckFrame`` to submit for ``mailbox_id``, an ``AuthFrame`` to
  authenticate, or None (answered by frames in ``out``, or nothing to do). ``ended`` then
  says whether the connection must close, with ``close_code`` and ``close_reason``.
- The outcomes come back as ``send_answered``, ``ack_answered``, ``authenticated`` or
  ``auth_refused``; live envelopes and notices from fan-out as ``offer`` and ``notice``.
- ``read_plan`` says what to read from the mailbox's queue, and ``rows_read`` takes the rows.
- ``out`` holds the frames to write; ``take_out`` empties it. ``paused`` says the caller
  should stop reading frames until frames are written or sends answered (a client that
  sends without reading is slowed by TCP instead of growing the relay's memory).
- Once ``ended``, nothing more is queued: fan-out and a queue read in flight may still
  report to an ended session, and the close writes what is queued, so a device cut off
  with 4408 would otherwise be sent envelopes after its ``revoked`` error.

Metrics are counted here, since only the session knows what each frame became.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from confide_server.cutoff import NOTICE_KIND
from confide_server.errors import InvalidInput, RelayError, Revoked, TooLarge, Unauthenticated
from confide_server.metrics import Metrics
from confide_server.services.auth import Principal
from confide_server.store.batch import SendResult
from confide_server.ws import frames
from confide_server.ws.window import DeliveryWindow, ReadPlan

MAX_PENDING_FRAMES = 1024
MAX_UNANSWERED_SENDS = 1024
MAX_BAD_FRAMES = 20

# What the caller must do for a client frame; None when the session answered it itself.
Action = frames.SendFrame | frames.AckFrame | frames.AuthFrame | None


@dataclass(frozen=True, slots=True)
class Limits:
    max_frame_bytes: int
    max_envelope_bytes: int
    delivery_window: int
    delivery_window_bytes: int


class Session:
    # One per connection, and thousands may sit idle: no per-instance dict.
    __slots__ = (
        "_accepted",
        "_limits",
        "_metrics",
        "bad_frames",
        "close_code",
        "close_reason",
        "ended",
        "out",
        "principal",
        "unanswered",
        "window",
    )

    def __init__(self, limits: Limits, metrics: Metrics) -> None:
        self._limits = limits
        self._metrics = metrics
        self.window = DeliveryWindow(limits.delivery_window, limits.delivery_window_bytes)
        self.out: deque[str] = deque()
        self.principal: Principal | None = None
        self.ended = False
        self.close_code = 1000
        self.close_reason = ""
        self.unanswered = 0
        self.bad_frames = 0
        # An envelope from this connection was accepted since the caller last asked
        # (``sent_since_asked``): an unauthenticated sealed-sender client keeps its socket.
        self._accepted = False

    # Flow control.

    @property
    def paused(self) -> bool:
        """Too much waits to be written, or too many sends wait for their commit."""
        return len(self.out) >= MAX_PENDING_FRAMES or self.unanswered >= MAX_UNANSWERED_SENDS

    def take_out(self) -> list[str]:
        """Everything queued to write, removed from the queue."""
        texts = list(self.out)
        self.out.clear()
        return texts

    # Client frames.

    def parse(self, data: str | bytes) -> frames.ClientFrame:
        return frames.parse(
            data,
            max_frame_bytes=self._limits.max_frame_bytes,
            max_envelope_bytes=self._limits.max_envelope_bytes,
        )

    def receive(self, data: str | bytes) -> Action:
        """One client frame, with bad ones answered, counted, or ending the connection."""
        try:
            frame = self.parse(data)
        except TooLarge as exc:
            self.fail(exc)
            return None
        except frames.FrameError as exc:
            self.bad_frames += 1
            self.out.append(frames.error(exc.ref, exc))
            if self.bad_frames > MAX_BAD_FRAMES:
                self.fail(InvalidInput("too many invalid frames"))
            return None
        if isinstance(frame, frames.AuthFrame):
            if self.principal is not None:
                self.out.append(frames.error(None, InvalidInput("already authenticated")))
                return None
            return frame
        return self.act(frame)

    def act(
        self, frame: frames.SendFrame | frames.AckFrame | frames.PingFrame
    ) -> frames.SendFrame | frames.AckFrame | None:
        """A valid frame other than ``auth``: what the caller must submit, if anything."""
        if isinstance(frame, frames.SendFrame):
            self.unanswered += 1
            return frame
        if isinstance(frame, frames.AckFrame):
            if self.principal is None:
                failure = Unauthenticated("authenticate before acking")
                self.out.append(frames.error(None, failure))
                return None
            self.window.acked(frame.ids)
            self._metrics.acked.inc(len(frame.ids))
            return frame
        self.out.append(frames.pong(frame.ref))
        return None

    @property
    def mailbox_id(self) -> bytes:
        """The authenticated device's mailbox (acks and queue reads are for it alone)."""
        assert self.principal is not None
        return self.principal.mailbox_id

    # Outcomes of what the caller did.

    def send_answered(self, ref: frames.Ref, outcome: SendResult | RelayError) -> None:
        self.unanswered -= 1
        if self.ended:
            return
        if isinstance(outcome, SendResult):
            self._accepted = True
            if outcome.duplicate:
                self._metrics.duplicates.inc()
            self.out.append(frames.accepted(ref, outcome.envelope_id, outcome.duplicate))
        else:
            self._metrics.rejected.labels(outcome.slug).inc()
            self.out.append(frames.error(ref, outcome))

    def ack_answered(
        self, ref: frames.Ref, ids: tuple[bytes, ...], failure: RelayError | None
    ) -> None:
        self.window.ack_committed(ids)
        if self.ended or ref is None:
            return
        self.out.append(frames.acked(ref) if failure is None else frames.error(ref, failure))

    def authenticated(self, principal: Principal) -> None:
        self.principal = principal
        self.out.append(frames.ready(principal.device_id, principal.mailbox_id))
        self.window.mark_dirty()

    def auth_refused(self, failure: RelayError) -> None:
        self.out.append(frames.error(None, failure))
        self.fail(failure)

    def sent_since_asked(self) -> bool:
        """Whether an envelope from this connection was accepted since the last call."""
        accepted, self._accepted = self._accepted, False
        return accepted

    # Fan-out.

    def offer(self, envelope_id: bytes, body: bytes) -> bool:
        """A live envelope: True if it was queued to write; False: read the queue instead."""
        if self.ended:
            return False  # fan-out still reaches an ended session until it is unregistered
        if self.window.offer(envelope_id, len(body)):
            self.out.append(frames.envelope(envelope_id, body))
            self._metrics.delivered.inc()
            return True
        return False

    def notice(self, payload: dict[str, object]) -> None:
        """A notice for the device; a cut-off one (cutoff.py) ends the connection with 4408."""
        if self.ended:
            return
        if payload.get("kind") == NOTICE_KIND:
            self.end(Revoked("this device was revoked or its worker disabled"))
        else:
            self.out.append(frames.notice(payload))

    # The queue.

    @property
    def wants_queue(self) -> bool:
        return self.principal is not None and not self.ended and self.window.want() > 0

    def read_plan(self) -> ReadPlan | None:
        return self.window.read_plan() if self.principal is not None and not self.ended else None

    def rows_read(self, plan: ReadPlan, rows: list[tuple[int, bytes, bytes]]) -> None:
        """Queue rows (seq, id, body) read by ``plan``: those the window takes, to write."""
        if self.ended:
            return  # a read in flight when the session ended: nothing more is written
        last_seq, stopped = 0, False
        for seq, envelope_id, body in rows:
            if self.window.room() <= 0:
                stopped = True  # the byte budget ran out; the cursor stays before this row
                break
            if self.window.from_queue(envelope_id, len(body)):
                self.out.append(frames.envelope(envelope_id, body))
                self._metrics.delivered.inc()
            last_seq = seq
        self.window.read_done(plan, plan.limit if stopped else len(rows), last_seq)

    # Ending.

    def fail(self, failure: RelayError) -> None:
        """End with ``failure``'s close code (the caller closes)."""
        self.ended = True
        self.close_code, self.close_reason = failure.close_code, failure.detail[:120]

    def end(self, failure: RelayError) -> bool:
        """Say why in an error frame and end; False if already ended."""
        if self.ended:
            return False
        self.out.append(frames.error(None, failure))
        self.fail(failure)
        return True
