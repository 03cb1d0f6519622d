"""The wire encoding every Confide JSON body uses for bytes: base64url without padding."""

from __future__ import annotations

import base64
import binascii

from confide_client.errors import ProtocolError

__all__ = ["b64d", "b64e"]


def b64e(data: bytes) -> str:
    """Encode bytes as base64url without padding, as the relay's contract requires."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64d(text: str) -> bytes:
    """Decode base64url with or without padding; malformed input is a protocol error."""
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as exc:
        raise ProtocolError("malformed base64url field") from exc
