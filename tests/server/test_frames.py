"""The WebSocket frame catalogue and delivery window, without sockets (h11-style)."""

from __future__ import annotations

import json

import orjson
import pytest
from confide_server.errors import TooLarge
from confide_server.ws import frames
from confide_server.ws.window import DeliveryWindow, ReadPlan

from .helpers import b64e

LIMITS = {"max_frame_bytes": 4096, "max_envelope_bytes": 1024}
MAILBOX, CAP = b64e(b"m" * 16), b64e(b"c" * 32)


def parse(obj: object) -> frames.ClientFrame:
    return frames.parse(json.dumps(obj), **LIMITS)


def send_frame(**changes: object) -> dict[str, object]:
    frame: dict[str, object] = {
        "type": "send",
        "ref": 3,
        "mailbox_id": MAILBOX,
        "capability": CAP,
        "client_message_id": "abc",
        "body": b64e(b"sealed"),
    }
    frame.update(changes)
    return frame


def test_send_frame() -> None:
    frame = parse(send_frame(ttl=60))
    assert frame == frames.SendFrame(3, b"m" * 16, b"c" * 32, "abc", b"sealed", 60)


@pytest.mark.parametrize(
    ("changes", "needle"),
    [
        ({"mailbox_id": b64e(b"m" * 15)}, "mailbox_id must be 16 bytes"),
        ({"capability": CAP + "="}, "capability must be base64url without padding"),
        ({"capability": 12}, "capability must be a base64url string"),
        ({"body": "@@@"}, "body is not valid base64url"),
        ({"body": ""}, "body must not be empty"),
        ({"body": b64e(b"x" * 1025)}, "body is larger than 1024 bytes"),
        ({"client_message_id": ""}, "client_message_id"),
        ({"client_message_id": ["a"]}, "client_message_id"),
        ({"ttl": "60"}, "ttl"),
        ({"ttl": True}, "ttl"),
        ({"ref": {"a": 1}}, "ref must be"),
        # Sends are pipelined: an answer without the ref could not be matched to its send.
        ({"ref": None}, "a send needs a ref"),
    ],
)
def test_bad_send_frames(changes: dict[str, object], needle: str) -> None:
    with pytest.raises(frames.FrameError) as failure:
        parse(send_frame(**changes))
    assert needle in failure.value.detail


def test_errors_echo_the_ref_when_readable() -> None:
    with pytest.raises(frames.FrameError) as failure:
        parse(send_frame(ref="r1", mailbox_id="x"))
    assert failure.value.ref == "r1"
    assert json.loads(frames.error(failure.value.ref, failure.value))["ref"] == "r1"


@pytest.mark.parametrize(
    "raw", ["{nope", "[1, 2]", '"text"', '{"type": "teleport"}', '{"no_type": 1}', "null"]
)
def test_unreadable_frames(raw: str) -> None:
    with pytest.raises(frames.FrameError):
        frames.parse(raw, **LIMITS)


def test_oversized_frame() -> None:
    with pytest.raises(TooLarge):
        frames.parse("x" * 4097, **LIMITS)


def test_auth_ack_ping() -> None:
    assert parse({"type": "auth", "token": b64e(b"t" * 32)}) == frames.AuthFrame(b"t" * 32)
    ack = parse({"type": "ack", "ids": [b64e(b"i" * 16)], "ref": "a"})
    assert ack == frames.AckFrame((b"i" * 16,), "a")
    assert parse({"type": "ping"}) == frames.PingFrame(None)
    with pytest.raises(frames.FrameError):
        parse({"type": "ack", "ids": []})
    many = json.dumps({"type": "ack", "ids": [b64e(b"i" * 16)] * 513})
    with pytest.raises(frames.FrameError):
        frames.parse(many, max_frame_bytes=100_000, max_envelope_bytes=1024)
    with pytest.raises(frames.FrameError):
        parse({"type": "auth", "token": b64e(b"t" * 31)})


def test_relay_frames_are_json() -> None:
    assert json.loads(frames.envelope(b"i" * 16, b"body")) == {
        "type": "envelope",
        "id": b64e(b"i" * 16),
        "body": b64e(b"body"),
    }
    assert json.loads(frames.accepted(1, None, True)) == {
        "type": "accepted",
        "ref": 1,
        "id": None,
        "duplicate": True,
    }


