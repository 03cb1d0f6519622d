"""The deployment's id: 16 random bytes drawn once per database, shared by its relays.

Several relay processes on one database are one deployment; another database is another
deployment, even on the same Redis server. The id is what tells them apart where nothing else
can: Redis pub/sub channels are global to a Redis server (fanout/redis.py). It is random, so
it says nothing about the organisation, and it is not secret.
"""

from __future__ import annotations

import os

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite

from confide_server.store.schema import deployment
from confide_server.store.sqla_async import AsyncEngine

_ROW = 1


async def deployment_id(engine: AsyncEngine) -> bytes:
    """This database's id, drawn and stored by whichever relay asks first."""
    async with engine.begin() as conn:
        found = await conn.scalar(select(deployment.c.id).where(deployment.c.singleton == _ROW))
        if found is not None:
            return bytes(found)
        # Relays starting together race here; the first insert wins and all read its id.
        dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
        await conn.execute(
            dialect.insert(deployment)
            .values(singleton=_ROW, id=os.urandom(16))
            .on_conflict_do_nothing(index_elements=[deployment.c.singleton])
        )
        stored = await conn.scalar(select(deployment.c.id).where(deployment.c.singleton == _ROW))
    assert stored is not None
    return bytes(stored)
