"""The organisation: its retention limit, policy versions, and enrolling workers with roles.

One relay serves one organisation (row id 1). Every change is written to the audit trail
(services/audit.py). The admin's other work on workers and devices is in services/staff.py,
the organisation's settings in services/org_settings.py.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace

from sqlalchemy import insert, select, update

from confide_server.clock import day_of, expiry
from confide_server.encoding import b64e
from confide_server.errors import AlreadyUsed, Conflict, Expired, InvalidInput, NotFound
from confide_server.services import audit, policy_texts, versioned_text
from confide_server.services.auth import digest
from confide_server.services.versioned_text import Policy as Policy
from confide_server.store.schema import (
    devices,
    enrolment_codes,
    mailboxes,
    organisations,
    policies,
    workers,
)
from confide_server.store.sqla_async import AsyncConnection

ROLES = ("worker", "supervisor", "admin")
ORG_ID = 1


@dataclass(frozen=True, slots=True)
class Organisation:
    name: str
    max_retention_seconds: int


async def create(conn: AsyncConnection, name: str, max_retention_seconds: int, now: float) -> None:
    if await conn.scalar(select(organisations.c.id)) is not None:
        raise Conflict("the organisation already exists")
    if not 0 < len(name) <= 200:
        raise InvalidInput("the organisation's name must be 1 to 200 characters")
    await conn.execute(
        insert(organisations).values(
            id=ORG_ID,
            name=name,
            max_retention_seconds=max_retention_seconds,
            created_day=day_of(now),
        )
    )
    await audit.append(
        conn, now, "organisation.create", "cli", None, f"retention={max_retention_seconds}"
    )


async def get(conn: AsyncConnection) -> Organisation | None:
    row = (
        await conn.execute(select(organisations.c.name, organisations.c.max_retention_seconds))
    ).first()
    return None if row is None else Organisation(row.name, row.max_retention_seconds)


async def publish_policy(
    conn: AsyncConnection, text: str, now: float, actor: str, language: str = "en"
) -> Policy:
    """A new version whose first text, ``text``, is in ``language``."""
    tag = policy_texts.language_tag(language)
    policy_texts.check_text(text)
    return await versioned_text.publish(conn, policies, text, now, actor, "policy", tag)


async def current_policy(conn: AsyncConnection) -> Policy | None:
    """The newest version, with every translation published for it."""
    policy = await versioned_text.current(conn, policies)
    if policy is None:
        return None
    others = await policy_texts.translations(conn, policy.version)
    return replace(policy, translations=others)


async def enrol_worker(
    conn: AsyncConnection, role: str, now: float, ttl: int, actor: str
) -> tuple[bytes, bytes]:
    """Create a worker and a one-time enrolment code for its first device: (worker id, code)."""
    if role not in ROLES:
        raise InvalidInput(f"role must be one of {', '.join(ROLES)}")
    worker_id, code = os.urandom(16), os.urandom(32)
    await conn.execute(
        insert(workers).values(id=worker_id, role=role, disabled=False, created_day=day_of(now))
    )
    await conn.execute(
        insert(enrolment_codes).values(
            code_hash=digest(code), worker_id=worker_id, used=False, expires_at=expiry(now, ttl)
        )
    )
    await audit.append(conn, now, "worker.enrol", actor, b64e(worker_id), role)
    return worker_id, code


async def use_enrolment_code(conn: AsyncConnection, code: bytes, now: float) -> tuple[bytes, str]:
    """Mark a code used (atomically) and return its worker's (id, role)."""
    code_hash = digest(code)
    worker_id = await conn.scalar(
        update(enrolment_codes)
        .where(
            enrolment_codes.c.code_hash == code_hash,
            enrolment_codes.c.used.is_(False),
            enrolment_codes.c.expires_at > int(now),
        )
        .values(used=True)
        .returning(enrolment_codes.c.worker_id)
    )
    if worker_id is None:
        row = (
            await conn.execute(
                select(enrolment_codes.c.used).where(enrolment_codes.c.code_hash == code_hash)
            )
        ).first()
        if row is None:
            raise NotFound("unknown enrolment code")
        if row.used:
            raise AlreadyUsed("this enrolment code has already been used")
        raise Expired("this enrolment code has expired; ask the admin for a new one")
    role = await conn.scalar(select(workers.c.role).where(workers.c.id == worker_id))
    assert role is not None
    await audit.append(conn, now, "enrolment.use", b64e(worker_id), b64e(worker_id))
    return worker_id, role


async def worker_devices(conn: AsyncConnection) -> list[tuple[bytes, str, bytes]]:
    """(worker id, role, device id) for every active worker device, for finding supervisors."""
    rows = await conn.execute(
        select(workers.c.id, workers.c.role, devices.c.id.label("device_id"))
        .select_from(workers.join(devices, devices.c.worker_id == workers.c.id))
        .where(workers.c.disabled.is_(False), devices.c.revoked.is_(False))
    )
    return [(r.id, r.role, r.device_id) for r in rows]


async def require_worker(conn: AsyncConnection, device_id: bytes) -> bytes:
    """The mailbox id of an active worker device, or NotFound."""
    row = (
        await conn.execute(
            select(devices.c.kind, devices.c.revoked, mailboxes.c.id.label("mailbox_id"))
            .select_from(devices.join(mailboxes, mailboxes.c.device_id == devices.c.id))
            .where(devices.c.id == device_id)
        )
    ).first()
    if row is None or row.kind != "worker" or row.revoked:
        raise NotFound("no such worker device")
    mailbox_id: bytes = row.mailbox_id
    return mailbox_id
