"""Vector builders for whole conversations: the Double Ratchet and two Devices."""

from __future__ import annotations

from confide_crypto.device import Device
from confide_crypto.errors import CryptoError
from confide_crypto.header import RatchetMessage
from confide_crypto.keys import OneTimePreKey, PreKeyBundle, SignedPreKey, X25519KeyPair
from confide_crypto.ratchet import MAX_SKIPPED_AGE
from confide_crypto.session import Session
from vector_pinning import Draws, Json, identity, pinned


class Conversation:
    """Two Sessions exchanging unsealed ratchet messages, recording every step."""

    def __init__(self, name: str) -> None:
        self.alice, self.bob = identity(f"{name}/alice"), identity(f"{name}/bob")
        self.spk = SignedPreKey.create(self.bob, 1, pinned(f"{name}/bob/spk"))
        self.opk = OneTimePreKey(5, X25519KeyPair.from_private(pinned(f"{name}/bob/opk")))
        self.rng = {"alice": Draws(f"{name}/alice/rng"), "bob": Draws(f"{name}/bob/rng")}
        bundle = PreKeyBundle(
            self.bob.public, 1, self.spk.pair.public, self.spk.signature, 5, self.opk.pair.public
        )
        self.sessions = {"alice": Session.initiate(self.alice, bundle, self.rng["alice"])}
        self.setup_draws = self.rng["alice"].take_log()
        self.messages: list[bytes] = []
        self.steps: list[Json] = []

    def send(self, sender: str, text: str) -> int:
        plaintext = text.encode()
        message = self.sessions[sender].encrypt_message(plaintext)
        self.messages.append(message)
        index = len(self.messages) - 1
        self.steps.append(
            {
                "action": "encrypt",
                "party": sender,
                "message_index": index,
                "plaintext": plaintext.hex(),
                "message": message.hex(),
            }
        )
        return index

    def deliver(self, receiver: str, index: int, now: int, message: bytes | None = None) -> None:
        data = self.messages[index] if message is None else message
        step: Json = {"action": "decrypt", "party": receiver, "now": now}
        step["message_index" if message is None else "message"] = (
            index if message is None else data.hex()
        )
        decoded = RatchetMessage.decode(data)
        try:
            if receiver not in self.sessions:
                assert decoded.initial is not None
                self.sessions[receiver] = Session.respond(
                    self.bob, self.alice.public, decoded.initial, self.spk, self.opk
                )
            plaintext = self.sessions[receiver].decrypt_message(
                decoded, now=now, rng=self.rng[receiver]
            )
            step["plaintext"] = plaintext.hex()
        except CryptoError as exc:
            step["error"] = type(exc).__name__
        step["rng"] = self.rng[receiver].take_log()
        self.steps.append(step)


def ratchet_vectors() -> Json:
    c = Conversation("ratchet")
    t = 1_700_000_000
    m0, m1, m2 = (c.send("alice", f"alice {i}") for i in range(3))
    c.deliver("bob", m2, t)  # out of order: m0 and m1 become skipped keys
    c.deliver("bob", m0, t + 1)
    c.deliver("bob", m0, t + 2)  # replay
    r0 = c.send("bob", "bob 0")
    c.deliver("alice", r0, t + 3)  # Alice's DH ratchet step; she stops sending X3DH keys
    m3 = c.send("alice", "alice 3")
    c.deliver("bob", m3, t + 4)  # new chain; PN = 3
    c.deliver("bob", m1, t + 5)  # a skipped key from the previous chain
    r1, r2 = c.send("bob", "bob 1"), c.send("bob", "bob 2")
    c.deliver("alice", r2, t + 6)
    c.deliver("alice", r1, t + 7)
    m4 = c.send("alice", "alice 4")
    tampered = bytearray(c.messages[m4])
    tampered[-1] ^= 0x01
    c.deliver("bob", m4, t + 8, bytes(tampered))  # flipped bit: refused, state unchanged
    c.deliver("bob", m4, t + 9)
    m5 = c.send("alice", "alice 5")
    too_far = bytearray(c.messages[m5])
    too_far[2 + 32 + 4 : 2 + 32 + 8] = (5000).to_bytes(4, "big")
    c.deliver("bob", m5, t + 10, bytes(too_far))  # N beyond MAX_SKIP
    c.deliver("bob", m5, t + 10)
    m6, m7 = c.send("alice", "alice 6"), c.send("alice", "alice 7")
    c.deliver("bob", m7, t + 11)
    c.deliver("bob", m6, t + 12 + MAX_SKIPPED_AGE)  # its skipped key has aged out
    return {
        "description": (
            "Double Ratchet conversation with out-of-order delivery, skipped keys, a replay,"
            " tampering, a MAX_SKIP violation and an aged-out skipped key. Messages are"
            " unsealed ratchet messages; a 'decrypt' step names a message by index or gives"
            " forged bytes. 'rng' lists the draws made during that step (new ratchet keys)."
        ),
        "max_skip": 1000,
        "max_skipped_age_seconds": MAX_SKIPPED_AGE,
        "alice_identity_seed": c.alice.seed.hex(),
        "bob_identity_seed": c.bob.seed.hex(),
        "bob_signed_prekey": {"key_id": 1, "private": c.spk.pair.private.hex()},
        "bob_one_time_prekey": {"key_id": 5, "private": c.opk.pair.private.hex()},
        "alice_setup_rng": c.setup_draws,
        "alice_setup_rng_meaning": ["X3DH ephemeral private key", "first ratchet private key"],
        "steps": c.steps,
    }


