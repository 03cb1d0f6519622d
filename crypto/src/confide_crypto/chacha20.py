"""HChaCha20, the ChaCha20 block function and Poly1305: the pieces PyNaCl does not expose.

libsodium's secretstream draws its header at random inside init_push. To keep this package
free of randomness it was not handed, the attachment writer (attachments.py) takes the header
as a parameter and rebuilds secretstream's push from these pieces (RFC 8439 §2.3 and §2.5,
draft-irtf-cfrg-xchacha-03 §2.2); the reader is libsodium's own secretstream, so every round
trip checks this code against libsodium. Only one block and one MAC per 64 KiB chunk run
here; the bulk encryption stays in libsodium.
"""

from __future__ import annotations

import struct

_CONSTANTS = (0x61707865, 0x3320646E, 0x79622D32, 0x6B206574)
_MASK = 0xFFFFFFFF


def _rotl(x: int, n: int) -> int:
    return ((x << n) & _MASK) | (x >> (32 - n))


def _quarter_round(s: list[int], a: int, b: int, c: int, d: int) -> None:
    s[a] = (s[a] + s[b]) & _MASK
    s[d] = _rotl(s[d] ^ s[a], 16)
    s[c] = (s[c] + s[d]) & _MASK
    s[b] = _rotl(s[b] ^ s[c], 12)
    s[a] = (s[a] + s[b]) & _MASK
    s[d] = _rotl(s[d] ^ s[a], 8)
    s[c] = (s[c] + s[d]) & _MASK
    s[b] = _rotl(s[b] ^ s[c], 7)


def _rounds(state: list[int]) -> None:
    for _ in range(10):
        _quarter_round(state, 0, 4, 8, 12)
        _quarter_round(state, 1, 5, 9, 13)
        _quarter_round(state, 2, 6, 10, 14)
        _quarter_round(state, 3, 7, 11, 15)
        _quarter_round(state, 0, 5, 10, 15)
        _quarter_round(state, 1, 6, 11, 12)
        _quarter_round(state, 2, 7, 8, 13)
        _quarter_round(state, 3, 4, 9, 14)


def hchacha20(key: bytes, nonce16: bytes) -> bytes:
    """Derive a 32-byte subkey from a 32-byte key and a 16-byte nonce."""
    if len(key) != 32 or len(nonce16) != 16:
        raise ValueError("HChaCha20 takes a 32-byte key and a 16-byte nonce")
    state = [*_CONSTANTS, *struct.unpack("<8I", key), *struct.unpack("<4I", nonce16)]
    _rounds(state)
    return struct.pack("<8I", *state[0:4], *state[12:16])


def chacha20_block(key: bytes, counter: int, nonce12: bytes) -> bytes:
    """One 64-byte ChaCha20 keystream block (RFC 8439 §2.3)."""
    initial = [*_CONSTANTS, *struct.unpack("<8I", key), counter, *struct.unpack("<3I", nonce12)]
    state = list(initial)
    _rounds(state)
    return struct.pack("<16I", *((a + b) & _MASK for a, b in zip(state, initial, strict=True)))


_P1305 = (1 << 130) - 5
_CLAMP = 0x0FFFFFFC0FFFFFFC0FFFFFFC0FFFFFFF


def poly1305(key: bytes, data: bytes) -> bytes:
    """The Poly1305 one-time authenticator (RFC 8439 §2.5)."""
    r = int.from_bytes(key[:16], "little") & _CLAMP
    s = int.from_bytes(key[16:32], "little")
    acc = 0
    for i in range(0, len(data), 16):
        acc = (acc + int.from_bytes(data[i : i + 16] + b"\x01", "little")) * r % _P1305
    return ((acc + s) & ((1 << 128) - 1)).to_bytes(16, "little")
