"""The passphrase-protected state file.

The file is sealed in two layers so that saving often stays cheap. A random 32-byte data key
encrypts the state (XChaCha20-Poly1305, a fresh random nonce per save); the data key itself
is kept in confide_crypto's passphrase key store, whose Argon2id derivation runs once when the
file is opened rather than on every save. Layout::

    magic "CONFIDE-STATE" || version(1) = 0x01 || u32 len || key store || nonce(24) || sealed

The key store and the header are the associated data of the sealed part, so neither can be
swapped for another file's. Saving writes a temporary file, syncs it and renames it over the
old one: a crash leaves either the old state or the new, never half of one.
"""

from __future__ import annotations

import os
import struct
from pathlib import Path

from confide_crypto import aead
from confide_crypto.errors import CryptoError

from confide_client import keywrap
from confide_client.errors import StateError

__all__ = ["Vault"]

MAGIC = b"CONFIDE-STATE"
VERSION = 1


class Vault:
    """An open state file: it knows its data key and rewrites the state on :meth:`write`."""

    def __init__(self, path: Path, data_key: bytes, key_store: bytes) -> None:
        self.path = path
        self._data_key = data_key
        self._key_store = key_store

    @classmethod
    def create(
        cls, path: str | os.PathLike[str], passphrase: str, *, cost: str = "interactive"
    ) -> Vault:
        """Start a new state file protected by ``passphrase`` (refuses to overwrite one)."""
        target = Path(path)
        if target.exists():
            raise StateError(f"{target} already exists; open it instead")
        data_key = os.urandom(aead.KEY_LEN)
        return cls(target, data_key, keywrap.wrap(passphrase, data_key, cost=cost))

    @classmethod
    def open(cls, path: str | os.PathLike[str], passphrase: str) -> tuple[Vault, bytes]:
        """Open a state file; returns the vault and the state it holds."""
        target = Path(path)
        try:
            blob = target.read_bytes()
        except OSError as exc:
            raise StateError(f"cannot read {target}: {exc.strerror}") from exc
        header_len = len(MAGIC) + 1 + 4
        if len(blob) < header_len or blob[: len(MAGIC)] != MAGIC:
            raise StateError(f"{target} is not a Confide state file")
        if blob[len(MAGIC)] != VERSION:
            raise StateError(f"{target} has state format {blob[len(MAGIC)]}, newer than this SDK")
        (store_len,) = struct.unpack(">I", blob[len(MAGIC) + 1 : header_len])
        key_store = blob[header_len : header_len + store_len]
        rest = blob[header_len + store_len :]
        data_key = keywrap.unwrap(passphrase, key_store)
        vault = cls(target, data_key, key_store)
        nonce, sealed = rest[: aead.NONCE_LEN], rest[aead.NONCE_LEN :]
        try:
            state = aead.open_(data_key, nonce, sealed, vault._header())
        except CryptoError as exc:
            raise StateError(f"{target} is damaged or was altered") from exc
        return vault, state

    def _header(self) -> bytes:
        return MAGIC + bytes([VERSION]) + struct.pack(">I", len(self._key_store)) + self._key_store

    def write(self, state: bytes) -> None:
        """Seal ``state`` under the data key and replace the file atomically."""
        nonce = os.urandom(aead.NONCE_LEN)
        header = self._header()
        blob = header + nonce + aead.seal(self._data_key, nonce, state, header)
        tmp = self.path.with_name(self.path.name + ".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.write(fd, blob)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, self.path)
