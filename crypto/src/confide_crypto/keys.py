"""Device keys: the Ed25519 identity key, X25519 key pairs, signed and one-time prekeys.

One Ed25519 identity key per device signs; its X25519 form, obtained with libsodium's
crypto_sign_ed25519_{pk,sk}_to_curve25519, takes part in X3DH and sealed sender (the same
key serves both roles, as X3DH §2.3 allows via XEdDSA; we convert in the other direction).
The byte strings each signature covers are fixed by the cross-team contract and listed in
docs/protocol.md E2E §2.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field

from nacl import bindings, exceptions

from confide_crypto.encoding import Reader, expect_length, u32
from confide_crypto.errors import InvalidKeyError, InvalidSignatureError, MalformedInputError

#: A source of randomness: called with n, returns n bytes. Tests pass a pinned one.
Rng = Callable[[int], bytes]

KEY_LEN = 32
SIGNATURE_LEN = 64

REGISTRATION_TAG = b"Confide device registration v1\x00"
AUTH_TAG = b"Confide auth v1\x00"
SIGNED_PREKEY_TAG = b"Confide signed prekey v1\x00"

_P = 2**255 - 19
# The X25519 public values of small order (and their non-canonical aliases below 2^255),
# the same list libsodium refuses; compared with the unused top bit cleared (RFC 7748 §5).
_LOW_ORDER = frozenset(
    n.to_bytes(32, "little")
    for n in (
        0,
        1,
        325606250916557431795983626356110631294008115727848805560023387167927233504,
        39382357235489614581723060781553021112529911719440698176882885853963445705823,
        _P - 1,
        _P,
        _P + 1,
    )
)


def check_x25519_public(public: bytes) -> bytes:
    """Return ``public`` if it is a usable X25519 public key, else raise InvalidKeyError."""
    expect_length(public, KEY_LEN, "X25519 public key")
    masked = public[:31] + bytes([public[31] & 0x7F])
    if masked in _LOW_ORDER:
        raise InvalidKeyError("low-order X25519 public key")
    return public


def x25519(private: bytes, public: bytes) -> bytes:
    """X25519 (RFC 7748) that refuses low-order inputs and an all-zero shared secret."""
    check_x25519_public(public)
    try:
        shared = bindings.crypto_scalarmult(private, public)
    except exceptions.RuntimeError as exc:  # pragma: no cover - the list above catches these
        raise InvalidKeyError("X25519 produced no shared secret") from exc
    if not any(shared):  # pragma: no cover - unreachable once low-order inputs are refused
        raise InvalidKeyError("all-zero X25519 shared secret")
    return shared


def ed25519_public_to_x25519(identity_key: bytes) -> bytes:
    """The X25519 form of an Ed25519 public key, refusing keys libsodium rejects."""
    expect_length(identity_key, KEY_LEN, "identity key")
    try:
        converted = bindings.crypto_sign_ed25519_pk_to_curve25519(identity_key)
    except exceptions.RuntimeError as exc:
        raise InvalidKeyError("not a usable Ed25519 public key") from exc
    return check_x25519_public(converted)


def verify_signature(identity_key: bytes, message: bytes, signature: bytes) -> None:
    """Verify an Ed25519 signature; raise InvalidSignatureError if it does not hold."""
    expect_length(identity_key, KEY_LEN, "identity key")
    expect_length(signature, SIGNATURE_LEN, "signature")
    try:
        bindings.crypto_sign_open(signature + message, identity_key)
    except exceptions.CryptoError as exc:
        raise InvalidSignatureError("bad signature") from exc


def fingerprint(identity_key: bytes) -> bytes:
    """SHA-256 of an Ed25519 identity public key, as named in consent receipts."""
    return hashlib.sha256(expect_length(identity_key, KEY_LEN, "identity key")).digest()


def signed_prekey_message(key_id: int, public: bytes) -> bytes:
    """The exact bytes a signed prekey's signature covers (contract)."""
    return SIGNED_PREKEY_TAG + u32(key_id) + expect_length(public, KEY_LEN, "prekey")


