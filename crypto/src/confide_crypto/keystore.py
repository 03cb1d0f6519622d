"""The passphrase-protected key store: Argon2id stretches the passphrase, XChaCha20-Poly1305
seals the contents (normally ``Device.to_bytes()``).

Byte layout, version 1 (docs/protocol.md E2E §11)::

    store = 0x01 || opslimit(u32) || memlimit(u32, bytes) || salt(16) || nonce(24) || sealed
    key   = Argon2id13(passphrase UTF-8, salt, opslimit, memlimit, 32 bytes)
    sealed = XChaCha20-Poly1305(key, nonce, ad = every byte before it, contents)

The cost parameters travel in the header so that stores written with old parameters still
open. Migration path: :func:`open_store` reports ``needs_rewrap`` when a store uses an older
format version or weaker parameters than the caller's current ones; the caller then writes a
fresh store with :func:`seal_store`. A future version 2 adds a reader to ``_READERS`` and
keeps version 1's.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from nacl import bindings

from confide_crypto import aead
from confide_crypto.encoding import Reader, u8, u32
from confide_crypto.errors import (
    DecryptionError,
    MalformedInputError,
    UnsupportedVersionError,
    WrongPassphraseError,
)

VERSION = 1
SALT_LEN = 16


@dataclass(frozen=True, slots=True)
class KdfParams:
    """Argon2id cost: iterations and memory in bytes."""

    opslimit: int
    memlimit: int

    def weaker_than(self, other: KdfParams) -> bool:
        return self.opslimit < other.opslimit or self.memlimit < other.memlimit


#: The cost a store may name: libsodium's minimum up to its "sensitive" level. The upper bound
#: keeps an altered header from making the reader allocate or compute without limit.
MIN_PARAMS = KdfParams(
    bindings.crypto_pwhash_argon2id_OPSLIMIT_MIN, bindings.crypto_pwhash_argon2id_MEMLIMIT_MIN
)
MAX_PARAMS = KdfParams(
    bindings.crypto_pwhash_argon2id_OPSLIMIT_SENSITIVE,
    bindings.crypto_pwhash_argon2id_MEMLIMIT_SENSITIVE,
)

#: libsodium's "interactive" Argon2id cost; browsers (the web client) can afford it.
DEFAULT_PARAMS = KdfParams(
    bindings.crypto_pwhash_argon2id_OPSLIMIT_INTERACTIVE,
    bindings.crypto_pwhash_argon2id_MEMLIMIT_INTERACTIVE,
)


def _derive(passphrase: str, salt: bytes, params: KdfParams) -> bytes:
    if not (
        MIN_PARAMS.opslimit <= params.opslimit <= MAX_PARAMS.opslimit
        and MIN_PARAMS.memlimit <= params.memlimit <= MAX_PARAMS.memlimit
    ):
        raise MalformedInputError("Argon2id cost outside the accepted range")
    return bindings.crypto_pwhash_alg(
        32,
        passphrase.encode("utf-8"),
        salt,
        params.opslimit,
        params.memlimit,
        bindings.crypto_pwhash_ALG_ARGON2ID13,
    )


def seal_store(
    contents: bytes,
    passphrase: str,
    *,
    salt: bytes,
    nonce: bytes,
    params: KdfParams = DEFAULT_PARAMS,
) -> bytes:
    """Write a version-1 store; ``salt`` (16) and ``nonce`` (24) must be fresh random bytes."""
    if len(salt) != SALT_LEN or len(nonce) != aead.NONCE_LEN:
        raise ValueError("salt is 16 bytes and nonce 24")
    head = u8(VERSION) + u32(params.opslimit) + u32(params.memlimit) + salt + nonce
    key = _derive(passphrase, salt, params)
    return head + aead.seal(key, nonce, contents, head)


@dataclass(frozen=True, slots=True)
class OpenedStore:
    contents: bytes
    needs_rewrap: bool


def _read_v1(reader: Reader, passphrase: str, current: KdfParams) -> OpenedStore:
    params = KdfParams(reader.u32(), reader.u32())
    salt, nonce = reader.take(SALT_LEN), reader.take(aead.NONCE_LEN)
    head = u8(1) + u32(params.opslimit) + u32(params.memlimit) + salt + nonce
    sealed = reader.rest()
    try:
        contents = aead.open_(_derive(passphrase, salt, params), nonce, sealed, head)
    except DecryptionError as exc:
        raise WrongPassphraseError("wrong passphrase or damaged key store") from exc
    return OpenedStore(contents, params.weaker_than(current))


_READERS: dict[int, Callable[[Reader, str, KdfParams], OpenedStore]] = {1: _read_v1}


def open_store(data: bytes, passphrase: str, *, current: KdfParams = DEFAULT_PARAMS) -> OpenedStore:
    """Open a store of any supported version; see the module docstring for migration."""
    reader = Reader(data)
    version = reader.u8()
    read = _READERS.get(version)
    if read is None:
        raise UnsupportedVersionError(f"key store version {version}")
    opened = read(reader, passphrase, current)
    if version != VERSION:  # pragma: no cover - only one version exists so far
        return OpenedStore(opened.contents, True)
    return opened
