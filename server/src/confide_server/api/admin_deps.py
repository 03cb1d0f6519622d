"""Who may use the admin API: admins, and for changes only after a recent step-up.

A worker without the admin role who tries is refused and the attempt is audited (in a
transaction of its own, since the request itself fails); so is an admin's change without a
recent step-up, which is what a stolen session token without the device's key looks like.
Clients' devices are refused before that, without an audit event: nothing about a client is
recorded there.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from confide_server.api.deps import ClockDep, DatabaseDep, WorkerDep
from confide_server.errors import Forbidden, StepUpRequired
from confide_server.services import audit, stepup
from confide_server.services.auth import Principal


async def get_admin(worker: WorkerDep, db: DatabaseDep, clock: ClockDep) -> Principal:
    if worker.role != "admin":
        async with db.write() as conn:
            await audit.append(conn, clock(), "admin.denied", stepup.actor_of(worker))
        raise Forbidden("only an admin may do this")
    return worker


AdminReadDep = Annotated[Principal, Depends(get_admin)]


async def get_acting_admin(admin: AdminReadDep, db: DatabaseDep, clock: ClockDep) -> Principal:
    try:
        async with db.read() as conn:
            await stepup.require(conn, admin, clock())
    except StepUpRequired:
        async with db.write() as conn:
            await audit.append(
                conn,
                clock(),
                "admin.denied",
                stepup.actor_of(admin),
                None,
                "step-up-required",
            )
        raise
    return admin


AdminActDep = Annotated[Principal, Depends(get_acting_admin)]
