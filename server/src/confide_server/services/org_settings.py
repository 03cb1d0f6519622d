"""The organisation's settings: what each means, its bounds, and reading and changing them.

Every value is a whole number of seconds. ``max_retention_seconds`` lives on the
organisation's row (the relay has enforced it since the first schema); the others live in
``org_settings`` and take their default until an admin sets them. docs/operations.md
describes each one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import delete, insert, select, update

from confide_server.errors import InvalidInput, NotFound
from confide_server.services import audit
from confide_server.store.schema import org_settings, organisations
from confide_server.store.sqla_async import AsyncConnection

MINUTE, HOUR, DAY = 60, 3600, 86_400
YEAR = 365 * DAY


@dataclass(frozen=True, slots=True)
class Setting:
    name: str
    default: int
    minimum: int
    maximum: int
    meaning: str


SETTINGS = {
    s.name: s
    for s in (
        Setting(
            "max_retention_seconds",
            30 * DAY,
            MINUTE,
            5 * YEAR,
            "longest time a queued envelope or an attachment is kept before it is deleted",
        ),
        Setting(
            "disappearing_min_seconds",
            5 * MINUTE,
            MINUTE,
            YEAR,
            "shortest disappearing-message timer the apps offer",
        ),
        Setting(
            "disappearing_max_seconds",
            30 * DAY,
            MINUTE,
            5 * YEAR,
            "longest disappearing-message timer the apps offer",
        ),
        Setting(
            "idle_lock_seconds", 5 * MINUTE, MINUTE, DAY, "the worker app locks after this idle"
        ),
        Setting(
            "invite_ttl_seconds", 3 * DAY, 10 * MINUTE, 30 * DAY, "lifetime of an unused invite"
        ),
        Setting(
            "audit_retention_seconds",
            6 * YEAR,
            YEAR,
            30 * YEAR,
            "how long audit events are kept (HIPAA keeps documentation six years)",
        ),
        Setting(
            "consultation_retention_seconds",
            30 * DAY,
            HOUR,
            YEAR,
            "how long a supervision consultation stays on the devices after its last message",
        ),
        Setting(
            "consent_retention_seconds",
            6 * YEAR,
            YEAR,
            30 * YEAR,
            "how long consent receipts and revocations are kept",
        ),
    )
}

_UNITS = {"s": 1, "m": MINUTE, "h": HOUR, "d": DAY, "y": YEAR}


def parse_duration(text: str) -> int:
    """Seconds from ``3600``, ``90s``, ``10m``, ``12h``, ``30d`` or ``6y``."""
    match = re.fullmatch(r"\s*(\d{1,12})\s*([smhdy]?)\s*", text)
    if match is None:
        raise InvalidInput("a duration is a whole number, optionally ending in s, m, h, d or y")
    return int(match.group(1)) * _UNITS[match.group(2) or "s"]


async def all_values(conn: AsyncConnection) -> dict[str, int]:
    values = {name: s.default for name, s in SETTINGS.items()}
    for row in await conn.execute(select(org_settings.c.name, org_settings.c.value)):
        if row.name in values:
            values[row.name] = int(row.value)
    retention = await conn.scalar(select(organisations.c.max_retention_seconds))
    if retention is not None:
        values["max_retention_seconds"] = int(retention)
    return values


async def value(conn: AsyncConnection, name: str) -> int:
    return (await all_values(conn))[name]


async def change(conn: AsyncConnection, name: str, new: int, now: float, actor: str) -> int:
    """Set one setting within its bounds, keep min <= max for timers, and audit it."""
    setting = SETTINGS.get(name)
    if setting is None:
        raise InvalidInput(f"unknown setting {name!r}; known: {', '.join(SETTINGS)}")
    if not setting.minimum <= new <= setting.maximum:
        raise InvalidInput(
            f"{name} must be between {setting.minimum} and {setting.maximum} seconds"
        )
    values = await all_values(conn)
    values[name] = new
    if values["disappearing_min_seconds"] > values["disappearing_max_seconds"]:
        raise InvalidInput("disappearing_min_seconds must not exceed disappearing_max_seconds")
    if name == "max_retention_seconds":
        changed = await conn.execute(update(organisations).values(max_retention_seconds=new))
        if changed.rowcount == 0:
            raise NotFound("the organisation has not been created yet (confide create-org)")
    else:
        await conn.execute(delete(org_settings).where(org_settings.c.name == name))
        await conn.execute(insert(org_settings).values(name=name, value=new))
    await audit.append(conn, now, "settings.change", actor, name, str(new))
    return new
