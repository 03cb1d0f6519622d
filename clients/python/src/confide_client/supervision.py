"""A worker's device asking a supervisor, and a supervisor's device answering.

``ConfideClient.supervision`` is one of these. It talks to the relay only through the staff
routes (``GET /v1/workers``, a colleague's bundle, ``POST /v1/workers/{id}/capabilities``)
and sends through the same end-to-end channel as every message; the payloads and what they
leave out are in :mod:`confide_client.consultations`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from confide_crypto.errors import CryptoError

from confide_client import consultations
from confide_client.consultations import Draft, Thread
from confide_client.contact import Contact, contact_id_for
from confide_client.encoding import b64e
from confide_client.errors import ProtocolError, StateError
from confide_client.invites import crypto_bundle
from confide_client.state import ClientState, Role
from confide_client.transport.base import WorkerDevice

if TYPE_CHECKING:
    from confide_client.client import ConfideClient

__all__ = ["Supervision", "Supervisor", "find_colleague"]

SUPERVISOR_ROLE = "supervisor"


@dataclass(frozen=True)
class Supervisor:
    worker_id: str
    device_id: str


class Supervision:
    """Consultations of one worker's device (see :mod:`confide_client.consultations`)."""

    def __init__(self, client: ConfideClient) -> None:
        self._client = client

    @property
    def _state(self) -> ClientState:
        return self._client._state

    @staticmethod
    def _check_text(text: str) -> None:
        # The other device drops a longer message (consultations.TEXT_LIMIT): refuse it here.
        if not text.strip() or len(text) > consultations.TEXT_LIMIT:
            limit = consultations.TEXT_LIMIT
            raise StateError(f"a consultation message has 1 to {limit} characters")

    def _require_worker(self) -> str:
        if self._state.role is not Role.WORKER:
            raise StateError("only a worker's device takes part in consultations")
        return self._client._require_registered()

    async def refresh_retention(self) -> int:
        """Learn the organisation's consultation retention and drop older threads."""
        settings = await self._client._transport.organisation_settings()
        retention = settings.get("consultation_retention_seconds")
        if retention is not None:
            self._state.consultation_retention = retention
        self._purge()
        return self._state.consultation_retention

    def _purge(self) -> None:
        now, retention = self._client._clock(), self._state.consultation_retention
        if consultations.purge(self._state.consultations, now, retention):
            self._client.save()

    async def supervisors(self) -> list[Supervisor]:
        """The organisation's supervisors' devices, other than this one."""
        own = self._require_worker()
        return [
            Supervisor(w.worker_id, w.device_id)
            for w in await self._client._transport.workers()
            if w.role == SUPERVISOR_ROLE and w.device_id != own
        ]

    def draft(
        self,
        text: str,
        *,
        excerpt_from: str | None = None,
        last: int = 5,
        others: Sequence[str] = (),
    ) -> Draft:
        """The de-identified draft of a question, with the last ``last`` texts of a contact.

        Nothing is sent: show ``draft.text`` and ``draft.redactions`` to the worker, adjust
        them (``deidentify.add_term``, ``deidentify.undo``) and pass the result to :meth:`ask`.
        Every other contact's alias and noted names join ``others`` (the worker's list of
        names), so a client who names another client does not give them away.
        """
        self._require_worker()
        contact = None if excerpt_from is None else self._client._contact(excerpt_from)
        others = [*others, *self._other_names(contact)]
        if contact is None:
            return consultations.compose(text, [], others=others)
        if contact.staff:
            raise StateError("an excerpt comes from a conversation with a client")
        excerpt = contact.recent[-last:] if last > 0 else []
        return consultations.compose(
            text,
            excerpt,
            alias=contact.alias,
            names=contact.names,
            others=others,
            contact_id=contact.contact_id,
        )

    def _other_names(self, contact: Contact | None) -> list[str]:
        return [
            name
            for c in self._state.contacts.values()
            if c is not contact and not c.staff
            for name in (c.alias, *c.names)
            if name
        ]

    async def ask(self, supervisor_device_id: str, draft: Draft) -> str:
        """Send a reviewed draft to a supervisor under a new case label; returns the label."""
        own = self._require_worker()
        self._check_text(draft.text)
        roster = await self._client._transport.workers()
        target = _find(roster, supervisor_device_id)
        if target is None or target.role != SUPERVISOR_ROLE:
            raise StateError("that device is not a supervisor's")
        me = _find(roster, own)
        assert me is not None, "the relay lists every active worker device"
        colleague = await self.colleague(target)
        case = consultations.new_case_label(self._client._rng(8))
        thread = Thread(case, colleague.contact_id, True, me.worker_id, draft.contact_id)
        thread.add(True, draft.text, self._client._clock())
        self._state.consultations[case] = thread
        fields = {"case": case, "text": draft.text, "device": own, "worker": me.worker_id}
        self._client._enqueue(colleague, "consult", fields)
        self._client.save()
        return case

    async def reply(self, case: str, text: str) -> None:
        """Answer (supervisor) or follow up (asking worker) in a consultation's thread."""
        self._require_worker()
        self._check_text(text)
        thread = self._thread(case)
        if thread.closed:
            raise StateError("this consultation is closed")
        colleague = self._client._contact(thread.colleague)
        if not colleague.reachable:
            await self.reach(colleague)
        kind = "consult" if thread.asking else "consult-reply"
        fields: dict[str, str] = {"case": case, "text": text}
        if thread.asking:
            fields |= {"device": self._client._require_registered(), "worker": thread.worker_id}
        thread.add(True, text, self._client._clock())
        self._client._enqueue(colleague, kind, fields)
        self._client.save()

    async def close(self, case: str) -> None:
        """Close a consultation on both devices; its thread stays until retention ends."""
        self._require_worker()
        thread = self._thread(case)
        colleague = self._client._contact(thread.colleague)
        if not colleague.reachable:
            await self.reach(colleague)
        thread.closed, thread.updated_at = True, self._client._clock()
        self._client._enqueue(colleague, "consult-close", {"case": case})
        self._client.save()

    def threads(self) -> list[Thread]:
        """This device's consultations, most recent first."""
        self._purge()
        return sorted(self._state.consultations.values(), key=lambda t: -t.updated_at)

    def _thread(self, case: str) -> Thread:
        self._purge()
        thread = self._state.consultations.get(case)
        if thread is None:
            raise StateError(f"no consultation {case!r} on this device (it may have expired)")
        return thread

    async def colleague(self, worker: WorkerDevice) -> Contact:
        """The colleague's device as a contact, with a session and a way to reach it."""
        transport = self._client._transport
        contact = next(
            (
                c
                for c in self._state.contacts.values()
                if c.staff
                and c.device_id == worker.device_id
                and c.identity_key in self._state.device.sessions
            ),
            None,
        )
        if contact is None:
            # Fetching a bundle spends one of the colleague's one-time prekeys: only for a
            # colleague this device has no session with yet.
            bundle = await transport.fetch_bundle(worker.device_id)
            known = self._state.contacts.get(contact_id_for(bundle.identity_key))
            # An unbound contact is only a sender no hello has bound (docs/protocol.md
            # Part 2, §18): not a client, so the colleague's device may take its place.
            if known is not None and known.bound and not known.staff:
                raise ProtocolError("that device is one of this worker's clients")
            try:
                self._state.device.start_session(crypto_bundle(bundle), self._client._rng)
            except CryptoError as exc:
                raise ProtocolError("the colleague's prekey bundle does not verify") from exc
            contact = known or Contact(identity_key=bundle.identity_key)
            contact.device_id, contact.bound = worker.device_id, True
            self._state.contacts[contact.contact_id] = contact
        contact.staff_worker_id = worker.worker_id
        minted = await transport.colleague_capability(worker.device_id)
        contact.mailbox_id, contact.capability = minted.mailbox_id, minted.capability
        self._client.save()
        return contact

    async def reach(self, colleague: Contact) -> None:
        """Check a colleague's claimed ids with the relay, then get a capability to reply.

        The asking device named its worker and device ids inside the consultation; the
        relay's roster and the device's bundle must agree with them and with the key that
        sealed the messages, or nothing is sent. A group worker's invite to a colleague
        (docs/protocol.md G§7a) is checked the same way before it is answered.
        """
        roster = await self._client._transport.workers()
        listed = _find(roster, colleague.device_id or "")
        if listed is None or listed.worker_id != colleague.staff_worker_id:
            raise ProtocolError("the relay does not list that colleague's device")
        bundle = await self._client._transport.fetch_bundle(listed.device_id)
        if bundle.identity_key != colleague.identity_key:
            raise ProtocolError(
                f"device {listed.device_id} has another key than the one that asked "
                f"({b64e(bundle.identity_key)[:8]}...)"
            )
        minted = await self._client._transport.colleague_capability(listed.device_id)
        colleague.mailbox_id, colleague.capability = minted.mailbox_id, minted.capability


def find_colleague(roster: list[WorkerDevice], name: str) -> WorkerDevice | None:
    """A colleague's device by its device id, or by its worker id if that has one device."""
    by_device = _find(roster, name)
    if by_device is not None:
        return by_device
    devices = [w for w in roster if w.worker_id == name]
    return devices[0] if len(devices) == 1 else None


def _find(roster: list[WorkerDevice], device_id: str) -> WorkerDevice | None:
    return next((w for w in roster if w.device_id == device_id), None)
