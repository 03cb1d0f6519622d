"""confide_crypto: Confide's end-to-end protocol, pure and synchronous.

X3DH and the Double Ratchet (Signal specifications) on libsodium primitives, sealed-sender
envelopes padded to size buckets, safety numbers, attachments, consent receipts and a
passphrase key store. Nothing here performs I/O; randomness (``rng``) and time (``now``) are
parameters, except in the clearly marked convenience methods of :class:`Device`.
docs/protocol.md (part 2) describes every format byte by byte.
"""

from confide_crypto.attachments import (
    AttachmentPointer,
    decrypt_attachment,
    encrypt_attachment,
    new_attachment,
)
from confide_crypto.consent import (
    ConsentReceipt,
    ConsentRevocation,
    policy_digest,
    verify_receipt,
    verify_revocation,
)
from confide_crypto.device import Device, Received, system_rng, unix_now
from confide_crypto.encoding import b64decode, b64encode
from confide_crypto.errors import (
    AttachmentDigestError,
    ConsentError,
    CryptoError,
    DecryptionError,
    DuplicateMessageError,
    InvalidKeyError,
    InvalidSignatureError,
    MalformedInputError,
    MissingPreKeyError,
    SafetyNumberMismatchError,
    SkippedKeyLimitError,
    UnsupportedVersionError,
    VerificationError,
    WrongPassphraseError,
)
from confide_crypto.keys import (
    IdentityKeyPair,
    OneTimePreKey,
    PreKeyBundle,
    Rng,
    SignedPreKey,
    X25519KeyPair,
    fingerprint,
    verify_signature,
)
from confide_crypto.keystore import KdfParams, OpenedStore, open_store, seal_store
from confide_crypto.padding import BUCKETS
from confide_crypto.safety_number import qr_payload, verify_qr_payload
from confide_crypto.sealed_sender import OpenedEnvelope
from confide_crypto.session import Session

__all__ = [
    "BUCKETS",
    "AttachmentDigestError",
    "AttachmentPointer",
    "ConsentError",
    "ConsentReceipt",
    "ConsentRevocation",
    "CryptoError",
    "DecryptionError",
    "Device",
    "DuplicateMessageError",
    "IdentityKeyPair",
    "InvalidKeyError",
    "InvalidSignatureError",
    "KdfParams",
    "MalformedInputError",
    "MissingPreKeyError",
    "OneTimePreKey",
    "OpenedEnvelope",
    "OpenedStore",
    "PreKeyBundle",
    "Received",
    "Rng",
    "SafetyNumberMismatchError",
    "Session",
    "SignedPreKey",
    "SkippedKeyLimitError",
    "UnsupportedVersionError",
    "VerificationError",
    "WrongPassphraseError",
    "X25519KeyPair",
    "b64decode",
    "b64encode",
    "decrypt_attachment",
    "encrypt_attachment",
    "fingerprint",
    "new_attachment",
    "open_store",
    "policy_digest",
    "qr_payload",
    "seal_store",
    "system_rng",
    "unix_now",
    "verify_qr_payload",
    "verify_receipt",
    "verify_revocation",
    "verify_signature",
]
