"""Base64url without padding (RFC 4648 section 5), the encoding of every bytes field."""

from __future__ import annotations

import base64
import binascii
import re

from confide_server.errors import InvalidInput

_ALPHABET = re.compile(r"[A-Za-z0-9_-]*")
_INDEX = {
    c: i for i, c in enumerate("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
}


def b64e(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64d(
    text: object, field: str, *, size: int | None = None, max_size: int | None = None
) -> bytes:
    """Decode a base64url field, raising InvalidInput that names the field on any fault."""
    if not isinstance(text, str):
        raise InvalidInput(f"{field} must be a base64url string")
    if not _ALPHABET.fullmatch(text):
        if "=" in text:
            raise InvalidInput(f"{field} must be base64url without padding")
        raise InvalidInput(f"{field} is not valid base64url")
    if max_size is not None and len(text) > (max_size * 4) // 3 + 4:
        raise InvalidInput(f"{field} is larger than {max_size} bytes")
    if len(text) % 4 == 1:
        raise InvalidInput(f"{field} is not valid base64url")
    try:
        data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise InvalidInput(f"{field} is not valid base64url") from None
    # A canonical encoding leaves the unused low bits of its last character zero; checking
    # that one character is much cheaper than encoding the whole value again.
    unused = {2: 0b1111, 3: 0b11}.get(len(text) % 4, 0)
    if unused and _INDEX[text[-1]] & unused:
        raise InvalidInput(f"{field} is not canonical base64url")
    if size is not None and len(data) != size:
        raise InvalidInput(f"{field} must be {size} bytes")
    if max_size is not None and len(data) > max_size:
        raise InvalidInput(f"{field} is larger than {max_size} bytes")
    return data
