"""A session with one peer device: X3DH to start, the Double Ratchet inside sealed envelopes.

This is the high-level API. ``Session.encrypt`` turns plaintext into a sealed, padded envelope
for the peer; ``Session.decrypt`` opens one from the peer. Until the initiator hears back,
each of its messages is a prekey message carrying the X3DH keys (X3DH §3.3), so the
responder can build the session from whichever message arrives first. Randomness and time
are parameters here as everywhere; :mod:`confide_crypto.device` supplies defaults.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

from confide_crypto import sealed_sender
from confide_crypto.aead import TAG_LEN
from confide_crypto.encoding import Reader, u8, u32
from confide_crypto.errors import (
    DecryptionError,
    MalformedInputError,
    UnsupportedVersionError,
)
from confide_crypto.header import (
    HEADER_LEN,
    INITIAL_LEN,
    RatchetMessage,
    encode_initial,
    read_initial,
)
from confide_crypto.keys import (
    IdentityKeyPair,
    OneTimePreKey,
    PreKeyBundle,
    Rng,
    SignedPreKey,
    X25519KeyPair,
    read_key,
)
from confide_crypto.ratchet import RatchetState
from confide_crypto.x3dh import InitialKeys, initiate, respond

SESSION_VERSION = 1


@dataclass
class Session:
    """Ratchet state plus who the two ends are; ``identity`` is the local device's key."""

    identity: IdentityKeyPair
    peer_identity_key: bytes
    associated_data: bytes
    ratchet: RatchetState
    #: The X3DH ephemeral key that created the session (both sides keep it).
    base_key: bytes
    #: Sent with every message until the peer replies (initiator only).
    pending_initial: InitialKeys | None = None

    @classmethod
    def initiate(cls, identity: IdentityKeyPair, bundle: PreKeyBundle, rng: Rng) -> Session:
        """Start a session from a peer's prekey bundle (X3DH §3.3, RatchetInitAlice)."""
        ephemeral = X25519KeyPair.generate(rng)
        result, initial = initiate(identity, bundle, ephemeral)
        ratchet = RatchetState.init_initiator(
            result.shared_key, bundle.signed_prekey, X25519KeyPair.generate(rng)
        )
        return cls(
            identity,
            bundle.identity_key,
            result.associated_data,
            ratchet,
            initial.ephemeral_key,
            initial,
        )

    @classmethod
    def respond(
        cls,
        identity: IdentityKeyPair,
        initiator_identity_key: bytes,
        initial: InitialKeys,
        signed_prekey: SignedPreKey,
        one_time_prekey: OneTimePreKey | None,
    ) -> Session:
        """Accept a session from a prekey message (X3DH §3.4, RatchetInitBob)."""
        result = respond(identity, initiator_identity_key, initial, signed_prekey, one_time_prekey)
        ratchet = RatchetState.init_responder(result.shared_key, signed_prekey.pair)
        return cls(
            identity, initiator_identity_key, result.associated_data, ratchet, initial.ephemeral_key
        )

    def encrypt_message(self, plaintext: bytes) -> bytes:
        """The ratchet message alone, unsealed (for tests and vectors)."""
        return self.ratchet.encrypt(plaintext, self.associated_data, self.pending_initial).encode()

    def max_plaintext(self) -> int:
        """The longest plaintext the next envelope can carry (the largest padding bucket)."""
        prefix = HEADER_LEN + 2 + (0 if self.pending_initial is None else INITIAL_LEN)
        return sealed_sender.MAX_CONTENT - prefix - TAG_LEN

    def encrypt(self, plaintext: bytes, *, rng: Rng) -> bytes:
        """Encrypt for the peer and seal: the result is the envelope the relay queues."""
        # Checked before the ratchet advances, so a refused message costs no message key.
        if len(plaintext) > self.max_plaintext():
            raise MalformedInputError(f"plaintext longer than {self.max_plaintext()} bytes")
        content = self.encrypt_message(plaintext)
        return sealed_sender.seal(
            self.identity, self.peer_identity_key, content, X25519KeyPair.generate(rng)
        )

    def decrypt_message(self, message: RatchetMessage, *, now: int, rng: Rng) -> bytes:
        """Decrypt a ratchet message from the peer; state changes only on success."""
        if message.initial is not None and message.initial.ephemeral_key != self.base_key:
            raise DecryptionError("prekey message belongs to a different session")
        plaintext = self.ratchet.decrypt(message, self.associated_data, now=now, rng=rng)
        # The peer has our reply chain only after it answered, so stop sending X3DH keys.
        if message.initial is None:
            self.pending_initial = None
        return plaintext

    def decrypt(self, envelope: bytes, *, now: int, rng: Rng) -> bytes:
        """Open an envelope, insist it came from the peer, and decrypt it."""
        opened = sealed_sender.open_(self.identity, envelope)
        if opened.sender_identity_key != self.peer_identity_key:
            raise DecryptionError("envelope is from a different sender")
        return self.decrypt_message(RatchetMessage.decode(opened.content), now=now, rng=rng)

    def to_bytes(self) -> bytes:
        """Versioned serialisation (docs/protocol.md E2E §11); it holds secret keys but not
        the identity key, which the device stores once."""
        pending = (
            b"\x00"
            if self.pending_initial is None
            else b"\x01" + encode_initial(self.pending_initial)
        )
        ratchet = self.ratchet.to_bytes()
        return b"".join(
            [
                u8(SESSION_VERSION),
                self.peer_identity_key,
                self.associated_data,
                self.base_key,
                pending,
                u32(len(ratchet)),
                ratchet,
            ]
        )

    @classmethod
    def read(cls, reader: Reader, identity: IdentityKeyPair) -> Session:
        version = reader.u8()
        if version != SESSION_VERSION:
            raise UnsupportedVersionError(f"session version {version}")
        peer = read_key(reader)
        associated_data = reader.take(64)
        base_key = read_key(reader)
        pending = read_initial(reader) if reader.flag() else None
        ratchet = RatchetState.from_bytes(reader.take(reader.u32()))
        if associated_data not in (identity.public + peer, peer + identity.public):
            raise MalformedInputError("session does not belong to this identity")
        return cls(identity, peer, associated_data, ratchet, base_key, pending)

    @classmethod
    def from_bytes(cls, data: bytes, identity: IdentityKeyPair) -> Session:
        reader = Reader(data)
        session = cls.read(reader, identity)
        reader.done()
        return session

    def copy(self) -> Session:
        return copy.deepcopy(self)

    def __repr__(self) -> str:
        return f"Session(peer={self.peer_identity_key.hex()}, {self.ratchet!r})"
