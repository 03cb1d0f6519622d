"""The consent gate: a worker's device sends nothing to a client without valid consent.

docs/protocol.md part 2 §17: no message flows before the client has accepted the organisation's
current confidentiality policy, and a revocation freezes the conversation. The gate is a
small state machine with no I/O. The SDK feeds it facts it has already verified
cryptographically (a receipt's signature is checked by confide_crypto before the gate ever
sees it) and asks it, before every send, whether a message may leave::

    AWAITING ──receipt for current policy──> GRANTED ──revocation──> REVOKED (final)
       ^                                       │
       └──── policy changes / receipt expires ─┘   (both need a fresh receipt)

Time is a parameter (``now``, seconds since the epoch) so tests pin it.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, replace
from typing import Any

from confide_client.errors import ConsentRequired, ConsentRevoked, ProtocolError

__all__ = ["ConsentFacts", "ConsentGate", "ConsentState", "PolicyRef"]


class ConsentState(enum.Enum):
    """Where a conversation stands with respect to consent."""

    AWAITING = "awaiting"
    GRANTED = "granted"
    EXPIRED = "expired"
    OUTDATED = "outdated"
    REVOKED = "revoked"


@dataclass(frozen=True)
class PolicyRef:
    """Which policy version is current: its number and the SHA-256 (hex) of its text.

    ``language`` names the language of that text when a receipt states it (format 2).
    ``others`` are the hashes of the same version's texts in other languages: a receipt for
    any of them is consent to this version (docs/protocol.md, "Policy translations").
    """

    version: int
    sha256: str
    language: str | None = None
    others: tuple[str, ...] = ()

    def covers(self, receipt: PolicyRef) -> bool:
        """Whether a receipt naming ``receipt`` consents to this version."""
        return receipt.version == self.version and receipt.sha256 in (self.sha256, *self.others)


@dataclass(frozen=True)
class ConsentFacts:
    """What the gate needs from a receipt whose signature has already been verified."""

    policy: PolicyRef
    issued_at: int
    expires_at: int | None


@dataclass(frozen=True)
class ConsentGate:
    """The consent position of one conversation; every transition returns a new gate."""

    policy: PolicyRef | None = None
    receipt: ConsentFacts | None = None
    revoked_at: int | None = None

    def state(self, now: int) -> ConsentState:
        """The gate's state at ``now``."""
        if self.revoked_at is not None:
            return ConsentState.REVOKED
        if self.receipt is None or self.policy is None:
            return ConsentState.AWAITING
        if not self.policy.covers(self.receipt.policy):
            return ConsentState.OUTDATED
        if self.receipt.expires_at is not None and now >= self.receipt.expires_at:
            return ConsentState.EXPIRED
        return ConsentState.GRANTED

    def check_send(self, now: int) -> None:
        """Raise unless a message may be sent at ``now``."""
        state = self.state(now)
        if state is ConsentState.REVOKED:
            raise ConsentRevoked("the client revoked consent; this conversation is frozen")
        if state is not ConsentState.GRANTED:
            raise ConsentRequired(f"no valid consent for the current policy ({state.value})")

    def with_policy(self, policy: PolicyRef) -> ConsentGate:
        """Record the organisation's current policy; a new version needs fresh consent."""
        return replace(self, policy=policy)

    def with_receipt(self, facts: ConsentFacts) -> ConsentGate:
        """Record a verified receipt; an older receipt never replaces a newer one."""
        if self.revoked_at is not None:
            raise ConsentRevoked("consent was revoked; a receipt cannot reopen the conversation")
        if self.receipt is not None and facts.issued_at < self.receipt.issued_at:
            return self
        return replace(self, receipt=facts)

    def with_revocation(self, at: int) -> ConsentGate:
        """Record a verified revocation; from here on nothing is sent."""
        return replace(self, revoked_at=at if self.revoked_at is None else self.revoked_at)

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready form for the state file."""
        return {
            "policy": policy_json(self.policy),
            "receipt": None
            if self.receipt is None
            else {
                "policy": policy_json(self.receipt.policy),
                "issued_at": self.receipt.issued_at,
                "expires_at": self.receipt.expires_at,
            },
            "revoked_at": self.revoked_at,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ConsentGate:
        """Read back what :meth:`to_json` wrote."""
        try:
            raw = data["receipt"]
            receipt = (
                None
                if raw is None
                else ConsentFacts(
                    policy=policy_from(raw["policy"]),
                    issued_at=int(raw["issued_at"]),
                    expires_at=None if raw["expires_at"] is None else int(raw["expires_at"]),
                )
            )
            policy = None if data["policy"] is None else policy_from(data["policy"])
            revoked = data["revoked_at"]
        except (KeyError, TypeError, ValueError) as exc:
            raise ProtocolError("malformed consent state") from exc
        return cls(
            policy=policy, receipt=receipt, revoked_at=None if revoked is None else int(revoked)
        )


def policy_json(policy: PolicyRef | None) -> dict[str, Any] | None:
    """A JSON-ready form; the language and other texts only when known (older state files
    have neither, and read back the same)."""
    if policy is None:
        return None
    out: dict[str, Any] = {"version": policy.version, "sha256": policy.sha256}
    if policy.language is not None:
        out["language"] = policy.language
    if policy.others:
        out["others"] = list(policy.others)
    return out


def policy_from(data: Any) -> PolicyRef:
    if data is None:
        raise ProtocolError("a receipt must name a policy")
    language = data.get("language")
    return PolicyRef(
        version=int(data["version"]),
        sha256=str(data["sha256"]),
        language=None if language is None else str(language),
        others=tuple(str(o) for o in data.get("others", [])),
    )


def policy_ref(policy: Any, *, named: bool = False) -> PolicyRef:
    """The reference to a transport Policy: its text's hash, and its other texts' hashes.
    With ``named``, the language of the text is part of it (a receipt then states it)."""
    return PolicyRef(
        policy.version,
        policy.sha256,
        policy.language if named else None,
        tuple(t.sha256 for t in policy.translations),
    )
