"""Padding to size buckets, so the relay learns only which bucket a message falls in.

Sealed envelopes are padded so that the *whole envelope* is exactly one of BUCKETS bytes
long: 256 B, 1 KiB, 4 KiB, 16 KiB or 64 KiB (the relay's default maximum envelope size).
The padding is ISO/IEC 7816-4 style: the content, one 0x80 byte, then zero bytes. It is
inside the authenticated encryption, so it cannot be altered without detection.
"""

from __future__ import annotations

from confide_crypto.errors import MalformedInputError

BUCKETS: tuple[int, ...] = (256, 1024, 4096, 16384, 65536)
_MARKER = 0x80


def bucket_for(length: int, overhead: int = 0) -> int:
    """The smallest bucket that holds ``length`` content bytes plus marker and ``overhead``."""
    needed = length + 1 + overhead
    for bucket in BUCKETS:
        if needed <= bucket:
            return bucket
    raise MalformedInputError(f"content of {length} bytes exceeds the largest bucket")


def pad(content: bytes, target: int) -> bytes:
    """Pad ``content`` to exactly ``target`` bytes."""
    if len(content) + 1 > target:
        raise MalformedInputError("content does not fit the target length")
    return content + bytes([_MARKER]) + bytes(target - len(content) - 1)


def unpad(padded: bytes) -> bytes:
    """Remove padding made by :func:`pad`, refusing anything else."""
    stripped = padded.rstrip(b"\x00")
    if not stripped or stripped[-1] != _MARKER:
        raise MalformedInputError("bad padding")
    return stripped[:-1]
