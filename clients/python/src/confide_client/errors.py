"""Errors raised by the Confide SDK.

Every error the SDK raises on purpose derives from :class:`ConfideError`, so an integrator
can catch one type at the edge of their program and still tell the cases apart::

    ConfideError
    ├── RelayError              the relay could not be reached or refused a request
    │   ├── RelayUnavailable    a network failure or a 5xx; retrying later may help
    │   └── RelayRejected       a 4xx with the relay's problem+json; retrying will not help
    ├── ConsentError            the consent gate refused to send
    │   ├── ConsentRequired     no valid consent receipt for the current policy yet
    │   └── ConsentRevoked      the client revoked consent; the conversation is frozen
    ├── KeyChangePending        the contact's identity key changed; compare and confirm first
    ├── StateError              the local state file is unreadable, wrongly keyed or in use
    ├── ProtocolError           a peer or the relay sent something that breaks the protocol
    └── UnknownContact          no conversation with that contact exists on this device

Errors from confide_crypto (failed decryption, bad signatures) are wrapped in
:class:`ProtocolError` where they come from the network, because to an integrator they mean
the same thing: that input was refused and nothing changed.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "ConfideError",
    "ConsentError",
    "ConsentRequired",
    "ConsentRevoked",
    "KeyChangePending",
    "ProtocolError",
    "RelayError",
    "RelayRejected",
    "RelayUnavailable",
    "StateError",
    "UnknownContact",
]


class ConfideError(Exception):
    """The root of every error the SDK raises on purpose."""


class RelayError(ConfideError):
    """The relay could not be reached, or it refused a request."""


class RelayUnavailable(RelayError):
    """A network failure or a server-side error; the same request may succeed later."""


class RelayRejected(RelayError):
    """The relay refused the request (a 4xx); repeating it unchanged will not help.

    ``status`` is the HTTP status and ``problem`` the relay's problem+json body, so an
    integrator can branch on ``problem.get("type")`` without parsing the message.
    """

    def __init__(self, status: int, problem: dict[str, Any]) -> None:
        self.status = status
        self.problem = problem
        detail = problem.get("detail") or problem.get("title") or "request rejected"
        super().__init__(f"relay rejected the request ({status}): {detail}")


class ConsentError(ConfideError):
    """The consent gate refused to let a message out."""


class ConsentRequired(ConsentError):
    """No valid consent receipt for the organisation's current policy is held yet."""


class ConsentRevoked(ConsentError):
    """The client revoked consent; nothing more is sent in this conversation."""


class KeyChangePending(ConfideError):
    """A new identity key for this contact waits for confirmation; nothing is sent until then.

    Compare ``ConfideClient.pending_safety_number`` with the contact, then call
    ``confirm_key_change`` (docs/protocol.md E2E §18).
    """


class StateError(ConfideError):
    """The local state file cannot be used (wrong passphrase, corrupt, or newer format)."""


class ProtocolError(ConfideError):
    """A peer or the relay sent something that does not follow the protocol."""


class UnknownContact(ConfideError):
    """There is no conversation with that contact on this device."""
