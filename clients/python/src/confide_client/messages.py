"""What travels inside the end-to-end channel, and the events the SDK hands the application.

Each envelope's plaintext is one UTF-8 JSON object (docs/integrators.md, "Inside the
channel"). The relay never sees it: it is padded and sealed by confide_crypto first::

    {"v": 1, "seq": 7, "id": "<message id>", "type": "text", "text": "..."}
    {"v": 1, "seq": 8, "id": "...", "type": "attachment", "blob": "<blob id>",
     "pointer": b64, "name": "scan.pdf", "mime": "application/pdf"}
    {"v": 1, "seq": 1, "id": "...", "type": "hello", "mailbox": b64, "capability": b64,
     "device": "<device id>", "receipt": b64, "signature": b64}   (client -> worker, first)
    {"v": 1, "seq": 9, "id": "...", "type": "consent", "receipt": b64, "signature": b64}
    {"v": 1, "seq": 10, "id": "...", "type": "revoke", "revocation": b64, "signature": b64}

Consultations between two staff devices add ``consult``, ``consult-reply`` and
``consult-close`` (:mod:`confide_client.consultations`).

Receipts and revocations are confide_crypto's canonical consent bytes with the client's
signature beside them.

``pointer`` is confide_crypto's attachment pointer (key, digest, length) for the blob.
``seq`` counts from 1 per conversation and direction; the receiver uses it to deliver each
message exactly once and in order (:mod:`confide_client.ordering`). The web app also sends
unsequenced kinds, ``delivered`` (delivery receipts), ``timer`` (disappearing-message timer)
and ``policy`` (a worker's request to review a new policy version, which the SDK learns from
the relay's notice anyway), which this SDK accepts and ignores.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from confide_crypto.attachments import AttachmentPointer

from confide_client.consent import ConsentState
from confide_client.encoding import b64d, b64e
from confide_client.errors import ProtocolError

__all__ = [
    "Attachment",
    "ConsentChanged",
    "Consultation",
    "ConsultationClosed",
    "ConsultationReply",
    "ContactJoined",
    "Event",
    "GroupMemberJoined",
    "GroupMemberRemoved",
    "GroupMessage",
    "GroupTermsChanged",
    "KeyChanged",
    "Message",
    "decode_payload",
    "encode_payload",
    "event_from_json",
    "event_to_json",
]

PAYLOAD_VERSION = 1
CONSULT_KINDS = frozenset({"consult", "consult-reply", "consult-close"})
#: Peer support groups' sequenced kinds (docs/protocol.md G§6; :mod:`confide_client.groups`).
GROUP_KINDS = frozenset(
    {"group-accept", "group-roster", "group-hello", "group-text", "group-attachment"}
    | {"group-timer", "group-capability", "group-leave", "group-consent"}
)
#: A group worker inviting a colleague's device to be a group worker, and its answer: these
#: travel in the staff channel between the two devices, not in a group's windows (G§7a).
STAFF_GROUP_KINDS = frozenset({"group-worker-invite", "group-worker-accept"})
KINDS = (
    frozenset({"text", "attachment", "hello", "consent", "revoke"})
    | CONSULT_KINDS
    | GROUP_KINDS
    | STAFF_GROUP_KINDS
)
UNSEQUENCED_KINDS = frozenset({"delivered", "timer", "policy", "group-delivered", "group-call"})


def encode_payload(seq: int, message_id: str, kind: str, fields: Mapping[str, Any]) -> bytes:
    """The plaintext of one envelope."""
    body = {"v": PAYLOAD_VERSION, "seq": seq, "id": message_id, "type": kind, **fields}
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()


def decode_payload(plaintext: bytes) -> dict[str, Any] | None:
    """Parse and minimally check a decrypted payload; anything else is a ProtocolError.

    Returns None for the web app's unsequenced kinds (delivery receipts, timers), which this
    SDK does not act on and which take no place in the conversation's order.
    """
    try:
        body = json.loads(plaintext)
    except (UnicodeDecodeError, ValueError) as exc:
        raise ProtocolError("payload is not JSON") from exc
    if not isinstance(body, dict) or body.get("v") != PAYLOAD_VERSION:
        raise ProtocolError("payload has an unknown version")
    if "seq" not in body and body.get("type") in UNSEQUENCED_KINDS:
        return None
    seq = body.get("seq")
    if isinstance(seq, bool) or not isinstance(seq, int) or seq < 1:
        raise ProtocolError("payload has no valid sequence number")
    if body.get("type") not in KINDS or not isinstance(body.get("id"), str):
        raise ProtocolError("payload has an unknown type or no id")
    return body


@dataclass(frozen=True)
class Attachment:
    """A received attachment: pass it to ``ConfideClient.download`` to get its bytes."""

    blob_id: str
    pointer: bytes
    size: int
    name: str
    mime: str


def text_field(payload: Mapping[str, Any], name: str) -> str:
    """A payload's string field, or ProtocolError."""
    value = payload.get(name)
    if not isinstance(value, str):
        raise ProtocolError(f"payload field {name} is missing or not a string")
    return value


