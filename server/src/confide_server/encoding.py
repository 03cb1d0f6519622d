"""Base64url without padding (RFC 4648 section 5), the encoding of every bytes field."""

from __future__ import annotations

import base64
import binascii

from confide_server.errors import InvalidInput

# One translation maps the URL-safe alphabet onto the standard one and every character that
# has no place in base64url ("+", "/", "=") onto "!", which the strict decoder refuses; so one
# C call checks the alphabet and decodes, and errors are told apart only when they happen.
_STRICT = bytes.maketrans(b"-_+/=", b"+/!!!")
_PADDING = {0: b"", 2: b"==", 3: b"="}
_INDEX = {
    c: i for i, c in enumerate("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
}
# A canonical encoding leaves the unused low bits of its last character zero.
_UNUSED_BITS = {2: 0b1111, 3: 0b11}


def b64e(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


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
        data = binascii.a2b_base64(
            raw.translate(_STRICT) + _PADDING[len(raw) % 4], strict_mode=True
        )
    except (UnicodeEncodeError, KeyError, binascii.Error):
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
