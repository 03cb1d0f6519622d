"""The Double Ratchet (https://signal.org/docs/specifications/doubleratchet/).

Section references are to that specification. KDF_RK, KDF_CK and ENCRYPT are in kdf.py and
aead.py; this module holds the state machine of §3.2-§3.5 with two hardening steps from §4.4
and §6.5: at most MAX_SKIP message keys are derived for one incoming message, and skipped
keys are forgotten after MAX_SKIPPED_AGE seconds or when more than MAX_STORED_SKIPPED are
held. Decryption runs on a copy of the state, which replaces the original only if the
message authenticates, so a forged or replayed message changes nothing.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field, fields

from confide_crypto import aead
from confide_crypto.encoding import Reader, u8, u32, u64
from confide_crypto.errors import (
    CryptoError,
    DuplicateMessageError,
    SkippedKeyLimitError,
    UnsupportedVersionError,
)
from confide_crypto.header import MAX_COUNTER, Header, RatchetMessage
from confide_crypto.kdf import kdf_ck, kdf_rk, message_key_material
from confide_crypto.keys import Rng, X25519KeyPair, read_key, x25519
from confide_crypto.x3dh import InitialKeys

MAX_SKIP = 1000
MAX_STORED_SKIPPED = 2000
MAX_SKIPPED_AGE = 30 * 24 * 3600
STATE_VERSION = 1

SkippedKeys = dict[tuple[bytes, int], tuple[bytes, int]]


@dataclass
class RatchetState:
    """The state variables of §3.2; ``skipped`` maps (ratchet key, N) to (key, stored at)."""

    dhs: X25519KeyPair
    dhr: bytes | None
    rk: bytes
    cks: bytes | None
    ckr: bytes | None
    ns: int = 0
    nr: int = 0
    pn: int = 0
    skipped: SkippedKeys = field(default_factory=dict)

    @classmethod
    def init_initiator(
        cls, shared_key: bytes, responder_ratchet_key: bytes, dhs: X25519KeyPair
    ) -> RatchetState:
        """RatchetInitAlice (§3.3): the responder's signed prekey is its first ratchet key."""
        rk, cks = kdf_rk(shared_key, x25519(dhs.private, responder_ratchet_key))
        return cls(dhs=dhs, dhr=responder_ratchet_key, rk=rk, cks=cks, ckr=None)

    @classmethod
    def init_responder(cls, shared_key: bytes, signed_prekey: X25519KeyPair) -> RatchetState:
        """RatchetInitBob (§3.3)."""
        return cls(dhs=signed_prekey, dhr=None, rk=shared_key, cks=None, ckr=None)

    def encrypt(
        self, plaintext: bytes, associated_data: bytes, initial: InitialKeys | None = None
    ) -> RatchetMessage:
        """RatchetEncrypt (§3.4); ``initial`` turns the result into a prekey message."""
        if self.cks is None:
            raise CryptoError("no sending chain yet: the responder must receive first")
        if self.ns >= MAX_COUNTER:  # pragma: no cover - needs four billion messages
            raise CryptoError("sending chain exhausted")
        self.cks, message_key = kdf_ck(self.cks)
        header = Header(self.dhs.public, self.pn, self.ns)
        self.ns += 1
        unsealed = RatchetMessage(header, b"", initial)
        key, nonce = message_key_material(message_key)
        ciphertext = aead.seal(key, nonce, plaintext, associated_data + unsealed.prefix())
        return RatchetMessage(header, ciphertext, initial)

    def decrypt(
        self, message: RatchetMessage, associated_data: bytes, *, now: int, rng: Rng
    ) -> bytes:
        """RatchetDecrypt (§3.5) on a copy; the state changes only if the message is genuine.

        ``now`` (Unix seconds) ages out skipped keys; ``rng`` supplies the next ratchet key.
        """
        # Every field is immutable except the dict of skipped keys, so copying that dict makes
        # the trial fully independent of the committed state.
        trial = dataclasses.replace(self, skipped=dict(self.skipped))
        plaintext = trial._decrypt(message, associated_data, now, rng)
        for f in fields(self):
            setattr(self, f.name, getattr(trial, f.name))
        return plaintext

    def _decrypt(self, message: RatchetMessage, ad: bytes, now: int, rng: Rng) -> bytes:
        self._forget_old_skipped(now)
        header = message.header
        stored = self.skipped.pop((header.ratchet_key, header.message_number), None)
        if stored is not None:
            return _open(stored[0], message, ad)
        if header.ratchet_key != self.dhr:
            self._skip(header.previous_chain_length, now)
            self._dh_ratchet(header, rng)
        elif header.message_number < self.nr:
            raise DuplicateMessageError("message key already used")
        self._skip(header.message_number, now)
        assert self.ckr is not None  # set by _dh_ratchet or an earlier message
        self.ckr, message_key = kdf_ck(self.ckr)
        self.nr += 1
        return _open(message_key, message, ad)

    def _skip(self, until: int, now: int) -> None:
        """SkipMessageKeys (§3.5), bounded by MAX_SKIP per call and MAX_STORED_SKIPPED."""
        if self.ckr is None:
            return
        if until - self.nr > MAX_SKIP:
            raise SkippedKeyLimitError(f"more than {MAX_SKIP} skipped message keys")
        assert self.dhr is not None  # a receiving chain implies a remote ratchet key
        while self.nr < until:
            self.ckr, message_key = kdf_ck(self.ckr)
            self.skipped[(self.dhr, self.nr)] = (message_key, now)
            self.nr += 1
        # Dicts keep insertion order, so the first entries are the oldest.
        while len(self.skipped) > MAX_STORED_SKIPPED:
            del self.skipped[next(iter(self.skipped))]

    def _forget_old_skipped(self, now: int) -> None:
        expired = [k for k, (_, at) in self.skipped.items() if now - at > MAX_SKIPPED_AGE]
        for k in expired:
            del self.skipped[k]

    def _dh_ratchet(self, header: Header, rng: Rng) -> None:
        """DHRatchet (§3.5)."""
        self.pn = self.ns
        self.ns = 0
        self.nr = 0
        self.dhr = header.ratchet_key
        self.rk, self.ckr = kdf_rk(self.rk, x25519(self.dhs.private, self.dhr))
        self.dhs = X25519KeyPair.generate(rng)
        self.rk, self.cks = kdf_rk(self.rk, x25519(self.dhs.private, self.dhr))

    def to_bytes(self) -> bytes:
        """Versioned serialisation (docs/protocol.md E2E §11); contains secret keys."""
        out = [u8(STATE_VERSION), self.dhs.private, self.rk]
        for optional in (self.dhr, self.cks, self.ckr):
            out.append(u8(0) + bytes(32) if optional is None else u8(1) + optional)
        out += [u32(self.ns), u32(self.nr), u32(self.pn), u32(len(self.skipped))]
        for (ratchet_key, n), (message_key, at) in self.skipped.items():
            out += [ratchet_key, u32(n), message_key, u64(at)]
        return b"".join(out)

    @classmethod
    def read(cls, reader: Reader) -> RatchetState:
        """Parse what :meth:`to_bytes` wrote; older versions would be migrated here."""
        version = reader.u8()
        if version != STATE_VERSION:
            raise UnsupportedVersionError(f"ratchet state version {version}")
        dhs = X25519KeyPair.from_private(read_key(reader))
        rk = read_key(reader)
        dhr, cks, ckr = (_read_optional_key(reader) for _ in range(3))
        ns, nr, pn, count = reader.u32(), reader.u32(), reader.u32(), reader.u32()
        skipped: SkippedKeys = {}
        for _ in range(count):
            ratchet_key, n = read_key(reader), reader.u32()
            skipped[(ratchet_key, n)] = (read_key(reader), reader.u64())
        return cls(dhs, dhr, rk, cks, ckr, ns, nr, pn, skipped)

    @classmethod
    def from_bytes(cls, data: bytes) -> RatchetState:
        reader = Reader(data)
        state = cls.read(reader)
        reader.done()
        return state

    def __repr__(self) -> str:
        return f"RatchetState(ns={self.ns}, nr={self.nr}, pn={self.pn})"


def _read_optional_key(reader: Reader) -> bytes | None:
    present = reader.flag()
    key = read_key(reader)
    return key if present else None


def _open(message_key: bytes, message: RatchetMessage, ad: bytes) -> bytes:
    key, nonce = message_key_material(message_key)
    return aead.open_(key, nonce, message.ciphertext, ad + message.prefix())
