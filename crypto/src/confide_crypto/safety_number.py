"""Safety numbers: what two people compare to detect a relay that substituted keys.

After Signal's numeric fingerprints: each identity key is hashed with iterated SHA-512
(ITERATIONS rounds, so a search for a colliding key costs 2^13 hashes more per try), the
first 30 bytes become 30 digits (six groups of 5 digits, each a 5-byte big-endian number
mod 100000), and the two 30-digit halves are sorted before being joined, so both devices show
the same 60 digits whichever side computes them. The QR payload is the version byte followed
by the two 32-byte fingerprints in the same sorted order. See docs/protocol.md E2E §8.
"""

from __future__ import annotations

import hashlib
import hmac

from confide_crypto.encoding import expect_length, u16
from confide_crypto.errors import SafetyNumberMismatchError

VERSION = 1
ITERATIONS = 5200
_LABEL = b"Confide safety number"


def key_fingerprint(identity_key: bytes) -> bytes:
    """The 32-byte iterated-hash fingerprint of one Ed25519 identity key."""
    expect_length(identity_key, 32, "identity key")
    digest = u16(VERSION) + _LABEL + identity_key
    for _ in range(ITERATIONS):
        digest = hashlib.sha512(digest + identity_key).digest()
    return digest[:32]


def _digits(fingerprint: bytes) -> str:
    chunks = (fingerprint[i : i + 5] for i in range(0, 30, 5))
    return "".join(f"{int.from_bytes(chunk, 'big') % 100000:05d}" for chunk in chunks)


def _sorted_fingerprints(key_a: bytes, key_b: bytes) -> list[bytes]:
    return sorted([key_fingerprint(key_a), key_fingerprint(key_b)], key=_digits)


def safety_number(key_a: bytes, key_b: bytes) -> str:
    """Sixty digits, the same for (a, b) and (b, a); show as twelve groups of five."""
    return "".join(_digits(fp) for fp in _sorted_fingerprints(key_a, key_b))


def qr_payload(key_a: bytes, key_b: bytes) -> bytes:
    """Version byte || the two fingerprints, in the order of their digit strings (65 bytes)."""
    return bytes([VERSION]) + b"".join(_sorted_fingerprints(key_a, key_b))


def verify_qr_payload(scanned: bytes, own_key: bytes, peer_key: bytes) -> None:
    """Compare a scanned payload with our own; raise SafetyNumberMismatchError if they differ."""
    if not hmac.compare_digest(scanned, qr_payload(own_key, peer_key)):
        raise SafetyNumberMismatchError("safety numbers differ: the keys may have been replaced")


def grouped(number: str) -> str:
    """The digits in groups of five separated by spaces, for reading aloud."""
    return " ".join(number[i : i + 5] for i in range(0, len(number), 5))
