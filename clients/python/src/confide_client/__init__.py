"""Confide's Python SDK: one device's end of an end-to-end encrypted conversation.

The public API is everything named in ``__all__``; the modules behind it may change. A worker
device enrols, creates invites and talks to the clients who join; a client device joins with
an invite, consents to the organisation's policy, and talks to its worker::

    from confide_client import ConfideClient, HttpTransport

    worker = ConfideClient.create("worker.state", passphrase, HttpTransport(relay_url))
    await worker.enrol(enrolment_code)
    async with worker:
        print(invite_link(relay_url, await worker.create_invite()))
        event = await worker.next_event()

docs/integrators.md walks through it, including :mod:`confide_client.testing`, which runs
the real relay inside a test (the ``testing`` extra).
"""

from confide_client.client import ConfideClient, ContactInfo, InviteInfo
from confide_client.consent import ConsentState
from confide_client.errors import (
    ConfideError,
    ConsentError,
    ConsentRequired,
    ConsentRevoked,
    KeyChangePending,
    ProtocolError,
    RelayError,
    RelayRejected,
    RelayUnavailable,
    StateError,
    UnknownContact,
)
from confide_client.groups.manager import (
    GroupInfo,
    MemberInfo,
    group_invite_link,
    parse_group_invite,
)
from confide_client.invites import invite_link, parse_invite
from confide_client.messages import (
    Attachment,
    ConsentChanged,
    Consultation,
    ConsultationClosed,
    ConsultationReply,
    ContactJoined,
    Event,
    GroupMemberJoined,
    GroupMemberRemoved,
    GroupMessage,
    GroupTermsChanged,
    KeyChanged,
    Message,
)
from confide_client.receipts import ConsentTerms
from confide_client.state import Role
from confide_client.transport.base import MintedCapability, Policy, StoredConsent, Transport
from confide_client.transport.http import HttpTransport

__all__ = [
    "Attachment",
    "ConfideClient",
    "ConfideError",
    "ConsentChanged",
    "ConsentError",
    "ConsentRequired",
    "ConsentRevoked",
    "ConsentState",
    "ConsentTerms",
    "Consultation",
    "ConsultationClosed",
    "ConsultationReply",
    "ContactInfo",
    "ContactJoined",
    "Event",
    "GroupInfo",
    "GroupMemberJoined",
    "GroupMemberRemoved",
    "GroupMessage",
    "GroupTermsChanged",
    "HttpTransport",
    "InviteInfo",
    "KeyChangePending",
    "KeyChanged",
    "MemberInfo",
    "Message",
    "MintedCapability",
    "Policy",
    "ProtocolError",
    "RelayError",
    "RelayRejected",
    "RelayUnavailable",
    "Role",
    "StateError",
    "StoredConsent",
    "Transport",
    "UnknownContact",
    "group_invite_link",
    "invite_link",
    "parse_group_invite",
    "parse_invite",
]
