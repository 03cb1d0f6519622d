"""The wire encoding every Confide JSON body uses for bytes: base64url without padding.

The codec is confide_crypto's (docs/protocol.md E2E §1), so the SDK refuses padding and
non-canonical text exactly as the other clients do; here its error becomes the SDK's
ProtocolError, which is what callers of a transport handle.
"""

from __future__ import annotations

from confide_crypto.encoding import b64decode, b64encode
from confide_crypto.errors import MalformedInputError

from confide_client.errors import ProtocolError

__all__ = ["b64d", "b64e"]

b64e = b64encode


def b64d(text: str) -> bytes:
    """Decode unpadded base64url; malformed input is a protocol error."""
    try:
        return b64decode(text)
    except MalformedInputError as exc:
        raise ProtocolError("malformed base64url field") from exc
