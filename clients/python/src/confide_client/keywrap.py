"""Keeping the state file's data key in confide_crypto's passphrase key store.

The key store (Argon2id + XChaCha20-Poly1305, docs/protocol.md E2E §11) holds only the
32-byte data key; the state itself is sealed under that key by :mod:`confide_client.vault`,
so the deliberately slow Argon2id derivation runs once per opening, not once per save.
"""

from __future__ import annotations

import os

from confide_crypto import aead
from confide_crypto.errors import CryptoError
from confide_crypto.keystore import DEFAULT_PARAMS, SALT_LEN, KdfParams, open_store, seal_store
from nacl import bindings

from confide_client.errors import StateError

__all__ = ["COSTS", "unwrap", "wrap"]

#: Named Argon2id costs. "interactive" is the key store's default; "moderate" suits a server
#: that opens its state rarely; "min" exists for tests only and must not protect real keys.
COSTS: dict[str, KdfParams] = {
    "interactive": DEFAULT_PARAMS,
    "moderate": KdfParams(
        bindings.crypto_pwhash_argon2id_OPSLIMIT_MODERATE,
        bindings.crypto_pwhash_argon2id_MEMLIMIT_MODERATE,
    ),
    "min": KdfParams(
        bindings.crypto_pwhash_argon2id_OPSLIMIT_MIN,
        bindings.crypto_pwhash_argon2id_MEMLIMIT_MIN,
    ),
}


def wrap(passphrase: str, data_key: bytes, *, cost: str = "interactive") -> bytes:
    """A key store holding ``data_key`` under ``passphrase``."""
    try:
        params = COSTS[cost]
    except KeyError:
        raise ValueError(f"cost must be one of {', '.join(COSTS)}") from None
    salt, nonce = os.urandom(SALT_LEN), os.urandom(aead.NONCE_LEN)
    return seal_store(data_key, passphrase, salt=salt, nonce=nonce, params=params)


def unwrap(passphrase: str, key_store: bytes) -> bytes:
    """Recover the data key; a wrong passphrase or altered store raises StateError."""
    try:
        # The minimum is passed as the current cost so that opening never demands a
        # rewrap: the cost is chosen when the file is created.
        opened = open_store(key_store, passphrase, current=COSTS["min"])
    except CryptoError as exc:
        raise StateError("wrong passphrase, or the state file was altered") from exc
    if len(opened.contents) != aead.KEY_LEN:
        raise StateError("the key store does not hold a state key")
    return opened.contents
