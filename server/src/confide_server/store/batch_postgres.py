"""The writer's PostgreSQL backend: a whole group commit in two round trips on asyncpg.

Through SQLAlchemy a batch takes seven round trips (BEGIN, two lookups, three bulk
statements, COMMIT), each waited for in turn while senders waited for their answers. Here
the writer keeps one pooled connection and talks to asyncpg directly with arrays:

1. one SELECT reads the live capabilities (and, every few seconds, the queue depths);
2. one statement inserts the idempotency records, queues the envelopes whose records were
   new and deletes the acknowledged envelopes, as data-modifying CTEs, committed on its own.

The insert of the idempotency records is the claim of store/idempotency.py (``ON CONFLICT
DO NOTHING RETURNING``), not a lookup before it: the unique index is searched once instead
of twice, a round trip goes, and a key that another relay process is committing at the same
moment makes this insert wait for it and then count as taken, so no batch has to be
retried. Queue depths follow store/depth.py.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from typing import Any

from confide_server.clock import Clock
from confide_server.store import idempotency
from confide_server.store.batch import Lookup, Plan
from confide_server.store.depth import Depths
from confide_server.store.sqla_async import AsyncConnection, AsyncEngine

_LOOKUP = """
SELECT c.secret_hash, c.mailbox_id
  FROM capabilities c
 WHERE c.secret_hash = ANY($1::bytea[]) AND NOT c.revoked
   AND (c.expires_at IS NULL OR c.expires_at > $2::bigint)
"""

# Queue depths are counted now and then, not in every batch: see store/depth.py.
_DEPTHS = """
SELECT mailbox_id, count(*) FROM envelopes
 WHERE mailbox_id = ANY($1::bytea[]) GROUP BY mailbox_id
"""

# asyncpg prepares each statement once and, after five runs, PostgreSQL may settle on a
# generic plan costed for the table as it was then. Planned against an empty
# ``sent_messages``, the idempotency lookup became a sequential scan and stayed one, ever
# slower as the table grew (docs/benchmarks.md, lab notebook), until an ANALYZE replaces
# the plan, which never comes where autovacuum is off. The writer's statements take arrays of
# a different length in every batch, so they are planned for each batch (a fraction of a
# millisecond) against the tables as they are.
_SESSION = "SET plan_cache_mode = force_custom_plan"

# The plan's idempotency rows ($1, $2) and envelope rows ($5 to $8) are parallel: row n of
# each belongs to the same send. An envelope is queued only if its key was new; the keys
# that were come back. WITH ORDINALITY and ORDER BY keep the batch's order in the
# envelopes' sequence numbers, which is the order of delivery.
_WRITE = """
WITH sent AS (
  INSERT INTO sent_messages (key, expires_at)
  SELECT * FROM unnest($1::bytea[], $2::bigint[])
  ON CONFLICT (key) DO NOTHING
  RETURNING key
), acked AS (
  DELETE FROM envelopes
   WHERE (mailbox_id, id) IN (SELECT * FROM unnest($3::bytea[], $4::bytea[]))
), queued AS (
  INSERT INTO envelopes (id, mailbox_id, body, expires_at)
  SELECT i, m, b, x
    FROM unnest($5::bytea[], $6::bytea[], $7::bytea[], $8::bigint[], $1::bytea[])
         WITH ORDINALITY AS t(i, m, b, x, k, n)
   WHERE k IN (SELECT key FROM sent)
   ORDER BY n
)
SELECT key FROM sent
"""


def _columns(rows: list[Any], width: int) -> list[list[Any]]:
    if not rows:
        return [[] for _ in range(width)]
    return [list(column) for column in zip(*rows, strict=True)]


class PostgresBatches:
    def __init__(self, engine: AsyncEngine, monotonic: Clock = time.monotonic) -> None:
        self._engine = engine
        self._conn: AsyncConnection | None = None
        self._driver: Any = None
        self._depths = Depths(monotonic)

    def open(self) -> None:
        """Nothing to hold: several processes may share a PostgreSQL database."""

    def room_for(self, incoming: int) -> bool:
        """PostgreSQL keeps its own disk: its writes fail, and recover, by themselves."""
        return True

    def writable(self) -> bool:
        return True

    async def apply(
        self, hashes: list[bytes], keys: list[bytes], now: int, plan: Callable[[Lookup], Plan]
    ) -> Plan:
        """Run one batch: the sends whose keys were already claimed come back as duplicates."""
        del keys  # claimed by the insert (ON CONFLICT), not looked up first
        driver = await self._connection()
        try:
            lookup = Lookup()
            if hashes:
                lookup.valid = dict(await driver.fetch(_LOOKUP, hashes, now))
                lookup.depth = await self._depths.of(
                    set(lookup.valid.values()),
                    lambda stale: self._count(driver, stale),
                )
            result = plan(lookup)
            if result.key_rows or result.delete_rows:
                fresh = await driver.fetch(
                    _WRITE,
                    *_columns(result.key_rows, 2),
                    *_columns(result.delete_rows, 2),
                    *_columns(result.envelope_rows, 4),
                )
                not_queued = idempotency.settle(result, {row[0] for row in fresh})
                for mailbox_id, count in not_queued.items():
                    lookup.depth[mailbox_id] -= count
        except Exception:
            self._depths.forget()  # what was counted may not have been written
            # The connection may be broken; the next batch takes a fresh one from the pool.
            await self._discard()
            raise
        self._depths.planned(lookup.depth)
        return result

    def when_durable(self, callback: Callable[[BaseException | None], None]) -> None:
        """A batch is durable when its COMMIT returns: at once."""
        callback(None)

    @staticmethod
    async def _count(driver: Any, mailboxes: list[bytes]) -> dict[bytes, int]:
        return dict(await driver.fetch(_DEPTHS, mailboxes))

    async def close(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(Exception):
                await self._driver.execute("RESET plan_cache_mode")
            with contextlib.suppress(Exception):
                await self._conn.close()
        self._conn = self._driver = None

    async def _connection(self) -> Any:
        if self._driver is None:
            conn = await self._engine.connect()
            raw = await conn.get_raw_connection()
            self._conn, self._driver = conn, raw.driver_connection
            await self._driver.execute(_SESSION)
        return self._driver

    async def _discard(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(Exception):
                await self._conn.invalidate()
        await self.close()
