"""Checking device keys and the domain-separated signatures the cross-team contract fixes."""

from __future__ import annotations

from nacl.bindings import crypto_sign_ed25519_pk_to_curve25519
from nacl.exceptions import BadSignatureError, CryptoError
from nacl.signing import VerifyKey

from confide_server.errors import InvalidInput

REGISTRATION_TAG = b"Confide device registration v1\x00"
AUTH_TAG = b"Confide auth v1\x00"
SIGNED_PREKEY_TAG = b"Confide signed prekey v1\x00"


def check_identity_key(key: bytes) -> None:
    """An identity key must be an Ed25519 point with an X25519 form (X3DH needs it)."""
    try:
        crypto_sign_ed25519_pk_to_curve25519(key)
    except (CryptoError, ValueError, TypeError):
        raise InvalidInput("identity_key is not a valid Ed25519 public key") from None


def verify(identity_key: bytes, message: bytes, signature: bytes, what: str) -> None:
    """Raise InvalidInput naming ``what`` unless ``signature`` is valid over ``message``."""
    if len(signature) != 64:
        raise InvalidInput(f"{what} must be 64 bytes")
    try:
        VerifyKey(identity_key).verify(message, signature)
    except (BadSignatureError, CryptoError, ValueError, TypeError):
        raise InvalidInput(f"{what} does not verify with the device's identity key") from None


def signed_prekey_message(key_id: int, public_key: bytes) -> bytes:
    return SIGNED_PREKEY_TAG + key_id.to_bytes(4, "big") + public_key
