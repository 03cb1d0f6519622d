"""Consent receipts and revocations, signed and checked with confide_crypto's format.

The receipt's canonical bytes and their signature travel separately (the relay stores them
in separate columns, and the hello message carries both). A worker verifies a receipt
against the policy the receipt itself names, and the consent gate then compares that policy
with the organisation's current one, so an outdated receipt still opens the conversation's
bookkeeping while keeping it gated (:mod:`confide_client.consent`).
"""

from __future__ import annotations

from dataclasses import dataclass

from confide_crypto.consent import (
    ConsentReceipt,
    ConsentRevocation,
)
from confide_crypto.consent import (
    verify_receipt as crypto_verify_receipt,
)
from confide_crypto.consent import (
    verify_revocation as crypto_verify_revocation,
)
from confide_crypto.errors import CryptoError
from confide_crypto.keys import IdentityKeyPair, fingerprint

from confide_client.consent import ConsentFacts, PolicyRef
from confide_client.contact import Contact
from confide_client.errors import ProtocolError

__all__ = [
    "ConsentTerms",
    "Signed",
    "consent_to",
    "make_receipt",
    "make_revocation",
    "verify_receipt",
    "verify_revocation",
]


@dataclass(frozen=True)
class ConsentTerms:
    """The 42 CFR §2.31 wording a client agrees to; the organisation may word its own."""

    discloser: str = "The person signing with this device"
    recipient: str = "The peer support worker holding the named key, and their program"
    purpose: str = "Peer support"
    information: str = "Messages and attachments the client chooses to send"


@dataclass(frozen=True)
class Signed:
    """A consent statement's canonical bytes and the client's Ed25519 signature over them."""

    data: bytes
    signature: bytes


def make_receipt(
    identity: IdentityKeyPair,
    worker_key: bytes,
    policy: PolicyRef,
    now: int,
    expires_at: int,
    terms: ConsentTerms | None = None,
) -> Signed:
    """The client's signed consent to share with the worker under ``policy``."""
    terms = terms or ConsentTerms()
    receipt = ConsentReceipt(
        client_identity_key=identity.public,
        worker_key_fingerprint=fingerprint(worker_key),
        policy_version=policy.version,
        policy_sha256=bytes.fromhex(policy.sha256),
        signed_at=now,
        expires_at=expires_at,
        discloser=terms.discloser,
        recipient=terms.recipient,
        purpose=terms.purpose,
        information=terms.information,
        policy_language=policy.language,
    )
    return Signed(*receipt.sign(identity))


def verify_receipt(receipt: Signed, client_key: bytes, worker_key: bytes, now: int) -> ConsentFacts:
    """Check a receipt is the client's, for this worker, and current; return its facts."""
    try:
        claimed = ConsentReceipt.decode(receipt.data)
        checked = crypto_verify_receipt(
            receipt.data,
            receipt.signature,
            client_identity_key=client_key,
            worker_identity_key=worker_key,
            policy_version=claimed.policy_version,
            policy_sha256=claimed.policy_sha256,
            now=now,
        )
    except CryptoError as exc:
        raise ProtocolError(f"consent receipt refused: {exc}") from exc
    return ConsentFacts(
        policy=PolicyRef(
            checked.policy_version, checked.policy_sha256.hex(), checked.policy_language
        ),
        issued_at=checked.signed_at,
        expires_at=checked.expires_at,
    )


def make_revocation(identity: IdentityKeyPair, receipt: bytes, now: int) -> Signed:
    """The client's signed withdrawal of the consent given in ``receipt``."""
    return Signed(*ConsentRevocation.for_receipt(receipt, identity.public, now).sign(identity))


def verify_revocation(revocation: Signed, receipt: bytes, client_key: bytes) -> int:
    """Check a revocation of ``receipt`` by ``client_key``; return when it was made."""
    try:
        checked = crypto_verify_revocation(
            revocation.data, revocation.signature, receipt=receipt, client_identity_key=client_key
        )
    except CryptoError as exc:
        raise ProtocolError(f"consent revocation refused: {exc}") from exc
    return checked.revoked_at


def consent_to(
    worker: Contact,
    identity: IdentityKeyPair,
    policy: PolicyRef,
    now: int,
    seconds: int,
    terms: ConsentTerms | None = None,
) -> Signed:
    """Sign the client's consent for ``worker`` under ``policy`` and open the gate with it."""
    receipt = make_receipt(identity, worker.identity_key, policy, now, now + seconds, terms)
    facts = verify_receipt(receipt, identity.public, worker.identity_key, now)
    worker.consent = worker.consent.with_policy(policy).with_receipt(facts)
    worker.receipt = receipt.data
    return receipt
