"""Attachments: libsodium secretstream chunks under a random key, checked by digest first.

An attachment is encrypted once under its own random key and uploaded to the relay's blob
endpoint; the message that refers to it carries an :class:`AttachmentPointer` (key, digest,
length) inside the end-to-end channel. The recipient checks the SHA-256 digest of the whole
blob before decrypting anything, as Signal does, so a relay that swaps blobs is caught before
any plaintext is used. Byte layout (docs/protocol.md E2E §9)::

    blob    = version(1) = 0x01 || secretstream header(24) || chunk_1 || ... || chunk_n
    chunk_i = crypto_secretstream_xchacha20poly1305_push(plaintext slice i, ad = "",
              tag = MESSAGE, or FINAL for the last chunk)   (CHUNK_SIZE + 17 bytes, last shorter)
    pointer = version(1) = 0x01 || key(32) || SHA-256(blob)(32) || plaintext length(u64)

Writing uses the secretstream construction spelled out on libsodium's primitives so the
header can be a parameter (libsodium's init_push draws it itself); reading uses libsodium's
own secretstream, so every round trip checks the writer against libsodium.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from nacl import bindings, exceptions

from confide_crypto.chacha20 import chacha20_block, hchacha20, poly1305
from confide_crypto.encoding import Reader, u8, u64
from confide_crypto.errors import (
    AttachmentDigestError,
    DecryptionError,
    MalformedInputError,
    UnsupportedVersionError,
)
from confide_crypto.keys import Rng, read_key

VERSION = 1
CHUNK_SIZE = 65536
HEADER_LEN = 24
CHUNK_OVERHEAD = 17
TAG_MESSAGE = 0
TAG_FINAL = 3
_MAX_CHUNKS = 2**31


@dataclass(frozen=True, slots=True)
class AttachmentPointer:
    """What a message carries so its recipient can fetch, check and decrypt an attachment."""

    key: bytes
    digest: bytes
    length: int

    def encode(self) -> bytes:
        return u8(VERSION) + self.key + self.digest + u64(self.length)

    @classmethod
    def decode(cls, data: bytes) -> AttachmentPointer:
        reader = Reader(data)
        version = reader.u8()
        if version != VERSION:
            raise UnsupportedVersionError(f"attachment pointer version {version}")
        pointer = cls(read_key(reader), reader.take(32), reader.u64())
        reader.done()
        return pointer


class _Pusher:
    """crypto_secretstream_xchacha20poly1305 push with a caller-chosen header."""

    def __init__(self, key: bytes, header: bytes) -> None:
        self._key = hchacha20(key, header[:16])
        self._counter = 1
        self._inonce = header[16:24]

    def push(self, message: bytes, tag: int) -> bytes:
        # The chunk's ciphertext equals the IETF ChaCha20-Poly1305 AEAD's over a 64-byte block
        # holding the tag followed by the message (keystream from counter 1); the chunk keeps
        # only the first byte of that block. libsodium pads the MAC input after the message
        # with (mlen mod 16) zero bytes, unlike the AEAD, so the MAC is computed here.
        nonce = self._counter.to_bytes(4, "little") + self._inonce
        block = bytes([tag]) + bytes(63)
        sealed = bindings.crypto_aead_chacha20poly1305_ietf_encrypt(
            block + message, b"", nonce, self._key
        )
        ciphertext = sealed[:-16]
        mac_input = (
            ciphertext + bytes((0x10 - 64 + len(message)) & 0xF) + u64le(0) + u64le(len(ciphertext))
        )
        mac = poly1305(chacha20_block(self._key, 0, nonce)[:32], mac_input)
        self._inonce = bytes(a ^ b for a, b in zip(self._inonce, mac[:8], strict=True))
        self._counter += 1
        return ciphertext[:1] + ciphertext[64:] + mac


def u64le(value: int) -> bytes:
    return value.to_bytes(8, "little")


def encrypt_attachment(
    plaintext: bytes, *, key: bytes, header: bytes
) -> tuple[bytes, AttachmentPointer]:
    """Encrypt ``plaintext`` under ``key`` (32 random bytes) and ``header`` (24 random bytes)."""
    if len(key) != 32 or len(header) != HEADER_LEN:
        raise MalformedInputError("attachment key is 32 bytes and header 24")
    pusher = _Pusher(key, header)
    parts = [u8(VERSION), header]
    starts = range(0, max(len(plaintext), 1), CHUNK_SIZE)
    for start in starts:
        tag = TAG_FINAL if start + CHUNK_SIZE >= len(plaintext) else TAG_MESSAGE
        parts.append(pusher.push(plaintext[start : start + CHUNK_SIZE], tag))
    blob = b"".join(parts)
    return blob, AttachmentPointer(key, hashlib.sha256(blob).digest(), len(plaintext))


def new_attachment(plaintext: bytes, rng: Rng) -> tuple[bytes, AttachmentPointer]:
    """Encrypt under a fresh key and header drawn from ``rng``."""
    return encrypt_attachment(plaintext, key=rng(32), header=rng(HEADER_LEN))


def decrypt_attachment(blob: bytes, pointer: AttachmentPointer) -> bytes:
    """Check the blob's digest, then decrypt every chunk; raise on any mismatch."""
    if not hmac.compare_digest(hashlib.sha256(blob).digest(), pointer.digest):
        raise AttachmentDigestError("attachment digest does not match")
    reader = Reader(blob)
    version = reader.u8()
    if version != VERSION:
        raise UnsupportedVersionError(f"attachment version {version}")
    state = bindings.crypto_secretstream_xchacha20poly1305_state()
    bindings.crypto_secretstream_xchacha20poly1305_init_pull(
        state, reader.take(HEADER_LEN), pointer.key
    )
    body = reader.rest()
    step = CHUNK_SIZE + CHUNK_OVERHEAD
    out: list[bytes] = []
    tag = TAG_MESSAGE
    for start in range(0, len(body), step):
        if tag == TAG_FINAL:
            raise DecryptionError("data after the final chunk")
        try:
            chunk, tag = bindings.crypto_secretstream_xchacha20poly1305_pull(
                state, body[start : start + step], b""
            )
        except exceptions.CryptoError as exc:
            raise DecryptionError("attachment chunk does not authenticate") from exc
        out.append(chunk)
    plaintext = b"".join(out)
    if tag != TAG_FINAL or len(plaintext) != pointer.length:
        raise DecryptionError("attachment is truncated or has the wrong length")
    return plaintext