def attachment_from(payload: Mapping[str, Any]) -> Attachment:
    """The attachment an ``attachment`` or ``group-attachment`` payload describes."""
    pointer = b64d(text_field(payload, "pointer"))
    return Attachment(
        blob_id=text_field(payload, "blob"),
        pointer=pointer,
        size=AttachmentPointer.decode(pointer).length,
        name=text_field(payload, "name"),
        mime=text_field(payload, "mime"),
    )


@dataclass(frozen=True)
class Message:
    """A message from a contact, delivered once and in the order it was sent."""

    contact_id: str
    seq: int
    message_id: str
    text: str | None = None
    attachment: Attachment | None = None


@dataclass(frozen=True)
class ContactJoined:
    """A client redeemed one of this worker's invites and consented (worker side)."""

    contact_id: str


@dataclass(frozen=True)
class ConsentChanged:
    """A conversation's consent moved (a fresh receipt, or a revocation)."""

    contact_id: str
    state: ConsentState


@dataclass(frozen=True)
class KeyChanged:
    """A contact presented a new identity key (a client who rejoined, or on a client's
    device, an envelope from a key other than its worker's).

    Sending to the contact stops, and the new key's messages wait, until the application
    has compared the new safety number and called ``ConfideClient.confirm_key_change``;
    messages from the old key keep arriving until then.
    """

    contact_id: str


@dataclass(frozen=True)
class Consultation:
    """A worker's (de-identified) question or follow-up, on the supervisor's device."""

    case: str
    from_worker: str
    text: str


@dataclass(frozen=True)
class ConsultationReply:
    """A supervisor's answer, on the asking worker's device, with the contact it is about."""

    case: str
    contact_id: str | None
    text: str


@dataclass(frozen=True)
class ConsultationClosed:
    """The other side closed the consultation."""

    case: str


@dataclass(frozen=True)
class GroupMessage:
    """A text or attachment from another member of a group, once and in that member's order.

    ``member_id`` and ``name`` are what the group shows of the sender: the member id the
    roster gives it and the display name it chose (never its device or contact details).
    """

    group_id: str
    member_id: str
    name: str
    message_id: str
    text: str | None = None
    attachment: Attachment | None = None


@dataclass(frozen=True)
class GroupMemberJoined:
    """A signed roster added a member (or, on the newcomer's device, showed it the group)."""

    group_id: str
    member_id: str
    name: str


@dataclass(frozen=True)
class GroupMemberRemoved:
    """A member is gone from a group: ``reason`` is "removed", "left" or "closed"."""

    group_id: str
    member_id: str
    name: str
    reason: str


@dataclass(frozen=True)
class GroupTermsChanged:
    """A group worker (``member_id``, ``name``) named new group terms in a signed roster.

    On a client's device: read them (``groups.terms_to_consent``) and agree with
    ``groups.consent_to_terms`` or leave the group (docs/protocol.md G9, "New group terms").
    """

    group_id: str
    member_id: str
    name: str
    version: int


GroupEvent = GroupMessage | GroupMemberJoined | GroupMemberRemoved | GroupTermsChanged

Event = (
    Message
    | ContactJoined
    | ConsentChanged
    | KeyChanged
    | Consultation
    | ConsultationReply
    | ConsultationClosed
    | GroupMessage
    | GroupMemberJoined
    | GroupMemberRemoved
    | GroupTermsChanged
)


