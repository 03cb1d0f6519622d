"""XChaCha20-Poly1305 (IETF) through libsodium, with failures mapped onto the error tree."""

from __future__ import annotations

from nacl import bindings, exceptions

from confide_crypto.errors import DecryptionError

KEY_LEN = 32
NONCE_LEN = 24
TAG_LEN = 16


def seal(key: bytes, nonce: bytes, plaintext: bytes, associated_data: bytes) -> bytes:
    """Encrypt and authenticate ``plaintext``; the result is ciphertext || 16-byte tag."""
    return bindings.crypto_aead_xchacha20poly1305_ietf_encrypt(
        plaintext, associated_data, nonce, key
    )


def open_(key: bytes, nonce: bytes, ciphertext: bytes, associated_data: bytes) -> bytes:
    """Verify and decrypt; raise DecryptionError if anything was altered."""
    if len(ciphertext) < TAG_LEN:
        raise DecryptionError("ciphertext shorter than its tag")
    try:
        return bindings.crypto_aead_xchacha20poly1305_ietf_decrypt(
            ciphertext, associated_data, nonce, key
        )
    except exceptions.CryptoError as exc:
        raise DecryptionError("authentication failed") from exc
