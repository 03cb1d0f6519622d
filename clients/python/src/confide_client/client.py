"""ConfideClient: one device's end of Confide, for integrators' programs.

A worker's device enrols with a one-time code and creates invites; a client's device joins
by redeeming one, accepting the organisation's policy and signing a consent receipt. Both
then send and receive text and attachments. Sending puts a sealed envelope in the outbox and
returns at once; :mod:`confide_client.sync` delivers the outbox and receives live envelopes
in the background, reconnecting with backoff. See docs/integrators.md for a walk-through.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from confide_crypto.attachments import AttachmentPointer, decrypt_attachment, new_attachment
from confide_crypto.device import Device
from confide_crypto.errors import CryptoError
from confide_crypto.keys import Rng
from confide_crypto.safety_number import grouped, safety_number

from confide_client import prekeys, receipts
from confide_client.consent import ConsentState, policy_ref
from confide_client.consultations import RECENT_LIMIT
from confide_client.contact import Contact, PendingInvite
from confide_client.encoding import b64e
from confide_client.errors import (
    ConsentRequired,
    ConsentRevoked,
    KeyChangePending,
    ProtocolError,
    RelayRejected,
    StateError,
    UnknownContact,
)
from confide_client.groups.manager import Groups
from confide_client.inbound import Inbound
from confide_client.invites import accept_redemption, check_policy, invite_proof, parse_invite
from confide_client.messages import Attachment, ConsentChanged, Event, encode_payload
from confide_client.outbox import OutboxEntry
from confide_client.state import ClientState, Role
from confide_client.supervision import Supervision
from confide_client.sync import Sync
from confide_client.transport.base import (
    DeviceRegistration,
    Policy,
    StoredConsent,
    Transport,
)
from confide_client.transport.http import HttpTransport
from confide_client.vault import Vault

__all__ = ["ConfideClient", "ContactInfo", "InviteInfo"]

#: How long a worker's device keeps an expired invite's secret: a client who redeemed it in
#: time may still consent, and so say hello, this long after the invite's expiry.
INVITE_GRACE_SECONDS = 30 * 24 * 3600

#: How long a client's consent lasts unless the caller says otherwise (one year).
DEFAULT_CONSENT_SECONDS = 365 * 24 * 3600


@dataclass(frozen=True)
class InviteInfo:
    """A pending invite as an application may show it (the token makes its link again)."""

    token: str
    #: The contact a rejoin invite is for; None for an invite to someone new.
    contact_id: str | None
    expires_at: int
    expired: bool


@dataclass(frozen=True)
class ContactInfo:
    """What an application may show about a contact."""

    contact_id: str
    alias: str
    consent: ConsentState
    reachable: bool
    #: A new identity key waits for confirmation (sending is stopped until then).
    key_changed: bool = False


class ConfideClient:
    """One device: its keys, its contacts and its connection to a relay.

    Build one with :meth:`create` (a new device) or :meth:`open` (a saved one), then use it
    as an async context manager, which starts and stops the background delivery.
    """

    def __init__(
        self,
        state: ClientState,
        vault: Vault,
        transport: Transport,
        *,
        rng: Rng = os.urandom,
        clock: Callable[[], int] = lambda: int(time.time()),
        max_backoff: float = 30.0,
    ) -> None:
        self._state = state
        self._vault = vault
        self._transport = transport
        self._rng = rng
        self._clock = clock
        self._inbound = Inbound(state, clock, rng)
        self._sync = Sync(self, max_backoff)
        #: Peer support groups (docs/protocol.md Part 3).
        self.groups = Groups(self)
        self._inbound.groups = self.groups.inbound
        self._closed = False
        #: Consultations with a supervisor (worker devices only).
        self.supervision = Supervision(self)

    # --- Construction and persistence --------------------------------------------------

    @classmethod
    def create(
        cls,
        path: str | os.PathLike[str],
        passphrase: str,
        transport: Transport,
        *,
        key_cost: str = "interactive",
        rng: Rng = os.urandom,
        clock: Callable[[], int] = lambda: int(time.time()),
        max_backoff: float = 30.0,
    ) -> ConfideClient:
        """A new, unregistered device whose state lives at ``path`` under ``passphrase``."""
        vault = Vault.create(path, passphrase, cost=key_cost)
        state = ClientState(Device.create(rng))
        if isinstance(transport, HttpTransport):
            state.relay_url = transport.base_url
        client = cls(state, vault, transport, rng=rng, clock=clock, max_backoff=max_backoff)
        client.save()
        return client

    @classmethod
    def open(
        cls,
        path: str | os.PathLike[str],
        passphrase: str,
        transport: Transport | None = None,
        *,
        rng: Rng = os.urandom,
        clock: Callable[[], int] = lambda: int(time.time()),
        max_backoff: float = 30.0,
    ) -> ConfideClient:
        """A device saved earlier; a wrong passphrase raises StateError.

        Without a transport, the device talks HTTP to the relay it registered with.
        """
        vault, blob = Vault.open(path, passphrase)
        state = ClientState.from_bytes(blob)
        if transport is None:
            if state.relay_url is None:
                raise StateError("this state file names no relay; pass a transport")
            transport = HttpTransport(state.relay_url)
        return cls(state, vault, transport, rng=rng, clock=clock, max_backoff=max_backoff)

    @property
    def state_path(self) -> Path:
        return self._vault.path

    def save(self) -> None:
        """Write the whole state to the passphrase-protected file."""
        self._vault.write(self._state.to_bytes())

    async def __aenter__(self) -> ConfideClient:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def start(self) -> None:
        """Log in and start delivering the outbox and receiving live envelopes."""
        self._require_registered()
        await self.login()
        await self.refresh_policy()
        if self._state.role is Role.WORKER:
            await self.supervision.refresh_retention()
        self._sync.start()

    async def close(self) -> None:
        """Stop background delivery, save, and release the transport.

        Closing again does nothing: in particular it does not save this object's state over
        a file that another ``ConfideClient.open`` of it has written since.
        """
        if self._closed:
            return
        self._closed = True
        await self._sync.stop()
        self.save()
        await self._transport.aclose()

    # --- Identity and registration -------------------------------------------------------

    @property
    def role(self) -> Role:
        return self._state.role

    @property
    def identity_key(self) -> bytes:
        return self._state.device.identity.public

    @property
    def relay_url(self) -> str | None:
        """The relay this device registered with, when it was created over HTTP."""
        return self._state.relay_url

    @property
    def device_id(self) -> str | None:
        return self._state.device_id

    async def login(self) -> None:
        """Authenticate to the relay by signing a fresh challenge."""
        device_id = self._require_registered()
        challenge = await self._transport.challenge()
        signature = self._state.device.identity.sign_auth(challenge)
        await self._transport.login(device_id, challenge, signature)

    async def _registration(self) -> DeviceRegistration:
        if self._state.role is not Role.UNREGISTERED:
            raise StateError("this device is already registered")
        challenge = await self._transport.challenge()
        return prekeys.registration(self._state, challenge, self._rng, self._clock())

    async def enrol(self, code: str) -> None:
        """Register this device as a worker's, with a one-time enrolment code."""
        registration = await self._registration()
        registered = await self._transport.enrol(code, registration)
        self._state.role = Role.WORKER
        self._state.device_id, self._state.mailbox_id = registered.device_id, registered.mailbox_id
        self.save()

    async def replenish_prekeys(self) -> int:
        """Top up one-time prekeys on the relay if they run low; returns how many were added."""
        fresh = prekeys.top_up(self._state, await self._transport.prekey_count(), self._rng)
        if fresh:
            self.save()
            await self._transport.upload_prekeys(None, fresh)
        return len(fresh)

    async def rotate_signed_prekey(self, *, force: bool = False) -> bool:
        """Replace the signed prekey once it is 30 days old (or now, with ``force``)."""
        spk = prekeys.rotate(self._state, self._rng, self._clock(), force=force)
        if spk is None:
            return False
        self.save()
        await self._transport.upload_prekeys(spk, [])
        return True

    async def refresh_policy(self) -> Policy:
        """Learn the organisation's current policy; a new version needs fresh consent."""
        # A client that consented in a language keeps reading the new version in it.
        language = None if self._state.policy is None else self._state.policy.language
        policy = (await self._transport.current_policy()).in_language(language)
        check_policy(policy)
        ref = policy_ref(policy, named=language is not None)
        if self._state.policy != ref:
            self._state.policy = ref
            now = self._clock()
            changed: list[Event] = []
            for contact in self._state.contacts.values():
                before = contact.consent.state(now)
                contact.consent = contact.consent.with_policy(ref)
                after = contact.consent.state(now)
                if after is not before:
                    changed.append(ConsentChanged(contact.contact_id, after))
            await self._sync.add(changed)
            self.save()
        return policy

    # --- Invites and joining -------------------------------------------------------------

    async def create_invite(self, ttl_seconds: int = 7 * 24 * 3600) -> str:
        """A single-use invite token (worker only); give the client :func:`invite_link`.

        The device keeps the secret (in its encrypted state) until a hello proves it.
        """
        return await self._new_invite(ttl_seconds, None)

    async def create_rejoin_invite(self, contact_id: str, ttl_seconds: int = 7 * 24 * 3600) -> str:
        """An invite for an existing contact's new device (worker only).

        The device that redeems it continues this conversation under a new key, which waits
        for :meth:`confirm_key_change` (a :class:`KeyChanged` event says it arrived).
        """
        contact = self._contact(contact_id)
        return await self._new_invite(ttl_seconds, contact.contact_id)

    async def _new_invite(self, ttl_seconds: int, contact_id: str | None) -> str:
        if self._state.role is not Role.WORKER:
            raise StateError("only a worker's device creates invites")
        made = await self._transport.create_invite(ttl_seconds)
        # Invites long past their expiry are forgotten; see INVITE_GRACE_SECONDS.
        now = self._clock()
        invites = [i for i in self._state.invites if i.expires_at + INVITE_GRACE_SECONDS > now]
        fresh = PendingInvite(made.token, made.expires_at, contact_id, made.capability_id)
        self._state.invites = [*invites, fresh]
        self.save()
        return b64e(made.token)

    def pending_invites(self) -> list[InviteInfo]:
        """This worker device's invites that no hello has proved yet, expired ones included."""
        now = self._clock()
        return [
            InviteInfo(b64e(i.token), i.contact_id, i.expires_at, i.expires_at <= now)
            for i in self._state.invites
        ]

    async def cancel_invite(self, invite: str) -> None:
        """Withdraw a pending invite (a link or its token): it stops working at the relay.

        A redeemed invite cannot be cancelled (RelayRejected, 410 already-used); one the
        relay no longer knows (it expired) is simply forgotten.
        """
        token = parse_invite(invite)
        found = next((i for i in self._state.invites if i.token == token), None)
        if found is None:
            raise StateError("no pending invite of this device has that token")
        if found.capability_id is not None:
            try:
                await self._transport.cancel_invite(found.capability_id)
            except RelayRejected as exc:
                if exc.status != 404:
                    raise
        self._state.invites.remove(found)
        self.save()

    async def consent_records(self, page_size: int = 50) -> list[StoredConsent]:
        """Every signed consent record the relay keeps for this worker device (worker only).

        The relay lists them a page at a time; this follows the pages. Each record's
        statement is as the client signed it: check it with receipts.verify_receipt.
        """
        if self._state.role is not Role.WORKER:
            raise StateError("only a worker's device reads consent records")
        return await self._transport.consent_records(page_size)

    async def join(
        self,
        invite: str,
        accept_policy: Callable[[Policy], bool],
        *,
        consent_seconds: int = DEFAULT_CONSENT_SECONDS,
        terms: receipts.ConsentTerms | None = None,
        language: str | None = None,
    ) -> str:
        """Redeem an invite as the client; returns the worker's contact id.

        ``accept_policy`` is shown the organisation's policy and must return True for the
        client to consent. With ``language`` it is shown the version's text in that language
        when the organisation published one, and the receipt names the language of the text
        shown (format 2). Consent, a capability for this device's mailbox and the first
        message travel to the worker inside the end-to-end channel.
        """
        registration = await self._registration()
        token = parse_invite(invite)
        redemption = await self._transport.redeem(token, registration)
        worker = accept_redemption(self._state, redemption, self._rng, language)
        policy = self._state.policy
        assert policy is not None
        self.save()
        if not accept_policy(redemption.policy.in_language(language)):
            raise ConsentRequired("the policy was not accepted; nothing was sent")
        await self.login()
        own_capability = await self._transport.mint_capability()
        worker.granted_capability_id = own_capability.capability_id
        identity, now = self._state.device.identity, self._clock()
        receipt = receipts.consent_to(worker, identity, policy, now, consent_seconds, terms)
        hello = {
            "mailbox": b64e(redemption.device.mailbox_id),
            "capability": b64e(own_capability.secret),
            "device": redemption.device.device_id,
            "receipt": b64e(receipt.data),
            "signature": b64e(receipt.signature),
            "invite_proof": b64e(invite_proof(token, identity.public, worker.identity_key)),
        }
        self._enqueue(worker, "hello", hello)
        self.save()
        await self._transport.submit_consent(redemption.worker_bundle.device_id, "receipt", receipt)
        return worker.contact_id

    async def renew_consent(
        self,
        contact_id: str,
        accept_policy: Callable[[Policy], bool],
        *,
        consent_seconds: int = DEFAULT_CONSENT_SECONDS,
        terms: receipts.ConsentTerms | None = None,
    ) -> None:
        """Consent again (client only): after a new policy version, or before expiry."""
        if self._state.role is not Role.CLIENT:
            raise StateError("only a client's device gives consent")
        worker = self._contact(contact_id)
        if worker.consent.state(self._clock()) is ConsentState.REVOKED:
            raise ConsentRevoked("consent was revoked; join again with a new invite")
        policy = await self.refresh_policy()
        if not accept_policy(policy):
            raise ConsentRequired("the policy was not accepted; nothing was sent")
        ref = self._state.policy
        assert ref is not None
        identity, now = self._state.device.identity, self._clock()
        receipt = receipts.consent_to(worker, identity, ref, now, consent_seconds, terms)
        fields = {"receipt": b64e(receipt.data), "signature": b64e(receipt.signature)}
        self._enqueue(worker, "consent", fields)
        self.save()
        if worker.device_id is not None:
            await self._transport.submit_consent(worker.device_id, "receipt", receipt)

    # --- Conversations -------------------------------------------------------------------

    def contacts(self) -> list[ContactInfo]:
        """The conversations with clients (colleagues met in consultations are not listed)."""
        now = self._clock()
        return [
            ContactInfo(
                c.contact_id, c.alias, c.consent.state(now), c.reachable, c.key_change is not None
            )
            for c in self._state.contacts.values()
            if c.bound and not c.staff
        ]

    def _contact(self, contact_id: str) -> Contact:
        contact = self._state.contacts.get(contact_id)
        if contact is None or not contact.bound:
            raise UnknownContact(contact_id)
        return contact

    def _sendable(self, contact_id: str) -> Contact:
        contact = self._contact(contact_id)
        if contact.key_change is not None:
            raise KeyChangePending("compare the new safety number and confirm the key first")
        contact.consent.check_send(self._clock())
        return contact

    def set_alias(self, contact_id: str, alias: str) -> None:
        """Name a contact for this device only; the alias never leaves it."""
        self._contact(contact_id).alias = alias
        self.save()

    def note_names(self, contact_id: str, names: list[str]) -> None:
        """Other names this person goes by; like the alias, kept on this device only.

        The de-identifier replaces them, with the alias, before a consultation excerpt.
        """
        self._contact(contact_id).names = [n.strip() for n in names if n.strip()]
        self.save()

    def safety_number(self, contact_id: str) -> str:
        """Sixty digits in groups of five; equal on both devices unless a key was replaced."""
        return grouped(safety_number(self.identity_key, self._contact(contact_id).identity_key))

    def pending_safety_number(self, contact_id: str) -> str:
        """The safety number with a contact's new, unconfirmed key, to compare before confirming."""
        change = self._contact(contact_id).key_change
        if change is None:
            raise StateError("no key change waits for confirmation")
        return grouped(safety_number(self.identity_key, change.identity_key))

    async def confirm_key_change(self, contact_id: str) -> None:
        """Accept a contact's new key after comparing :meth:`pending_safety_number`.

        The conversation moves to the new device: its consent receipt applies from now on
        (a ConsentChanged event), then what it sent meanwhile arrives, in order. The old
        device's capability for this worker's mailbox is revoked at the relay.
        """
        contact = self._contact(contact_id)
        if contact.key_change is None:
            raise StateError("no key change waits for confirmation")
        retired = contact.invite_capability_id
        events = self._inbound.confirm_key_change(contact)
        # Saved with the released events in the inbox: the held messages are not lost if the
        # program stops now.
        await self._sync.add_events(events)
        self.save()
        # The old device may no longer write to this worker: its capability is revoked.
        if retired is not None:
            await self._transport.revoke_capability(retired)

    def consent_state(self, contact_id: str) -> ConsentState:
        return self._contact(contact_id).consent.state(self._clock())

    def _enqueue(self, contact: Contact, kind: str, fields: Mapping[str, object]) -> str:
        if not contact.reachable:
            raise ConsentRequired("this contact has not yet given a way to reach it")
        message_id = b64e(self._rng(16))
        plaintext = encode_payload(contact.next_send_seq, message_id, kind, fields)
        envelope = self._state.device.encrypt_to(contact.identity_key, plaintext, rng=self._rng)
        contact.next_send_seq += 1
        self._state.outbox.put(OutboxEntry(message_id, contact.contact_id, envelope))
        self._sync.outbox_changed()
        return message_id

    def send_text(self, contact_id: str, text: str) -> str:
        """Queue a text message; returns its message id. Raises a ConsentError if gated."""
        contact = self._sendable(contact_id)
        message_id = self._enqueue(contact, "text", {"text": text})
        contact.remember("me", text, RECENT_LIMIT)
        return message_id

    async def send_attachment(
        self, contact_id: str, data: bytes, *, name: str, mime: str = "application/octet-stream"
    ) -> str:
        """Encrypt and upload an attachment, then queue the message that refers to it."""
        contact = self._sendable(contact_id)
        blob, pointer = new_attachment(data, self._rng)
        blob_id = await self._transport.put_blob(blob)
        fields = {"blob": blob_id, "pointer": b64e(pointer.encode()), "name": name, "mime": mime}
        return self._enqueue(contact, "attachment", fields)

    async def download(self, attachment: Attachment) -> bytes:
        """Fetch an attachment's blob, check its digest, and decrypt it."""
        blob = await self._transport.get_blob(attachment.blob_id)
        try:
            return decrypt_attachment(blob, AttachmentPointer.decode(attachment.pointer))
        except CryptoError as exc:
            raise ProtocolError("the attachment blob is not the one the sender described") from exc

    async def revoke_consent(self, contact_id: str) -> None:
        """Withdraw consent (client only): the worker is told, then the conversation freezes.

        The revocation travels to the worker inside the channel and to the relay for the
        record; then the capability the worker holds for this device's mailbox is withdrawn,
        so the relay itself refuses the worker's later sends (capability-rejected).
        """
        if self._state.role is not Role.CLIENT:
            raise StateError("only a client's device revokes consent")
        contact = self._contact(contact_id)
        if contact.receipt is None:
            raise ConsentRequired("there is no consent to revoke")
        now = self._clock()
        revocation = receipts.make_revocation(self._state.device.identity, contact.receipt, now)
        fields = {"revocation": b64e(revocation.data), "signature": b64e(revocation.signature)}
        self._enqueue(contact, "revoke", fields)
        contact.consent = contact.consent.with_revocation(now)
        self.save()
        if contact.device_id is not None:
            await self._transport.submit_consent(contact.device_id, "revocation", revocation)
        await self._withdraw_capability(contact)

    async def _withdraw_capability(self, contact: Contact) -> None:
        if contact.granted_capability_id is not None:
            await self._transport.revoke_capability(contact.granted_capability_id)
            return
        # A state file from before the id was kept: a client device's mailbox serves its one
        # worker only, so every capability for it goes.
        for capability_id in await self._transport.capabilities():
            await self._transport.revoke_capability(capability_id)

    # --- Delivery ------------------------------------------------------------------------

    async def next_event(self) -> Event:
        """The next event: a message, a new contact, or a change of consent."""
        return await self._sync.next_event()

    async def fetch_pending(self, limit: int = 100) -> int:
        """Receive over plain HTTP instead of the live connection; returns how many arrived.

        For integrators that run periodically (a cron job, a serverless function) rather than
        staying connected: call :meth:`login` first, then this, then :meth:`next_event` as
        many times as it returned events for (see ``pending_events``).
        """
        batch = await self._transport.fetch(limit)
        acks = await self._sync.take(list(batch))
        if acks:
            await self._transport.ack(acks)
        return len(acks)

    @property
    def pending_events(self) -> int:
        """How many received events wait for :meth:`next_event`."""
        return len(self._state.inbox)

    async def flush(self) -> None:
        """Wait until the relay has accepted everything queued so far."""
        await self._sync.drained()

    @property
    def last_error(self) -> Exception | None:
        """The last unexpected error the background delivery recovered from (None if none)."""
        return self._sync.last_error

    @property
    def pending(self) -> int:
        """How many messages wait in the outbox for the relay to accept them."""
        return len(self._state.outbox)

    def _require_registered(self) -> str:
        if self._state.device_id is None:
            raise StateError("this device is not registered yet: enrol or join first")
        return self._state.device_id
