"""X3DH key agreement (https://signal.org/docs/specifications/x3dh/).

Curve X25519 (identity keys converted from Ed25519), hash SHA-256, info "Confide X3DH v1".
The shared key is HKDF-SHA256 over F || DH1 || DH2 || DH3 [|| DH4] with F = 32 0xFF bytes and
a salt of 32 zero bytes (X3DH §2.2). The associated data is the initiator's Ed25519 identity
key followed by the responder's (§3.3): 64 bytes, the same on both sides.
"""

from __future__ import annotations

from dataclasses import dataclass

from confide_crypto.errors import InvalidKeyError, MissingPreKeyError
from confide_crypto.kdf import INFO_X3DH, hkdf_sha256
from confide_crypto.keys import (
    IdentityKeyPair,
    OneTimePreKey,
    PreKeyBundle,
    SignedPreKey,
    X25519KeyPair,
    check_x25519_public,
    ed25519_public_to_x25519,
    x25519,
)

_F = b"\xff" * 32


@dataclass(frozen=True, slots=True)
class InitialKeys:
    """What the initiator tells the responder so it can repeat the agreement (X3DH §3.3)."""

    ephemeral_key: bytes
    signed_prekey_id: int
    one_time_prekey_id: int | None


@dataclass(frozen=True, slots=True)
class X3DHResult:
    """The agreed secret key SK and associated data AD."""

    shared_key: bytes
    associated_data: bytes


def _derive(dh_outputs: list[bytes]) -> bytes:
    return hkdf_sha256(_F + b"".join(dh_outputs), salt=b"", info=INFO_X3DH, length=32)


def initiate(
    identity: IdentityKeyPair, bundle: PreKeyBundle, ephemeral: X25519KeyPair
) -> tuple[X3DHResult, InitialKeys]:
    """The initiator's side (X3DH §3.3), using the one-time prekey if the bundle has one."""
    bundle.verify()
    responder_dh = ed25519_public_to_x25519(bundle.identity_key)
    outputs = [
        x25519(identity.dh.private, bundle.signed_prekey),
        x25519(ephemeral.private, responder_dh),
        x25519(ephemeral.private, bundle.signed_prekey),
    ]
    if bundle.one_time_prekey is not None:
        outputs.append(x25519(ephemeral.private, bundle.one_time_prekey))
    result = X3DHResult(_derive(outputs), identity.public + bundle.identity_key)
    keys = InitialKeys(ephemeral.public, bundle.signed_prekey_id, bundle.one_time_prekey_id)
    return result, keys


def respond(
    identity: IdentityKeyPair,
    initiator_identity_key: bytes,
    keys: InitialKeys,
    signed_prekey: SignedPreKey,
    one_time_prekey: OneTimePreKey | None,
) -> X3DHResult:
    """The responder's side (X3DH §3.4); the caller deletes the one-time prekey afterwards."""
    if signed_prekey.key_id != keys.signed_prekey_id:
        raise MissingPreKeyError("signed prekey id does not match")
    if (one_time_prekey is None) != (keys.one_time_prekey_id is None) or (
        one_time_prekey is not None and one_time_prekey.key_id != keys.one_time_prekey_id
    ):
        raise MissingPreKeyError("one-time prekey does not match")
    if initiator_identity_key == identity.public:
        raise InvalidKeyError("a device cannot start a session with itself")
    initiator_dh = ed25519_public_to_x25519(initiator_identity_key)
    check_x25519_public(keys.ephemeral_key)
    outputs = [
        x25519(signed_prekey.pair.private, initiator_dh),
        x25519(identity.dh.private, keys.ephemeral_key),
        x25519(signed_prekey.pair.private, keys.ephemeral_key),
    ]
    if one_time_prekey is not None:
        outputs.append(x25519(one_time_prekey.pair.private, keys.ephemeral_key))
    return X3DHResult(_derive(outputs), initiator_identity_key + identity.public)
