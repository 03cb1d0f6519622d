"""The audit trail: admin and security events in a hash chain that proves itself.

Each event commits to the hash of the one before it::

    hash = SHA-256(b"Confide audit v1\\x00" || prev_hash || canonical JSON of the event)

where the event is its hour, action, actor, subject and detail. The first event's parent is
32 zero bytes, or, once the sweeper has removed events past their retention, the hash of
the newest event removed (kept in ``audit_checkpoints``). ``verify`` walks the chain in id
order and names the first event that was altered (its hash does not match its contents),
removed (the next event's parent is no event present) or reordered (its parent is an event
that comes after it).

What an event may hold: an action name, the acting worker's opaque id (or "cli"), the
opaque id it acted on, and a short detail such as a role or a setting's value. Never
message metadata, never anything about a client beyond an opaque device id.

The chain proves integrity against anyone who edits rows without recomputing every later
hash. Someone who can rewrite the whole table can rebuild the chain too: the head hash that
``confide audit verify`` prints, kept somewhere else, is what shows that.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import orjson
from sqlalchemy import delete, insert, select, text, update

from confide_server.clock import hour_of
from confide_server.errors import RelayError
from confide_server.store.schema import audit_checkpoints, audit_events
from confide_server.store.sqla_async import AsyncConnection

TAG = b"Confide audit v1\x00"
GENESIS = bytes(32)
# Serialises appends on PostgreSQL (SQLite's writers already hold the database's one lock).
_PG_LOCK_KEY = 0x636F6E66  # "conf"


@dataclass(frozen=True, slots=True)
class Event:
    id: int
    hour: int
    action: str
    actor: str
    subject: str | None
    detail: str | None
    prev_hash: bytes
    hash: bytes

    def as_json(self) -> dict[str, object]:
        return {
            "id": self.id,
            "hour": self.hour,
            "action": self.action,
            "actor": self.actor,
            "subject": self.subject,
            "detail": self.detail,
            "prev_hash": self.prev_hash.hex(),
            "hash": self.hash.hex(),
        }


class ChainBroken(RelayError):
    """``verify`` found the first event that does not belong where it is."""

    slug = "audit-chain-broken"
    title = "The audit chain is broken"

    def __init__(self, event_id: int, how: str) -> None:
        super().__init__(f"audit event {event_id} {how}")
        self.event_id = event_id


def event_hash(
    prev_hash: bytes,
    hour: int,
    action: str,
    actor: str,
    subject: str | None,
    detail: str | None,
) -> bytes:
    body = orjson.dumps(
        {"hour": hour, "action": action, "actor": actor, "subject": subject, "detail": detail},
        option=orjson.OPT_SORT_KEYS,
    )
    return hashlib.sha256(TAG + prev_hash + body).digest()


def own_hash(event: Event) -> bytes:
    return event_hash(
        event.prev_hash, event.hour, event.action, event.actor, event.subject, event.detail
    )


async def append(
    conn: AsyncConnection,
    now: float,
    action: str,
    actor: str,
    subject: str | None = None,
    detail: str | None = None,
) -> None:
    """Add one event at the head of the chain, inside the caller's transaction."""
    if conn.dialect.name == "postgresql":
        await conn.execute(text(f"SELECT pg_advisory_xact_lock({_PG_LOCK_KEY})"))
    hour = hour_of(now)
    # Insert first: on SQLite that takes the write lock, so the head read next is final.
    event_id = await conn.scalar(
        insert(audit_events)
        .values(
            hour=hour,
            action=action,
            actor=actor,
            subject=subject,
            detail=detail,
            prev_hash=GENESIS,
            hash=GENESIS,
        )
        .returning(audit_events.c.id)
    )
    prev = await conn.scalar(
        select(audit_events.c.hash)
        .where(audit_events.c.id < event_id)
        .order_by(audit_events.c.id.desc())
        .limit(1)
    )
    if prev is None:
        prev = await _checkpoint(conn)
    digest = event_hash(prev, hour, action, actor, subject, detail)
    await conn.execute(
        update(audit_events)
        .where(audit_events.c.id == event_id)
        .values(prev_hash=prev, hash=digest)
    )


async def _checkpoint(conn: AsyncConnection) -> bytes:
    return (await _start(conn))[1]


