"""Key derivation: HKDF-SHA256 (RFC 5869) and the Double Ratchet's chain functions.

The ratchet KDFs follow the Signal Double Ratchet specification's recommended algorithms
(https://signal.org/docs/specifications/doubleratchet/#recommended-cryptographic-algorithms):
KDF_RK is HKDF-SHA256 salted with the root key, and KDF_CK is HMAC-SHA256 keyed with the
chain key over the single byte 0x01 (message key) or 0x02 (next chain key).
"""

from __future__ import annotations

import hashlib
import hmac

HASH_LEN = 32

#: HKDF info strings; each use has its own so that no two derivations can collide.
INFO_X3DH = b"Confide X3DH v1"
INFO_ROOT = b"Confide ratchet root v1"
INFO_MESSAGE_KEYS = b"Confide ratchet message keys v1"


def hmac_sha256(key: bytes, data: bytes) -> bytes:
    """HMAC-SHA256 (RFC 2104)."""
    return hmac.new(key, data, hashlib.sha256).digest()


def hkdf_sha256(ikm: bytes, *, salt: bytes, info: bytes, length: int) -> bytes:
    """HKDF-SHA256 extract-then-expand (RFC 5869 §2). An empty salt means 32 zero bytes."""
    if not 0 < length <= 255 * HASH_LEN:
        raise ValueError("HKDF output length out of range")
    prk = hmac_sha256(salt or bytes(HASH_LEN), ikm)
    output = b""
    block = b""
    counter = 1
    while len(output) < length:
        block = hmac_sha256(prk, block + info + bytes([counter]))
        output += block
        counter += 1
    return output[:length]


def kdf_rk(root_key: bytes, dh_output: bytes) -> tuple[bytes, bytes]:
    """KDF_RK (Double Ratchet §5.2): returns (new root key, new chain key)."""
    out = hkdf_sha256(dh_output, salt=root_key, info=INFO_ROOT, length=64)
    return out[:32], out[32:]


def kdf_ck(chain_key: bytes) -> tuple[bytes, bytes]:
    """KDF_CK (Double Ratchet §5.2): returns (next chain key, message key)."""
    return hmac_sha256(chain_key, b"\x02"), hmac_sha256(chain_key, b"\x01")


def message_key_material(message_key: bytes) -> tuple[bytes, bytes]:
    """Expand a message key into an XChaCha20-Poly1305 key and nonce.

    The Double Ratchet spec (§5.2, ENCRYPT) derives the AEAD key and IV from the message key
    with HKDF. A message key encrypts exactly one message, so a derived nonce is never reused.
    """
    out = hkdf_sha256(message_key, salt=b"", info=INFO_MESSAGE_KEYS, length=56)
    return out[:32], out[32:]
