"""RFC 6455 framing, sans-io: the relay's one reader of client frames, and its frame writer.

``FrameReader`` is the only code that reads a WebSocket connection's bytes once the
handshake is done (ws/protocol.py feeds it everything, in order, however TCP cut it). It
reads every frame the relay's protocol uses (§5.2): final text frames, ping, pong and close,
with every length form (7-bit, 16-bit and 64-bit) and every masking key, and it refuses the
rest before reading its payload, with the close codes docs/protocol.md lists:

==========================================================  =====  =======================
what                                                        code   why
==========================================================  =====  =======================
a frame over the size limit (checked from its header)       4413   errors.TooLarge
a binary frame, or a text message in fragments              1003   RFC 6455 §7.4.1
a text frame (or close reason) that is not UTF-8            1007   §8.1
unmasked, reserved bits or opcode, a continuation, a        1002   §5.1, §5.2, §5.4, §5.5,
control frame in fragments or over 125 bytes, a bad close          §7.4
==========================================================  =====  =======================

A frame is dispatched only once all of it has arrived; bytes of a frame not yet complete
wait in one buffer, whose next parse is tried only once enough bytes are there for the
header or the whole frame, so a frame sent a byte at a time costs no more than one sent at
once. tests/server/test_framing.py checks it against websockets' own parser at every cut
of the byte stream; tests/server/test_framing_fuzz.py feeds it random bytes.

Masking uses websockets' C ``apply_mask`` (``websockets.speedups``, a module of its own
with a typed stub) where it is built, and the pure-Python one websockets exports in
``websockets.utils.__all__`` otherwise; the pure one is a noticeable part of the relay's
cost per message, the C one is not (the figures: docs/benchmarks.md, lab notebook).
"""

from __future__ import annotations

from collections.abc import Callable

try:
    from websockets.speedups import apply_mask
except ImportError:  # pragma: no cover - websockets built without its C extension
    from websockets.utils import apply_mask

OP_CONT, OP_TEXT, OP_BINARY = 0x0, 0x1, 0x2
OP_CLOSE, OP_PING, OP_PONG = 0x8, 0x9, 0xA
FIN = 0x80
FIN_TEXT = FIN | OP_TEXT
MASKED = 0x80

TOO_LARGE = 4413  # errors.TooLarge.close_code
UNSUPPORTED = 1003
NOT_UTF8 = 1007
PROTOCOL_ERROR = 1002

# Close codes a peer may send (RFC 6455 §7.4.1, §7.4.2 and the IANA registry): 1000 to 1003,
# 1007 to 1014, and 3000 to 4999. 1004 to 1006 and 1015 must never appear in a close frame.
_SENDABLE = frozenset((1000, 1001, 1002, 1003, *range(1007, 1015)))


