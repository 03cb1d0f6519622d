"""The ratchet message wire format: version, kind, optional X3DH keys, header, ciphertext.

Byte layout (docs/protocol.md E2E §5)::

    message    = version(1) = 0x01 || kind(1) || [initial] || header || ciphertext
    kind       = 0x00 ordinary message | 0x01 prekey message (carries ``initial``)
    initial    = ephemeral_key(32) || signed_prekey_id(u32) || has_opk(1) || opk_id(u32)
    header     = ratchet_key(32) || PN(u32) || N(u32)            (Double Ratchet §3.1)

Everything before the ciphertext is the message *prefix*; the AEAD authenticates the X3DH
associated data followed by the prefix, so the header is in the AD as §3.4 requires.
"""

from __future__ import annotations

from dataclasses import dataclass

from confide_crypto.encoding import Reader, u8, u32
from confide_crypto.errors import MalformedInputError, UnsupportedVersionError
from confide_crypto.keys import read_key
from confide_crypto.x3dh import InitialKeys

MESSAGE_VERSION = 1
KIND_ORDINARY = 0
KIND_PREKEY = 1
HEADER_LEN = 40
INITIAL_LEN = 41
MAX_COUNTER = 0xFFFFFFFF


@dataclass(frozen=True, slots=True)
class Header:
    """The Double Ratchet header: sender's ratchet public key, PN and N (§3.1)."""

    ratchet_key: bytes
    previous_chain_length: int
    message_number: int

    def encode(self) -> bytes:
        return self.ratchet_key + u32(self.previous_chain_length) + u32(self.message_number)

    @classmethod
    def read(cls, reader: Reader) -> Header:
        return cls(read_key(reader), reader.u32(), reader.u32())


def encode_initial(initial: InitialKeys) -> bytes:
    """The X3DH part of a prekey message."""
    opk = initial.one_time_prekey_id
    return (
        initial.ephemeral_key
        + u32(initial.signed_prekey_id)
        + u8(0 if opk is None else 1)
        + u32(0 if opk is None else opk)
    )


def read_initial(reader: Reader) -> InitialKeys:
    ephemeral = read_key(reader)
    spk_id = reader.u32()
    has_opk = reader.flag()
    opk_id = reader.u32()
    if not has_opk and opk_id != 0:
        raise MalformedInputError("one-time prekey id set without the flag")
    return InitialKeys(ephemeral, spk_id, opk_id if has_opk else None)


@dataclass(frozen=True, slots=True)
class RatchetMessage:
    """One encrypted ratchet message, optionally carrying the X3DH initial keys."""

    header: Header
    ciphertext: bytes
    initial: InitialKeys | None = None

    def prefix(self) -> bytes:
        """Everything before the ciphertext; authenticated as associated data."""
        if self.initial is None:
            return u8(MESSAGE_VERSION) + u8(KIND_ORDINARY) + self.header.encode()
        return (
            u8(MESSAGE_VERSION)
            + u8(KIND_PREKEY)
            + encode_initial(self.initial)
            + self.header.encode()
        )

    def encode(self) -> bytes:
        return self.prefix() + self.ciphertext

    @classmethod
    def decode(cls, data: bytes) -> RatchetMessage:
        reader = Reader(data)
        version = reader.u8()
        if version != MESSAGE_VERSION:
            raise UnsupportedVersionError(f"ratchet message version {version}")
        kind = reader.u8()
        if kind == KIND_ORDINARY:
            initial = None
        elif kind == KIND_PREKEY:
            initial = read_initial(reader)
        else:
            raise MalformedInputError(f"unknown message kind {kind}")
        header = Header.read(reader)
        return cls(header, reader.rest(), initial)
