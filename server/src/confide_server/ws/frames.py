"""The WebSocket frame catalogue: parsing client frames and building relay frames, no I/O.

Every frame is a JSON object in a text frame with a ``type`` field; bytes are base64url
without padding. Client frames (docs/protocol.md, "WebSocket"):

- ``{"type": "auth", "token": b64}`` - bind this connection to a device and start delivery.
- ``{"type": "send", "ref": str|int, "mailbox_id": b64, "capability": b64,
  "client_message_id": str, "body": b64, "ttl": int?}`` - enqueue one envelope.
- ``{"type": "ack", "ids": [b64, ...], "ref": str|int?}`` - delete delivered envelopes;
  with a ``ref``, an ``acked`` frame follows once the deletion is durable.
- ``{"type": "ping", "ref": str|int?}``.

Relay frames: ``ready``, ``envelope``, ``accepted``, ``acked``, ``error``, ``notice``, ``pong``.
Validation is by hand (not pydantic) because it runs once per message on the hot path.
"""

from __future__ import annotations

from dataclasses import dataclass

import orjson

from confide_server.encoding import b64d, b64e
from confide_server.errors import InvalidInput, RelayError, TooLarge

Ref = str | int | None
MAX_ACK_IDS = 512
MAX_CLIENT_MESSAGE_ID = 128
MAX_REF_LENGTH = 64


@dataclass(slots=True, frozen=True)
class AuthFrame:
    token: bytes


@dataclass(slots=True, frozen=True)
class SendFrame:
    ref: Ref
    mailbox_id: bytes
    capability: bytes
    client_message_id: str
    body: bytes
    ttl: int | None


@dataclass(slots=True, frozen=True)
class AckFrame:
    ids: tuple[bytes, ...]
    ref: Ref = None


@dataclass(slots=True, frozen=True)
class PingFrame:
    ref: Ref


ClientFrame = AuthFrame | SendFrame | AckFrame | PingFrame


class FrameError(InvalidInput):
    """A frame that could not be understood; ``ref`` echoes the request when it was readable."""

    def __init__(self, detail: str, ref: Ref = None) -> None:
        super().__init__(detail)
        self.ref = ref


def _ref(obj: dict[str, object]) -> Ref:
    ref = obj.get("ref")
    if ref is None:
        return None
    # Exact type checks: cheaper than isinstance, and they leave out bool (an int subclass).
    if type(ref) is int:
        return ref
    if type(ref) is not str:
        raise FrameError("ref must be a string or an integer")
    if len(ref) > MAX_REF_LENGTH:
        raise FrameError(f"ref is longer than {MAX_REF_LENGTH} characters")
    return ref


def parse(data: str | bytes, *, max_frame_bytes: int, max_envelope_bytes: int) -> ClientFrame:
    """Turn one text frame into a client frame, or raise FrameError / TooLarge."""
    if len(data) > max_frame_bytes:
        raise TooLarge(f"frame is larger than {max_frame_bytes} bytes")
    try:
        obj = orjson.loads(data)
    except orjson.JSONDecodeError:
        raise FrameError("frame is not valid JSON") from None
    if not isinstance(obj, dict):
        raise FrameError("frame must be a JSON object")
    ref = _ref(obj)
    kind = obj.get("type")
    try:
        if kind == "send":
            return _send(obj, ref, max_envelope_bytes)
        if kind == "ack":
            return _ack(obj, ref)
        if kind == "auth":
            return AuthFrame(b64d(obj.get("token"), "token", size=32))
        if kind == "ping":
            return PingFrame(ref)
    except InvalidInput as exc:
        raise FrameError(exc.detail, ref) from None
    raise FrameError("type must be one of auth, send, ack, ping", ref)


def _send(obj: dict[str, object], ref: Ref, max_envelope_bytes: int) -> SendFrame:
    if ref is None:
        # Sends are pipelined: an answer without the ref could not be matched to its send.
        raise InvalidInput("a send needs a ref (a string or an integer): its answer echoes it")
    cmid = obj.get("client_message_id")
    if not isinstance(cmid, str) or not 0 < len(cmid) <= MAX_CLIENT_MESSAGE_ID:
        raise InvalidInput(
            f"client_message_id must be a string of 1 to {MAX_CLIENT_MESSAGE_ID} characters"
        )
    ttl = obj.get("ttl")
    if ttl is not None and (isinstance(ttl, bool) or not isinstance(ttl, int) or ttl <= 0):
        raise InvalidInput("ttl must be a positive integer number of seconds")
    body = b64d(obj.get("body"), "body", max_size=max_envelope_bytes)
    if not body:
        raise InvalidInput("body must not be empty")
    return SendFrame(
        ref=ref,
        mailbox_id=b64d(obj.get("mailbox_id"), "mailbox_id", size=16),
        capability=b64d(obj.get("capability"), "capability", size=32),
        client_message_id=cmid,
        body=body,
        ttl=ttl,
    )


def _ack(obj: dict[str, object], ref: Ref) -> AckFrame:
    ids = obj.get("ids")
    if not isinstance(ids, list) or not 0 < len(ids) <= MAX_ACK_IDS:
        raise InvalidInput(f"ids must be a list of 1 to {MAX_ACK_IDS} envelope ids")
    return AckFrame(tuple(b64d(i, "ids[]", size=16) for i in ids), ref)


def ready(device_id: bytes, mailbox_id: bytes) -> str:
    return _dump({"type": "ready", "device_id": b64e(device_id), "mailbox_id": b64e(mailbox_id)})


# The three frames sent once per message are joined from fixed text instead of going through
# a dict and orjson: base64url never needs JSON escaping, and only ``ref`` (a client's string)
# is encoded by orjson. The text is exactly what orjson would write for the same dict.


def envelope(envelope_id: bytes, body: bytes) -> str:
    return '{"type":"envelope","id":"' + b64e(envelope_id) + '","body":"' + b64e(body) + '"}'


def accepted(ref: Ref, envelope_id: bytes | None, duplicate: bool) -> str:
    id_text = "null" if envelope_id is None else '"' + b64e(envelope_id) + '"'
    tail = ',"duplicate":true}' if duplicate else ',"duplicate":false}'
    return '{"type":"accepted","ref":' + _ref_text(ref) + ',"id":' + id_text + tail


def acked(ref: Ref) -> str:
    return '{"type":"acked","ref":' + _ref_text(ref) + "}"


def _ref_text(ref: Ref) -> str:
    # Refs are usually small integers, whose JSON text is their decimal form.
    if type(ref) is int:
        return str(ref)
    return orjson.dumps(ref).decode()


def error(ref: Ref, exc: RelayError) -> str:
    return _dump({"type": "error", "ref": ref, "error": exc.slug, "detail": exc.detail})


def notice(payload: dict[str, object]) -> str:
    return _dump({"type": "notice", **payload})


def pong(ref: Ref) -> str:
    return _dump({"type": "pong", "ref": ref})


def _dump(obj: dict[str, object]) -> str:
    return orjson.dumps(obj).decode()
