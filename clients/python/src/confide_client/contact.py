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

__all__ = ["Contact", "contact_id_for"]


def contact_id_for(identity_key: bytes) -> str:
    """A stable local name for a peer: the start of its identity key's fingerprint."""
    return fingerprint(identity_key)[:12].hex()


@dataclass
class Contact:
    """One peer device, the way to reach it, and the conversation's local bookkeeping."""

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

    @property
    def contact_id(self) -> str:
        return contact_id_for(self.identity_key)

    @property
    def reachable(self) -> bool:
        """Whether this device holds a mailbox and capability to send to the peer."""
        return self.mailbox_id is not None and self.capability is not None

    def to_json(self) -> dict[str, Any]:
        return {
            "identity_key": b64e(self.identity_key),
            "alias": self.alias,
            "device_id": self.device_id,
            "mailbox_id": None if self.mailbox_id is None else b64e(self.mailbox_id),
            "capability": None if self.capability is None else b64e(self.capability),
            "granted_capability_id": self.granted_capability_id,
            "receipt": None if self.receipt is None else b64e(self.receipt),
            "next_send_seq": self.next_send_seq,
            "window": self.window.to_json(),
            "consent": self.consent.to_json(),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Contact:
        def opt(name: str) -> bytes | None:
            value = data[name]
            return None if value is None else b64d(str(value))

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
        )