class Refused(Exception):
    """The peer sent something the relay does not accept; close with ``code``."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(f"{code} {reason}")
        self.code = code
        self.reason = reason


class FrameReader:
    """Reads client frames from bytes as they arrive, and calls back for each one.

    ``on_text(payload)`` gets a final text frame's unmasked payload (UTF-8, checked),
    ``on_control(opcode, payload)`` a ping or a pong, ``on_close(code, reason)`` a close
    (1005 when it carried no code); nothing after a close is read. ``feed`` raises
    ``Refused`` for a frame the relay does not accept; the reader reads nothing after it.
    """

    __slots__ = ("_buffer", "_max_size", "_need", "_on_close", "_on_control", "_on_text", "done")

    def __init__(
        self,
        max_size: int,
        on_text: Callable[[bytes], None],
        on_control: Callable[[int, bytes], None],
        on_close: Callable[[int, str], None],
    ) -> None:
        self._max_size = max_size
        self._on_text = on_text
        self._on_control = on_control
        self._on_close = on_close
        self._buffer = bytearray()
        self._need = 0  # bytes the buffer must hold before parsing it again is any use
        self.done = False  # a close was read, or a frame refused: nothing more is read

    def feed(self, data: bytes) -> None:
        if self.done:
            return
        buffer = self._buffer
        if buffer:
            buffer += data
            if len(buffer) < self._need:
                return
            data = bytes(buffer)
            buffer.clear()
        try:
            taken = self._parse(data)
        except Refused:
            self.done = True
            raise
        if taken < len(data) and not self.done:
            buffer += memoryview(data)[taken:]

    def _parse(self, data: bytes) -> int:
        """Dispatch every whole frame at the start of ``data``; returns the bytes taken."""
        pos, end = 0, len(data)
        while not self.done:
            if end - pos < 6:
                # The masking bit is checked as soon as it is there, as RFC 6455 parsers do.
                if end - pos < 2:
                    self._need = 2
                    return pos
                if not data[pos + 1] & MASKED:
                    raise Refused(PROTOCOL_ERROR, "client frames must be masked")
                self._need = 6
                return pos
            first, second = data[pos], data[pos + 1]
            if not second & MASKED:
                raise Refused(PROTOCOL_ERROR, "client frames must be masked")
            length = second & 0x7F
            start = pos + 6
            if length >= 126:  # a 16-bit (126) or 64-bit (127) length follows
                size = 2 if length == 126 else 8
                start += size
                if end < start:
                    self._need = 6 + size
                    return pos
                length = int.from_bytes(data[pos + 2 : pos + 2 + size], "big")
            if first != FIN_TEXT:
                _check(first, length, self._max_size)
            elif length > self._max_size:
                raise Refused(TOO_LARGE, "frame too large")
            stop = start + length
            if stop > end:
                self._need = stop - pos
                return pos
            payload = apply_mask(data[start:stop], data[start - 4 : start])
            pos = stop
            if first == FIN_TEXT:
                if not payload.isascii():
                    _utf8(payload)
                self._on_text(payload)
            elif first & 0x0F == OP_CLOSE:
                self.done = True
                self._on_close(*close_payload(payload))
            else:
                self._on_control(first & 0x0F, payload)
        return pos


def _check(first: int, length: int, max_size: int) -> None:
    """Refuse, from its header, any frame but a final text frame, a ping, a pong or a
    close (the common case, a final text frame, only has its size checked). The checks come
    in the order of RFC 6455 parsers (websockets'), so that a frame with two faults is
    refused for the same one."""
    opcode = first & 0x0F
    if opcode not in (OP_CONT, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG):
        raise Refused(PROTOCOL_ERROR, f"reserved opcode {opcode}")
    if length > max_size:
        raise Refused(TOO_LARGE, "frame too large")
    if first & 0x70:
        raise Refused(PROTOCOL_ERROR, "reserved bits set (no extension was agreed)")
    if opcode >= OP_CLOSE:
        if not first & FIN or length > 125:
            raise Refused(PROTOCOL_ERROR, "control frames must be final and short")
    elif opcode == OP_TEXT:
        raise Refused(UNSUPPORTED, "fragmented messages are not accepted")
    elif opcode == OP_BINARY:
        raise Refused(UNSUPPORTED, "binary frames are not accepted")
    else:
        raise Refused(PROTOCOL_ERROR, "continuation without a fragmented message")


def _utf8(payload: bytes) -> str:
    try:
        return payload.decode()
    except UnicodeDecodeError:
        raise Refused(NOT_UTF8, "text is not valid UTF-8") from None


def close_payload(payload: bytes) -> tuple[int, str]:
    """The code and reason of a close frame's payload (RFC 6455 §5.5.1, §7.4)."""
    if not payload:
        return 1005, ""
    if len(payload) == 1:
        raise Refused(PROTOCOL_ERROR, "close payload of one byte")
    code = int.from_bytes(payload[:2], "big")
    reason = _utf8(payload[2:])  # before the code, as websockets does
    if code not in _SENDABLE and not 3000 <= code <= 4999:
        raise Refused(PROTOCOL_ERROR, f"close code {code} is not allowed")
    return code, reason


def frame_header(opcode: int, length: int) -> bytes:
    """The header of an unmasked, final server frame with ``length`` bytes of payload."""
    first = FIN | opcode
    if length < 126:
        return bytes((first, length))
    if length < 1 << 16:
        return bytes((first, 126)) + length.to_bytes(2, "big")
    return bytes((first, 127)) + length.to_bytes(8, "big")


def text_frame_header(length: int) -> bytes:
    """The header of an unmasked, final text frame with ``length`` bytes of payload."""
    return frame_header(OP_TEXT, length)


def text_frames(texts: list[str]) -> bytes:
    """Server-to-client text frames for ``texts``, ready to write."""
    parts: list[bytes] = []
    for text in texts:
        payload = text.encode()
        parts.append(frame_header(OP_TEXT, len(payload)))
        parts.append(payload)
    return b"".join(parts)


def server_frame(opcode: int, payload: bytes) -> bytes:
    """One unmasked server frame (binary, ping, pong)."""
    return frame_header(opcode, len(payload)) + payload


def close_frame(code: int, reason: str = "") -> bytes:
    """A close frame; code 1005 means "no code" and is sent as an empty payload."""
    if code == 1005:
        return frame_header(OP_CLOSE, 0)
    # A control frame's payload is at most 125 bytes: 2 for the code, 123 for the reason.
    data = reason.encode()[:123].decode(errors="ignore").encode()
    return server_frame(OP_CLOSE, code.to_bytes(2, "big") + data)
