"""A bounded stateful fuzzer over ws/session.py, in the normal test run.

Hypothesis drives one real ``Session`` as the socket adapter (ws/connection.py) would:
client frames of every type in docs/protocol.md's catalogue, valid and not (auth with a
good, unknown, expired or malformed token; send with a good or bad capability, a repeated
``client_message_id``, a body over the envelope limit, a frame over the frame limit; ack of
delivered, unknown and another mailbox's ids; ping; unknown types; malformed JSON; every
field of the wrong type or missing), and the caller's side: outcomes of submitted sends
(accepted, duplicate, refused, failed) and acks (durable or failed), live offers (also
repeated ones), queue reads, notices (also the cut-off one), writes. The store behind it is a
model (``Store``) that keeps what the real one keeps for the question: rows per mailbox in
sequence order, deletion only in the acking mailbox, and idempotency keys.

Checked after every step: nothing raises; every frame queued is a JSON object whose type is
in the relay's catalogue with the fields the catalogue gives it; every ``send`` gets
exactly one answer carrying its ``ref`` (none once the session ended); an envelope is
written at most once unless an ack of it failed; an ack is submitted only after auth, only
for the authenticated mailbox, and deletes nothing elsewhere (not only for ids this
connection delivered: a client may ack what an earlier connection delivered, ws/window.py,
so the mailbox is the boundary); the session ends exactly when
and with the code the protocol says (4400 after more than 20 bad frames, 4413, 4401, 4410,
4408, 1013); nothing is queued once it ended; reading stops while paused. The number of
runs is bounded and derandomised so that the run is short and repeatable; raise
``max_examples`` locally to fuzz for longer.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from confide_server.cutoff import NOTICE_KIND
from confide_server.errors import (
    CapabilityRejected,
    Expired,
    QueueFull,
    RateLimited,
    RelayError,
    Unauthenticated,
    Unavailable,
)
from confide_server.metrics import Metrics
from confide_server.services.auth import Principal
from confide_server.store.batch import SendResult
from confide_server.ws import frames, session
from confide_server.ws.session import Limits, Session
from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from .helpers import b64d, b64e

LIMITS = Limits(
    max_frame_bytes=1 << 14,  # room for an ack of 513 ids, refused for its count
    max_envelope_bytes=48,
    delivery_window=3,
    delivery_window_bytes=64,
)
STEPS = 40
MAX_PENDING_FRAMES = 6  # small, so that pausing happens within a run
MAX_UNANSWERED_SENDS = 4
MAILBOX = b"m" * 16
OTHER = b"o" * 16
CAPS = {MAILBOX: b"c" * 32, OTHER: b"C" * 32}
BAD_CAP = b"x" * 32
GOOD, UNKNOWN, EXPIRED, LIMITED, DOWN = (bytes([i]) * 32 for i in range(1, 6))
# What a refused token becomes, as mailboxes.authenticate and open_connection raise it.
REFUSALS: dict[bytes, RelayError] = {
    UNKNOWN: Unauthenticated("invalid token"),
    EXPIRED: Expired("token expired"),
    LIMITED: RateLimited("too many connections for this token"),
    DOWN: Unavailable("storage is unavailable; reconnect later"),
}

# The relay's frames and the fields each carries (docs/protocol.md, "Relay → client").
CATALOGUE = {
    "ready": {"device_id", "mailbox_id"},
    "envelope": {"id", "body"},
    "accepted": {"ref", "id", "duplicate"},
    "acked": {"ref"},
    "error": {"ref", "error", "detail"},
    "notice": None,  # kind plus the notice's own fields
    "pong": {"ref"},
}

# Values of the wrong type or shape, per field kind; none of them is valid for its field.
NOT_STRINGS = [0, 7, True, 1.5, [], {}, ["a"], {"a": 1}, None]
BAD_B64 = ["!!!!", "a=", "AA==", "+/+/", "A", "é"]
WRONG = {
    "bytes": [*NOT_STRINGS, *BAD_B64],
    "cmid": [*NOT_STRINGS, "", "x" * (frames.MAX_CLIENT_MESSAGE_ID + 1)],
    "ttl": [0, -1, True, False, "10", 1.5, [], {}],
    "ref": [True, False, 1.5, [], {}, ["r"], "r" * (frames.MAX_REF_LENGTH + 1)],
    "ids": [*NOT_STRINGS[:-1], "AAAA", [], [0], ["!!"], [b64e(b"i" * 15)], [b64e(b"i" * 16)] * 513],
}
SEND_FIELDS = {
    "mailbox_id": "bytes",
    "capability": "bytes",
    "client_message_id": "cmid",
    "body": "bytes",
    "ttl": "ttl",
    "ref": "ref",
}
REQUIRED = {
    "send": ["mailbox_id", "capability", "client_message_id", "body"],
    "auth": ["token"],
    "ack": ["ids"],
}


def principal() -> Principal:
    return Principal(b"d" * 16, "worker", MAILBOX, b"k" * 32, b"w" * 16, "worker", b"h" * 32)


class Store:
    """What the relay's store keeps for these questions, for two mailboxes."""

    def __init__(self) -> None:
        self.seq = 0
        self.rows: dict[bytes, dict[int, tuple[bytes, bytes]]] = {MAILBOX: {}, OTHER: {}}
        self.keys: set[tuple[bytes, bytes, str]] = set()

    def send(self, frame: frames.SendFrame) -> SendResult | RelayError:
        if CAPS.get(frame.mailbox_id) != frame.capability:
            return CapabilityRejected("capability does not open this mailbox")
        key = (frame.mailbox_id, frame.capability, frame.client_message_id)
        if key in self.keys:
            return SendResult(None, True)
        self.keys.add(key)
        self.seq += 1
        envelope_id = self.seq.to_bytes(16, "big")
        self.rows[frame.mailbox_id][self.seq] = (envelope_id, frame.body)
        return SendResult(envelope_id, False)

    def pending(self, mailbox: bytes, limit: int, after_seq: int) -> list[tuple[int, bytes, bytes]]:
        rows = sorted((s, i, b) for s, (i, b) in self.rows[mailbox].items() if s > after_seq)
        return rows[:limit]

    def ack(self, mailbox: bytes, ids: tuple[bytes, ...]) -> None:
        rows = self.rows[mailbox]
        for seq in [s for s, (i, _) in rows.items() if i in ids]:
            del rows[seq]

    def ids(self, mailbox: bytes) -> list[bytes]:
        return [i for i, _ in self.rows[mailbox].values()]