async def _start(conn: AsyncConnection) -> tuple[int, bytes]:
    """The id and hash of the newest event removed by retention, or (0, GENESIS)."""
    found = (
        await conn.execute(
            select(audit_checkpoints.c.event_id, audit_checkpoints.c.hash)
            .order_by(audit_checkpoints.c.event_id.desc())
            .limit(1)
        )
    ).first()
    return (0, GENESIS) if found is None else (int(found.event_id), bytes(found.hash))


def _event(row: object) -> Event:
    return Event(
        id=row.id,  # type: ignore[attr-defined]
        hour=row.hour,  # type: ignore[attr-defined]
        action=row.action,  # type: ignore[attr-defined]
        actor=row.actor,  # type: ignore[attr-defined]
        subject=row.subject,  # type: ignore[attr-defined]
        detail=row.detail,  # type: ignore[attr-defined]
        prev_hash=bytes(row.prev_hash),  # type: ignore[attr-defined]
        hash=bytes(row.hash),  # type: ignore[attr-defined]
    )


async def chain(conn: AsyncConnection) -> tuple[tuple[int, bytes], list[Event]]:
    """Where the chain starts (id and hash before the first event) and every event."""
    rows = await conn.execute(select(audit_events).order_by(audit_events.c.id))
    return await _start(conn), [_event(r) for r in rows]


def check(start: tuple[int, bytes], events: Sequence[Event]) -> bytes:
    """Raise ChainBroken at the first event out of place; else return the head hash."""
    position = {e.hash: i for i, e in enumerate(events)}
    expected = start[1]
    for i, event in enumerate(events):
        if own_hash(event) != event.hash:
            raise ChainBroken(event.id, "was altered: its hash does not match its contents")
        if event.prev_hash != expected:
            raise _broken_link(start[0], events, i, position.get(event.prev_hash))
        expected = event.hash
    return expected


def _broken_link(start_id: int, events: Sequence[Event], i: int, parent: int | None) -> ChainBroken:
    """Why event ``i`` does not follow the one before it (or the chain's start)."""
    event = events[i]
    if parent is not None and parent > i:
        return ChainBroken(event.id, f"is out of order: it belongs after event {events[parent].id}")
    before = events[i - 1].id if i else start_id
    if i == 0 or event.id - before > 1:
        # Ids are allocated in order, so a gap shows where rows were taken out (PostgreSQL
        # may also skip ids of rolled-back transactions, but those never reach the chain).
        return ChainBroken(
            before + 1, f"was removed: event {event.id}'s parent is not in the trail"
        )
    return ChainBroken(before, f"was altered and rehashed: event {event.id} does not commit to it")


async def verify(conn: AsyncConnection) -> tuple[int, bytes]:
    """Check the whole chain: (number of events, head hash), or ChainBroken."""
    start, events = await chain(conn)
    return len(events), check(start, events)


async def latest(
    conn: AsyncConnection,
    limit: int,
    *,
    action: str | None = None,
    since_hour: int | None = None,
    until_hour: int | None = None,
) -> list[Event]:
    """The newest events first, filtered by action (exact or a prefix ending in ".")."""
    query = select(audit_events).order_by(audit_events.c.id.desc()).limit(limit)
    if action:
        query = query.where(
            audit_events.c.action.startswith(action, autoescape=True)
            if action.endswith(".")
            else audit_events.c.action == action
        )
    if since_hour is not None:
        query = query.where(audit_events.c.hour >= since_hour)
    if until_hour is not None:
        query = query.where(audit_events.c.hour <= until_hour)
    return [_event(r) for r in await conn.execute(query)]


def json_lines(events: Iterable[Event]) -> Iterable[bytes]:
    for event in events:
        yield orjson.dumps(event.as_json()) + b"\n"


async def prune(conn: AsyncConnection, before_hour: int) -> int:
    """Remove events older than ``before_hour``, keeping the chain's new starting point."""
    newest = (
        await conn.execute(
            select(audit_events.c.id, audit_events.c.hash)
            .where(audit_events.c.hour < before_hour)
            .order_by(audit_events.c.id.desc())
            .limit(1)
        )
    ).first()
    if newest is None:
        return 0
    await conn.execute(delete(audit_checkpoints))
    await conn.execute(insert(audit_checkpoints).values(event_id=newest.id, hash=newest.hash))
    result = await conn.execute(delete(audit_events).where(audit_events.c.id <= newest.id))
    return result.rowcount
