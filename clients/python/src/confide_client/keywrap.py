"""Keeping the state file's data key under a passphrase.

TODO(crypto key store): confide_crypto's passphrase key store (Argon2id + XChaCha20-Poly1305)
has not landed yet; until it does this module wraps the key with the same two primitives
through libsodium, in a format marked as interim (version byte 0xF0) so that files written
now are recognised and re-wrapped once the shared format is used.
"""

from __future__ import annotations

import os

from confide_crypto import aead
from confide_crypto.errors import CryptoError
from nacl import pwhash

from confide_client.errors import StateError

__all__ = ["unwrap", "wrap"]

INTERIM_VERSION = 0xF0
_COSTS = {
    "interactive": (pwhash.argon2id.OPSLIMIT_INTERACTIVE, pwhash.argon2id.MEMLIMIT_INTERACTIVE),
    "moderate": (pwhash.argon2id.OPSLIMIT_MODERATE, pwhash.argon2id.MEMLIMIT_MODERATE),
    "min": (pwhash.argon2id.OPSLIMIT_MIN, pwhash.argon2id.MEMLIMIT_MIN),
}


def _derive(passphrase: str, salt: bytes, ops: int, mem: int) -> bytes:
    return pwhash.argon2id.kdf(aead.KEY_LEN, passphrase.encode(), salt, opslimit=ops, memlimit=mem)


def wrap(passphrase: str, data_key: bytes, *, cost: str = "moderate") -> bytes:
    """Encrypt ``data_key`` under a key derived from ``passphrase``."""
    ops, mem = _COSTS[cost]
    salt = os.urandom(pwhash.argon2id.SALTBYTES)
    nonce = os.urandom(aead.NONCE_LEN)
    head = bytes([INTERIM_VERSION]) + ops.to_bytes(4, "big") + mem.to_bytes(8, "big") + salt
    return head + nonce + aead.seal(_derive(passphrase, salt, ops, mem), nonce, data_key, head)


def unwrap(passphrase: str, key_store: bytes) -> bytes:
    """Recover the data key; a wrong passphrase raises StateError."""
    salt_len = pwhash.argon2id.SALTBYTES
    head_len = 1 + 4 + 8 + salt_len
    if len(key_store) < head_len + aead.NONCE_LEN or key_store[0] != INTERIM_VERSION:
        raise StateError("unknown key store format")
    ops = int.from_bytes(key_store[1:5], "big")
    mem = int.from_bytes(key_store[5:13], "big")
    head = key_store[:head_len]
    nonce = key_store[head_len : head_len + aead.NONCE_LEN]
    try:
        key = _derive(passphrase, key_store[13:head_len], ops, mem)
        return aead.open_(key, nonce, key_store[head_len + aead.NONCE_LEN :], head)
    except CryptoError as exc:
        raise StateError("wrong passphrase, or the state file was altered") from exc
