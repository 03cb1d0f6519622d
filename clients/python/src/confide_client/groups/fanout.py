"""Pairwise fan-out: one sealed, padded envelope per other member (docs/protocol.md G§1).

Every group payload goes to each recipient over the one-to-one session with it, with that
pair's own sequence number, and into the ordinary outbox, so the relay sees what it sees of
a one-to-one send: an unauthenticated envelope, a mailbox and a capability. Recipients are
shuffled for each message, which blunts (does not remove) what the order of a burst tells a
relay watching live (G§11). A payload for a member with no session yet (a newer member
whose first envelope has not arrived) waits here until one exists (G§4 step 5).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from confide_crypto.keys import Rng

from confide_client.contact import contact_id_for
from confide_client.encoding import b64d, b64e
from confide_client.groups.model import Group, Member
from confide_client.messages import encode_payload
from confide_client.outbox import OutboxEntry
from confide_client.state import ClientState

__all__ = ["DESTINATION_PREFIX", "Fanout", "destination", "resolve"]

#: Outbox entries for group members are filed under "g:<group id>:<member key's id>".
DESTINATION_PREFIX = "g:"


def destination(group: Group, member: Member) -> str:
    return f"{DESTINATION_PREFIX}{group.group_id}:{contact_id_for(member.identity_key)}"


def resolve(state: ClientState, name: str) -> tuple[bytes, bytes] | None:
    """The mailbox and capability an outbox entry for a group member goes to now, if any."""
    _, group_id, key_id = name.split(":", 2)
    group = state.groups.get(group_id)
    if group is None:
        return None
    candidates = [*group.members.values(), *([group.inviter] if group.inviter else [])]
    for member in candidates:
        if contact_id_for(member.identity_key) == key_id:
            return member.mailbox, member.capability
    farewell = group.departed.get(name)
    return None if farewell is None else (b64d(farewell[0]), b64d(farewell[1]))


class Fanout:
    """Seals group payloads for members and queues them in the device's outbox."""

    def __init__(self, state: ClientState, rng: Rng, notify: Callable[[], None]) -> None:
        self._state = state
        self._rng = rng
        self._notify = notify

    def new_id(self) -> str:
        return b64e(self._rng(16))

    def has_session(self, member: Member) -> bool:
        return member.identity_key in self._state.device.sessions

    def send(
        self,
        group: Group,
        member: Member,
        kind: str,
        fields: Mapping[str, Any],
        message_id: str | None = None,
    ) -> str:
        """Seal one payload for one member now, or keep it until there is a session."""
        item = {"kind": kind, "id": message_id or self.new_id(), "fields": dict(fields)}
        if self.has_session(member):
            self._seal(group, member, item)
        else:
            member.waiting.append(item)
        return str(item["id"])

    def to_members(
        self, group: Group, members: list[Member], kind: str, fields: Mapping[str, Any]
    ) -> str:
        """The same payload (one message id) to each of ``members``, in a random order."""
        message_id = self.new_id()
        for member in self._shuffled(members):
            self.send(group, member, kind, fields, message_id)
        return message_id

    def flush(self, group: Group, member: Member) -> None:
        """Seal what waited for a session with ``member``, now that one exists."""
        if member.waiting and self.has_session(member):
            waiting, member.waiting = member.waiting, []
            for item in waiting:
                self._seal(group, member, item)

    def receipt(self, group: Group, member: Member, message_ids: list[str]) -> None:
        """A ``group-delivered`` receipt back to the sender (unsequenced, G§6 and G§10)."""
        if not self.has_session(member):
            return
        body = {
            "v": 1,
            "id": self.new_id(),
            "type": "group-delivered",
            "group": group.group_id,
            "ids": message_ids,
        }
        plaintext = json.dumps(body, separators=(",", ":")).encode()
        envelope = self._state.device.encrypt_to(member.identity_key, plaintext, rng=self._rng)
        self._state.outbox.put(OutboxEntry(self.new_id(), destination(group, member), envelope))
        self._notify()

    def _seal(self, group: Group, member: Member, item: dict[str, Any]) -> None:
        fields = {"group": group.group_id, **item["fields"]}
        plaintext = encode_payload(member.next_send_seq, item["id"], item["kind"], fields)
        envelope = self._state.device.encrypt_to(member.identity_key, plaintext, rng=self._rng)
        member.next_send_seq += 1
        # Each envelope has its own outbox id: the relay's idempotency is per capability, and
        # the outbox forgets an entry by its id once the relay holds it.
        entry = OutboxEntry(self.new_id(), destination(group, member), envelope)
        self._state.outbox.put(entry)
        self._notify()

    def _shuffled(self, members: list[Member]) -> list[Member]:
        # Fisher-Yates with the device's randomness (tests pin it).
        out = list(members)
        for i in range(len(out) - 1, 0, -1):
            j = int.from_bytes(self._rng(4), "big") % (i + 1)
            out[i], out[j] = out[j], out[i]
        return out