@dataclass(frozen=True, slots=True)
class X25519KeyPair:
    """An X25519 key pair: ephemeral, ratchet, signed-prekey or one-time-prekey keys."""

    private: bytes
    public: bytes

    @classmethod
    def from_private(cls, private: bytes) -> X25519KeyPair:
        expect_length(private, KEY_LEN, "X25519 private key")
        return cls(private, bindings.crypto_scalarmult_base(private))

    @classmethod
    def generate(cls, rng: Rng) -> X25519KeyPair:
        return cls.from_private(rng(KEY_LEN))

    def __repr__(self) -> str:
        return f"X25519KeyPair(public={self.public.hex()})"


@dataclass(frozen=True, slots=True)
class IdentityKeyPair:
    """A device's Ed25519 identity key, kept as its 32-byte seed.

    The public key, secret key and X25519 form are derived once, on construction, because
    every envelope sealed or opened needs them.
    """

    seed: bytes
    #: The 32-byte Ed25519 public key: the device's ``identity_key``.
    public: bytes = field(init=False, compare=False)
    #: The X25519 form used in key agreement.
    dh: X25519KeyPair = field(init=False, compare=False)
    _secret_key: bytes = field(init=False, compare=False)

    def __post_init__(self) -> None:
        expect_length(self.seed, KEY_LEN, "identity seed")
        public, secret = bindings.crypto_sign_seed_keypair(self.seed)
        dh = X25519KeyPair.from_private(bindings.crypto_sign_ed25519_sk_to_curve25519(secret))
        object.__setattr__(self, "public", public)
        object.__setattr__(self, "_secret_key", secret)
        object.__setattr__(self, "dh", dh)

    @classmethod
    def generate(cls, rng: Rng) -> IdentityKeyPair:
        return cls(rng(KEY_LEN))

    def sign(self, message: bytes) -> bytes:
        """A detached Ed25519 signature (deterministic, RFC 8032)."""
        return bindings.crypto_sign(message, self._secret_key)[:SIGNATURE_LEN]

    def sign_registration(self, challenge: bytes) -> bytes:
        """Proof of possession for device registration (contract)."""
        return self.sign(REGISTRATION_TAG + challenge)

    def sign_auth(self, challenge: bytes) -> bytes:
        """Challenge-response authentication to the relay (contract)."""
        return self.sign(AUTH_TAG + challenge)

    def __repr__(self) -> str:
        return f"IdentityKeyPair(public={self.public.hex()})"


@dataclass(frozen=True, slots=True)
class SignedPreKey:
    """A medium-term X25519 prekey signed by the identity key (X3DH §2.5)."""

    key_id: int
    pair: X25519KeyPair
    signature: bytes

    @classmethod
    def create(cls, identity: IdentityKeyPair, key_id: int, private: bytes) -> SignedPreKey:
        pair = X25519KeyPair.from_private(private)
        return cls(key_id, pair, identity.sign(signed_prekey_message(key_id, pair.public)))


@dataclass(frozen=True, slots=True)
class OneTimePreKey:
    """A single-use X25519 prekey (X3DH §2.5)."""

    key_id: int
    pair: X25519KeyPair


@dataclass(frozen=True, slots=True)
class PreKeyBundle:
    """What the relay hands an initiator: the public half of a device's prekeys."""

    identity_key: bytes
    signed_prekey_id: int
    signed_prekey: bytes
    signed_prekey_signature: bytes
    one_time_prekey_id: int | None = None
    one_time_prekey: bytes | None = None

    def verify(self) -> None:
        """Check the signed prekey's signature and every key's shape (X3DH §3.2)."""
        verify_signature(
            self.identity_key,
            signed_prekey_message(self.signed_prekey_id, self.signed_prekey),
            self.signed_prekey_signature,
        )
        check_x25519_public(self.signed_prekey)
        ed25519_public_to_x25519(self.identity_key)
        if (self.one_time_prekey is None) != (self.one_time_prekey_id is None):
            raise MalformedInputError("one-time prekey id and key must come together")
        if self.one_time_prekey is not None:
            check_x25519_public(self.one_time_prekey)


def read_key(reader: Reader) -> bytes:
    """Read one 32-byte key field."""
    return reader.take(KEY_LEN)
