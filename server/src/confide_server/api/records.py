"""``GET /v1/devices/me/records``: what the relay holds about the asking device."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from confide_server.api.deps import DatabaseDep, PrincipalDep
from confide_server.api.types import PROBLEMS
from confide_server.services import records

router = APIRouter(prefix="/v1/devices", tags=["devices"], responses=PROBLEMS)


@router.get("/me/records")
async def my_records(principal: PrincipalDep, db: DatabaseDep) -> dict[str, list[dict[str, Any]]]:
    """Every row that refers to this device, grouped by table (docs/operations.md).

    Blobs are given by size and expiry; nothing about any other device is included.
    """
    async with db.read() as conn:
        return await records.about(conn, principal)
