"""Generate Confide's known-answer vectors (tests/vectors/*.json) from pinned keys and nonces.

Run: ``.venv/bin/python tests/vectors/generate.py`` (``--check`` compares instead of writing).

Every value is derived from fixed labels, so running this again writes identical files. The
JSON is meant for any implementation, not only Python: byte strings are lowercase hex, and
wherever the protocol draws randomness the vector lists the draws in the order they are made
(``rng``), so another implementation can replay them. docs/e2e-protocol.md describes the
formats these bytes follow.
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from confide_crypto import attachments, consent, keystore, safety_number, sealed_sender
from confide_crypto.device import Device
from confide_crypto.errors import CryptoError
from confide_crypto.header import RatchetMessage
from confide_crypto.keys import (
    IdentityKeyPair,
    OneTimePreKey,
    PreKeyBundle,
    SignedPreKey,
    X25519KeyPair,
    signed_prekey_message,
)
from confide_crypto.padding import bucket_for, pad
from confide_crypto.ratchet import MAX_SKIPPED_AGE
from confide_crypto.session import Session
from confide_crypto.x3dh import initiate, respond

HERE = Path(__file__).parent
Json = dict[str, Any]


def pinned(label: str, n: int = 32) -> bytes:
    """Fixed bytes named by a label: SHA-512 in counter mode."""
    out = b""
    counter = 0
    while len(out) < n:
        out += hashlib.sha512(f"{label}/{counter}".encode()).digest()
        counter += 1
    return out[:n]


class Draws:
    """A pinned rng that records each draw, so vectors can list them for replay."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.count = 0
        self.log: list[str] = []

    def __call__(self, n: int) -> bytes:
        value = pinned(f"{self.label}/draw{self.count}", n)
        self.count += 1
        self.log.append(value.hex())
        return value

    def take_log(self) -> list[str]:
        log, self.log = self.log, []
        return log


def identity(label: str) -> IdentityKeyPair:
    return IdentityKeyPair(pinned(f"identity/{label}"))


def describe_identity(key: IdentityKeyPair) -> Json:
    return {
        "seed": key.seed.hex(),
        "ed25519_public": key.public.hex(),
        "x25519_private": key.dh.private.hex(),
        "x25519_public": key.dh.public.hex(),
    }


def keys_vectors() -> Json:
    alice = identity("alice")
    challenge = pinned("challenge")
    spk = SignedPreKey.create(alice, 7, pinned("alice/spk7"))
    return {
        "description": "Identity keys, their X25519 forms and the contract signatures.",
        "identity": describe_identity(alice),
        "challenge": challenge.hex(),
        "registration_signature": alice.sign_registration(challenge).hex(),
        "auth_signature": alice.sign_auth(challenge).hex(),
        "signed_prekey": {
            "key_id": 7,
            "private": spk.pair.private.hex(),
            "public": spk.pair.public.hex(),
            "signed_message": signed_prekey_message(7, spk.pair.public).hex(),
            "signature": spk.signature.hex(),
        },
        "low_order_x25519_public_keys_rejected": [
            "00" * 32,
            "01" + "00" * 31,
            "e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800",
            "5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157",
            "ec" + "ff" * 30 + "7f",
            "ed" + "ff" * 30 + "7f",
            "ee" + "ff" * 30 + "7f",
            "ee" + "ff" * 31,
        ],
    }


def x3dh_case(name: str, with_opk: bool) -> Json:
    alice, bob = identity(f"{name}/alice"), identity(f"{name}/bob")
    spk = SignedPreKey.create(bob, 1, pinned(f"{name}/bob/spk"))
    opk = OneTimePreKey(42, X25519KeyPair.from_private(pinned(f"{name}/bob/opk")))
    ephemeral = X25519KeyPair.from_private(pinned(f"{name}/alice/ephemeral"))
    bundle = PreKeyBundle(
        bob.public,
        spk.key_id,
        spk.pair.public,
        spk.signature,
        opk.key_id if with_opk else None,
        opk.pair.public if with_opk else None,
    )
    result, initial = initiate(alice, bundle, ephemeral)
    assert respond(bob, alice.public, initial, spk, opk if with_opk else None) == result
    return {
        "name": name,
        "alice_identity": describe_identity(alice),
        "bob_identity": describe_identity(bob),
        "bob_signed_prekey": {
            "key_id": spk.key_id,
            "private": spk.pair.private.hex(),
            "public": spk.pair.public.hex(),
            "signature": spk.signature.hex(),
        },
        "bob_one_time_prekey": (
            {
                "key_id": opk.key_id,
                "private": opk.pair.private.hex(),
                "public": opk.pair.public.hex(),
            }
            if with_opk
            else None
        ),
        "alice_ephemeral": {"private": ephemeral.private.hex(), "public": ephemeral.public.hex()},
        "shared_key": result.shared_key.hex(),
        "associated_data": result.associated_data.hex(),
    }


