"""Base64url without padding (RFC 4648 section 5), the encoding of every bytes field."""

from __future__ import annotations

import base64
import binascii

import pybase64

from confide_server.errors import InvalidInput

# Short values (ids, keys) go through the standard library: one translation maps the
# URL-safe alphabet onto the standard one and every character that has no place in
# base64url ("+", "/", "=") onto "!", which the strict decoder refuses. Long ones (envelope
# bodies, which the relay decodes to check every one it is sent) go through pybase64, whose
# SIMD code is the faster on long values but costs more per call; with altchars
# it also takes "+" and "/", so those and "=" are looked for first, and validate=True
# refuses every other character outside the alphabet.
_LONG = 256
_STRICT = bytes.maketrans(b"-_+/=", b"+/!!!")
_PADDING = {0: b"", 2: b"==", 3: b"="}
_INDEX = {
    c: i for i, c in enumerate("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
}
# A canonical encoding leaves the unused low bits of its last character zero.
_UNUSED_BITS = {2: 0b1111, 3: 0b11}


def b64e(data: bytes) -> str:
    if len(data) < _LONG:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")
    return pybase64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64d(
    text: object, field: str, *, size: int | None = None, max_size: int | None = None
) -> bytes:
    """Decode a base64url field, raising InvalidInput that names the field on any fault.

    Strict: padding, the standard alphabet's ``+`` and ``/``, any other character and
    non-canonical final characters are all refused, so each value has exactly one spelling.
    """
    if not isinstance(text, str):
        raise InvalidInput(f"{field} must be a base64url string")
    if max_size is not None and len(text) > (max_size * 4) // 3 + 4:
        raise InvalidInput(f"{field} is larger than {max_size} bytes")
    try:
        raw = text.encode("ascii")
        padding = _PADDING[len(raw) % 4]
        if len(raw) < _LONG:
            data = binascii.a2b_base64(raw.translate(_STRICT) + padding, strict_mode=True)
        elif "+" in text or "/" in text or "=" in text:
            raise binascii.Error
        else:
            data = pybase64.b64decode(raw + padding, altchars=b"-_", validate=True)
    except (UnicodeEncodeError, KeyError, binascii.Error, ValueError):
        raise InvalidInput(_fault(text, field)) from None
    unused = _UNUSED_BITS.get(len(raw) % 4, 0)
    if unused and _INDEX[text[-1]] & unused:
        raise InvalidInput(f"{field} is not canonical base64url")
    if size is not None and len(data) != size:
        raise InvalidInput(f"{field} must be {size} bytes")
    if max_size is not None and len(data) > max_size:
        raise InvalidInput(f"{field} is larger than {max_size} bytes")
    return data


def _fault(text: str, field: str) -> str:
    if "=" in text:
        return f"{field} must be base64url without padding"
    return f"{field} is not valid base64url"
