"""Byte encodings shared by every Confide format.

Two things live here: base64url without padding (RFC 4648 §5), which every bytes field in
Confide's JSON uses, and a small bounds-checked reader and writer for the binary wire formats
described in docs/protocol.md (part 2). All integers on the wire are unsigned big-endian.
"""

from __future__ import annotations

import base64
import binascii
import re

from confide_crypto.errors import MalformedInputError

_B64URL_ALPHABET = re.compile(r"[A-Za-z0-9_-]*")


def b64encode(data: bytes) -> str:
    """Encode bytes as base64url with the trailing padding removed (RFC 4648 §5)."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64decode(text: str) -> bytes:
    """Decode unpadded base64url, refusing padding, other alphabets and non-canonical tails.

    Non-canonical encodings (unused low bits set in the last character) are refused so that
    each byte string has exactly one text form, which keeps hashes of encoded values stable.
    """
    if _B64URL_ALPHABET.fullmatch(text) is None or len(text) % 4 == 1:
        raise MalformedInputError("not unpadded base64url")
    padded = text + "=" * (-len(text) % 4)
    try:
        data = base64.urlsafe_b64decode(padded)
    except (binascii.Error, ValueError) as exc:  # pragma: no cover - alphabet checked above
        raise MalformedInputError("not unpadded base64url") from exc
    if b64encode(data) != text:
        raise MalformedInputError("non-canonical base64url")
    return data


def u8(value: int) -> bytes:
    """One unsigned byte."""
    return value.to_bytes(1, "big")


def u16(value: int) -> bytes:
    """An unsigned 16-bit big-endian integer."""
    return value.to_bytes(2, "big")


def u32(value: int) -> bytes:
    """An unsigned 32-bit big-endian integer."""
    return value.to_bytes(4, "big")


def u64(value: int) -> bytes:
    """An unsigned 64-bit big-endian integer."""
    return value.to_bytes(8, "big")


def text16(value: str) -> bytes:
    """A UTF-8 string prefixed by its byte length as u16."""
    raw = value.encode("utf-8")
    if len(raw) > 0xFFFF:
        raise MalformedInputError("string longer than 65535 bytes")
    return u16(len(raw)) + raw


class Reader:
    """Reads fixed fields from a byte string, raising MalformedInputError on any overrun."""

    def __init__(self, data: bytes) -> None:
        self._data = data
        self._pos = 0

    def take(self, n: int) -> bytes:
        """Return the next ``n`` bytes."""
        end = self._pos + n
        if end > len(self._data):
            raise MalformedInputError("truncated input")
        chunk = self._data[self._pos : end]
        self._pos = end
        return chunk

    def u8(self) -> int:
        return self.take(1)[0]

    def u16(self) -> int:
        return int.from_bytes(self.take(2), "big")

    def u32(self) -> int:
        return int.from_bytes(self.take(4), "big")

    def u64(self) -> int:
        return int.from_bytes(self.take(8), "big")

    def flag(self) -> bool:
        """A boolean byte, which must be exactly 0x00 or 0x01 so encodings stay canonical."""
        value = self.u8()
        if value > 1:
            raise MalformedInputError("flag byte must be 0 or 1")
        return value == 1

    def text16(self) -> str:
        raw = self.take(self.u16())
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise MalformedInputError("string is not UTF-8") from exc

    def rest(self) -> bytes:
        """Return everything not yet read."""
        chunk = self._data[self._pos :]
        self._pos = len(self._data)
        return chunk

    def done(self) -> None:
        """Insist the input was consumed exactly, so trailing bytes cannot hide anything."""
        if self._pos != len(self._data):
            raise MalformedInputError("trailing bytes")


def expect_length(data: bytes, n: int, what: str) -> bytes:
    """Return ``data`` if it is exactly ``n`` bytes long, else raise MalformedInputError."""
    if len(data) != n:
        raise MalformedInputError(f"{what} must be {n} bytes, got {len(data)}")
    return data
