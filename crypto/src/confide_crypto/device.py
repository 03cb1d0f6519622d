"""A device: its identity, its prekeys and its sessions, routing envelopes to the right one.

``Device.encrypt(peer, plaintext)`` gives the envelope to queue at the peer's mailbox;
``Device.decrypt(envelope)`` gives the sender's identity key and the plaintext, creating the
session from a prekey message when needed and deleting the one-time prekey it used.

Everything except the last section is pure. The last section, *Convenience defaults*, is the
only place in confide_crypto that reads the system clock or the operating system's random
number generator; pass ``rng`` and ``now`` explicitly to avoid it.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from confide_crypto import sealed_sender
from confide_crypto.encoding import Reader, u8, u32
from confide_crypto.errors import DuplicateMessageError, MissingPreKeyError, UnsupportedVersionError
from confide_crypto.header import RatchetMessage
from confide_crypto.keys import (
    IdentityKeyPair,
    OneTimePreKey,
    PreKeyBundle,
    Rng,
    SignedPreKey,
    X25519KeyPair,
    read_key,
)
from confide_crypto.session import Session

DEVICE_VERSION = 1
#: How many X3DH ephemeral keys per peer are remembered to refuse replayed prekey messages.
REMEMBERED_BASE_KEYS = 32


@dataclass(frozen=True, slots=True)
class Received:
    """A decrypted message and what the receiving device learned from it."""

    sender_identity_key: bytes
    plaintext: bytes
    new_session: bool
    used_one_time_prekey_id: int | None


@dataclass
class Device:
    """All private key material of one device and its sessions, keyed by peer identity key."""

    identity: IdentityKeyPair
    signed_prekeys: dict[int, SignedPreKey] = field(default_factory=dict)
    one_time_prekeys: dict[int, OneTimePreKey] = field(default_factory=dict)
    sessions: dict[bytes, Session] = field(default_factory=dict)
    base_keys_seen: dict[bytes, list[bytes]] = field(default_factory=dict)

    def add_signed_prekey(self, key_id: int, rng: Rng) -> SignedPreKey:
        spk = SignedPreKey.create(self.identity, key_id, rng(32))
        self.signed_prekeys[key_id] = spk
        return spk

    def add_one_time_prekeys(self, first_id: int, count: int, rng: Rng) -> list[OneTimePreKey]:
        new = [OneTimePreKey(first_id + i, X25519KeyPair.generate(rng)) for i in range(count)]
        self.one_time_prekeys.update((k.key_id, k) for k in new)
        return new

    def start_session(self, bundle: PreKeyBundle, rng: Rng) -> Session:
        """Start (or restart) the session with the bundle's device."""
        session = Session.initiate(self.identity, bundle, rng)
        self.sessions[bundle.identity_key] = session
        return session

    def encrypt_to(self, peer_identity_key: bytes, plaintext: bytes, *, rng: Rng) -> bytes:
        """Seal ``plaintext`` for a peer this device already has a session with."""
        return self.sessions[peer_identity_key].encrypt(plaintext, rng=rng)

    def decrypt_envelope(self, envelope: bytes, *, now: int, rng: Rng) -> Received:
        """Open an envelope addressed to this device and decrypt it (changes state on success)."""
        opened = sealed_sender.open_(self.identity, envelope)
        sender = opened.sender_identity_key
        message = RatchetMessage.decode(opened.content)
        session = self.sessions.get(sender)
        initial = message.initial
        if initial is None or (session is not None and session.base_key == initial.ephemeral_key):
            if session is None:
                raise MissingPreKeyError("no session with this sender")
            plaintext = session.decrypt_message(message, now=now, rng=rng)
            return Received(sender, plaintext, False, None)
        if initial.ephemeral_key in self.base_keys_seen.get(sender, []):
            raise DuplicateMessageError("replayed prekey message")
        spk = self.signed_prekeys.get(initial.signed_prekey_id)
        if spk is None:
            raise MissingPreKeyError("unknown signed prekey")
        opk = None
        if initial.one_time_prekey_id is not None:
            opk = self.one_time_prekeys.get(initial.one_time_prekey_id)
            if opk is None:
                raise MissingPreKeyError("unknown or used one-time prekey")
        fresh = Session.respond(self.identity, sender, initial, spk, opk)
        plaintext = fresh.decrypt_message(message, now=now, rng=rng)
        # Only now, with the message authentic, does the device commit: a forged prekey
        # message must not burn a one-time prekey or displace a working session.
        self.sessions[sender] = fresh
        seen = self.base_keys_seen.setdefault(sender, [])
        seen.append(initial.ephemeral_key)
        del seen[:-REMEMBERED_BASE_KEYS]
        if opk is not None:
            del self.one_time_prekeys[opk.key_id]
        return Received(sender, plaintext, True, initial.one_time_prekey_id)

    def to_bytes(self) -> bytes:
        """Versioned serialisation of every secret (docs/protocol.md E2E §11)."""
        out = [u8(DEVICE_VERSION), self.identity.seed, u32(len(self.signed_prekeys))]
        for spk in self.signed_prekeys.values():
            out += [u32(spk.key_id), spk.pair.private, spk.signature]
        out.append(u32(len(self.one_time_prekeys)))
        for opk in self.one_time_prekeys.values():
            out += [u32(opk.key_id), opk.pair.private]
        out.append(u32(len(self.sessions)))
        for session in self.sessions.values():
            data = session.to_bytes()
            out += [u32(len(data)), data]
        out.append(u32(len(self.base_keys_seen)))
        for peer, keys in self.base_keys_seen.items():
            out += [peer, u32(len(keys)), *keys]
        return b"".join(out)

    @classmethod
    def from_bytes(cls, data: bytes) -> Device:
        reader = Reader(data)
        version = reader.u8()
        if version != DEVICE_VERSION:
            raise UnsupportedVersionError(f"device version {version}")
        device = cls(IdentityKeyPair(read_key(reader)))
        for _ in range(reader.u32()):
            key_id, pair = reader.u32(), X25519KeyPair.from_private(read_key(reader))
            device.signed_prekeys[key_id] = SignedPreKey(key_id, pair, reader.take(64))
        for _ in range(reader.u32()):
            key_id = reader.u32()
            device.one_time_prekeys[key_id] = OneTimePreKey(
                key_id, X25519KeyPair.from_private(read_key(reader))
            )
        for _ in range(reader.u32()):
            session = Session.from_bytes(reader.take(reader.u32()), device.identity)
            device.sessions[session.peer_identity_key] = session
        for _ in range(reader.u32()):
            peer = read_key(reader)
            device.base_keys_seen[peer] = [read_key(reader) for _ in range(reader.u32())]
        reader.done()
        return device

    def __repr__(self) -> str:
        return f"Device(identity={self.identity.public.hex()}, sessions={len(self.sessions)})"

    # --- Convenience defaults -------------------------------------------------------------
    # The methods below fill in the operating system's randomness and the wall clock. They
    # are the only impure code in the package and are kept apart so that tests never use them.

    @classmethod
    def create(cls, rng: Rng | None = None) -> Device:
        """A new device with a fresh identity key (no prekeys yet)."""
        return cls(IdentityKeyPair.generate(rng or system_rng))

    def encrypt(self, peer_identity_key: bytes, plaintext: bytes) -> bytes:
        """:meth:`encrypt_to` with the system's randomness."""
        return self.encrypt_to(peer_identity_key, plaintext, rng=system_rng)

    def decrypt(self, envelope: bytes) -> Received:
        """:meth:`decrypt_envelope` with the system's randomness and clock."""
        return self.decrypt_envelope(envelope, now=unix_now(), rng=system_rng)


system_rng: Rng = os.urandom
unix_now: Callable[[], int] = lambda: int(time.time())  # noqa: E731
