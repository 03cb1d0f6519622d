"""The errors confide_crypto raises, as one small tree.

Every failure the package reports is a subclass of :class:`CryptoError`, so a caller that
only needs "this input is bad" catches one class, and a caller that wants to tell a replay
from a forgery can catch the narrower one::

    CryptoError
    ├── MalformedInputError          bytes that do not parse: wrong length, truncated, bad base64
    │   └── UnsupportedVersionError  a version byte this release does not understand
    ├── InvalidKeyError              a public key that must not be used (low-order X25519
    │                                point, all-zero shared secret, not a curve point)
    └── VerificationError            authentication failed; the input must not be trusted
        ├── InvalidSignatureError    an Ed25519 signature does not verify
        ├── DecryptionError          an AEAD tag does not verify (tampering, wrong keys)
        │   ├── DuplicateMessageError   the message key was already used (a replay)
        │   ├── SkippedKeyLimitError    the message lies too far ahead (MAX_SKIP)
        │   ├── MissingPreKeyError      a prekey message names a prekey this device lacks
        │   └── WrongPassphraseError    a key store does not open with this passphrase
        ├── AttachmentDigestError    an attachment blob is not the one the sender described
        ├── SafetyNumberMismatchError   a scanned QR payload is for different keys
        └── ConsentError             a consent receipt or revocation does not say what the
                                     verifier expects (policy, worker, signer, dates)

Verification functions raise rather than return a boolean, following pyca/cryptography:
a forgotten ``if`` must never turn a failure into success.
"""

from __future__ import annotations


class CryptoError(Exception):
    """The root of every error confide_crypto raises."""


class MalformedInputError(CryptoError, ValueError):
    """The bytes do not parse as the format they claim to be."""


class UnsupportedVersionError(MalformedInputError):
    """The leading version byte names a format this release cannot read."""


class InvalidKeyError(CryptoError, ValueError):
    """A public key is unusable: low order, all-zero DH output, or not on the curve."""


class VerificationError(CryptoError):
    """Authentication failed; nothing derived from the input may be used."""


class InvalidSignatureError(VerificationError):
    """An Ed25519 signature does not verify under the given key."""


class DecryptionError(VerificationError):
    """Authenticated decryption failed: the ciphertext was altered or the keys are wrong."""


class DuplicateMessageError(DecryptionError):
    """The message was already decrypted once; its key no longer exists."""


class SkippedKeyLimitError(DecryptionError):
    """Accepting the message would mean deriving more skipped keys than MAX_SKIP allows."""


class MissingPreKeyError(DecryptionError):
    """A prekey message refers to a signed or one-time prekey this device does not hold."""


class WrongPassphraseError(DecryptionError):
    """A key store does not open: the passphrase is wrong or the file was altered."""


class AttachmentDigestError(VerificationError):
    """An attachment blob does not match the digest carried in the message."""


class SafetyNumberMismatchError(VerificationError):
    """A scanned safety-number payload was made from different identity keys."""


class ConsentError(VerificationError):
    """A consent receipt or revocation does not match what the verifier expects."""
