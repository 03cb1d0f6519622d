"""Consent receipts and revocations, as the SDK signs and checks them.

TODO(crypto consent receipts): confide_crypto's canonical receipt format has not landed yet.
Until it does, a receipt here is a versioned JSON statement (version 0, marked interim) signed
with the identity key under its own domain-separation tag; only this module changes when the
shared format arrives, because the rest of the SDK sees receipts as opaque bytes plus the
:class:`~confide_client.consent.ConsentFacts` that verification yields.
"""

from __future__ import annotations

import json
from typing import Any

from confide_crypto.errors import CryptoError
from confide_crypto.keys import IdentityKeyPair, fingerprint, verify_signature

from confide_client.consent import ConsentFacts, PolicyRef
from confide_client.encoding import b64d, b64e
from confide_client.errors import ProtocolError

__all__ = ["make_receipt", "make_revocation", "verify_receipt", "verify_revocation"]

_TAG = b"Confide interim consent v0\x00"
_PURPOSE = "peer support"


def _signed(identity: IdentityKeyPair, statement: dict[str, Any]) -> bytes:
    body = json.dumps(statement, sort_keys=True, separators=(",", ":")).encode()
    return identity.sign(_TAG + body) + body


def _open(blob: bytes, signer: bytes) -> dict[str, Any]:
    signature, body = blob[:64], blob[64:]
    try:
        verify_signature(signer, _TAG + body, signature)
        statement = json.loads(body)
    except (CryptoError, ValueError) as exc:
        raise ProtocolError("consent statement does not verify") from exc
    if not isinstance(statement, dict):
        raise ProtocolError("consent statement is malformed")
    return statement


def make_receipt(
    identity: IdentityKeyPair, worker_key: bytes, policy: PolicyRef, now: int, expires_at: int
) -> bytes:
    """The client's signed consent to share with the worker under ``policy``."""
    return _signed(
        identity,
        {
            "kind": "receipt",
            "policy_version": policy.version,
            "policy_sha256": policy.sha256,
            "worker": b64e(fingerprint(worker_key)),
            "purpose": _PURPOSE,
            "issued_at": now,
            "expires_at": expires_at,
            "revocable": True,
        },
    )


def verify_receipt(receipt: bytes, client_key: bytes, worker_key: bytes) -> ConsentFacts:
    """Check a receipt was signed by ``client_key`` for this worker; return its facts."""
    statement = _open(receipt, client_key)
    try:
        if statement["kind"] != "receipt" or b64d(statement["worker"]) != fingerprint(worker_key):
            raise ProtocolError("receipt is not for this worker")
        return ConsentFacts(
            policy=PolicyRef(int(statement["policy_version"]), str(statement["policy_sha256"])),
            issued_at=int(statement["issued_at"]),
            expires_at=int(statement["expires_at"]),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ProtocolError("receipt is malformed") from exc


def make_revocation(identity: IdentityKeyPair, worker_key: bytes, now: int) -> bytes:
    """The client's signed withdrawal of consent."""
    return _signed(
        identity, {"kind": "revocation", "worker": b64e(fingerprint(worker_key)), "at": now}
    )


def verify_revocation(revocation: bytes, client_key: bytes, worker_key: bytes) -> int:
    """Check a revocation from ``client_key`` names this worker; return when it was made."""
    statement = _open(revocation, client_key)
    try:
        if statement["kind"] != "revocation" or b64d(statement["worker"]) != fingerprint(
            worker_key
        ):
            raise ProtocolError("revocation is not for this worker")
        return int(statement["at"])
    except (KeyError, TypeError, ValueError) as exc:
        raise ProtocolError("revocation is malformed") from exc
