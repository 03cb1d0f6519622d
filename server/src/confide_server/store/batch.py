"""What one group commit decides, whatever the database: requests in, rows and answers out.

No I/O here. A backend (store/batch_sqlite.py, store/batch_postgres.py) reads what the
database knows about a batch's sends into a ``Lookup`` (which capabilities are live, how
deep their mailboxes' queues are, which idempotency keys were already used), hands it to
``plan_batch``, and writes the rows of the resulting ``Plan`` in the same transaction.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from confide_server.errors import CapabilityRejected, QueueFull, RelayError


@dataclass(slots=True, frozen=True)
class Delivery:
    """An envelope just made durable, handed to fan-out for live delivery."""

    mailbox_id: bytes
    envelope_id: bytes
    body: bytes


@dataclass(slots=True, frozen=True)
class SendResult:
    envelope_id: bytes | None
    duplicate: bool


# How the writer answers a request once its transaction has committed (or failed). A plain
# call, not a future: a future and its done-callback cost measurably more per request on
# the hot path, twice per message (the send and the ack; docs/benchmarks.md, lab notebook).
SendReply = Callable[[SendResult | RelayError], None]
AckReply = Callable[[RelayError | None], None]


@dataclass(slots=True)
class SendRequest:
    mailbox_id: bytes
    capability_hash: bytes
    dedupe_key: bytes
    body: bytes
    expires_at: int
    reply: SendReply = field(repr=False)


@dataclass(slots=True)
class AckRequest:
    mailbox_id: bytes
    envelope_ids: Sequence[bytes]
    reply: AckReply = field(repr=False)


Request = SendRequest | AckRequest


class RetryBatch(Exception):
    """The batch broke a uniqueness constraint it had checked (SQLite): nothing was written,
    and the writer tries the batch again. (Not the HTTP 409 ``errors.Conflict``.)"""


@dataclass(slots=True)
class Lookup:
    """What the database said about a batch's sends, read inside the batch's transaction."""

    valid: dict[bytes, bytes] = field(default_factory=dict)  # capability hash -> mailbox
    depth: dict[bytes, int] = field(default_factory=dict)  # mailbox -> queued envelopes
    # Idempotency keys known to be claimed already; may be incomplete (store/idempotency.py).
    seen: set[bytes] = field(default_factory=set)


@dataclass(slots=True)
class Plan:
    """What one transaction will write, and what each request will be told afterwards."""

    envelope_rows: list[tuple[bytes, bytes, bytes, int]] = field(default_factory=list)
    key_rows: list[tuple[bytes, int]] = field(default_factory=list)  # (key, retry deadline)
    delete_rows: list[tuple[bytes, bytes]] = field(default_factory=list)
    outcomes: list[tuple[SendRequest, SendResult | RelayError]] = field(default_factory=list)
    deliveries: list[Delivery] = field(default_factory=list)


def plan_batch(
    sends: list[SendRequest],
    acks: list[AckRequest],
    lookup: Lookup,
    max_depth: int,
    deadline: int,
) -> Plan:
    """Decide every request of a batch, in arrival order, against ``lookup``.

    Backends may call this on their own thread (SQLite), so it touches nothing but its
    arguments; ``lookup`` is updated as envelopes are planned, so two sends in one batch with
    the same idempotency key queue one envelope. ``deadline`` is the latest retry deadline
    of this batch's keys (store/idempotency.py); a key's own is never after its envelope's
    expiry. The answers about idempotency are provisional until the backend's claim.
    """
    plan = Plan()
    valid, seen, depth = lookup.valid, lookup.seen, lookup.depth
    # One call to the kernel's random source for the whole batch, not one per envelope.
    ids = os.urandom(16 * len(sends))
    for n, send in enumerate(sends):
        envelope_id = ids[16 * n : 16 * n + 16]
        plan.outcomes.append(
            (send, _decide(send, envelope_id, valid, seen, depth, max_depth, deadline, plan))
        )
    plan.delete_rows = [(ack.mailbox_id, i) for ack in acks for i in ack.envelope_ids]
    return plan


def _decide(
    send: SendRequest,
    envelope_id: bytes,
    valid: dict[bytes, bytes],
    seen: set[bytes],
    depth: dict[bytes, int],
    max_depth: int,
    deadline: int,
    plan: Plan,
) -> SendResult | RelayError:
    # An unknown mailbox and a wrong capability get the same answer, so a sender cannot
    # probe which mailbox ids exist.
    if valid.get(send.capability_hash) != send.mailbox_id:
        return CapabilityRejected("the capability does not allow sending to this mailbox")
    if send.dedupe_key in seen:
        return SendResult(envelope_id=None, duplicate=True)
    queued = depth.get(send.mailbox_id, 0)
    if queued >= max_depth:
        return QueueFull("the recipient's queue is full; try again later")
    seen.add(send.dedupe_key)
    depth[send.mailbox_id] = queued + 1
    plan.key_rows.append((send.dedupe_key, min(send.expires_at, deadline)))
    plan.envelope_rows.append((envelope_id, send.mailbox_id, send.body, send.expires_at))
    plan.deliveries.append(Delivery(send.mailbox_id, envelope_id, send.body))
    return SendResult(envelope_id=envelope_id, duplicate=False)