def x3dh_vectors() -> Json:
    return {
        "description": "X3DH: Alice initiates to Bob's bundle; both derive shared_key and AD.",
        "hkdf": {"hash": "SHA-256", "salt": "00" * 32, "F": "ff" * 32, "info": "Confide X3DH v1"},
        "cases": [x3dh_case("x3dh-opk", True), x3dh_case("x3dh-no-opk", False)],
    }


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


def sealed_sender_vectors() -> Json:
    sender, recipient = identity("sealed/sender"), identity("sealed/recipient")
    cases = []
    for size in (0, 5, 158, 159, 1000, 4000, 16000, sealed_sender.MAX_CONTENT):
        content = pattern(size)
        ephemeral = X25519KeyPair.from_private(pinned(f"sealed/ephemeral/{size}"))
        envelope = sealed_sender.seal(sender, recipient.public, content, ephemeral)
        case: Json = {
            "content_length": size,
            "ephemeral_private": ephemeral.private.hex(),
            "envelope_length": len(envelope),
            "envelope_sha256": hashlib.sha256(envelope).hexdigest(),
        }
        if size <= 1000:
            case["envelope"] = envelope.hex()
        cases.append(case)
    return {
        "description": (
            "Sealed-sender envelopes; content byte i is i mod 251; each envelope's length is a"
            " padding bucket. Envelopes up to 1 KiB are given whole, larger ones by SHA-256."
        ),
        "sender_identity": describe_identity(sender),
        "recipient_identity": describe_identity(recipient),
        "cases": cases,
    }


def padding_vectors() -> Json:
    cases = []
    for length in (0, 1, 158, 159, 926, 927, 3998, 3999, 16286, 16287, sealed_sender.MAX_CONTENT):
        bucket = bucket_for(length, sealed_sender.OVERHEAD)
        content = pinned(f"padding/{length}", length)
        padded = pad(content, bucket - sealed_sender.OVERHEAD)
        cases.append(
            {
                "content_length": length,
                "envelope_bucket": bucket,
                "padded_length": len(padded),
                "padded_sha256": hashlib.sha256(padded).hexdigest(),
            }
        )
    return {
        "description": (
            "Padding of sealed-sender content: content || 0x80 || zeros, to bucket - overhead;"
            " content bytes are SHA-512 counter-mode output of 'padding/<length>/0'..."
        ),
        "buckets": [256, 1024, 4096, 16384, 65536],
        "envelope_overhead": sealed_sender.OVERHEAD,
        "small_example": {"content": "616263", "target": 8, "padded": pad(b"abc", 8).hex()},
        "invalid_padded": ["", "00", "616263", "61626300", "8001"],
        "cases": cases,
    }


def safety_number_vectors() -> Json:
    a, b = identity("safety/a").public, identity("safety/b").public
    return {
        "description": "Safety number and QR payload; both are the same with a and b swapped.",
        "iterations": safety_number.ITERATIONS,
        "identity_key_a": a.hex(),
        "identity_key_b": b.hex(),
        "fingerprint_a": safety_number.key_fingerprint(a).hex(),
        "fingerprint_b": safety_number.key_fingerprint(b).hex(),
        "safety_number": safety_number.safety_number(a, b),
        "grouped": safety_number.grouped(safety_number.safety_number(a, b)),
        "qr_payload": safety_number.qr_payload(a, b).hex(),
    }


def pattern(n: int) -> bytes:
    return bytes(i % 251 for i in range(n))


