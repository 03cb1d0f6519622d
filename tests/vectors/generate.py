"""Generate Confide's known-answer vectors (tests/vectors/*.json) from pinned keys and nonces.

Run: ``.venv/bin/python tests/vectors/generate.py`` (``--check`` compares instead of writing).

Every value is derived from fixed labels, so running this again writes identical files. The
JSON is meant for any implementation, not only Python: byte strings are lowercase hex, and
wherever the protocol draws randomness the vector lists the draws in the order they are made
(``rng``), so another implementation can replay them. docs/protocol.md (part 2) describes the
formats these bytes follow.
"""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import hashlib
import json
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from unittest import mock

from confide_crypto import (
    attachments,
    consent,
    group_consent,
    keystore,
    safety_number,
    sealed_sender,
)
from confide_crypto.keys import (
    OneTimePreKey,
    PreKeyBundle,
    SignedPreKey,
    X25519KeyPair,
    signed_prekey_message,
)
from confide_crypto.padding import bucket_for, pad
from confide_crypto.x3dh import initiate, respond
from nacl import bindings

HERE = Path(__file__).parent
# The sibling modules are imported by name, whether this runs as a script or is loaded by
# the tests, so the folder must be importable.
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

from vector_conversations import device_vectors, ratchet_vectors  # noqa: E402
from vector_pinning import Json, describe_identity, identity, pattern, pinned  # noqa: E402


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


@contextlib.contextmanager
def pinned_secretstream_header(header: bytes) -> Iterator[None]:
    """Make libsodium's secretstream ``init_push`` use ``header`` instead of drawing one.

    ``init_push`` draws 24 random bytes and then sets the stream state from them and the key;
    ``init_pull`` sets the very same state from a header it is given (libsodium's
    secretstream_xchacha20poly1305.c: both derive ``k = HChaCha20(key, header[0:16])``, set
    the counter to 1 and copy ``header[16:24]``). A state made by ``init_pull`` therefore
    pushes exactly what ``init_push`` would have pushed had it drawn ``header``. Only this
    generator does this, so that attachments.json is reproducible; the vectors are checked on
    the decrypt side (Python and the web client), which does not depend on the trick.
    """

    def init_push(state: Any, key: bytes) -> bytes:
        bindings.crypto_secretstream_xchacha20poly1305_init_pull(state, header, key)
        return header

    with mock.patch.object(bindings, "crypto_secretstream_xchacha20poly1305_init_push", init_push):
        yield


def attachment_vectors() -> Json:
    cases = []
    for length in (0, 13, attachments.CHUNK_SIZE, attachments.CHUNK_SIZE + 1):
        key, header = pinned(f"attachment/{length}/key"), pinned(f"attachment/{length}/header", 24)
        with pinned_secretstream_header(header):
            blob, pointer = attachments.encrypt_attachment(pattern(length), key=key)
        cases.append(
            {
                "plaintext_length": length,
                "key": key.hex(),
                "header": header.hex(),
                "blob_length": len(blob),
                "digest": pointer.digest.hex(),
                "pointer": pointer.encode().hex(),
                "blob": blob.hex(),
            }
        )
    return {
        "description": (
            "Attachments: plaintext byte i is i mod 251; blob = 0x01 || secretstream header"
            " || chunks; digest = SHA-256(blob). Each blob must decrypt to its plaintext under"
            " the pointer; writers draw the header at random, so these pin the reading side."
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
    # Format 2: the same consent, read in Spanish, names the language of the text it hashes.
    policy_es = "Lo que nos cuentas es privado, salvo cuando la ley exige otra cosa."
    receipt_es = dataclasses.replace(
        receipt, policy_sha256=consent.policy_digest(policy_es), policy_language="es"
    )
    data_es, signature_es = receipt_es.sign(client)
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
        "receipt_with_language": {
            "description": "Format 2: the policy text read, in Spanish, named by language.",
            "policy_text": policy_es,
            "policy_sha256": receipt_es.policy_sha256.hex(),
            "policy_language": "es",
            "receipt": data_es.hex(),
            "signature": signature_es.hex(),
        },
    }


def group_vectors() -> Json:
    """A group consent receipt and a signed roster (docs/protocol.md G§7, G§9)."""
    client, worker = identity("groups/client"), identity("groups/worker")
    group_id = pinned("groups/group-id", 16)
    terms = "Group terms: every member reads what you write here; workers keep the limits."
    receipt = group_consent.GroupConsentReceipt(
        client_identity_key=client.public,
        worker_key_fingerprint=consent.fingerprint(worker.public),
        terms_version=2,
        terms_sha256=consent.policy_digest(terms),
        signed_at=1_700_000_000,
        expires_at=1_731_536_000,
        group_binding=group_consent.group_binding(group_id, client.public),
        discloser="The person signing with this device",
        recipient="The members of one peer support group and its workers",
        purpose="Peer support",
        information="Messages and attachments the client chooses to send to the group",
    )
    data, signature = receipt.sign(client)
    roster = {
        "v": 1,
        "group": b64(group_id),
        "epoch": 2,
        "name": "Círculo de los martes",
        "terms": {"version": 2, "sha256": receipt.terms_sha256.hex()},
        "timer": 0,
        "closed": False,
        "signed_at": 1_700_000_100,
        "signer": b64(worker.public),
        "change": {"op": "added", "member": b64(pinned("groups/member-2", 16))},
        "members": [
            {
                "member": b64(pinned(f"groups/member-{i}", 16)),
                "name": name,
                "role": role,
                "key": b64(key.public),
                "prekey": {
                    "key_id": 0x8000_0001,
                    "public_key": b64(bytes(32)),
                    "signature": b64(bytes(64)),
                },
                "mailbox": b64(pinned(f"groups/mailbox-{i}", 16)),
                "capability": b64(pinned(f"groups/capability-{i}", 32)),
                "since": i,
            }
            for i, (name, role, key) in enumerate(
                [("Ash", "worker", worker), ("Robin \u201cR\u201d", "client", client)], start=1
            )
        ],
    }
    roster_bytes = json.dumps(roster, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    roster_signature = worker.sign(b"Confide group roster v1\x00" + roster_bytes.encode())
    return {
        "description": "A group consent receipt and a roster signed by a group worker's device"
        " (the prekeys in the roster are placeholders: only its bytes and signature are pinned).",
        "client_identity": describe_identity(client),
        "worker_identity": describe_identity(worker),
        "group_id": group_id.hex(),
        "group_binding": receipt.group_binding.hex(),
        "terms_text": terms,
        "receipt": data.hex(),
        "signature": signature.hex(),
        "roster": roster,
        "roster_bytes": roster_bytes.encode().hex(),
        "roster_signature": roster_signature.hex(),
    }


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


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
    "groups": group_vectors,
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
