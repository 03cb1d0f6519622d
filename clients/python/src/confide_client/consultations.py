"""Consultations with a supervisor: threads under a random case label, with no I/O here.

A worker asks a supervisor (a colleague with the supervisor role) about a conversation. What
travels is a de-identified draft (:mod:`confide_client.deidentify`) under a case label drawn
at random; the client's contact id, device id, identity key, alias, invite and consent never
do. Only the asking worker's device keeps which contact a case is about. Both devices drop a
thread ``consultation_retention_seconds`` (an organisation setting) after its last message.

Inside the end-to-end channel between the two staff devices (docs/integrators.md)::

    {"type": "consult", "case": "K7Q2-M9XD-4HTB", "text": "...",
     "device": "<asking device id>", "worker": "<asking worker id>"}   (asker -> supervisor)
    {"type": "consult-reply", "case": "...", "text": "..."}          (supervisor -> asker)
    {"type": "consult-close", "case": "..."}                         (either way)
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from confide_client.contact import Contact
from confide_client.deidentify import Redaction, apply_redactions, find_identifiers
from confide_client.errors import ProtocolError
from confide_client.messages import (
    Consultation,
    ConsultationClosed,
    ConsultationReply,
    Event,
)

__all__ = [
    "Draft",
    "Note",
    "Thread",
    "become_colleague",
    "compose",
    "new_case_label",
    "purge",
    "receive",
]

DAY = 86_400
#: Until the device has read the organisation's setting.
DEFAULT_RETENTION_SECONDS = 30 * DAY
#: How many recent texts per conversation the device keeps for excerpts.
RECENT_LIMIT = 50
#: The longest consultation message, in characters (an excerpt of a few dozen messages).
TEXT_LIMIT = 20_000


def new_case_label(random_bytes: bytes) -> str:
    """A label like ``K7Q2-M9XD-4HTB`` from 8 random bytes (60 bits are used)."""
    letters = base64.b32encode(random_bytes).decode()[:12]
    return "-".join(letters[i : i + 4] for i in range(0, 12, 4))


@dataclass(frozen=True)
class Draft:
    """What the worker reviews before asking: the original, the redactions, the result."""

    original: str
    redactions: tuple[Redaction, ...]
    contact_id: str | None

    @property
    def text(self) -> str:
        return apply_redactions(self.original, self.redactions)


def compose(
    question: str,
    excerpt: Sequence[tuple[str, str]],
    *,
    alias: str = "",
    names: Sequence[str] = (),
    others: Sequence[str] = (),
    contact_id: str | None = None,
) -> Draft:
    """The question and the excerpt (``("me" | "them", text)`` pairs) as one draft."""
    lines = [question.strip()]
    if excerpt:
        lines += ["", "Excerpt:"]
        lines += [f"{'Me' if who == 'me' else 'Them'}: {text}" for who, text in excerpt]
    original = "\n".join(lines)
    found = find_identifiers(original, alias=alias, names=names, others=others)
    return Draft(original, tuple(found), contact_id)


@dataclass
class Note:
    """One message of a thread: who wrote it (this device, or the colleague), and when."""

    mine: bool
    text: str
    at: int

    def to_json(self) -> list[Any]:
        return [self.mine, self.text, self.at]


@dataclass
class Thread:
    """One consultation as this device keeps it.

    ``colleague`` is the other staff device's contact id. ``contact_id`` is the client's,
    and is set only on the asking worker's device; ``worker_id`` is the asking worker's.
    """

    case: str
    colleague: str
    asking: bool
    worker_id: str
    contact_id: str | None = None
    notes: list[Note] = field(default_factory=list)
    updated_at: int = 0
    closed: bool = False

    def add(self, mine: bool, text: str, now: int) -> None:
        self.notes.append(Note(mine, text, now))
        self.updated_at = now

    def to_json(self) -> dict[str, Any]:
        return {
            "case": self.case,
            "colleague": self.colleague,
            "asking": self.asking,
            "worker_id": self.worker_id,
            "contact_id": self.contact_id,
            "notes": [n.to_json() for n in self.notes],
            "updated_at": self.updated_at,
            "closed": self.closed,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Thread:
        return cls(
            case=str(data["case"]),
            colleague=str(data["colleague"]),
            asking=bool(data["asking"]),
            worker_id=str(data["worker_id"]),
            contact_id=data["contact_id"],
            notes=[Note(bool(m), str(t), int(a)) for m, t, a in data["notes"]],
            updated_at=int(data["updated_at"]),
            closed=bool(data["closed"]),
        )


def purge(threads: dict[str, Thread], now: int, retention: int) -> int:
    """Drop the threads whose last message is older than the retention; returns how many."""
    old = [case for case, t in threads.items() if t.updated_at + retention <= now]
    for case in old:
        del threads[case]
    return len(old)


def _field(payload: dict[str, Any], name: str, limit: int = 64) -> str:
    value = payload.get(name)
    if not isinstance(value, str) or not value or len(value) > limit:
        raise ProtocolError(f"consultation field {name} is missing or malformed")
    return value


def become_colleague(contact: Contact, payload: dict[str, Any]) -> None:
    """Make a new sender a colleague by the worker and device ids it claims.

    Only a device that has not introduced itself as a client (a hello, a consent receipt)
    can; the claimed ids are checked with the relay before anything is sent back.
    """
    if contact.receipt is not None or contact.mailbox_id is not None:
        raise ProtocolError("a staff message from a device that is not a colleague")
    contact.staff_worker_id = _field(payload, "worker")
    contact.device_id = _field(payload, "device")
    # A worker's device files an unknown sender unbound (awaiting a hello); a colleague is
    # bound by its first staff message instead, and never listed among the clients.
    contact.bound = True


def receive(
    threads: dict[str, Thread], contact: Contact, payload: dict[str, Any], now: int
) -> list[Event]:
    """Apply one consultation payload from a colleague's device (already in order).

    A device that has introduced itself as a client (a hello, a consent receipt) cannot
    start a consultation; the first ``consult`` from a new device makes it a colleague,
    whose claimed worker and device ids are checked with the relay before any reply.
    """
    kind, case = payload["type"], _field(payload, "case")
    if not contact.staff:
        if kind != "consult":
            raise ProtocolError("a consultation from a device that is not a colleague")
        become_colleague(contact, payload)
    thread = threads.get(case)
    if thread is not None and thread.colleague != contact.contact_id:
        raise ProtocolError("a consultation message for another colleague's case")
    if kind == "consult-close":
        if thread is None:
            return []
        thread.closed, thread.updated_at = True, now
        return [ConsultationClosed(case)]
    text = _field(payload, "text", TEXT_LIMIT)
    if kind == "consult":
        if thread is None:
            worker = contact.staff_worker_id or ""
            thread = threads[case] = Thread(case, contact.contact_id, False, worker)
        if thread.asking:
            raise ProtocolError("a question under a case this device asked")
        thread.add(False, text, now)
        return [Consultation(case, thread.worker_id, text)]
    if thread is None or not thread.asking:
        raise ProtocolError("a reply to a consultation this device did not ask")
    thread.add(False, text, now)
    return [ConsultationReply(case, thread.contact_id, text)]