@pytest.mark.parametrize("ref", [None, 0, -7, 2**40, "r-1", 'quote " and \\ and \u00e9 and \n'])
def test_joined_frames_match_what_orjson_writes(ref: frames.Ref) -> None:
    envelope_id = bytes(range(16))
    assert (
        frames.envelope(envelope_id, b"\xff" * 33)
        == orjson.dumps(
            {"type": "envelope", "id": b64e(envelope_id), "body": b64e(b"\xff" * 33)}
        ).decode()
    )
    for id_, duplicate in ((envelope_id, False), (None, True)):
        expected = {
            "type": "accepted",
            "ref": ref,
            "id": None if id_ is None else b64e(id_),
            "duplicate": duplicate,
        }
        assert frames.accepted(ref, id_, duplicate) == orjson.dumps(expected).decode()
    assert frames.acked(ref) == orjson.dumps({"type": "acked", "ref": ref}).decode()


def test_window_starts_by_reading_the_queue() -> None:
    window = DeliveryWindow(2)
    plan = window.read_plan()
    assert plan == ReadPlan(after_seq=0, limit=2, epoch=0)
    assert not window.offer(b"live", 10)  # while catching up, live envelopes wait in the queue
    assert window.from_queue(b"a", 10)
    window.read_done(plan, rows=1, last_seq=7)
    assert window.dirty  # something arrived during the read, so read again
    again = window.read_plan()
    assert again is not None and again.after_seq == 7
    window.read_done(again, rows=0, last_seq=0)
    full = window.read_plan()  # the end from the cursor: one full pass before trusting it
    assert full is not None and full.after_seq == 0 and full.limit == 2
    window.read_done(full, rows=1, last_seq=7)
    assert not window.dirty and window.read_plan() is None


def test_window_bounds_what_is_in_flight() -> None:
    window = DeliveryWindow(2)
    plan = window.read_plan()
    assert plan is not None
    window.read_done(plan, rows=0, last_seq=0)
    assert window.offer(b"a", 10) and window.offer(b"b", 10)
    assert not window.offer(b"c", 10)  # full: c stays in the queue
    assert window.dirty and window.want() == 0 and window.read_plan() is None
    window.acked((b"a",))
    assert window.want() == 1
    assert window.read_plan() == ReadPlan(after_seq=0, limit=3, epoch=window.epoch)
    window.ack_committed((b"a",))
    assert window.read_plan() == ReadPlan(after_seq=0, limit=2, epoch=window.epoch)
    assert not window.offer(b"b", 10)  # already in flight
    assert not window.from_queue(b"a", 10)  # acknowledged: never pushed again


def test_window_bounds_bytes_in_flight() -> None:
    window = DeliveryWindow(100, max_bytes=1000)
    plan = window.read_plan()
    assert plan is not None
    window.read_done(plan, rows=0, last_seq=0)
    assert window.offer(b"big", 999)
    assert window.offer(b"one-more", 500)  # under the budget when offered
    assert not window.offer(b"over", 10) and window.want() == 0
    window.acked((b"big",))
    assert window.want() == 99


def test_window_remembers_a_bounded_number_of_acks() -> None:
    window = DeliveryWindow(20, remember=3)
    plan = window.read_plan()
    assert plan is not None
    window.read_done(plan, rows=0, last_seq=0)
    ids = [bytes([i]) * 16 for i in range(10)]
    window.acked(tuple(ids))
    window.ack_committed(tuple(ids))
    # A late copy of a recently acknowledged envelope is dropped; older ones are forgotten
    # once their deletes have committed (the queue can no longer return them).
    assert not window.offer(ids[-1], 10)
    assert window.offer(ids[0], 10)


def test_window_never_pushes_an_ack_whose_delete_is_pending() -> None:
    # The backlog-drain duplicate the benchmark found: more acks than the window remembers
    # arrive before the writer commits their deletes, so a full-pass queue read still returns
    # the oldest ones. They must not be pushed again, however many acks came after them.
    window = DeliveryWindow(2, remember=3)
    plan = window.read_plan()
    assert plan is not None
    window.read_done(plan, rows=0, last_seq=0)
    ids = [bytes([i]) * 16 for i in range(10)]
    window.acked(tuple(ids))
    assert not window.from_queue(ids[0], 10)
    assert not window.offer(ids[0], 10)
    window.ack_committed(tuple(ids))
    assert window.from_queue(ids[0], 10)  # forgotten only after its delete committed
