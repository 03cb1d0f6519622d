"""Idempotent sends: the one contract that both storage backends keep.

A send carries a key, SHA-256 of (mailbox id, capability hash, client message id)
(services/mailbox.py). The contract, tested against SQLite and PostgreSQL alike by
tests/server/test_store_contract.py:

1. The first send with a key whose batch commits *claims* the key. Every other send with
   that key, in the same batch or a later one, through any relay process of the deployment,
   is answered "duplicate" and queues nothing, until the key's retry deadline.
2. The claim is made inside the batch's transaction, and a sender is answered only once the
   batch is durable, so every answer ("accepted" or "duplicate") is final. A batch that
   rolls back claims nothing.
3. A key's retry deadline is the envelope's expiry or the retry window after the send
   (``CONFIDE_IDEMPOTENCY_WINDOW_SECONDS``), whichever comes first, rounded down to the
   minute like every stored time. After it the key is forgotten, in memory and on disk, and
   a send with it is new. The window is how long a client may retry a send it never saw
   answered; a retry after it is queued again, and the recipient's client drops the repeat
   (its ratchet refuses a message key it has used).
4. Within a batch the sends keep their order: the first with a key is the one queued.

Every batch goes the same way on both backends: ``plan_batch`` (store/batch.py) plans from
what the backend knows beforehand (``Lookup.seen``, which may be incomplete), so the plan's
answers are provisional; the backend then claims the planned keys in the transaction and
``settle`` turns the sends whose keys turned out to be taken into duplicates, before
anything is answered.

- **SQLite** is served by one relay process, which store/filelock.py enforces. Its claims
  are in memory (``Ledger``), as an index on a random key dirtied a page per message (a
  large share of a transaction's cost: docs/benchmarks.md, lab notebook); each committed
  batch appends its keys to ``sent_log`` in arrival order, and the ledger is loaded from
  there at start. Its
  ``Lookup.seen`` is complete, so ``settle`` finds nothing to change. Memory: about 136
  bytes per key, for the keys of the sends accepted within the last retry window (plus the
  minute of rounding and the minute between purges), whatever the envelopes' TTL.
- **PostgreSQL** may be shared by several processes. The claim is the insert into
  ``sent_messages`` (``ON CONFLICT DO NOTHING RETURNING``) in the statement that queues the
  envelopes; a key another process commits at the same moment makes it wait, then count as
  taken. ``Lookup.seen`` is empty (a lookup first cost a round trip and a second search of
  the index).
"""

from __future__ import annotations

from collections.abc import Iterable

from confide_server.clock import minute_expiry
from confide_server.store.batch import Plan, SendResult

# SQLite's keys live in sent_log, PostgreSQL's in sent_messages (migration 0004 moved what
# SQLite had kept in sent_messages before sent_log existed); the sweeper deletes expired
# records from the table of its backend only.
SQLITE_TABLE = "sent_log"
POSTGRES_TABLE = "sent_messages"

# The ledger forgets expired keys at most this often (a pass over the groups of expiries).
PURGE_EVERY = 60


def records_table(dialect: str) -> str:
    """The table that holds this backend's idempotency records."""
    return SQLITE_TABLE if dialect == "sqlite" else POSTGRES_TABLE


def retry_deadline(now: float, window: int) -> int:
    """The latest retry deadline of a key sent at ``now`` (contract point 3)."""
    return minute_expiry(now, window)


class Ledger:
    """SQLite's claimed keys in memory, grouped by their retry deadline."""

    def __init__(self) -> None:
        self._keys: set[bytes] = set()
        self._by_deadline: dict[int, list[bytes]] = {}
        self._purged_at = 0

    def __contains__(self, key: bytes) -> bool:
        return key in self._keys

    def __len__(self) -> int:
        return len(self._keys)

    def known(self, keys: Iterable[bytes]) -> set[bytes]:
        """The keys among ``keys`` already claimed (the plan's ``Lookup.seen``)."""
        return {key for key in keys if key in self._keys}

    def unclaimed(self, keys: Iterable[bytes]) -> set[bytes]:
        """The claim, inside the transaction: which of the planned keys are still free."""
        return {key for key in keys if key not in self._keys}

    def add(self, key: bytes, deadline: int) -> None:
        """Record a key once its batch has committed; a known key keeps its first deadline."""
        if key not in self._keys:
            self._keys.add(key)
            self._by_deadline.setdefault(deadline, []).append(key)

    def purge(self, now: int, latest: int) -> None:
        """Forget keys whose deadline has passed (as the sweeper deletes their rows), and
        keys whose deadline is after ``latest``, the furthest one a send made now gets: only
        a wall clock that ran ahead and was put back stamps those, and they would otherwise
        stay beyond the bound on memory."""
        if abs(now - self._purged_at) < PURGE_EVERY:
            return
        self._purged_at = now
        for deadline in [d for d in self._by_deadline if d <= now or d > latest]:
            self._keys.difference_update(self._by_deadline.pop(deadline))


def settle(plan: Plan, fresh: set[bytes]) -> dict[bytes, int]:
    """After the claim: answer "duplicate" to the planned sends whose keys were not
    ``fresh`` (taken by an earlier batch or another process) and deliver nothing for them.
    Returns, per mailbox, how many planned envelopes are not to be queued.
    """
    if len(fresh) == len(plan.key_rows):
        return {}  # every planned key was free: the plan stands (always so on SQLite)
    dropped: set[bytes] = set()
    not_queued: dict[bytes, int] = {}
    for n, (send, outcome) in enumerate(plan.outcomes):
        if (
            isinstance(outcome, SendResult)
            and outcome.envelope_id is not None
            and send.dedupe_key not in fresh
        ):
            dropped.add(outcome.envelope_id)
            not_queued[send.mailbox_id] = not_queued.get(send.mailbox_id, 0) + 1
            plan.outcomes[n] = (send, SendResult(envelope_id=None, duplicate=True))
    plan.key_rows = [row for row in plan.key_rows if row[0] in fresh]
    plan.envelope_rows = [row for row in plan.envelope_rows if row[0] not in dropped]
    plan.deliveries = [d for d in plan.deliveries if d.envelope_id not in dropped]
    return not_queued