def attachment_vectors() -> Json:
    cases = []
    for length in (0, 13, attachments.CHUNK_SIZE, 140_000):
        key, header = pinned(f"attachment/{length}/key"), pinned(f"attachment/{length}/header", 24)
        blob, pointer = attachments.encrypt_attachment(pattern(length), key=key, header=header)
        case: Json = {
            "plaintext_length": length,
            "key": key.hex(),
            "header": header.hex(),
            "blob_length": len(blob),
            "digest": pointer.digest.hex(),
            "pointer": pointer.encode().hex(),
        }
        if length < 100:
            case["blob"] = blob.hex()
        cases.append(case)
    return {
        "description": (
            "Attachments: plaintext byte i is i mod 251; blob = 0x01 || secretstream header"
            " || chunks; digest = SHA-256(blob). Small blobs are given whole."
        ),
        "chunk_size": attachments.CHUNK_SIZE,
        "cases": cases,
    }


def consent_vectors() -> Json:
    client, worker = identity("consent/client"), identity("consent/worker")
    policy = "We keep what you tell us private, except when the law requires otherwise."
    receipt = consent.ConsentReceipt(
        client_identity_key=client.public,
        worker_key_fingerprint=consent.fingerprint(worker.public),
        policy_version=3,
        policy_sha256=consent.policy_digest(policy),
        signed_at=1_700_000_000,
        expires_at=1_731_536_000,
        discloser="Riverside Peer Recovery",
        recipient="Peer support worker (device key above)",
        purpose="Peer recovery support",
        information="Messages and calls in this conversation",
    )
    data, signature = receipt.sign(client)
    revocation = consent.ConsentRevocation.for_receipt(data, client.public, 1_710_000_000)
    rev_data, rev_signature = revocation.sign(client)
    return {
        "description": "A consent receipt and its revocation, signed by the client device.",
        "client_identity": describe_identity(client),
        "worker_identity_key": worker.public.hex(),
        "worker_key_fingerprint": receipt.worker_key_fingerprint.hex(),
        "policy_text": policy,
        "policy_sha256": receipt.policy_sha256.hex(),
        "fields": {
            "policy_version": 3,
            "signed_at": receipt.signed_at,
            "expires_at": receipt.expires_at,
            "revocable": True,
            "discloser": receipt.discloser,
            "recipient": receipt.recipient,
            "purpose": receipt.purpose,
            "information": receipt.information,
        },
        "receipt": data.hex(),
        "signature": signature.hex(),
        "revocation": {"revoked_at": 1_710_000_000, "bytes": rev_data.hex()},
        "revocation_signature": rev_signature.hex(),
    }


def keystore_vectors() -> Json:
    params = keystore.KdfParams(opslimit=2, memlimit=65536)
    contents = b"confide key store vector"
    salt, nonce = pinned("keystore/salt", 16), pinned("keystore/nonce", 24)
    store = keystore.seal_store(
        contents, "correct horse battery staple", salt=salt, nonce=nonce, params=params
    )
    return {
        "description": "A version-1 key store with small Argon2id costs (vectors only).",
        "passphrase": "correct horse battery staple",
        "opslimit": params.opslimit,
        "memlimit": params.memlimit,
        "salt": salt.hex(),
        "nonce": nonce.hex(),
        "contents": contents.hex(),
        "store": store.hex(),
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

    def send(sender: Device, name: str, peer: bytes, text: str, start: bundle_t = None) -> bytes:
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


bundle_t = PreKeyBundle | None

BUILDERS: dict[str, Callable[[], Json]] = {
    "keys": keys_vectors,
    "x3dh": x3dh_vectors,
    "ratchet": ratchet_vectors,
    "sealed_sender": sealed_sender_vectors,
    "padding": padding_vectors,
    "safety_number": safety_number_vectors,
    "attachments": attachment_vectors,
    "consent": consent_vectors,
    "keystore": keystore_vectors,
    "device": device_vectors,
}


def render(name: str) -> str:
    body = {"vector_format": 1, "encoding": "byte strings are lowercase hex", **BUILDERS[name]()}
    return json.dumps(body, indent=1, ensure_ascii=False) + "\n"


def main(argv: list[str]) -> int:
    stale = []
    for name in BUILDERS:
        path = HERE / f"{name}.json"
        text = render(name)
        if "--check" in argv:
            if not path.exists() or path.read_text() != text:
                stale.append(path.name)
        else:
            path.write_text(text)
    if stale:
        print("stale vectors:", ", ".join(stale))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
