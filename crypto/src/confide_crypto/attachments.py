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

Both directions are libsodium's secretstream as it is (``init_push``/``push``,
``init_pull``/``pull`` through PyNaCl); this package spells out no primitive of its own. The
one value here that the caller does not hand in is the 24-byte secretstream header:
libsodium's ``init_push`` draws it itself and offers no way to choose it. It is public (it
travels in the blob), so only the key comes from the caller's ``rng``. Encryption therefore
has no known answer; tests/vectors/attachments.json pins the format on the decrypt side (each
vector blob must decrypt to its plaintext), and the encrypt side is tested by round trips and
properties.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from nacl import bindings, exceptions

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
KEY_LEN = 32
CHUNK_OVERHEAD = 17
TAG_MESSAGE = bindings.crypto_secretstream_xchacha20poly1305_TAG_MESSAGE
TAG_FINAL = bindings.crypto_secretstream_xchacha20poly1305_TAG_FINAL


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


def encrypt_attachment(plaintext: bytes, *, key: bytes) -> tuple[bytes, AttachmentPointer]:
    """Encrypt ``plaintext`` under ``key`` (32 random bytes); libsodium draws the header."""
    if len(key) != KEY_LEN:
        raise MalformedInputError("an attachment key is 32 bytes")
    state = bindings.crypto_secretstream_xchacha20poly1305_state()
    header = bindings.crypto_secretstream_xchacha20poly1305_init_push(state, key)
    parts = [u8(VERSION), header]
    for start in range(0, max(len(plaintext), 1), CHUNK_SIZE):
        tag = TAG_FINAL if start + CHUNK_SIZE >= len(plaintext) else TAG_MESSAGE
        chunk = plaintext[start : start + CHUNK_SIZE]
        parts.append(bindings.crypto_secretstream_xchacha20poly1305_push(state, chunk, None, tag))
    blob = b"".join(parts)
    return blob, AttachmentPointer(key, hashlib.sha256(blob).digest(), len(plaintext))


def new_attachment(plaintext: bytes, rng: Rng) -> tuple[bytes, AttachmentPointer]:
    """Encrypt under a fresh key drawn from ``rng``."""
    return encrypt_attachment(plaintext, key=rng(KEY_LEN))


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
