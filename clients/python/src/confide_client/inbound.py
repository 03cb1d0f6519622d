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

from confide_crypto.attachments import AttachmentPointer
from confide_crypto.errors import CryptoError, DuplicateMessageError
from confide_crypto.keys import Rng

from confide_client import receipts
from confide_client.consent import ConsentState
from confide_client.contact import Contact, contact_id_for
from confide_client.encoding import b64d
from confide_client.errors import ProtocolError
from confide_client.messages import (
    Attachment,
    ConsentChanged,
    ContactJoined,
    Event,
    Message,
    decode_payload,
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
        contact = self._contact_for(received.sender_identity_key)
        if contact is None:
            log.warning("dropped a message from a device that is not a contact")
            return []
        events: list[Event] = []
        for item in contact.window.offer(payload["seq"], payload):
            try:
                events += self._apply(contact, item)
            except (ProtocolError, CryptoError):
                log.warning("dropped a %s message that failed its checks", item["type"])
        return events

    def _contact_for(self, identity_key: bytes) -> Contact | None:
        contact_id = contact_id_for(identity_key)
        contact = self._state.contacts.get(contact_id)
        if contact is None and self._state.role is Role.WORKER:
            # A client announces itself with a prekey message; its hello (seq 1) may be
            # held briefly in the window, so the contact exists from the first envelope.
            contact = Contact(identity_key=identity_key)
            self._state.contacts[contact_id] = contact
        return contact

    def _apply(self, contact: Contact, payload: dict[str, Any]) -> list[Event]:
        kind = payload["type"]
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
            return [
                Message(contact.contact_id, payload["seq"], payload["id"], _text(payload, "text"))
            ]
        pointer = b64d(_text(payload, "pointer"))
        attachment = Attachment(
            blob_id=_text(payload, "blob"),
            pointer=pointer,
            size=AttachmentPointer.decode(pointer).length,
            name=_text(payload, "name"),
            mime=_text(payload, "mime"),
        )
        return [Message(contact.contact_id, payload["seq"], payload["id"], attachment=attachment)]

    def _hello(self, contact: Contact, payload: dict[str, Any]) -> list[Event]:
        if self._state.role is not Role.WORKER:
            raise ProtocolError("only a worker's device accepts a hello")
        mailbox = b64d(_text(payload, "mailbox"))
        capability = b64d(_text(payload, "capability"))
        if len(mailbox) != 16 or len(capability) != 32:
            raise ProtocolError("hello carries a malformed mailbox or capability")
        device_id = payload.get("device")
        contact.device_id = device_id if isinstance(device_id, str) else None
        contact.mailbox_id, contact.capability = mailbox, capability
        return [
            ContactJoined(contact.contact_id),
            *self._consent(contact, _signed(payload, "receipt")),
        ]

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


def _signed(payload: dict[str, Any], name: str) -> receipts.Signed:
    return receipts.Signed(b64d(_text(payload, name)), b64d(_text(payload, "signature")))


def _text(payload: dict[str, Any], name: str) -> str:
    value = payload.get(name)
    if not isinstance(value, str):
        raise ProtocolError(f"payload field {name} is missing or not a string")
    return value