def device_vectors() -> Json:
    """A sealed, end-to-end exchange between two Devices, as clients run it."""
    draws = {"alice": Draws("device/alice"), "bob": Draws("device/bob")}
    alice = Device(identity("device/alice"))
    bob = Device(identity("device/bob"))
    spk = bob.add_signed_prekey(1, draws["bob"])
    (opk,) = bob.add_one_time_prekeys(100, 1, draws["bob"])
    bob_setup = draws["bob"].take_log()
    bundle = PreKeyBundle(
        bob.identity.public, 1, spk.pair.public, spk.signature, 100, opk.pair.public
    )
    steps: list[Json] = []

    def send(
        sender: Device, name: str, peer: bytes, text: str, start: PreKeyBundle | None = None
    ) -> bytes:
        if start is not None:
            sender.start_session(start, draws[name])
        envelope = sender.encrypt_to(peer, text.encode(), rng=draws[name])
        steps.append(
            {
                "action": "encrypt",
                "party": name,
                "start_session": start is not None,
                "plaintext": text.encode().hex(),
                "rng": draws[name].take_log(),
                "envelope": envelope.hex(),
            }
        )
        return envelope

    def receive(device: Device, name: str, envelope: bytes, now: int) -> None:
        got = device.decrypt_envelope(envelope, now=now, rng=draws[name])
        steps.append(
            {
                "action": "decrypt",
                "party": name,
                "now": now,
                "envelope": envelope.hex(),
                "sender_identity_key": got.sender_identity_key.hex(),
                "plaintext": got.plaintext.hex(),
                "new_session": got.new_session,
                "used_one_time_prekey_id": got.used_one_time_prekey_id,
                "rng": draws[name].take_log(),
            }
        )

    e0 = send(alice, "alice", bob.identity.public, "hello, this is Alice", bundle)
    receive(bob, "bob", e0, 1_700_000_000)
    e1 = send(bob, "bob", alice.identity.public, "hi Alice")
    receive(alice, "alice", e1, 1_700_000_010)
    e2 = send(alice, "alice", bob.identity.public, "a second message")
    receive(bob, "bob", e2, 1_700_000_020)
    return {
        "description": (
            "Two devices exchange sealed envelopes. Step 1 starts the session from Bob's bundle"
            " (rng: X3DH ephemeral, first ratchet key, then the envelope's ephemeral key);"
            " every other encrypt draws one envelope ephemeral key; a decrypt that performs a"
            " DH ratchet step draws one ratchet key."
        ),
        "alice_identity_seed": alice.identity.seed.hex(),
        "bob_identity_seed": bob.identity.seed.hex(),
        "bob_setup_rng": bob_setup,
        "bob_setup_rng_meaning": ["signed prekey 1 private", "one-time prekey 100 private"],
        "bob_bundle": {
            "identity_key": bundle.identity_key.hex(),
            "signed_prekey_id": 1,
            "signed_prekey": spk.pair.public.hex(),
            "signed_prekey_signature": spk.signature.hex(),
            "one_time_prekey_id": 100,
            "one_time_prekey": opk.pair.public.hex(),
        },
        "steps": steps,
    }
