"""Turning received envelopes into application events, with no I/O.

Each envelope is decrypted by confide_crypto's Device (which creates the session from a
prekey message and refuses replays), its payload is parsed, and the contact's receive window
releases it in order. Only released payloads take effect: a consent receipt, a revocation,
or a message for the application. Anything that does not decrypt or parse is dropped (and
acknowledged, so it cannot block the mailbox); the log records that it happened, never what
it contained.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from confide_crypto.errors import CryptoError, DuplicateMessageError
from confide_crypto.keys import Rng

from confide_client import consultations, receipts
from confide_client.consent import ConsentGate, ConsentState
from confide_client.contact import Contact, KeyChange, PendingInvite
from confide_client.encoding import b64d
from confide_client.errors import ProtocolError, StateError
from confide_client.groups.inbound import GroupInbound
from confide_client.invites import proves_invite
from confide_client.messages import (
    CONSULT_KINDS,
    STAFF_GROUP_KINDS,
    ConsentChanged,
    ContactJoined,
    Event,
    KeyChanged,
    Message,
    attachment_from,
    decode_payload,
    text_field,
)
from confide_client.state import ClientState, Role

__all__ = ["Inbound"]

log = logging.getLogger("confide_client")


class Inbound:
    """Applies incoming envelopes to a device's state and yields events for the application."""

    def __init__(self, state: ClientState, clock: Callable[[], int], rng: Rng) -> None:
        self._state = state
        self._clock = clock
        self._rng = rng
        #: Group payloads go here (set by ConfideClient, which owns the outbox they use).
        self.groups: GroupInbound | None = None

    def receive(self, envelope: bytes) -> list[Event]:
        """Process one envelope; returns the events it releases (often one, maybe none)."""
        try:
            received = self._state.device.decrypt_envelope(
                envelope, now=self._clock(), rng=self._rng
            )
        except DuplicateMessageError:
            return []
        except CryptoError:
            log.warning("dropped an envelope that did not decrypt")
            return []
        try:
            payload = decode_payload(received.plaintext)
        except ProtocolError:
            log.warning("dropped a message with a malformed payload")
            return []
        if payload is None:
            return []
        sender = received.sender_identity_key
        if payload["type"].startswith("group-") and payload["type"] not in STAFF_GROUP_KINDS:
            # A group's members are not contacts: their payloads take the group's own paths
            # (docs/protocol.md G§5), never a client's "new worker key" path below.
            return [] if self.groups is None else self.groups.receive(sender, payload)
        events: list[Event] = []
        route = self._route(sender, create=True)
        if route is None:
            route, events = self._worker_key_seen(sender)
        if route is None:
            log.warning("dropped a message from a device that is not a contact")
            return []
        contact, pending = route
        window = contact.key_change.window if pending and contact.key_change else contact.window
        for item in window.offer(payload["seq"], payload):
            try:
                events += self._dispatch(sender, item)
            except (ProtocolError, CryptoError):
                log.warning("dropped a %s message that failed its checks", item["type"])
        return events

    def _route(self, identity_key: bytes, *, create: bool) -> tuple[Contact, bool] | None:
        """The contact a sender's key belongs to, and whether it is a key still unconfirmed.

        A worker's device files an unknown sender as an unbound contact, so that its hello
        (seq 1) may wait in a window; only a hello that proves an invite binds it.
        """
        for contact in self._state.contacts.values():
            if contact.identity_key == identity_key:
                return contact, False
            change = contact.key_change
            if change is not None and change.identity_key == identity_key:
                return contact, True
        if not create or self._state.role is not Role.WORKER:
            return None
        contact = Contact(identity_key=identity_key, bound=False)
        self._state.contacts[contact.contact_id] = contact
        return contact, False

    def _worker_key_seen(
        self, identity_key: bytes
    ) -> tuple[tuple[Contact, bool] | None, list[Event]]:
        """(Client side) a key other than the worker's sent an envelope: a key change.

        A client's device has one contact, its worker. A new key for it never replaces the
        known one unasked: it becomes the pending key (a newer one replaces an older pending
        key and what it sent), its messages are held, and the known key keeps talking
        (docs/protocol.md E2E §18).
        """
        if self._state.role is not Role.CLIENT:
            return None, []
        workers = [c for c in self._state.contacts.values() if c.bound]
        if len(workers) != 1:
            return None, []
        worker = workers[0]
        worker.key_change = KeyChange(identity_key)
        return (worker, True), [KeyChanged(worker.contact_id)]

    def _dispatch(self, sender: bytes, payload: dict[str, Any]) -> list[Event]:
        # Routed again for each payload: a hello earlier in the same release may have made
        # this sender a contact's pending new key.
        route = self._route(sender, create=False)
        if route is None:
            return []
        contact, pending = route
        if pending and contact.key_change is not None:
            # Nothing from an unconfirmed key is shown: it waits for confirm_key_change.
            contact.key_change.held.append(payload)
            return []
        if not contact.bound and payload["type"] not in ("hello", "consult", "group-worker-invite"):
            # A colleague's first consult (or group worker invite) is the other way in: it
            # makes the device a colleague, whose ids are checked with the relay before a reply.
            raise ProtocolError("no hello from this device has proved an invite")
        return self._apply(contact, payload)

    def _apply(self, contact: Contact, payload: dict[str, Any]) -> list[Event]:
        kind = payload["type"]
        if kind in CONSULT_KINDS and self._state.role is Role.WORKER:
            threads = self._state.consultations
            consultations.purge(threads, self._clock(), self._state.consultation_retention)
            return consultations.receive(threads, contact, payload, self._clock())
        if kind in STAFF_GROUP_KINDS and self._state.role is Role.WORKER and self.groups:
            return self.groups.from_colleague(contact, payload)
        if contact.staff:
            # Colleagues exchange consultations and group worker invites only; a client's
            # kinds from one are dropped.
            raise ProtocolError(f"a {kind} message from a colleague's device")
        if kind == "hello":
            return self._hello(contact, payload)
        if kind == "consent":
            return self._consent(contact, _signed(payload, "receipt"))
        if kind == "revoke":
            return self._revoke(contact, _signed(payload, "revocation"))
        if contact.consent.state(self._clock()) is ConsentState.REVOKED:
            return []
        if self._state.role is Role.WORKER and contact.receipt is None:
            # No message is shown before the client's valid consent (docs/protocol.md,
            # Consent in the channel): it is dropped, and acknowledged like the rest.
            log.warning("dropped a %s message that arrived before consent", kind)
            return []
        if kind == "text":
            text = _text(payload, "text")
            contact.remember("them", text, consultations.RECENT_LIMIT)
            return [Message(contact.contact_id, payload["seq"], payload["id"], text)]
        attachment = attachment_from(payload)
        return [Message(contact.contact_id, payload["seq"], payload["id"], attachment=attachment)]

    def _hello(self, contact: Contact, payload: dict[str, Any]) -> list[Event]:
        """Bind a new device to the invite its hello proves (docs/protocol.md E2E §18)."""
        if self._state.role is not Role.WORKER:
            raise ProtocolError("only a worker's device accepts a hello")
        if contact.bound:
            raise ProtocolError("this device's hello was already taken")
        mailbox = b64d(_text(payload, "mailbox"))
        capability = b64d(_text(payload, "capability"))
        if len(mailbox) != 16 or len(capability) != 32:
            raise ProtocolError("hello carries a malformed mailbox or capability")
        own_key, now = self._state.device.identity.public, self._clock()
        proof = b64d(_text(payload, "invite_proof"))
        invite = proven_invite(self._state.invites, proof, contact.identity_key, own_key)
        if invite is None:
            raise ProtocolError("the hello proves no pending invite of this device")
        receipt = _signed(payload, "receipt")
        receipts.verify_receipt(receipt, contact.identity_key, own_key, now)
        self._state.invites.remove(invite)
        device_id = payload.get("device")
        device = device_id if isinstance(device_id, str) else None
        if invite.contact_id is None:
            contact.bound = True
            contact.invite_capability_id = invite.capability_id
            contact.device_id = device
            contact.mailbox_id, contact.capability = mailbox, capability
            return [ContactJoined(contact.contact_id), *self._consent(contact, receipt)]
        target = self._state.contacts.get(invite.contact_id)
        if target is None or not target.bound:
            raise ProtocolError("the rejoin invite's contact is gone")
        # A different key never silently replaces the contact's: it waits for confirmation.
        target.key_change = KeyChange(
            contact.identity_key,
            device,
            mailbox,
            capability,
            receipt.data,
            receipt.signature,
            window=contact.window,
            capability_id=invite.capability_id,
        )
        del self._state.contacts[contact.contact_id]
        return [KeyChanged(target.contact_id)]

    def confirm_key_change(self, contact: Contact) -> list[Event]:
        """Move a contact to its new key once the user confirmed it; consent starts again.

        The new key's receipt decides consent from here on; what the new device sent
        meanwhile is released, in order. Envelopes still queued for the old key are dropped.
        """
        change = contact.key_change
        if change is None:
            raise StateError("no key change waits for confirmation")
        dropped = self._state.outbox.drop_contact(contact.contact_id)
        if dropped:
            log.info("key change confirmed: %d messages for the old key were not sent", dropped)
        contact.key_change = None
        if self._state.role is Role.CLIENT:
            return self._confirm_worker_key(contact, change)
        contact.identity_key, contact.device_id = change.identity_key, change.device_id
        contact.mailbox_id, contact.capability = change.mailbox_id, change.capability
        contact.window, contact.next_send_seq = change.window, 1
        contact.invite_capability_id = change.capability_id
        contact.receipt, contact.consent = None, ConsentGate(policy=self._state.policy)
        events: list[Event] = []
        try:
            if change.receipt is None or change.signature is None:
                raise ProtocolError("the new key came without a consent receipt")
            events += self._consent(contact, receipts.Signed(change.receipt, change.signature))
        except (ProtocolError, CryptoError):
            log.warning("the new key's consent receipt no longer verifies; consent is needed")
        return events + self._release(contact, change)

    def _confirm_worker_key(self, contact: Contact, change: KeyChange) -> list[Event]:
        """(Client side) the worker's new key replaces the old one, as the web client does.

        The client keeps writing to the worker mailbox and capability it knows, and keeps its
        own consent; what the new key sent meanwhile is released, in order.
        """
        contact.identity_key = change.identity_key
        contact.window, contact.next_send_seq = change.window, 1
        return self._release(contact, change)

    def _release(self, contact: Contact, change: KeyChange) -> list[Event]:
        events: list[Event] = []
        for item in change.held:
            try:
                events += self._apply(contact, item)
            except (ProtocolError, CryptoError):
                log.warning("dropped a %s message that failed its checks", item["type"])
        return events

    def _consent(self, contact: Contact, receipt: receipts.Signed) -> list[Event]:
        own_key = self._state.device.identity.public
        facts = receipts.verify_receipt(receipt, contact.identity_key, own_key, self._clock())
        contact.receipt = receipt.data
        gate = contact.consent
        if self._state.policy is not None:
            gate = gate.with_policy(self._state.policy)
        contact.consent = gate.with_receipt(facts)
        return [ConsentChanged(contact.contact_id, contact.consent.state(self._clock()))]

    def _revoke(self, contact: Contact, revocation: receipts.Signed) -> list[Event]:
        if contact.receipt is None:
            raise ProtocolError("a revocation arrived before any receipt")
        at = receipts.verify_revocation(revocation, contact.receipt, contact.identity_key)
        contact.consent = contact.consent.with_revocation(at)
        dropped = self._state.outbox.drop_contact(contact.contact_id)
        if dropped:
            log.info("consent revoked: %d queued messages were not sent", dropped)
        return [ConsentChanged(contact.contact_id, ConsentState.REVOKED)]


def proven_invite(
    invites: list[PendingInvite], proof: bytes, client_key: bytes, worker_key: bytes
) -> PendingInvite | None:
    """The pending invite whose secret this hello's proof shows it holds.

    An expired invite still counts while it is kept: the relay refuses redemptions after the
    expiry, but a client who redeemed in time may consent (and say hello) later.
    """
    for invite in invites:
        if proves_invite(proof, invite.token, client_key, worker_key):
            return invite
    return None


def _signed(payload: dict[str, Any], name: str) -> receipts.Signed:
    return receipts.Signed(b64d(_text(payload, name)), b64d(_text(payload, "signature")))


_text = text_field
