"""Received group payloads, applied to the device's groups with no I/O (G§4 to G§8).

Called by :class:`confide_client.inbound.Inbound` for every payload whose type starts with
``group-``, after the envelope decrypted (sealed sender authenticated the sender's identity
key). A payload from a key that is not in the group's roster waits, undecided, until a
roster names that key (envelopes from different members arrive in any order); a payload
from a member goes through that pair's receive window. What needs the relay afterwards
(minting or revoking a capability) is marked on the group for ``Groups.settle``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from confide_crypto.errors import CryptoError
from confide_crypto.group_consent import verify_group_receipt
from confide_crypto.keys import PreKeyBundle, Rng

from confide_client.consultations import become_colleague
from confide_client.contact import Contact
from confide_client.encoding import b64d, b64e
from confide_client.errors import ProtocolError
from confide_client.groups import roster as rosters
from confide_client.groups import workers
from confide_client.groups.fanout import Fanout, destination
from confide_client.groups.model import MAX_MEMBERS, Group, Member
from confide_client.groups.roster import check_prekey
from confide_client.invites import proves_invite
from confide_client.messages import (
    Event,
    GroupMemberJoined,
    GroupMemberRemoved,
    GroupMessage,
    GroupTermsChanged,
    attachment_from,
    text_field,
)
from confide_client.state import ClientState, Role

__all__ = ["GroupInbound", "bundle_of"]

log = logging.getLogger("confide_client")

#: Payloads kept per group from keys not (yet) in its roster.
HELD_LIMIT = 256
#: How long a replaced group capability keeps working, so that envelopes members sealed
#: before they heard of the new one still arrive (G§8).
RETIRE_GRACE_SECONDS = 24 * 3600


def bundle_of(member: Member) -> PreKeyBundle:
    """An X3DH bundle from a roster entry's group prekey (no one-time prekey)."""
    p = member.prekey
    return PreKeyBundle(
        identity_key=member.identity_key,
        signed_prekey_id=int(p["key_id"]),
        signed_prekey=b64d(str(p["public_key"])),
        signed_prekey_signature=b64d(str(p["signature"])),
    )