def can_read(machine: SessionMachine) -> bool:
    """The connection stops reading frames once the session ended or while it is paused."""
    return not machine.s.ended and not machine.s.paused


def late(machine: SessionMachine) -> bool:
    """Rules that end the session wait for the second half of a run, which they would cut short."""
    return machine.steps >= STEPS // 2 and can_read(machine)


class SessionMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self._saved = (session.MAX_PENDING_FRAMES, session.MAX_UNANSWERED_SENDS)
        session.MAX_PENDING_FRAMES = MAX_PENDING_FRAMES
        session.MAX_UNANSWERED_SENDS = MAX_UNANSWERED_SENDS
        self.s = Session(LIMITS, Metrics())
        self.store = Store()
        self.written: list[dict[str, Any]] = []
        self.sends: list[frames.SendFrame] = []  # submitted, waiting for their outcome
        self.acks: list[frames.AckFrame] = []  # submitted, waiting for their commit
        self.answers_due: Counter[object] = Counter()  # send ref -> answers expected
        self.refs = 0
        self.cmids: list[str] = []
        self.bad = 0
        self.expected_close: int | None = None
        self.frames_at_end: int | None = None
        self.redeliverable: set[bytes] = set()  # ids whose ack failed: may come again
        self.steps = 0

    def teardown(self) -> None:
        session.MAX_PENDING_FRAMES, session.MAX_UNANSWERED_SENDS = self._saved

    # Helpers.

    def ref(self, kind: str) -> str:
        self.refs += 1
        return f"{kind}{self.refs}"

    def queued(self) -> list[dict[str, Any]]:
        return [json.loads(t) for t in self.s.out]

    def everything(self) -> list[dict[str, Any]]:
        return self.written + self.queued()

    def delivered(self) -> set[str]:
        return {f["id"] for f in self.everything() if f["type"] == "envelope"}

    def end_expected(self, code: int) -> None:
        if self.expected_close is None:
            self.expected_close = code

    def receive(
        self, data: str | bytes
    ) -> frames.SendFrame | frames.AckFrame | frames.AuthFrame | None:
        before = len(self.s.out)
        action = self.s.receive(data)
        # A client frame is answered by at most one frame of the session's own.
        assert len(self.s.out) - before <= 1
        return action

    def receive_bad(self, data: str | bytes, ref: object = None) -> None:
        """A frame that is not understood: an error (with its ref if readable), counted."""
        before = len(self.s.out)
        assert self.receive(data) is None
        self.bad += 1
        assert len(self.s.out) == before + 1
        answer = json.loads(self.s.out[-1])
        assert answer["type"] == "error" and answer["ref"] == ref
        assert answer["error"] == "invalid-input"
        if ref is not None and str(ref).startswith("s"):
            self.answers_due[ref] += 1
        if self.bad > session.MAX_BAD_FRAMES:
            self.end_expected(4400)

    def send_dict(self, mailbox: bytes, cap: bytes, cmid: str, body: bytes) -> dict[str, Any]:
        return {
            "type": "send",
            "ref": self.ref("s"),
            "mailbox_id": b64e(mailbox),
            "capability": b64e(cap),
            "client_message_id": cmid,
            "body": b64e(body),
        }

    # Client frames that are understood.

    @precondition(can_read)
    @rule(ref=st.sampled_from([None, 1, "a"]))
    def auth(self, ref: object) -> None:
        self.authenticate(GOOD, ref)

    @precondition(late)
    @rule(token=st.sampled_from([UNKNOWN, EXPIRED, LIMITED, DOWN]))
    def auth_refused(self, token: bytes) -> None:
        self.authenticate(token, None)

    def authenticate(self, token: bytes, ref: object) -> None:
        frame: dict[str, Any] = {"type": "auth", "token": b64e(token)}
        if ref is not None:
            frame["ref"] = ref
        already = self.s.principal is not None
        action = self.receive(json.dumps(frame))
        if already:
            assert action is None
            assert self.queued()[-1]["error"] == "invalid-input"
            return
        assert action == frames.AuthFrame(token)
        # The read loop awaits the outcome before it reads another frame.
        if token == GOOD:
            self.s.authenticated(principal())
            ready = self.queued()[-1]
            assert ready == {
                "type": "ready",
                "device_id": b64e(b"d" * 16),
                "mailbox_id": b64e(MAILBOX),
            }
        else:
            failure = REFUSALS[token]
            self.s.auth_refused(failure)
            self.end_expected(failure.close_code)

    @precondition(can_read)
    @rule(
        to=st.sampled_from([MAILBOX, OTHER]),
        good_cap=st.booleans(),
        repeat=st.booleans(),
        body=st.binary(min_size=1, max_size=LIMITS.max_envelope_bytes),
        ttl=st.none() | st.integers(1, 10**6),
        data=st.data(),
    )
    def send(
        self,
        to: bytes,
        good_cap: bool,
        repeat: bool,
        body: bytes,
        ttl: int | None,
        data: st.DataObject,
    ) -> None:
        if repeat and self.cmids:
            cmid = data.draw(st.sampled_from(self.cmids))
        else:
            cmid = data.draw(st.text(min_size=1, max_size=frames.MAX_CLIENT_MESSAGE_ID))
            self.cmids.append(cmid)
        frame = self.send_dict(to, CAPS[to] if good_cap else BAD_CAP, cmid, body)
        if ttl is not None:
            frame["ttl"] = ttl
        action = self.receive(json.dumps(frame))
        assert isinstance(action, frames.SendFrame)
        assert (action.ref, action.mailbox_id, action.body, action.ttl) == (
            frame["ref"],
            to,
            body,
            ttl,
        )
        self.sends.append(action)

    @precondition(can_read)
    @rule(
        choice=st.lists(
            st.sampled_from(["delivered", "undelivered", "other", "unknown"]),
            min_size=1,
            max_size=5,
        ),
        ref=st.booleans(),
        data=st.data(),
    )
    def ack(self, choice: list[str], ref: bool, data: st.DataObject) -> None:
        delivered = sorted(self.delivered())
        pools = {
            "delivered": [b64d(i) for i in delivered],
            "undelivered": [i for i in self.store.ids(MAILBOX) if b64e(i) not in delivered],
            "other": self.store.ids(OTHER),
        }
        ids = []
        for kind in choice:
            pool = pools.get(kind) or []
            ids.append(
                data.draw(st.sampled_from(pool))
                if pool
                else data.draw(st.binary(min_size=16, max_size=16))
            )
        frame: dict[str, Any] = {"type": "ack", "ids": [b64e(i) for i in ids]}
        if ref:
            frame["ref"] = self.ref("a")
        authenticated = self.s.principal is not None
        action = self.receive(json.dumps(frame))
        if not authenticated:
            assert action is None  # never submitted before auth
            assert self.queued()[-1]["error"] == "unauthenticated"
            return
        assert action == frames.AckFrame(tuple(ids), frame.get("ref"))
        # Submitted for the authenticated mailbox alone (connection.py: submit_ack).
        assert self.s.mailbox_id == MAILBOX
        self.acks.append(action)

    @precondition(can_read)
    @rule(ref=st.none() | st.integers(-(2**40), 2**40) | st.text(max_size=frames.MAX_REF_LENGTH))
    def ping(self, ref: object) -> None:
        frame: dict[str, Any] = {"type": "ping"}
        if ref is not None:
            frame["ref"] = ref
        assert self.receive(json.dumps(frame)) is None
        assert self.queued()[-1] == {"type": "pong", "ref": ref}

    # Client frames that are not understood.

    @precondition(can_read)
    @rule(data=st.binary(max_size=40) | st.text(max_size=40))
    def garbage(self, data: str | bytes) -> None:
        try:
            obj = json.loads(data)
        except (ValueError, UnicodeDecodeError):
            obj = None
        if isinstance(obj, dict) and obj.get("type") in ("auth", "send", "ack", "ping"):
            return  # well-formed by chance: the rules above cover those
        ref = obj.get("ref") if isinstance(obj, dict) else None
        if type(ref) is not int and not (type(ref) is str and len(ref) <= frames.MAX_REF_LENGTH):
            ref = None
        self.receive_bad(data, ref)

    @precondition(can_read)
    @rule(
        value=st.none()
        | st.booleans()
        | st.integers()
        | st.text(max_size=5)
        | st.lists(st.integers(), max_size=3)
    )
    def not_an_object_or_unknown_type(self, value: object) -> None:
        if value in ("auth", "send", "ack", "ping"):
            return
        self.receive_bad(json.dumps({"type": value, "ref": 3}), 3)
        self.receive_bad(json.dumps(value))

    @precondition(can_read)
    @rule(
        kind=st.sampled_from(["send", "auth", "ack", "ping"]),
        field=st.sampled_from([*SEND_FIELDS, "token", "ids", "missing"]),
        data=st.data(),
    )
    def wrong_field(self, kind: str, field: str, data: st.DataObject) -> None:
        frame: dict[str, Any]
        if kind == "send":
            frame = self.send_dict(MAILBOX, CAPS[MAILBOX], "w", b"body")
            frame["ttl"] = 60
            fields = SEND_FIELDS
        elif kind == "auth":
            frame, fields = {"type": "auth", "token": b64e(GOOD)}, {"token": "bytes", "ref": "ref"}
        elif kind == "ack":
            frame = {"type": "ack", "ids": [b64e(b"i" * 16)], "ref": self.ref("a")}
            fields = {"ids": "ids", "ref": "ref"}
        else:
            frame, fields = {"type": "ping", "ref": 1}, {"ref": "ref"}
        if field == "missing" and kind in REQUIRED:
            del frame[data.draw(st.sampled_from(REQUIRED[kind]))]
        elif field in fields:
            frame[field] = data.draw(st.sampled_from(WRONG[fields[field]]))
            if field == "body" and data.draw(st.booleans()):
                frame["body"] = data.draw(
                    st.sampled_from(["", b64e(b"b" * (LIMITS.max_envelope_bytes + 1))])
                )
        else:
            return
        ref = None if field == "ref" else frame.get("ref")
        self.receive_bad(json.dumps(frame), ref)

    @precondition(can_read)
    @rule(count=st.integers(1, session.MAX_BAD_FRAMES + 2))
    def bad_burst(self, count: int) -> None:
        """Many bad frames at once, so that runs reach the bad-frame limit."""
        for i in range(count):
            if not can_read(self):
                return
            self.receive_bad(["{not json", "[]", '{"type":"nope"}', '{"type":"send"}'][i % 4])

    @precondition(late)
    @rule(extra=st.integers(1, 200), as_send=st.booleans())
    def oversized_frame(self, extra: int, as_send: bool) -> None:
        """Over the frame limit: no answer, the connection closes with 4413."""
        if as_send:
            frame = self.send_dict(MAILBOX, CAPS[MAILBOX], "big", b"")
            frame["body"] = "A" * (LIMITS.max_frame_bytes + extra)
            text = json.dumps(frame)
        else:
            text = " " * (LIMITS.max_frame_bytes + extra)
        before = len(self.s.out)
        assert self.receive(text) is None
        assert len(self.s.out) == before
        self.end_expected(4413)

    # The caller's side: outcomes, fan-out, queue reads, writes.

    @precondition(lambda self: self.sends)
    @rule(
        data=st.data(),
        outcome=st.sampled_from(["store", "store", "store", "queue-full", "unavailable"]),
    )
    def send_outcome(self, data: st.DataObject, outcome: str) -> None:
        # Outcomes of one connection's sends may come back out of order (group commits).
        frame = self.sends.pop(data.draw(st.integers(0, len(self.sends) - 1)))
        result: SendResult | RelayError
        if outcome == "store":
            result = self.store.send(frame)
        elif outcome == "queue-full":
            result = QueueFull("the recipient's queue is full")
        else:
            result = Unavailable("storage is unavailable")
        if not self.s.ended:
            self.answers_due[frame.ref] += 1
        before = len(self.s.out)
        self.s.send_answered(frame.ref, result)
        if not self.s.ended:
            answer = self.queued()[-1]
            assert len(self.s.out) == before + 1 and answer["ref"] == frame.ref
            if isinstance(result, SendResult):
                assert answer["type"] == "accepted" and answer["duplicate"] is result.duplicate
            else:
                assert answer["type"] == "error" and answer["error"] == result.slug

    @precondition(lambda self: self.acks)
    @rule(data=st.data(), durable=st.booleans())
    def ack_outcome(self, data: st.DataObject, durable: bool) -> None:
        frame = self.acks.pop(data.draw(st.integers(0, len(self.acks) - 1)))
        if durable:
            self.store.ack(MAILBOX, frame.ids)
            self.s.ack_answered(frame.ref, frame.ids, None)
        else:
            self.redeliverable.update(frame.ids)
            self.s.ack_answered(frame.ref, frame.ids, Unavailable("storage is unavailable"))

    @precondition(lambda self: self.s.principal is not None and self.store.ids(MAILBOX))
    @rule(data=st.data())
    def offer(self, data: st.DataObject) -> None:
        """Fan-out of an envelope in the queue (perhaps again, as from another relay)."""
        envelope_id = data.draw(st.sampled_from(self.store.ids(MAILBOX)))
        body = next(b for i, b in self.store.rows[MAILBOX].values() if i == envelope_id)
        self.s.offer(envelope_id, body)

    @precondition(lambda self: self.s.wants_queue)
    @rule()
    def read_queue(self) -> None:
        plan = self.s.read_plan()
        assert plan is not None and plan.limit > 0
        self.s.rows_read(plan, self.store.pending(MAILBOX, plan.limit, plan.after_seq))

    @rule(kind=st.sampled_from(["prekeys-low", "policy", NOTICE_KIND]))
    def notice(self, kind: str) -> None:
        if self.s.principal is None or (kind == NOTICE_KIND and not late(self)):
            return  # notices reach registered (authenticated) connections only
        payload: dict[str, object] = {"kind": kind}
        if kind == "prekeys-low":
            payload["remaining"] = 3
        elif kind == "policy":
            payload |= {"version": 2, "sha256": "0" * 64}
        self.s.notice(payload)
        if kind == NOTICE_KIND:
            self.end_expected(4408)

    @rule()
    def write(self) -> None:
        self.written.extend(json.loads(t) for t in self.s.take_out())
        assert not self.s.out and (self.s.unanswered >= MAX_UNANSWERED_SENDS or not self.s.paused)

    # Invariants.

    @invariant()
    def frames_are_in_the_catalogue(self) -> None:
        self.steps += 1
        for text in self.s.out:
            frame = json.loads(text)
            assert isinstance(frame, dict)
            fields = CATALOGUE[frame["type"]]
            if fields is None:
                assert isinstance(frame["kind"], str) and frame["kind"] != NOTICE_KIND
            else:
                assert set(frame) == {"type", *fields}
            if frame["type"] == "accepted":
                assert (frame["id"] is None) is frame["duplicate"]
            if frame["type"] == "error":
                assert isinstance(frame["error"], str) and isinstance(frame["detail"], str)

    @invariant()
    def ends_when_and_how_the_protocol_says(self) -> None:
        assert self.s.ended is (self.expected_close is not None)
        if self.expected_close is not None:
            assert self.s.close_code == self.expected_close
            event(f"closed with {self.s.close_code}")
            if self.frames_at_end is None:
                self.frames_at_end = len(self.everything())
            assert len(self.everything()) == self.frames_at_end, "queued after the end"

    @invariant()
    def flow_control_holds(self) -> None:
        if self.s.paused:
            event("paused")
        assert self.s.unanswered == len(self.sends) <= MAX_UNANSWERED_SENDS
        assert self.s.paused is (
            len(self.s.out) >= MAX_PENDING_FRAMES or self.s.unanswered >= MAX_UNANSWERED_SENDS
        )

    @invariant()
    def every_send_answered_once_and_nothing_twice(self) -> None:
        everything = self.everything()
        answers = Counter(
            f["ref"]
            for f in everything
            if f["type"] in ("accepted", "error")
            and isinstance(f["ref"], str)
            and f["ref"].startswith("s")
        )
        assert answers == self.answers_due
        envelopes = Counter(f["id"] for f in everything if f["type"] == "envelope")
        for envelope_id, count in envelopes.items():
            if count > 1:
                event("redelivered after a failed ack")
            assert count == 1 or b64d(envelope_id) in self.redeliverable
            # Only this mailbox's envelopes reach this connection.
            assert b64d(envelope_id) not in self.store.ids(OTHER)
        assert len(self.store.rows[OTHER]) == len([k for k in self.store.keys if k[0] == OTHER]), (
            "an ack deleted another mailbox's envelope"
        )


SessionMachine.TestCase.settings = settings(
    max_examples=200,
    stateful_step_count=STEPS,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


TestSessionFuzz = SessionMachine.TestCase
