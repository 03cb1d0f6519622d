"""A group as one member's device knows it: the signed roster and the pairwise bookkeeping.

Everything here lives only in the device's encrypted state file: the relay holds no group
object (docs/protocol.md G§1). A :class:`Member` is one roster entry plus what this device
keeps about the pair (its send sequence, its receive window, what waits for a session); a
:class:`Group` is the latest roster this device accepted and, on a worker's device, the
pending group invites and the members' consent receipts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from confide_client.contact import PendingInvite
from confide_client.encoding import b64d, b64e
from confide_client.ordering import ReceiveWindow

__all__ = ["MAX_MEMBERS", "Group", "Member"]

#: The largest group (docs/protocol.md G§7): pairwise fan-out stays cheap up to here.
MAX_MEMBERS = 32


def _opt_b(value: bytes | None) -> str | None:
    return None if value is None else b64e(value)


def _opt_d(value: object) -> bytes | None:
    return None if value is None else b64d(str(value))


@dataclass
class Member:
    """One member of a group, and this device's end of the pair with it."""

    member_id: str
    name: str
    role: str
    identity_key: bytes
    #: The member's group prekey as the roster carries it: key_id, public_key, signature.
    prekey: dict[str, Any]
    mailbox: bytes
    capability: bytes
    since: int
    next_send_seq: int = 1
    window: ReceiveWindow = field(default_factory=ReceiveWindow)
    #: Payloads (kind, id, fields) waiting for a session with this member (G§4 step 5).
    waiting: list[dict[str, Any]] = field(default_factory=list)

    def roster_entry(self) -> dict[str, Any]:
        return {
            "member": self.member_id,
            "name": self.name,
            "role": self.role,
            "key": b64e(self.identity_key),
            "prekey": self.prekey,
            "mailbox": b64e(self.mailbox),
            "capability": b64e(self.capability),
            "since": self.since,
        }

    @classmethod
    def from_entry(cls, entry: dict[str, Any]) -> Member:
        return cls(
            member_id=str(entry["member"]),
            name=str(entry["name"]),
            role=str(entry["role"]),
            identity_key=b64d(str(entry["key"])),
            prekey=dict(entry["prekey"]),
            mailbox=b64d(str(entry["mailbox"])),
            capability=b64d(str(entry["capability"])),
            since=int(entry["since"]),
        )

    def to_json(self) -> dict[str, Any]:
        return {
            **self.roster_entry(),
            "next_send_seq": self.next_send_seq,
            "window": self.window.to_json(),
            "waiting": self.waiting,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Member:
        member = cls.from_entry(data)
        member.next_send_seq = int(data["next_send_seq"])
        member.window = ReceiveWindow.from_json(data["window"])
        member.waiting = list(data["waiting"])
        return member


@dataclass
class Group:
    """One group on this device."""

    group_id: str
    name: str = ""
    epoch: int = 0
    #: The group terms the roster names: {"version": int, "sha256": hex}.
    terms: dict[str, Any] = field(default_factory=dict)
    timer: int = 0
    closed: bool = False
    members: dict[str, Member] = field(default_factory=dict)
    own_member_id: str | None = None
    #: This device's group capability for its own mailbox, and its relay id.
    capability: bytes | None = None
    capability_id: str | None = None
    prekey_id: int = 0
    #: Before the first roster (a client that just joined): the worker it joined through.
    inviter: Member | None = None
    #: (Worker) group invites no accept has proved yet.
    invites: list[PendingInvite] = field(default_factory=list)
    #: (Worker) each client member's group consent receipt: member id -> [receipt, signature].
    consents: dict[str, list[str]] = field(default_factory=dict)
    #: Payloads from keys not (yet) in the roster: [sender key, payload] (G§4 step 5).
    held: list[list[Any]] = field(default_factory=list)
    #: Why this device is out of the group: None, "removed", "left" or "closed".
    gone: str | None = None
    #: Capability ids of this device to revoke at the relay once their time comes
    #: ([id, not before]), and whether a new group capability must be minted and sent.
    retired: list[list[Any]] = field(default_factory=list)
    renew_capability: bool = False
    #: (Worker) where the roster that removed a member goes: its destination name ->
    #: [mailbox, capability, the member as it was]. That one envelope is all it is still
    #: sent; the member's pair state is kept in case a rival roster keeps it (G§7).
    departed: dict[str, list[Any]] = field(default_factory=dict)
    #: (Worker) colleagues' identity keys (b64) invited to be group workers, unanswered (G§7a).
    worker_invites: list[str] = field(default_factory=list)
    #: (Invited worker) the colleague's contact id, until this device has answered (G§7a).
    invitation: str | None = None
    #: The held roster's SHA-256 (hex), its signer (b64) and change, for equal-epoch races,
    #: and the workers (b64 keys) of the roster before it, who may sign a rival (G§7).
    roster_sha256: str = ""
    signed_by: str = ""
    change: dict[str, Any] = field(default_factory=dict)
    base_workers: list[str] = field(default_factory=list)
    #: (Client) the version of the group terms this device last agreed to (0: unknown).
    agreed_terms: int = 0

    @property
    def me(self) -> Member | None:
        return None if self.own_member_id is None else self.members.get(self.own_member_id)

    def others(self) -> list[Member]:
        return [m for m in self.members.values() if m.member_id != self.own_member_id]

    def by_key(self, identity_key: bytes) -> Member | None:
        for member in self.members.values():
            if member.identity_key == identity_key:
                return member
        if self.inviter is not None and self.inviter.identity_key == identity_key:
            return self.inviter
        return None

    def worker_keys(self) -> set[bytes]:
        keys = {m.identity_key for m in self.members.values() if m.role == "worker"}
        if not self.members and self.inviter is not None:
            keys.add(self.inviter.identity_key)
        return keys

    def to_json(self) -> dict[str, Any]:
        return {
            "group": self.group_id,
            "name": self.name,
            "epoch": self.epoch,
            "terms": self.terms,
            "timer": self.timer,
            "closed": self.closed,
            "members": [m.to_json() for m in self.members.values()],
            "own": self.own_member_id,
            "capability": _opt_b(self.capability),
            "capability_id": self.capability_id,
            "prekey_id": self.prekey_id,
            "inviter": None if self.inviter is None else self.inviter.to_json(),
            "invites": [i.to_json() for i in self.invites],
            "consents": self.consents,
            "held": self.held,
            "gone": self.gone,
            "retired": self.retired,
            "renew_capability": self.renew_capability,
            "departed": self.departed,
            "worker_invites": self.worker_invites,
            "invitation": self.invitation,
            "roster_sha256": self.roster_sha256,
            "signed_by": self.signed_by,
            "change": self.change,
            "base_workers": self.base_workers,
            "agreed_terms": self.agreed_terms,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Group:
        members = [Member.from_json(m) for m in data["members"]]
        inviter = data["inviter"]
        return cls(
            group_id=str(data["group"]),
            name=str(data["name"]),
            epoch=int(data["epoch"]),
            terms=dict(data["terms"]),
            timer=int(data["timer"]),
            closed=bool(data["closed"]),
            members={m.member_id: m for m in members},
            own_member_id=data["own"],
            capability=_opt_d(data["capability"]),
            capability_id=data["capability_id"],
            prekey_id=int(data["prekey_id"]),
            inviter=None if inviter is None else Member.from_json(inviter),
            invites=[PendingInvite.from_json(i) for i in data["invites"]],
            consents={str(k): list(v) for k, v in data["consents"].items()},
            held=list(data["held"]),
            gone=data["gone"],
            retired=list(data["retired"]),
            renew_capability=bool(data["renew_capability"]),
            departed={str(k): list(v) for k, v in data.get("departed", {}).items()},
            # State files written before groups had several workers lack these.
            worker_invites=[str(k) for k in data.get("worker_invites", [])],
            invitation=data.get("invitation"),
            roster_sha256=str(data.get("roster_sha256", "")),
            signed_by=str(data.get("signed_by", "")),
            change=dict(data.get("change", {})),
            base_workers=[str(k) for k in data.get("base_workers", [])],
            # Before renewals (a device that joined then agreed to the terms it joined under).
            agreed_terms=int(data.get("agreed_terms", 0)),
        )