def _attachment_json(a: Attachment | None) -> dict[str, Any] | None:
    if a is None:
        return None
    return {
        "blob": a.blob_id,
        "pointer": b64e(a.pointer),
        "size": a.size,
        "name": a.name,
        "mime": a.mime,
    }


def _attachment_from(raw: dict[str, Any] | None) -> Attachment | None:
    if raw is None:
        return None
    return Attachment(raw["blob"], b64d(raw["pointer"]), int(raw["size"]), raw["name"], raw["mime"])


def _group_event_json(event: GroupEvent) -> dict[str, Any]:
    out: dict[str, Any] = {"group": event.group_id, "member": event.member_id, "name": event.name}
    if isinstance(event, GroupMessage):
        attachment = _attachment_json(event.attachment)
        return {
            "kind": "group-message",
            "id": event.message_id,
            "text": event.text,
            "attachment": attachment,
            **out,
        }
    if isinstance(event, GroupMemberJoined):
        return {"kind": "group-member-joined", **out}
    if isinstance(event, GroupTermsChanged):
        return {"kind": "group-terms-changed", "version": event.version, **out}
    return {"kind": "group-member-removed", "reason": event.reason, **out}


def _group_event_from(data: dict[str, Any]) -> GroupEvent:
    group, member, name = str(data["group"]), str(data["member"]), str(data["name"])
    if data["kind"] == "group-message":
        attachment = _attachment_from(data["attachment"])
        return GroupMessage(group, member, name, str(data["id"]), data["text"], attachment)
    if data["kind"] == "group-member-joined":
        return GroupMemberJoined(group, member, name)
    if data["kind"] == "group-terms-changed":
        return GroupTermsChanged(group, member, name, int(data["version"]))
    return GroupMemberRemoved(group, member, name, str(data["reason"]))


def event_to_json(event: Event) -> dict[str, Any]:
    """A JSON-ready form, so events not yet taken by the application survive a restart."""
    if isinstance(event, GroupEvent):
        return _group_event_json(event)
    if isinstance(event, Message):
        a = event.attachment
        return {
            "kind": "message",
            "contact": event.contact_id,
            "seq": event.seq,
            "id": event.message_id,
            "text": event.text,
            "attachment": None
            if a is None
            else {
                "blob": a.blob_id,
                "pointer": b64e(a.pointer),
                "size": a.size,
                "name": a.name,
                "mime": a.mime,
            },
        }
    if isinstance(event, ContactJoined):
        return {"kind": "joined", "contact": event.contact_id}
    if isinstance(event, KeyChanged):
        return {"kind": "key-changed", "contact": event.contact_id}
    if isinstance(event, Consultation):
        return {
            "kind": "consultation",
            "case": event.case,
            "from": event.from_worker,
            "text": event.text,
        }
    if isinstance(event, ConsultationReply):
        return {
            "kind": "consultation-reply",
            "case": event.case,
            "contact": event.contact_id,
            "text": event.text,
        }
    if isinstance(event, ConsultationClosed):
        return {"kind": "consultation-closed", "case": event.case}
    return {"kind": "consent", "contact": event.contact_id, "state": event.state.value}


def event_from_json(data: dict[str, Any]) -> Event:
    """Read back what :func:`event_to_json` wrote."""
    kind = data["kind"]
    if kind.startswith("group-"):
        return _group_event_from(data)
    if kind == "consultation":
        return Consultation(str(data["case"]), str(data["from"]), str(data["text"]))
    if kind == "consultation-reply":
        return ConsultationReply(str(data["case"]), data["contact"], str(data["text"]))
    if kind == "consultation-closed":
        return ConsultationClosed(str(data["case"]))
    contact = str(data["contact"])
    if kind == "joined":
        return ContactJoined(contact)
    if kind == "key-changed":
        return KeyChanged(contact)
    if kind == "consent":
        return ConsentChanged(contact, ConsentState(data["state"]))
    raw = data["attachment"]
    attachment = (
        None
        if raw is None
        else Attachment(
            raw["blob"], b64d(raw["pointer"]), int(raw["size"]), raw["name"], raw["mime"]
        )
    )
    return Message(contact, int(data["seq"]), str(data["id"]), data["text"], attachment)
