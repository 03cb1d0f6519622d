"""The writer's PostgreSQL backend: a whole group commit in two round trips on asyncpg.

Through SQLAlchemy a batch took seven round trips (BEGIN, two lookups, three bulk
statements, COMMIT), each waited for in turn while senders waited for their answers. Here
the writer keeps one pooled connection and talks to asyncpg directly with arrays:

1. one SELECT reads the live capabilities with their queue depths, and the idempotency keys
   already used;
2. one statement inserts the idempotency records and the envelopes and deletes the
   acknowledged envelopes, as data-modifying CTEs, committed on its own.

The two need no explicit transaction: a single statement is atomic, and the lookup before it
saw no more than it would have inside a READ COMMITTED transaction. A key that another
relay process committed in between makes the statement fail whole, and the batch is retried.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from confide_server.store.batch import Conflict, Lookup, Plan

UNIQUE_VIOLATION = "23505"

_LOOKUP = """
SELECT c.secret_hash, c.mailbox_id,
       (SELECT count(*) FROM envelopes e WHERE e.mailbox_id = c.mailbox_id)
  FROM capabilities c
 WHERE c.secret_hash = ANY($1::bytea[]) AND NOT c.revoked
   AND (c.expires_at IS NULL OR c.expires_at > $2::bigint)
UNION ALL
SELECT s.key, NULL, NULL FROM sent_messages s WHERE s.key = ANY($3::bytea[])
"""

# WITH ORDINALITY and ORDER BY keep the batch's order in the envelopes' sequence numbers,
# which is the order of delivery.
_WRITE = """
WITH sent AS (
  INSERT INTO sent_messages (key, expires_at)
  SELECT * FROM unnest($1::bytea[], $2::bigint[])
), acked AS (
  DELETE FROM envelopes
   WHERE (mailbox_id, id) IN (SELECT * FROM unnest($3::bytea[], $4::bytea[]))
)
INSERT INTO envelopes (id, mailbox_id, body, expires_at)
SELECT i, m, b, x
  FROM unnest($5::bytea[], $6::bytea[], $7::bytea[], $8::bigint[])
       WITH ORDINALITY AS t(i, m, b, x, n)
 ORDER BY n
"""


def _columns(rows: list[Any], width: int) -> list[list[Any]]:
    if not rows:
        return [[] for _ in range(width)]
    return [list(column) for column in zip(*rows, strict=True)]


class PostgresBatches:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._conn: AsyncConnection | None = None
        self._driver: Any = None

    async def apply(
        self, hashes: list[bytes], keys: list[bytes], now: int, plan: Callable[[Lookup], Plan]
    ) -> Plan:
        """Run one batch; raises Conflict if an idempotency key was taken meanwhile."""
        driver = await self._connection()
        try:
            lookup = Lookup()
            if hashes:
                for first, mailbox_id, queued in await driver.fetch(_LOOKUP, hashes, now, keys):
                    if mailbox_id is None:
                        lookup.seen.add(first)
                    else:
                        lookup.valid[first] = mailbox_id
                        lookup.depth[mailbox_id] = queued
            result = plan(lookup)
            if result.dedupe_rows or result.envelope_rows or result.delete_rows:
                await driver.execute(
                    _WRITE,
                    *_columns(result.dedupe_rows, 2),
                    *_columns(result.delete_rows, 2),
                    *_columns(result.envelope_rows, 4),
                )
        except Exception as exc:
            if getattr(exc, "sqlstate", None) == UNIQUE_VIOLATION:
                raise Conflict from None
            # The connection may be broken; the next batch takes a fresh one from the pool.
            await self._discard()
            raise
        return result

    async def close(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(Exception):
                await self._conn.close()
        self._conn = self._driver = None

    async def _connection(self) -> Any:
        if self._driver is None:
            conn = await self._engine.connect()
            raw = await conn.get_raw_connection()
            self._conn, self._driver = conn, raw.driver_connection
        return self._driver

    async def _discard(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(Exception):
                await self._conn.invalidate()
        await self.close()
