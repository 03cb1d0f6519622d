"""A contact: the other end of one conversation, as this device alone knows it.

Everything here lives only in the device's encrypted state file. The alias in particular is
the worker's own name for the person they support; it never leaves the device (docs/threat-model.md:
aliases live only on the devices, encrypted).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from confide_crypto.keys import fingerprint

from confide_client.consent import ConsentGate
from confide_client.encoding import b64d, b64e
from confide_client.ordering import ReceiveWindow

__all__ = ["Contact", "KeyChange", "PendingInvite", "contact_id_for"]


def contact_id_for(identity_key: bytes) -> str:
    """A stable local name for a peer: the start of its identity key's fingerprint."""
    return fingerprint(identity_key)[:12].hex()


def _opt(value: object) -> bytes | None:
    return None if value is None else b64d(str(value))


def _opt_text(value: bytes | None) -> str | None:
    return None if value is None else b64e(value)


@dataclass
class PendingInvite:
    """An invite this worker device made and no hello has proved yet.

    ``contact_id`` names the existing contact a rejoin invite is for (None for a new one).
    The secret stays in the encrypted state so that a hello's proof can be checked against it
    (docs/protocol.md E2E §18); it is forgotten once a hello proves it.
    """

    token: bytes
    expires_at: int
    contact_id: str | None = None
    #: The relay's id for the invite (its capability's), to cancel it.
    capability_id: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "token": b64e(self.token),
            "expires_at": self.expires_at,
            "contact": self.contact_id,
            "capability_id": self.capability_id,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> PendingInvite:
        contact, capability = data["contact"], data.get("capability_id")
        return cls(
            b64d(str(data["token"])),
            int(data["expires_at"]),
            None if contact is None else str(contact),
            None if capability is None else str(capability),
        )


@dataclass
class KeyChange:
    """A new identity key for an existing contact, waiting for the user's confirmation.

    On a worker's device it came with a hello that proved a rejoin invite: the new device's
    mailbox, capability and consent receipt. On a client's device it is a key other than the
    worker's that sent an envelope: no mailbox, capability or receipt come with it (the
    client keeps writing to the mailbox it knows). Either way it has its own receive window,
    and what that key sends meanwhile is held here, unshown, until the user compares the new
    safety number and confirms.
    """

    identity_key: bytes
    device_id: str | None = None
    mailbox_id: bytes | None = None
    capability: bytes | None = None
    receipt: bytes | None = None
    signature: bytes | None = None
    window: ReceiveWindow = field(default_factory=ReceiveWindow)
    held: list[dict[str, Any]] = field(default_factory=list)
    #: The relay's id of the capability the new device got with its invite.
    capability_id: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "identity_key": b64e(self.identity_key),
            "device_id": self.device_id,
            "mailbox_id": _opt_text(self.mailbox_id),
            "capability": _opt_text(self.capability),
            "receipt": _opt_text(self.receipt),
            "signature": _opt_text(self.signature),
            "window": self.window.to_json(),
            "held": self.held,
            "capability_id": self.capability_id,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> KeyChange:
        return cls(
            identity_key=b64d(str(data["identity_key"])),
            device_id=data["device_id"],
            mailbox_id=_opt(data["mailbox_id"]),
            capability=_opt(data["capability"]),
            receipt=_opt(data["receipt"]),
            signature=_opt(data["signature"]),
            window=ReceiveWindow.from_json(data["window"]),
            held=list(data["held"]),
            capability_id=data.get("capability_id"),
        )


@dataclass
class Contact:
    """One peer device, the way to reach it, and the conversation's local bookkeeping.

    ``contact_id`` is fixed when the contact is made (from its first identity key) and stays
    when a confirmed key change replaces ``identity_key``. A worker's device keeps a contact
    for an unknown sender unbound (``bound`` False) until a hello proves one of its invites;
    an unbound contact is never shown and nothing it sends but a hello is taken.
    """

    identity_key: bytes
    alias: str = ""
    device_id: str | None = None
    mailbox_id: bytes | None = None
    capability: bytes | None = None
    #: The id of the capability for this device's mailbox that the peer holds (a client
    #: revokes it with its consent, so the relay refuses the worker's later sends).
    granted_capability_id: str | None = None
    #: The canonical bytes of the client's current consent receipt (a revocation names it).
    receipt: bytes | None = None
    next_send_seq: int = 1
    window: ReceiveWindow = field(default_factory=ReceiveWindow)
    consent: ConsentGate = field(default_factory=ConsentGate)
    contact_id: str = ""
    bound: bool = True
    key_change: KeyChange | None = None
    #: (Worker side) the relay's id of the capability this contact's device got with its
    #: invite, revoked when the contact moves to a new key.
    invite_capability_id: str | None = None
    #: Other names the worker noted for this person (the de-identifier masks them too).
    names: list[str] = field(default_factory=list)
    #: Recent texts, ("me" | "them", text), kept for consultation excerpts.
    recent: list[tuple[str, str]] = field(default_factory=list)
    #: A colleague's device (consultation), not a client's: its worker id, else None.
    staff_worker_id: str | None = None

    @property
    def staff(self) -> bool:
        return self.staff_worker_id is not None

    def remember(self, who: str, text: str, limit: int) -> None:
        self.recent.append((who, text))
        del self.recent[:-limit]

    def __post_init__(self) -> None:
        if not self.contact_id:
            self.contact_id = contact_id_for(self.identity_key)

    @property
    def reachable(self) -> bool:
        """Whether this device holds a mailbox and capability to send to the peer."""
        return self.mailbox_id is not None and self.capability is not None

    def to_json(self) -> dict[str, Any]:
        return {
            "identity_key": b64e(self.identity_key),
            "alias": self.alias,
            "device_id": self.device_id,
            "mailbox_id": _opt_text(self.mailbox_id),
            "capability": _opt_text(self.capability),
            "granted_capability_id": self.granted_capability_id,
            "receipt": _opt_text(self.receipt),
            "next_send_seq": self.next_send_seq,
            "window": self.window.to_json(),
            "consent": self.consent.to_json(),
            "contact_id": self.contact_id,
            "bound": self.bound,
            "key_change": None if self.key_change is None else self.key_change.to_json(),
            "invite_capability_id": self.invite_capability_id,
            "names": self.names,
            "recent": [list(r) for r in self.recent],
            "staff_worker_id": self.staff_worker_id,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Contact:
        def opt(name: str) -> bytes | None:
            return _opt(data[name])

        change = data.get("key_change")
        return cls(
            identity_key=b64d(str(data["identity_key"])),
            alias=str(data["alias"]),
            device_id=data["device_id"],
            mailbox_id=opt("mailbox_id"),
            capability=opt("capability"),
            # State files written before the field existed do not have it.
            granted_capability_id=data.get("granted_capability_id"),
            receipt=opt("receipt"),
            next_send_seq=int(data["next_send_seq"]),
            window=ReceiveWindow.from_json(data["window"]),
            consent=ConsentGate.from_json(data["consent"]),
            contact_id=str(data.get("contact_id") or ""),
            bound=bool(data.get("bound", True)),
            key_change=None if change is None else KeyChange.from_json(change),
            invite_capability_id=data.get("invite_capability_id"),
            # Absent in state files written before consultations existed.
            names=[str(n) for n in data.get("names", [])],
            recent=[(str(w), str(t)) for w, t in data.get("recent", [])],
            staff_worker_id=data.get("staff_worker_id"),
        )
