"""The admin's work on workers and devices: list, change a role, disable, enable, revoke.

Used alike by the web console's admin API (api/admin.py) and the command line
(cli_admin.py), so both write the same audit events. Cutting a device off here ends what it
can do through the database (its session tokens are deleted, send capabilities to its
mailbox revoked, prekeys withdrawn, its push subscription deleted; ``auth.authenticate``
refuses it from now on); the caller then closes its open WebSockets with
``cutoff.announce`` on the mailbox ids returned.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, func, select, update

from confide_server.encoding import b64e
from confide_server.errors import InvalidInput, NotFound
from confide_server.push import subscriptions
from confide_server.services import audit
from confide_server.services.organisation import ROLES
from confide_server.store.schema import (
    capabilities,
    devices,
    mailboxes,
    one_time_prekeys,
    sessions,
    signed_prekeys,
    workers,
)
from confide_server.store.sqla_async import AsyncConnection


@dataclass(frozen=True, slots=True)
class WorkerRow:
    id: bytes
    role: str
    disabled: bool
    created_day: int
    devices: int

    def as_json(self) -> dict[str, object]:
        return {
            "worker_id": b64e(self.id),
            "role": self.role,
            "disabled": self.disabled,
            "created_day": self.created_day,
            "devices": self.devices,
        }


@dataclass(frozen=True, slots=True)
class DeviceRow:
    id: bytes
    kind: str
    worker_id: bytes | None
    revoked: bool
    created_day: int

    def as_json(self) -> dict[str, object]:
        return {
            "device_id": b64e(self.id),
            "kind": self.kind,
            "worker_id": None if self.worker_id is None else b64e(self.worker_id),
            "revoked": self.revoked,
            "created_day": self.created_day,
        }


async def list_workers(conn: AsyncConnection) -> list[WorkerRow]:
    """Every worker with the number of its devices that are not revoked."""
    active = (
        select(func.count())
        .where(devices.c.worker_id == workers.c.id, devices.c.revoked.is_(False))
        .scalar_subquery()
    )
    rows = await conn.execute(
        select(workers, active.label("devices")).order_by(workers.c.created_day, workers.c.id)
    )
    return [WorkerRow(r.id, r.role, bool(r.disabled), r.created_day, r.devices) for r in rows]


async def list_devices(conn: AsyncConnection, worker_id: bytes | None = None) -> list[DeviceRow]:
    """Workers' devices (one worker's if given); clients' devices are not the admin's list."""
    query = select(devices).where(devices.c.kind == "worker").order_by(devices.c.created_day)
    if worker_id is not None:
        query = query.where(devices.c.worker_id == worker_id)
    rows = await conn.execute(query)
    return [DeviceRow(r.id, r.kind, r.worker_id, bool(r.revoked), r.created_day) for r in rows]


async def _worker(conn: AsyncConnection, worker_id: bytes) -> tuple[str, bool]:
    row = (
        await conn.execute(
            select(workers.c.role, workers.c.disabled).where(workers.c.id == worker_id)
        )
    ).first()
    if row is None:
        raise NotFound("no such worker")
    return row.role, bool(row.disabled)


async def set_role(
    conn: AsyncConnection, worker_id: bytes, role: str, now: float, actor: str
) -> None:
    if role not in ROLES:
        raise InvalidInput(f"role must be one of {', '.join(ROLES)}")
    await _worker(conn, worker_id)
    await conn.execute(update(workers).where(workers.c.id == worker_id).values(role=role))
    await audit.append(conn, now, "worker.role", actor, b64e(worker_id), role)


async def disable(conn: AsyncConnection, worker_id: bytes, now: float, actor: str) -> list[bytes]:
    """Disable a worker and cut off all its devices; the mailbox ids whose sockets must close."""
    await _worker(conn, worker_id)
    await conn.execute(update(workers).where(workers.c.id == worker_id).values(disabled=True))
    device_ids = list(
        (await conn.scalars(select(devices.c.id).where(devices.c.worker_id == worker_id))).all()
    )
    mailbox_ids = [await _cut_off(conn, device_id) for device_id in device_ids]
    await audit.append(conn, now, "worker.disable", actor, b64e(worker_id))
    return mailbox_ids


async def enable(conn: AsyncConnection, worker_id: bytes, now: float, actor: str) -> None:
    """Let a disabled worker sign in again; its devices publish fresh prekeys when they do."""
    await _worker(conn, worker_id)
    await conn.execute(update(workers).where(workers.c.id == worker_id).values(disabled=False))
    await audit.append(conn, now, "worker.enable", actor, b64e(worker_id))


async def revoke_device(conn: AsyncConnection, device_id: bytes, now: float, actor: str) -> bytes:
    """Revoke one device for good; returns its mailbox id (whose sockets must close)."""
    changed = await conn.execute(
        update(devices).where(devices.c.id == device_id).values(revoked=True)
    )
    if changed.rowcount == 0:
        raise NotFound("no such device")
    mailbox_id = await _cut_off(conn, device_id)
    await audit.append(conn, now, "device.revoke", actor, b64e(device_id))
    return mailbox_id


async def _cut_off(conn: AsyncConnection, device_id: bytes) -> bytes:
    """Tokens deleted, capabilities to its mailbox revoked, prekeys and push subscription gone."""
    mailbox_id = await conn.scalar(select(mailboxes.c.id).where(mailboxes.c.device_id == device_id))
    assert mailbox_id is not None  # every device gets its mailbox when it registers
    await conn.execute(delete(sessions).where(sessions.c.device_id == device_id))
    await conn.execute(
        update(capabilities).where(capabilities.c.mailbox_id == mailbox_id).values(revoked=True)
    )
    await conn.execute(delete(signed_prekeys).where(signed_prekeys.c.device_id == device_id))
    await conn.execute(delete(one_time_prekeys).where(one_time_prekeys.c.device_id == device_id))
    await subscriptions.remove(conn, device_id)
    return bytes(mailbox_id)
