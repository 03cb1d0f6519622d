"""``ConfideClient.groups``: create, invite, join, talk in, and leave peer support groups.

Every call keeps to docs/protocol.md Part 3: the relay sees ordinary invites, capability
mints and one-to-one-looking sends; the group's id, name, roster and names stay on the
members' devices. Worker-only calls raise StateError on a client's device.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from confide_crypto.attachments import new_attachment
from confide_crypto.errors import CryptoError
from confide_crypto.group_consent import GroupConsentReceipt, group_binding
from confide_crypto.keys import fingerprint
from confide_crypto.safety_number import grouped, safety_number

from confide_client.contact import PendingInvite
from confide_client.encoding import b64d, b64e
from confide_client.errors import ConsentRequired, ProtocolError, RelayRejected, StateError
from confide_client.groups import workers
from confide_client.groups.fanout import Fanout
from confide_client.groups.inbound import RETIRE_GRACE_SECONDS, GroupInbound
from confide_client.groups.model import Group, Member
from confide_client.groups.roster import display_name
from confide_client.invites import check_policy, crypto_bundle, invite_proof
from confide_client.receipts import ConsentTerms
from confide_client.state import ClientState, Role
from confide_client.supervision import find_colleague
from confide_client.transport.base import Policy

if TYPE_CHECKING:
    from confide_client.client import ConfideClient

__all__ = ["GroupInfo", "Groups", "MemberInfo", "group_invite_link", "parse_group_invite"]

#: Group prekeys' ids (G§2): above every ordinary signed prekey id, never rotated away.
GROUP_PREKEY_BASE = 0x8000_0000
GROUP_CONSENT_SECONDS = 365 * 24 * 3600
LINK_PREFIX = "g1."

log = logging.getLogger("confide_client")


def group_invite_link(relay_url: str, invite: str) -> str:
    """The link a worker hands a client; the fragment never reaches the relay (G§3)."""
    return f"{relay_url.rstrip('/')}/join#{invite}"


def parse_group_invite(link: str) -> tuple[bytes, str]:
    """The invite token and the group id from a group invite link or its fragment."""
    fragment = link.rsplit("#", 1)[-1].strip()
    if not fragment.startswith(LINK_PREFIX):
        raise ProtocolError("not a group invite link")
    parts = fragment[len(LINK_PREFIX) :].split(".")
    if len(parts) != 2:
        raise ProtocolError("a group invite link has a token and a group")
    token, group = b64d(parts[0]), b64d(parts[1])
    if len(token) != 32 or len(group) != 16:
        raise ProtocolError("a group invite link's token or group id is malformed")
    return token, b64e(group)


@dataclass(frozen=True)
class MemberInfo:
    """What a member is shown of another: the chosen name and the role, nothing else."""

    member_id: str
    name: str
    role: str
    me: bool


@dataclass(frozen=True)
class GroupInfo:
    group_id: str
    name: str
    members: int
    #: None while in the group, else "removed", "left" or "closed".
    gone: str | None


class Groups:
    """The groups of one device (see the module docstring)."""

    def __init__(self, client: ConfideClient) -> None:
        self._client = client
        #: The name this device shows in the groups a colleague adds it to as a worker.
        self.worker_name = "Group worker"
        state = client._state
        self._fanout = Fanout(state, client._rng, client._sync.outbox_changed)
        self.inbound = GroupInbound(state, client._clock, client._rng, self._fanout)

    @property
    def _state(self) -> ClientState:
        return self._client._state

    def _group(self, group_id: str) -> Group:
        group = self._state.groups.get(group_id)
        if group is None:
            raise StateError(f"this device is in no group {group_id}")
        return group

    def _active(self, group_id: str) -> Group:
        group = self._group(group_id)
        if group.gone is not None:
            raise StateError(f"this device is no longer in the group ({group.gone})")
        return group

    def _as_worker(self, group_id: str) -> Group:
        group = self._active(group_id)
        me = group.me
        if self._state.role is not Role.WORKER or me is None or me.role != "worker":
            raise StateError("only one of the group's workers can do this")
        return group

    async def _terms(self) -> Policy:
        terms = await self._client._transport.current_group_terms()
        if terms is None:
            raise StateError("the organisation has published no group terms")
        check_policy(terms)
        return terms

    async def _own_entry(self, group: Group, name: str, role: str, since: int) -> Member:
        """Mint this device's group capability and group prekey (G§2)."""
        minted = await self._client._transport.mint_capability()
        group.capability, group.capability_id = minted.secret, minted.capability_id
        key_id = GROUP_PREKEY_BASE | int.from_bytes(self._client._rng(4), "big") & 0x7FFF_FFFF
        spk = self._state.device.add_signed_prekey(key_id, self._client._rng)
        group.prekey_id = key_id
        mailbox = self._state.mailbox_id
        assert mailbox is not None
        prekey = {
            "key_id": key_id,
            "public_key": b64e(spk.pair.public),
            "signature": b64e(spk.signature),
        }
        return Member(
            b64e(self._client._rng(16)),
            name,
            role,
            self._client.identity_key,
            prekey,
            mailbox,
            minted.secret,
            since,
        )

    # --- Worker ---------------------------------------------------------------------------

    async def create(self, name: str, *, display_name_: str = "Group worker") -> str:
        """A new group with this worker's device as its first member; returns its id."""
        if self._state.role is not Role.WORKER:
            raise StateError("only a worker's device creates groups")
        if not name.strip() or len(name) > 80:
            raise StateError("a group name has 1 to 80 characters")
        terms = await self._terms()
        group = Group(
            b64e(self._client._rng(16)),
            name=name.strip(),
            terms={"version": terms.version, "sha256": terms.sha256},
        )
        me = await self._own_entry(group, display_name(display_name_, "Group worker"), "worker", 1)
        group.members[me.member_id] = me
        group.own_member_id = me.member_id
        self._state.groups[group.group_id] = group
        await self._client._sync.add_events(self.inbound.publish(group, op="created", member=None))
        self._client.save()
        return group.group_id

    async def invite(self, group_id: str, ttl_seconds: int = 7 * 24 * 3600) -> str:
        """A single-use, expiring group invite; give the client :func:`group_invite_link`."""
        group = self._as_worker(group_id)
        made = await self._client._transport.create_invite(ttl_seconds)
        group.invites.append(PendingInvite(made.token, made.expires_at, None, made.capability_id))
        self._client.save()
        return f"{LINK_PREFIX}{b64e(made.token)}.{group.group_id}"

    async def add_worker(self, group_id: str, colleague: str) -> None:
        """Invite a colleague's device to be a group worker, over the staff channel (G§7a).

        ``colleague`` is its device id, or a worker id with one device. The roster that adds
        it (role worker) is signed here when its device's answer arrives.
        """
        group = self._as_worker(group_id)
        own = self._client._require_registered()
        roster = await self._client._transport.workers()
        target, me = find_colleague(roster, colleague), find_colleague(roster, own)
        if target is None or target.device_id == own:
            raise StateError("the relay lists no other worker device by that id")
        assert me is not None, "the relay lists every active worker device"
        contact = await self._client.supervision.colleague(target)
        if group.by_key(contact.identity_key) is not None:
            raise StateError("that device is already a member of the group")
        key = b64e(contact.identity_key)
        if key not in group.worker_invites:
            group.worker_invites.append(key)
        own_entry = group.me
        assert own_entry is not None
        fields = workers.invite_fields(group, own_entry, own, me.worker_id)
        self._client._enqueue(contact, "group-worker-invite", fields)
        self._client.save()

    async def _answer_invitations(self) -> bool:
        """(Invited worker) check each colleague's invite with the relay, then answer it.

        The relay must list the inviting device as an active worker device whose key sealed
        the invite, and the group terms must be the organisation's current ones; otherwise
        the invite is dropped and nothing is sent.
        """
        pending = [g for g in self._state.groups.values() if g.invitation is not None]
        for group in pending:
            contact = self._state.contacts.get(group.invitation or "")
            try:
                if contact is None:
                    raise ProtocolError("the inviting colleague is no longer known")
                await self._client.supervision.reach(contact)
                terms = await self._terms()
                if group.terms != {"version": terms.version, "sha256": terms.sha256}:
                    raise ProtocolError("the invite names other group terms than the current")
            except (ProtocolError, StateError, RelayRejected) as exc:
                log.warning("dropped a group worker invite: %s", exc)
                del self._state.groups[group.group_id]
                continue
            me = await self._own_entry(
                group, display_name(self.worker_name, "Group worker"), "worker", 0
            )
            group.invitation = None
            self._client._enqueue(contact, "group-worker-accept", workers.answer_fields(group, me))
        return bool(pending)

    async def remove(self, group_id: str, member_id: str) -> None:
        """Take a member out: a signed roster tells everyone, and nothing more reaches it."""
        group = self._as_worker(group_id)
        member = group.members.get(member_id)
        if member is None or member.member_id == group.own_member_id:
            raise StateError("no other member of the group has that id")
        events = self.inbound.publish(group, op="removed", member=member_id, without=member)
        await self._client._sync.add_events(events)
        self._client.save()
        await self.settle()

    async def close(self, group_id: str) -> None:
        """Close the group for everyone (a signed roster with closed set)."""
        group = self._as_worker(group_id)
        events = self.inbound.publish(group, op="closed", member=None, closed=True)
        await self._client._sync.add_events(events)
        self._client.save()
        await self.settle()

    async def renew_terms(self, group_id: str) -> bool:
        """(Worker) name the organisation's newest group terms in the roster (change
        ``terms``) if it names older ones; returns whether it did. Each client member is then
        asked again and answers with a ``group-consent`` (G§6), kept in :meth:`consents`."""
        group = self._as_worker(group_id)
        terms = await self._terms()
        if terms.version <= int(group.terms["version"]):
            return False
        group.terms = {"version": terms.version, "sha256": terms.sha256}
        await self._client._sync.add_events(self.inbound.publish(group, op="terms", member=None))
        self._client.save()
        await self.settle()
        return True

    def terms_version(self, group_id: str) -> int:
        """The version of the group terms the held roster names."""
        return int(self._group(group_id).terms["version"])

    def consents(self, group_id: str) -> dict[str, tuple[bytes, bytes]]:
        """(Worker) each client member's signed group consent receipt, by member id."""
        group = self._group(group_id)
        return {m: (b64d(r), b64d(s)) for m, (r, s) in group.consents.items()}

    # --- Client ---------------------------------------------------------------------------

    async def join(
        self,
        link: str,
        accept_terms: Callable[[Policy], bool],
        *,
        name: str | None = None,
        consent_seconds: int = GROUP_CONSENT_SECONDS,
        consent_terms: ConsentTerms | None = None,
    ) -> str:
        """Join by a group invite link as a new client device; returns the group id.

        ``accept_terms`` is shown the organisation's group terms and must return True. The
        name others see defaults to "Member", not the person's name. Membership starts when
        a group worker's device signs the roster that adds this device.
        """
        client = self._client
        token, group_id = parse_group_invite(link)
        registration = await client._registration()
        redemption = await client._transport.redeem(token, registration)
        state = self._state
        state.role = Role.CLIENT
        state.device_id, state.mailbox_id = (
            redemption.device.device_id,
            redemption.device.mailbox_id,
        )
        try:
            state.device.start_session(crypto_bundle(redemption.worker_bundle), client._rng)
        except CryptoError as exc:
            raise ProtocolError("the worker's prekey bundle does not verify") from exc
        client.save()
        terms = await self._terms()
        if not accept_terms(terms):
            raise ConsentRequired("the group terms were not accepted; nothing was sent")
        await client.login()
        group = Group(group_id, terms={"version": terms.version, "sha256": terms.sha256})
        group.agreed_terms = terms.version
        me = await self._own_entry(group, display_name(name, "Member"), "client", 0)
        worker_key = redemption.worker_bundle.identity_key
        group.inviter = Member(
            "",
            "",
            "worker",
            worker_key,
            {},
            redemption.worker_mailbox_id,
            redemption.worker_capability,
            0,
        )
        receipt, signature = self._receipt(group, worker_key, terms, consent_seconds, consent_terms)
        fields = {
            "mailbox": b64e(me.mailbox),
            "capability": b64e(me.capability),
            "prekey": me.prekey,
            "name": me.name,
            "receipt": b64e(receipt),
            "signature": b64e(signature),
            "invite_proof": b64e(invite_proof(token, client.identity_key, worker_key)),
        }
        state.groups[group_id] = group
        self._fanout.send(group, group.inviter, "group-accept", fields)
        client.save()
        return group_id

    async def terms_to_consent(self, group_id: str) -> Policy | None:
        """(Client) the group terms the roster names, when this device has not agreed to them
        yet (after a :class:`~confide_client.messages.GroupTermsChanged`); otherwise None.

        The text comes from the relay and is checked against the hash the worker signed in
        the roster, so the relay cannot show other terms than the group's.
        """
        group = self._active(group_id)
        if group.me is None or group.me.role != "client":
            raise StateError("only a client member consents to the group terms")
        named = int(group.terms["version"])
        if group.agreed_terms and named <= group.agreed_terms:
            return None
        terms = await self._terms()
        if terms.version != named or terms.sha256 != group.terms["sha256"]:
            raise ProtocolError("the relay's group terms are not the ones the roster names")
        return terms

    async def consent_to_terms(
        self,
        group_id: str,
        accept_terms: Callable[[Policy], bool],
        *,
        consent_seconds: int = GROUP_CONSENT_SECONDS,
        consent_terms: ConsentTerms | None = None,
    ) -> bool:
        """(Client) agree to the group terms the roster names: a fresh group receipt goes to
        each of the group's workers in ``group-consent``. Returns False when there is nothing
        to agree to or ``accept_terms`` declines (nothing is sent; :meth:`leave` is then the
        way out, as docs/protocol.md G9 says)."""
        terms = await self.terms_to_consent(group_id)  # checks the group is active
        if terms is None or not accept_terms(terms):
            return False
        group = self._state.groups[group_id]
        for worker in [m for m in group.others() if m.role == "worker"]:
            receipt, signature = self._receipt(
                group, worker.identity_key, terms, consent_seconds, consent_terms
            )
            fields = {"receipt": b64e(receipt), "signature": b64e(signature)}
            self._fanout.send(group, worker, "group-consent", fields)
        group.agreed_terms = terms.version
        self._client.save()
        return True

    def _receipt(
        self,
        group: Group,
        worker_key: bytes,
        terms: Policy,
        seconds: int,
        wording: ConsentTerms | None,
    ) -> tuple[bytes, bytes]:
        wording = wording or ConsentTerms(
            recipient="The members of one peer support group and its workers",
            information="Messages and attachments the client chooses to send to the group",
        )
        now = self._client._clock()
        identity = self._state.device.identity
        return GroupConsentReceipt(
            client_identity_key=identity.public,
            worker_key_fingerprint=fingerprint(worker_key),
            terms_version=terms.version,
            terms_sha256=bytes.fromhex(terms.sha256),
            signed_at=now,
            expires_at=now + seconds,
            group_binding=group_binding(b64d(group.group_id), identity.public),
            discloser=wording.discloser,
            recipient=wording.recipient,
            purpose=wording.purpose,
            information=wording.information,
        ).sign(identity)

    async def leave(self, group_id: str) -> None:
        """Leave the group: every member is told, and this device's capability is withdrawn."""
        group = self._active(group_id)
        me = group.me
        if me is not None and me.role == "worker":
            raise StateError("a worker closes the group, or another worker removes this one")
        self._fanout.to_members(group, group.others(), "group-leave", {})
        group.gone = "left"
        if group.capability_id is not None:
            group.retired.append([group.capability_id, 0])
        self._client.save()
        await self.settle()

    # --- Everyone -------------------------------------------------------------------------

    def groups(self) -> list[GroupInfo]:
        return [
            GroupInfo(g.group_id, g.name, len(g.members), g.gone)
            for g in self._state.groups.values()
        ]

    def members(self, group_id: str) -> list[MemberInfo]:
        """The roster as a member may see it: names and roles (no devices, keys, contacts)."""
        group = self._group(group_id)
        return [
            MemberInfo(m.member_id, m.name, m.role, m.member_id == group.own_member_id)
            for m in group.members.values()
        ]

    def safety_number(self, group_id: str, member_id: str) -> str:
        """The number to compare with one other member, as for a one-to-one conversation."""
        member = self._group(group_id).members.get(member_id)
        if member is None:
            raise StateError("no member of the group has that id")
        return grouped(safety_number(self._client.identity_key, member.identity_key))

    def send_text(self, group_id: str, text: str, *, ttl: int | None = None) -> str:
        """Queue a text to every other member; returns the message id (the same for all)."""
        group = self._active(group_id)
        fields: dict[str, object] = {"text": text}
        if ttl or group.timer:
            fields["ttl"] = ttl or group.timer
        message_id = self._fanout.to_members(group, group.others(), "group-text", fields)
        self._client.save()
        return message_id

    async def send_attachment(
        self, group_id: str, data: bytes, *, name: str, mime: str = "application/octet-stream"
    ) -> str:
        """Encrypt once, upload once, and send the key to each member pairwise (G§10)."""
        group = self._active(group_id)
        blob, pointer = new_attachment(data, self._client._rng)
        blob_id = await self._client._transport.put_blob(blob)
        fields = {"blob": blob_id, "pointer": b64e(pointer.encode()), "name": name, "mime": mime}
        message_id = self._fanout.to_members(group, group.others(), "group-attachment", fields)
        self._client.save()
        return message_id

    async def set_timer(self, group_id: str, ttl: int) -> None:
        """The group's disappearing timer, within the organisation's limits (0 turns it off)."""
        group = self._active(group_id)
        settings = await self._client._transport.organisation_settings()
        low = settings.get("disappearing_min_seconds", 0)
        high = settings.get("disappearing_max_seconds", 2**31)
        if ttl != 0 and not low <= ttl <= high:
            raise StateError(f"the organisation allows timers from {low} to {high} seconds")
        group.timer = ttl
        self._fanout.to_members(group, group.others(), "group-timer", {"ttl": ttl})
        self._client.save()

    async def settle(self) -> None:
        """Do at the relay what group changes asked for: new capabilities, revocations.

        After a removal or a departure each remaining member mints a new group capability
        and sends it to the others; the old one keeps working for RETIRE_GRACE_SECONDS so
        that envelopes sealed meanwhile still arrive, then is revoked (G§8).
        """
        transport, now = self._client._transport, self._client._clock()
        changed = await self._answer_invitations()
        for group in self._state.groups.values():
            if group.renew_capability and group.gone is None:
                minted = await transport.mint_capability()
                if group.capability_id is not None:
                    group.retired.append([group.capability_id, now + RETIRE_GRACE_SECONDS])
                group.capability, group.capability_id = minted.secret, minted.capability_id
                me = group.me
                if me is not None:
                    me.capability = minted.secret
                fields = {"capability": b64e(minted.secret)}
                self._fanout.to_members(group, group.others(), "group-capability", fields)
                group.renew_capability, changed = False, True
            due = [r for r in group.retired if r[1] <= now]
            for capability_id, _ in due:
                try:
                    await transport.revoke_capability(capability_id)
                except RelayRejected as exc:
                    if exc.status not in (403, 404):
                        raise
                group.retired.remove([capability_id, _])
                changed = True
        if changed:
            self._client.save()
