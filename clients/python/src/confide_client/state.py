"""Everything a device keeps between runs, and its (versioned) serialisation.

The private keys and ratchet sessions are confide_crypto's :class:`Device`, serialised in its
own versioned format; around it this module keeps what the SDK adds: the relay's names for
this device, the contacts, the outbox and the organisation's policy. The whole is written to
the passphrase-protected file by :mod:`confide_client.vault`.
"""

from __future__ import annotations

import enum
import json
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from confide_crypto.device import Device
from confide_crypto.errors import CryptoError

from confide_client.consent import PolicyRef, policy_from, policy_json
from confide_client.consultations import DEFAULT_RETENTION_SECONDS, Thread
from confide_client.contact import Contact, PendingInvite
from confide_client.encoding import b64d, b64e
from confide_client.errors import StateError
from confide_client.groups.model import Group
from confide_client.messages import Event, event_from_json, event_to_json
from confide_client.outbox import Outbox

__all__ = ["ClientState", "Role"]

STATE_VERSION = 1


class Role(enum.Enum):
    """Which side of a conversation this device is on."""

    UNREGISTERED = "unregistered"
    WORKER = "worker"
    CLIENT = "client"


@dataclass
class ClientState:
    """The device's keys plus the SDK's bookkeeping."""

    device: Device
    role: Role = Role.UNREGISTERED
    device_id: str | None = None
    #: The relay this device registered with (an HTTP transport's base URL), if known.
    relay_url: str | None = None
    mailbox_id: bytes | None = None
    policy: PolicyRef | None = None
    next_prekey_id: int = 1
    #: The current signed prekey's id and when it was made (Unix seconds), for rotation.
    signed_prekey_id: int = 1
    signed_prekey_at: int = 0
    contacts: dict[str, Contact] = field(default_factory=dict)
    #: A worker's invites that no hello has proved yet (docs/protocol.md E2E §18).
    invites: list[PendingInvite] = field(default_factory=list)
    outbox: Outbox = field(default_factory=Outbox)
    #: Events received (and acknowledged to the relay) that the application has not taken.
    inbox: deque[Event] = field(default_factory=deque)
    #: Consultation threads by case label, and how long the organisation keeps them.
    consultations: dict[str, Thread] = field(default_factory=dict)
    consultation_retention: int = DEFAULT_RETENTION_SECONDS
    #: Peer support groups this device is in, by group id (docs/protocol.md Part 3).
    groups: dict[str, Group] = field(default_factory=dict)

    def to_bytes(self) -> bytes:
        data: dict[str, Any] = {
            "version": STATE_VERSION,
            "device": b64e(self.device.to_bytes()),
            "role": self.role.value,
            "device_id": self.device_id,
            "relay_url": self.relay_url,
            "mailbox_id": None if self.mailbox_id is None else b64e(self.mailbox_id),
            "policy": policy_json(self.policy),
            "next_prekey_id": self.next_prekey_id,
            "signed_prekey": [self.signed_prekey_id, self.signed_prekey_at],
            "contacts": [c.to_json() for c in self.contacts.values()],
            "invites": [i.to_json() for i in self.invites],
            "outbox": self.outbox.to_json(),
            "inbox": [event_to_json(e) for e in self.inbox],
            "consultations": [t.to_json() for t in self.consultations.values()],
            "consultation_retention": self.consultation_retention,
            "groups": [g.to_json() for g in self.groups.values()],
        }
        return json.dumps(data, separators=(",", ":")).encode()

    @classmethod
    def from_bytes(cls, blob: bytes) -> ClientState:
        try:
            data = json.loads(blob)
            if data["version"] != STATE_VERSION:
                raise StateError(f"state version {data['version']} is not supported")
            policy = data["policy"]
            contacts = [Contact.from_json(c) for c in data["contacts"]]
            return cls(
                device=Device.from_bytes(b64d(data["device"])),
                role=Role(data["role"]),
                device_id=data["device_id"],
                relay_url=data.get("relay_url"),
                mailbox_id=None if data["mailbox_id"] is None else b64d(data["mailbox_id"]),
                policy=None if policy is None else policy_from(policy),
                next_prekey_id=int(data["next_prekey_id"]),
                signed_prekey_id=int(data["signed_prekey"][0]),
                signed_prekey_at=int(data["signed_prekey"][1]),
                contacts={c.contact_id: c for c in contacts},
                invites=[PendingInvite.from_json(i) for i in data.get("invites", [])],
                outbox=Outbox.from_json(data["outbox"]),
                inbox=deque(event_from_json(e) for e in data["inbox"]),
                consultations={
                    t["case"]: Thread.from_json(t) for t in data.get("consultations", [])
                },
                consultation_retention=int(
                    data.get("consultation_retention", DEFAULT_RETENTION_SECONDS)
                ),
                # Absent in state files written before groups existed.
                groups={g["group"]: Group.from_json(g) for g in data.get("groups", [])},
            )
        except (KeyError, TypeError, ValueError, CryptoError) as exc:
            raise StateError("the state file's contents are malformed") from exc