class GroupInbound:
    def __init__(
        self, state: ClientState, clock: Callable[[], int], rng: Rng, fanout: Fanout
    ) -> None:
        self._state = state
        self._clock = clock
        self._rng = rng
        self.fanout = fanout

    # --- Routing --------------------------------------------------------------------------

    def receive(self, sender: bytes, payload: dict[str, Any]) -> list[Event]:
        group_id = payload.get("group")
        group = self._state.groups.get(group_id) if isinstance(group_id, str) else None
        if group is None:
            log.warning("dropped a group message for a group this device is not in")
            return []
        if payload["type"] == "group-accept":
            return self._guarded(self._accept, group, sender, payload)
        member = group.by_key(sender)
        if member is None:
            if group.gone is None and len(group.held) < HELD_LIMIT:
                group.held.append([b64e(sender), payload])
            return []
        self.fanout.flush(group, member)
        events: list[Event] = []
        for item in member.window.offer(payload["seq"], payload):
            current = group.by_key(sender)
            if current is None:
                break
            events += self._guarded(self._apply, group, current, item)
        return events

    def from_colleague(self, contact: Contact, payload: dict[str, Any]) -> list[Event]:
        """A group worker invite or its answer, from the staff channel (G§7a)."""
        return self._guarded(self._from_colleague, contact, payload)

    def _from_colleague(self, contact: Contact, payload: dict[str, Any]) -> list[Event]:
        if payload["type"] == "group-worker-invite":
            if not contact.staff:
                become_colleague(contact, payload)
            workers.take_invite(self._state, contact, payload)
            return []
        group = self._state.groups.get(text_field(payload, "group"))
        if group is None or not contact.staff:
            raise ProtocolError("a group worker accept for no group of this device")
        member_id = b64e(self._rng(16))
        member = workers.accepted_worker(group, contact.identity_key, payload, member_id)
        group.members[member.member_id] = member
        return self.publish(group, op="added", member=member.member_id)

    @staticmethod
    def _guarded(action: Callable[..., list[Event]], *args: Any) -> list[Event]:
        try:
            return action(*args)
        except (ProtocolError, CryptoError, KeyError, TypeError, ValueError):
            log.warning("dropped a group message that failed its checks")
            return []

    def _apply(self, group: Group, member: Member, item: dict[str, Any]) -> list[Event]:
        kind = item["type"]
        if kind == "group-roster":
            data, signature = b64d(text_field(item, "roster")), b64d(text_field(item, "signature"))
            return self.apply_roster(
                group, rosters.verify(data, signature, group, member.identity_key)
            )
        if group.gone is not None or kind == "group-hello":
            return []
        if kind == "group-text":
            text = text_field(item, "text")
            self.fanout.receipt(group, member, [item["id"]])
            return [GroupMessage(group.group_id, member.member_id, member.name, item["id"], text)]
        if kind == "group-attachment":
            event = self._attachment(group, member, item)
            self.fanout.receipt(group, member, [item["id"]])
            return [event]
        if kind == "group-timer":
            ttl = item.get("ttl")
            if isinstance(ttl, bool) or not isinstance(ttl, int) or ttl < 0:
                raise ProtocolError("a group timer is not a number of seconds")
            group.timer = ttl
            return []
        if kind == "group-capability":
            capability = b64d(text_field(item, "capability"))
            if len(capability) != 32:
                raise ProtocolError("a group capability is 32 bytes")
            member.capability = capability
            return []
        if kind == "group-leave":
            return self._left(group, member)
        if kind == "group-consent" and self._state.role is Role.WORKER:
            self._check_receipt(group, member.identity_key, item)
            group.consents[member.member_id] = [item["receipt"], item["signature"]]
        return []

    def _attachment(self, group: Group, member: Member, item: dict[str, Any]) -> Event:
        attachment = attachment_from(item)
        return GroupMessage(
            group.group_id, member.member_id, member.name, item["id"], attachment=attachment
        )

    # --- Joining (worker side) ------------------------------------------------------------

    def _check_receipt(self, group: Group, client_key: bytes, item: dict[str, Any]) -> None:
        verify_group_receipt(
            b64d(text_field(item, "receipt")),
            b64d(text_field(item, "signature")),
            client_identity_key=client_key,
            worker_identity_key=self._state.device.identity.public,
            group_id=b64d(group.group_id),
            terms_version=int(group.terms["version"]),
            terms_sha256=bytes.fromhex(str(group.terms["sha256"])),
            now=self._clock(),
        )

    def _accept(self, group: Group, sender: bytes, payload: dict[str, Any]) -> list[Event]:
        """A client's group-accept: bind it to a pending group invite, then sign it in."""
        if self._state.role is not Role.WORKER or group.gone is not None:
            raise ProtocolError("a group-accept for a device that cannot take one")
        if group.by_key(sender) is not None or payload["seq"] != 1:
            raise ProtocolError("a group-accept from a member, or not first")
        own_key = self._state.device.identity.public
        proof = b64d(text_field(payload, "invite_proof"))
        invite = next(
            (i for i in group.invites if proves_invite(proof, i.token, sender, own_key)), None
        )
        if invite is None:
            raise ProtocolError("the group-accept proves no pending invite of this group")
        self._check_receipt(group, sender, payload)
        if len(group.members) >= MAX_MEMBERS:
            raise ProtocolError("the group is full")
        fallback = f"Member {len(group.members) + 1}"
        member_id = b64e(self._rng(16))
        member = workers.joining_member(group, sender, payload, member_id, "client", fallback)
        member.window.offer(1, payload)
        group.invites.remove(invite)
        group.consents[member.member_id] = [payload["receipt"], payload["signature"]]
        group.members[member.member_id] = member
        return self.publish(group, op="added", member=member.member_id)

    def _left(self, group: Group, member: Member) -> list[Event]:
        del group.members[member.member_id]
        self._state.outbox.drop_contact(destination(group, member))
        group.renew_capability = True
        events: list[Event] = [
            GroupMemberRemoved(group.group_id, member.member_id, member.name, "left")
        ]
        me = group.me
        if self._state.role is Role.WORKER and me is not None and me.role == "worker":
            events += self.publish(group, op="left", member=member.member_id)
        return events

    # --- Rosters --------------------------------------------------------------------------

    def publish(
        self,
        group: Group,
        *,
        op: str,
        member: str | None,
        without: Member | None = None,
        closed: bool = False,
    ) -> list[Event]:
        """(Worker) sign the next roster, apply it here, and send it to every member.

        ``without`` is a member being removed: it is left out of the roster but still sent
        it, so that its device shows the removal.
        """
        identity = self._state.device.identity
        members = [m for m in group.members.values() if m is not without]
        roster = rosters.build(
            group,
            members,
            op=op,
            member=member,
            signer=identity.public,
            now=self._clock(),
            closed=closed,
        )
        data, signature = rosters.sign(roster, identity)
        events = self.apply_roster(group, roster, keep=without)
        fields = {"roster": b64e(data), "signature": b64e(signature)}
        targets = group.others() + ([] if without is None else [without])
        self.fanout.to_members(group, targets, "group-roster", fields)
        if without is not None:
            # Where the removal goes, and the pair's state: a rival roster of the same epoch
            # that keeps the member takes the pair up where it stopped (G§7 "Two workers").
            farewell = [b64e(without.mailbox), b64e(without.capability), without.to_json()]
            group.departed = {destination(group, without): farewell}
        return events

    def apply_roster(
        self, group: Group, roster: dict[str, Any], keep: Member | None = None
    ) -> list[Event]:
        """Take a verified roster: members, sessions, events, and what the relay must do.

        What waits in the outbox for a member the roster leaves out is dropped, except for
        ``keep``, the member this device's own roster removes: it is sent the removal, whose
        sequence number comes after what waits (a gap would hold the removal back forever).
        """
        own_key = self._state.device.identity.public
        entries = [self._entry(e) for e in roster["members"]]
        old = {m.identity_key: m for m in group.members.values()}
        inviter = group.inviter
        if inviter is not None:
            old.setdefault(inviter.identity_key, inviter)
        for entry in entries:
            prev = old.get(entry.identity_key) or self._parted(group, entry)
            if prev is not None:
                entry.next_send_seq, entry.window, entry.waiting = (
                    prev.next_send_seq,
                    prev.window,
                    prev.waiting,
                )
                if prev is not inviter:
                    # A capability a member sent itself (after a removal) is newer than the
                    # roster's copy, which the worker may have signed before it arrived.
                    entry.capability = prev.capability
        first = group.epoch == 0
        tie = not first and int(roster["epoch"]) == group.epoch
        # This device's own roster of this epoch lost the tie: its change is signed again
        # on top of the winner (G§7 "Two workers").
        lost = dict(group.change) if tie and group.signed_by == b64e(own_key) else None
        redo = self._lost_addition(group, lost)
        if not tie:
            group.base_workers = [b64e(k) for k in group.worker_keys()]
        group.roster_sha256, group.signed_by = rosters.digest(roster), str(roster["signer"])
        group.change = dict(roster["change"])
        keys = {e.identity_key for e in entries}
        removed = [m for k, m in old.items() if k not in keys and m is not inviter]
        removed = [m for m in removed if m is not redo]
        me = next((e for e in entries if e.identity_key == own_key), None)
        held_me = me or group.me
        own_name = "" if held_me is None else held_me.name
        group.members = {e.member_id: e for e in entries}
        group.inviter = None
        group.epoch, group.name = int(roster["epoch"]), str(roster["name"])
        group.terms, group.timer = dict(roster["terms"]), int(roster["timer"])
        group.closed = bool(roster["closed"])
        change = roster["change"]
        events: list[Event] = []
        if me is not None:
            group.own_member_id = me.member_id
        if first and me is not None:
            events += [GroupMemberJoined(group.group_id, e.member_id, e.name) for e in entries]
            self._open_sessions(group, me)
        elif change["op"] == "added" and change["member"] in group.members:
            new = group.members[change["member"]]
            events.append(GroupMemberJoined(group.group_id, new.member_id, new.name))
        elif change["op"] == "terms" and me is not None and me.role == "client":
            signer = next((e for e in entries if b64e(e.identity_key) == roster["signer"]), None)
            version = int(group.terms["version"])
            if signer is not None:
                events.append(
                    GroupTermsChanged(group.group_id, signer.member_id, signer.name, version)
                )
        reason = "left" if change["op"] == "left" else "removed"
        for gone in removed:
            if gone is not keep:
                self._state.outbox.drop_contact(destination(group, gone))
            if gone.identity_key != own_key:
                events.append(GroupMemberRemoved(group.group_id, gone.member_id, gone.name, reason))
        named = change["member"] is not None and change["member"] == group.own_member_id
        if me is None and not first:
            # A rival roster of the same epoch that merely left out this device's addition
            # does not remove it: the worker that added it signs it in again on top (G§7).
            if named or not tie:
                events += self._out(group, "removed", own_name)
        elif group.closed:
            events += self._out(group, "closed", own_name)
        elif removed:
            group.renew_capability = True
        if lost is not None:
            events += self._sign_again(group, lost, redo)
        return events + self._release_held(group)

    @staticmethod
    def _parted(group: Group, entry: Member) -> Member | None:
        """The member this device last removed, as it was, if ``entry`` is that member."""
        farewell = group.departed.get(destination(group, entry))
        return Member.from_json(farewell[2]) if farewell and len(farewell) > 2 else None

    def _lost_addition(self, group: Group, lost: dict[str, Any] | None) -> Member | None:
        """The member whose addition (by this device) a rival roster left out, if any."""
        if lost is None or lost.get("op") != "added":
            return None
        return group.members.get(str(lost.get("member")))

    def _sign_again(self, group: Group, lost: dict[str, Any], redo: Member | None) -> list[Event]:
        """(The worker whose roster lost a tie) sign its change again on top of the winner."""
        me = group.me
        if me is None or me.role != "worker":
            return []
        op, member_id = lost.get("op"), lost.get("member")
        if redo is not None and group.by_key(redo.identity_key) is None:
            if len(group.members) >= MAX_MEMBERS:
                return []
            group.members[redo.member_id] = redo
            return self.publish(group, op="added", member=redo.member_id)
        target = group.members.get(str(member_id))
        if op == "removed" and target is not None and target is not me:
            return self.publish(group, op="removed", member=target.member_id, without=target)
        if op == "left" and target is not None and target is not me:
            del group.members[target.member_id]
            return self.publish(group, op="left", member=target.member_id)
        if op == "closed" and not group.closed:
            return self.publish(group, op="closed", member=None, closed=True)
        return []

    def _out(self, group: Group, why: str, name: str) -> list[Event]:
        """This device is no longer in the group: it stops sending and withdraws its capability.

        ``name`` is the one it had in the group (a removal's roster no longer carries it).
        """
        own = group.own_member_id or ""
        for member in group.members.values():
            self._state.outbox.drop_contact(destination(group, member))
        group.gone = why
        if group.capability_id is not None:
            group.retired.append([group.capability_id, 0])
        return [GroupMemberRemoved(group.group_id, own, name, why)]

    def _open_sessions(self, group: Group, me: Member) -> None:
        """The newer member initiates (G§4 step 5): X3DH from each older member's prekey."""
        for member in group.others():
            if self.fanout.has_session(member) or member.since > me.since:
                continue
            try:
                self._state.device.start_session(bundle_of(member), self._rng)
            except CryptoError:
                log.warning("a member's group prekey does not verify; no session with it")
                continue
            self.fanout.send(group, member, "group-hello", {})

    def _release_held(self, group: Group) -> list[Event]:
        held, group.held = group.held, []
        events: list[Event] = []
        for sender, payload in held:
            events += self.receive(b64d(sender), payload)
        return events

    def _entry(self, data: object) -> Member:
        if not isinstance(data, dict):
            raise ProtocolError("a roster entry is not an object")
        member = Member.from_entry(data)
        if (
            len(member.identity_key) != 32
            or len(member.mailbox) != 16
            or len(member.capability) != 32
        ):
            raise ProtocolError("a roster entry has a malformed key, mailbox or capability")
        if member.role not in ("worker", "client"):
            raise ProtocolError("a roster entry has an unknown role")
        member.prekey = check_prekey(member.identity_key, member.prekey)
        return member
