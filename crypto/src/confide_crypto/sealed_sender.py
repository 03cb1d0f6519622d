"""Sealed-sender envelopes: the relay sees a recipient mailbox and a padded ciphertext only.

Modelled on Signal's sealed sender (v1): an ephemeral X25519 key agreed with the recipient's
identity key hides the sender's identity key, and a second key derived from the sender's
static identity key and the recipient's authenticates the content, so a recipient that opens
the envelope knows which identity key sent it. Byte layout (docs/protocol.md E2E §6)::

    envelope       = version(1) = 0x01 || ephemeral_pub(32) || sealed_sender(48) || sealed_body
    chain || k1    = HKDF(DH(e, IK_R), salt = 0^32,
                          info = "Confide sealed sender v1 ephemeral" || IK_R || ephemeral_pub)
    sealed_sender  = XChaCha20-Poly1305(k1, nonce = 0^24, ad = version || ephemeral_pub,
                                        plaintext = IK_S)
    k2             = HKDF(DH(IK_S, IK_R), salt = chain,
                          info = "Confide sealed sender v1 static" || sealed_sender)
    sealed_body    = XChaCha20-Poly1305(k2, nonce = 0^24,
                                        ad = version || ephemeral_pub || sealed_sender,
                                        plaintext = pad(content))

IK_S and IK_R are Ed25519 identity keys; the DH uses their X25519 forms. k1 and k2 depend on
a fresh ephemeral key, so each is used for exactly one encryption and a fixed nonce is safe.
The body is padded so that the whole envelope is one of the padding buckets in length.
"""

from __future__ import annotations

from dataclasses import dataclass

from confide_crypto import aead
from confide_crypto.encoding import Reader, u8
from confide_crypto.errors import DecryptionError, UnsupportedVersionError
from confide_crypto.kdf import hkdf_sha256
from confide_crypto.keys import (
    IdentityKeyPair,
    X25519KeyPair,
    ed25519_public_to_x25519,
    read_key,
    x25519,
)
from confide_crypto.padding import bucket_for, pad, unpad

ENVELOPE_VERSION = 1
_INFO_EPHEMERAL = b"Confide sealed sender v1 ephemeral"
_INFO_STATIC = b"Confide sealed sender v1 static"
_ZERO_NONCE = bytes(aead.NONCE_LEN)
_SEALED_SENDER_LEN = 32 + aead.TAG_LEN
#: Bytes an envelope adds around its padded content.
OVERHEAD = 1 + 32 + _SEALED_SENDER_LEN + aead.TAG_LEN
#: The largest content that still fits the largest bucket.
MAX_CONTENT = 65536 - OVERHEAD - 1


@dataclass(frozen=True, slots=True)
class OpenedEnvelope:
    """An envelope's authenticated sender identity key and its unpadded content."""

    sender_identity_key: bytes
    content: bytes


def _ephemeral_keys(dh: bytes, recipient: bytes, ephemeral_pub: bytes) -> tuple[bytes, bytes]:
    info = _INFO_EPHEMERAL + recipient + ephemeral_pub
    out = hkdf_sha256(dh, salt=b"", info=info, length=64)
    return out[:32], out[32:]


def _static_key(dh: bytes, chain: bytes, sealed_sender: bytes) -> bytes:
    return hkdf_sha256(dh, salt=chain, info=_INFO_STATIC + sealed_sender, length=32)


def seal(
    sender: IdentityKeyPair,
    recipient_identity_key: bytes,
    content: bytes,
    ephemeral: X25519KeyPair,
) -> bytes:
    """Seal ``content`` from ``sender`` to the holder of ``recipient_identity_key``."""
    recipient_dh = ed25519_public_to_x25519(recipient_identity_key)
    head = u8(ENVELOPE_VERSION) + ephemeral.public
    chain, k1 = _ephemeral_keys(
        x25519(ephemeral.private, recipient_dh), recipient_identity_key, ephemeral.public
    )
    sealed_sender = aead.seal(k1, _ZERO_NONCE, sender.public, head)
    k2 = _static_key(x25519(sender.dh.private, recipient_dh), chain, sealed_sender)
    padded = pad(content, bucket_for(len(content), OVERHEAD) - OVERHEAD)
    return head + sealed_sender + aead.seal(k2, _ZERO_NONCE, padded, head + sealed_sender)


def open_(recipient: IdentityKeyPair, envelope: bytes) -> OpenedEnvelope:
    """Open an envelope addressed to ``recipient``; raise DecryptionError if it is not genuine."""
    reader = Reader(envelope)
    version = reader.u8()
    if version != ENVELOPE_VERSION:
        raise UnsupportedVersionError(f"envelope version {version}")
    ephemeral_pub = read_key(reader)
    sealed_sender = reader.take(_SEALED_SENDER_LEN)
    sealed_body = reader.rest()
    head = u8(ENVELOPE_VERSION) + ephemeral_pub
    chain, k1 = _ephemeral_keys(
        x25519(recipient.dh.private, ephemeral_pub), recipient.public, ephemeral_pub
    )
    sender_identity_key = aead.open_(k1, _ZERO_NONCE, sealed_sender, head)
    sender_dh = ed25519_public_to_x25519(sender_identity_key)
    k2 = _static_key(x25519(recipient.dh.private, sender_dh), chain, sealed_sender)
    padded = aead.open_(k2, _ZERO_NONCE, sealed_body, head + sealed_sender)
    try:
        content = unpad(padded)
    except ValueError as exc:  # pragma: no cover - only a holder of k2 can make bad padding
        raise DecryptionError("bad padding inside an authentic envelope") from exc
    return OpenedEnvelope(sender_identity_key, content)
