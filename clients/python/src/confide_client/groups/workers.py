"""A group worker adding a colleague as a second group worker, with no I/O (G§7a).

The invite and its answer travel in the staff channel between the two worker devices (the
one consultations use, docs/integrators.md), never in a group's windows: the colleague is
not a member yet. The inviting device sends ``group-worker-invite`` (the group's id, name
and terms, and its own roster entry's mailbox, group capability and group prekey); the
colleague's device checks with the relay that the sender is an active worker device of the
organisation, then answers ``group-worker-accept`` with its own group mailbox, capability,
prekey and display name, and the inviting device signs a roster adding it with role worker.
"""

from __future__ import annotations

from typing import Any

from confide_client.contact import Contact
from confide_client.encoding import b64d, b64e
from confide_client.errors import ProtocolError
from confide_client.groups.model import MAX_MEMBERS, Group, Member
from confide_client.groups.roster import check_prekey, display_name
from confide_client.messages import text_field
from confide_client.state import ClientState

__all__ = ["accepted_worker", "answer_fields", "invite_fields", "joining_member", "take_invite"]


def invite_fields(group: Group, me: Member, device_id: str, worker_id: str) -> dict[str, Any]:
    """What the inviting worker's device sends its colleague in ``group-worker-invite``."""
    return {
        "group": group.group_id,
        "name": group.name,
        "terms": group.terms,
        "mailbox": b64e(me.mailbox),
        "capability": b64e(me.capability),
        "prekey": me.prekey,
        "device": device_id,
        "worker": worker_id,
    }


def _reach(payload: dict[str, Any]) -> tuple[bytes, bytes]:
    mailbox = b64d(text_field(payload, "mailbox"))
    capability = b64d(text_field(payload, "capability"))
    if len(mailbox) != 16 or len(capability) != 32:
        raise ProtocolError("a group accept carries a malformed mailbox or capability")
    return mailbox, capability


def _terms(value: object) -> dict[str, Any]:
    if not isinstance(value, dict) or not isinstance(value.get("version"), int):
        raise ProtocolError("a group worker invite names no group terms")
    sha = value.get("sha256")
    if not isinstance(sha, str) or len(sha) != 64:
        raise ProtocolError("a group worker invite names no group terms")
    bytes.fromhex(sha)
    return {"version": value["version"], "sha256": sha}


def take_invite(state: ClientState, contact: Contact, payload: dict[str, Any]) -> None:
    """(Colleague) keep an invite for ``Groups.settle`` to check with the relay and answer.

    The group starts as a joining client's does: no members, the inviting worker as the
    one key whose roster it accepts first.
    """
    group_id = text_field(payload, "group")
    if len(b64d(group_id)) != 16:
        raise ProtocolError("a group worker invite names a malformed group")
    if group_id in state.groups:
        raise ProtocolError("a group worker invite for a group this device knows")
    mailbox, capability = _reach(payload)
    prekey = check_prekey(contact.identity_key, payload.get("prekey"))
    name = display_name(payload.get("name"), "Group")
    inviter = Member("", "", "worker", contact.identity_key, prekey, mailbox, capability, 0)
    state.groups[group_id] = Group(
        group_id,
        name=name,
        terms=_terms(payload.get("terms")),
        inviter=inviter,
        invitation=contact.contact_id,
    )


def answer_fields(group: Group, me: Member) -> dict[str, Any]:
    """What the colleague's device answers in ``group-worker-accept``."""
    return {
        "group": group.group_id,
        "mailbox": b64e(me.mailbox),
        "capability": b64e(me.capability),
        "prekey": me.prekey,
        "name": me.name,
    }


def accepted_worker(group: Group, sender: bytes, payload: dict[str, Any], member_id: str) -> Member:
    """(Inviting worker) the colleague's roster entry, once its answer matches an invite."""
    if group.gone is not None or group.me is None or group.me.role != "worker":
        raise ProtocolError("a group worker accept for a group this device cannot sign")
    if b64e(sender) not in group.worker_invites or group.by_key(sender) is not None:
        raise ProtocolError("a group worker accept that answers no pending invite")
    if len(group.members) >= MAX_MEMBERS:
        raise ProtocolError("the group is full")
    member = joining_member(group, sender, payload, member_id, "worker", "Group worker")
    group.worker_invites.remove(b64e(sender))
    return member


def joining_member(
    group: Group, sender: bytes, payload: dict[str, Any], member_id: str, role: str, fallback: str
) -> Member:
    """A newcomer's roster entry from its group-accept or group-worker-accept (G§4, G§7a)."""
    mailbox, capability = _reach(payload)
    return Member(
        member_id=member_id,
        name=display_name(payload.get("name"), fallback),
        role=role,
        identity_key=sender,
        prekey=check_prekey(sender, payload.get("prekey")),
        mailbox=mailbox,
        capability=capability,
        since=group.epoch + 1,
    )
