"""Known answers for attachments, consent receipts and the key store."""

from __future__ import annotations

from typing import Any

import pytest
from confide_crypto import attachments, consent, keystore
from confide_crypto.keys import IdentityKeyPair, fingerprint

from .support import load

ATTACHMENTS = load("attachments")
CONSENT = load("consent")
KEYSTORE = load("keystore")


def _pattern(n: int) -> bytes:
    return bytes(i % 251 for i in range(n))


@pytest.mark.parametrize("case", ATTACHMENTS["cases"], ids=lambda c: str(c["plaintext_length"]))
def test_attachment_vectors_decrypt_to_their_plaintext(case: dict[str, Any]) -> None:
    # Writers draw the secretstream header at random (libsodium's init_push), so the
    # vectors pin the reading side: libsodium's pull must open each blob exactly.
    blob = bytes.fromhex(case["blob"])
    assert len(blob) == case["blob_length"]
    assert blob[1 : 1 + attachments.HEADER_LEN].hex() == case["header"]
    pointer = attachments.AttachmentPointer.decode(bytes.fromhex(case["pointer"]))
    assert pointer.encode().hex() == case["pointer"]
    assert pointer.key.hex() == case["key"] and pointer.digest.hex() == case["digest"]
    assert attachments.decrypt_attachment(blob, pointer) == _pattern(case["plaintext_length"])


def test_attachment_vectors_cover_one_and_several_chunks() -> None:
    lengths = [c["plaintext_length"] for c in ATTACHMENTS["cases"]]
    assert 0 in lengths and max(lengths) > attachments.CHUNK_SIZE


@pytest.mark.parametrize("case", ATTACHMENTS["cases"], ids=lambda c: str(c["plaintext_length"]))
def test_a_fresh_encryption_has_the_vector_layout(case: dict[str, Any]) -> None:
    key = bytes.fromhex(case["key"])
    blob, pointer = attachments.encrypt_attachment(_pattern(case["plaintext_length"]), key=key)
    assert len(blob) == case["blob_length"]
    assert pointer.encode()[:33] == bytes.fromhex(case["pointer"])[:33]
    assert pointer.length == case["plaintext_length"]
    assert attachments.decrypt_attachment(blob, pointer) == _pattern(case["plaintext_length"])


def _receipt() -> consent.ConsentReceipt:
    client = IdentityKeyPair(bytes.fromhex(CONSENT["client_identity"]["seed"]))
    f = CONSENT["fields"]
    return consent.ConsentReceipt(
        client_identity_key=client.public,
        worker_key_fingerprint=fingerprint(bytes.fromhex(CONSENT["worker_identity_key"])),
        policy_version=f["policy_version"],
        policy_sha256=consent.policy_digest(CONSENT["policy_text"]),
        signed_at=f["signed_at"],
        expires_at=f["expires_at"],
        discloser=f["discloser"],
        recipient=f["recipient"],
        purpose=f["purpose"],
        information=f["information"],
        revocable=f["revocable"],
    )


def test_consent_receipt_known_answer() -> None:
    client = IdentityKeyPair(bytes.fromhex(CONSENT["client_identity"]["seed"]))
    receipt = _receipt()
    assert receipt.policy_sha256.hex() == CONSENT["policy_sha256"]
    assert receipt.worker_key_fingerprint.hex() == CONSENT["worker_key_fingerprint"]
    data, signature = receipt.sign(client)
    assert data.hex() == CONSENT["receipt"]
    assert signature.hex() == CONSENT["signature"]
    verified = consent.verify_receipt(
        data,
        signature,
        client_identity_key=client.public,
        worker_identity_key=bytes.fromhex(CONSENT["worker_identity_key"]),
        policy_version=3,
        policy_sha256=bytes.fromhex(CONSENT["policy_sha256"]),
        now=CONSENT["fields"]["signed_at"] + 60,
    )
    assert verified == receipt


def test_consent_revocation_known_answer() -> None:
    client = IdentityKeyPair(bytes.fromhex(CONSENT["client_identity"]["seed"]))
    receipt = bytes.fromhex(CONSENT["receipt"])
    revoked_at = CONSENT["revocation"]["revoked_at"]
    revocation = consent.ConsentRevocation.for_receipt(receipt, client.public, revoked_at)
    data, signature = revocation.sign(client)
    assert data.hex() == CONSENT["revocation"]["bytes"]
    assert signature.hex() == CONSENT["revocation_signature"]
    got = consent.verify_revocation(
        data, signature, receipt=receipt, client_identity_key=client.public
    )
    assert got == revocation


def test_consent_receipt_with_a_language_known_answer() -> None:
    # Format 2 names the language of the policy text read; its hash is that text's.
    client = IdentityKeyPair(bytes.fromhex(CONSENT["client_identity"]["seed"]))
    v = CONSENT["receipt_with_language"]
    receipt = _receipt()
    receipt_es = consent.ConsentReceipt(
        **{
            **{f: getattr(receipt, f) for f in receipt.__dataclass_fields__},
            "policy_sha256": consent.policy_digest(v["policy_text"]),
            "policy_language": v["policy_language"],
        }
    )
    data, signature = receipt_es.sign(client)
    assert data.hex() == v["receipt"] and data[0] == 2
    assert signature.hex() == v["signature"]
    decoded = consent.ConsentReceipt.decode(data)
    assert decoded == receipt_es and decoded.policy_language == "es"
    expect = {
        "client_identity_key": client.public,
        "worker_identity_key": bytes.fromhex(CONSENT["worker_identity_key"]),
        "policy_version": receipt.policy_version,
        "policy_sha256": bytes.fromhex(v["policy_sha256"]),
        "now": receipt.signed_at + 10,
    }
    consent.verify_receipt(data, signature, **expect, policy_language="es")
    with pytest.raises(consent.ConsentError, match="policy language"):
        consent.verify_receipt(data, signature, **expect, policy_language="en")
    # A format 1 receipt (no language) keeps its bytes and still verifies.
    old = bytes.fromhex(CONSENT["receipt"])
    assert old[0] == 1 and consent.ConsentReceipt.decode(old).policy_language is None
    with pytest.raises(consent.ConsentError, match="policy language"):
        consent.verify_receipt(
            old,
            bytes.fromhex(CONSENT["signature"]),
            **{**expect, "policy_sha256": receipt.policy_sha256},
            policy_language="es",
        )


def test_key_store_known_answer() -> None:
    params = keystore.KdfParams(KEYSTORE["opslimit"], KEYSTORE["memlimit"])
    store = keystore.seal_store(
        bytes.fromhex(KEYSTORE["contents"]),
        KEYSTORE["passphrase"],
        salt=bytes.fromhex(KEYSTORE["salt"]),
        nonce=bytes.fromhex(KEYSTORE["nonce"]),
        params=params,
    )
    assert store.hex() == KEYSTORE["store"]
    opened = keystore.open_store(store, KEYSTORE["passphrase"], current=params)
    assert opened.contents.hex() == KEYSTORE["contents"]
    assert not opened.needs_rewrap
    assert keystore.open_store(store, KEYSTORE["passphrase"]).needs_rewrap
