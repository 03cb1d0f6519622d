"""Two relay processes on one PostgreSQL, and a Redis that is frozen (SIGSTOP) mid-run.

A frozen Redis still completes TCP handshakes (the kernel does that) but answers nothing, so
to a relay that only waits for messages it looks like a quiet channel. The relays must treat
it as Redis lost: recipients on node B get what node A accepts by polling the queue,
/readyz and /metrics on B say fan-out is down, and once Redis is thawed (SIGCONT) live
fan-out resumes and everything accepted meanwhile reaches the open socket, with no
reconnection, exactly once, leaving nothing in the queue.

"poll": B polls every 0.2 s while Redis is lost, so the frozen period's envelopes arrive on
the live connection during the freeze. "recovery": B never polls, so only the read that B
makes when its subscription answers again can deliver them (today's defect: they stayed
until the recipient reconnected).
"""

from __future__ import annotations

import asyncio
import re
from collections import Counter
from contextlib import ExitStack
from pathlib import Path

import httpx
import pytest
import sqlalchemy
from sqlalchemy.ext.asyncio import create_async_engine

from system.redis_process import RedisProcess
from system.relay_process import RelayProcess, two_nodes
from system.wire import Device, Inbox, http_send

pytestmark = [pytest.mark.slow, pytest.mark.postgres, pytest.mark.redis]

# Bounds on waiting, so that a stall fails the test instead of hanging it.
WAIT = 30.0
DURING = 25


def fanout_healthy(node: RelayProcess) -> float:
    text = httpx.get(f"{node.http_url}/metrics", timeout=10).text
    found = re.search(r"^confide_fanout_healthy (\S+)$", text, re.MULTILINE)
    assert found, text
    return float(found.group(1))


async def queued(database_url: str) -> int:
    engine = create_async_engine(database_url)
    try:
        async with engine.connect() as conn:
            count = await conn.scalar(sqlalchemy.text("SELECT count(*) FROM envelopes"))
    finally:
        await engine.dispose()
    return int(count or 0)


async def wait_until_empty(database_url: str) -> None:
    """The acks of everything delivered commit (bounded); a stuck envelope would stay."""
    for _ in range(int(WAIT / 0.1)):
        if not await queued(database_url):
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"{await queued(database_url)} envelopes stuck in the queue")


@pytest.mark.parametrize("fallback", ["poll", "recovery"])
async def test_a_frozen_redis_is_treated_as_lost_and_nothing_waits_for_a_reconnect(
    tmp_path: Path, postgres_url: str, private_redis: RedisProcess, fallback: str
) -> None:
    env = {
        "CONFIDE_DATABASE_URL": postgres_url,
        "CONFIDE_REDIS_URL": private_redis.url,
        "CONFIDE_REDIS_TIMEOUT_SECONDS": "1",
    }
    poll = "0.2" if fallback == "poll" else "3600"
    delivered: list[bytes] = []
    with ExitStack() as stack:
        a, b, code = two_nodes(stack, tmp_path, env, {"CONFIDE_REDIS_POLL_INTERVAL_SECONDS": poll})
        async with httpx.AsyncClient(base_url=a.http_url, timeout=WAIT) as on_a:
            recipient = await Device.enrol(on_a, code)
            async with Inbox(b.ws_url, recipient) as inbox:
                await http_send(on_a, recipient, "before", b"before the freeze")
                delivered.append((await inbox.next_envelope(WAIT))[1])

                private_redis.freeze()
                await asyncio.to_thread(b.wait_status, 503)
                assert fanout_healthy(b) == 0.0
                during = [f"during the freeze {i}".encode() for i in range(DURING)]
                for i, body in enumerate(during):
                    await http_send(on_a, recipient, f"during-{i}", body)
                if fallback == "poll":
                    for _ in during:
                        delivered.append((await inbox.next_envelope(WAIT))[1])

                private_redis.thaw()
                await asyncio.to_thread(b.wait_status, 200)
                await asyncio.to_thread(a.wait_status, 200)
                assert fanout_healthy(b) == 1.0
                await http_send(on_a, recipient, "after", b"after the thaw")
                # The same socket: nothing here waits for the recipient to reconnect.
                delivered += await inbox.receive_until(b"after the thaw", wait=WAIT, limit=50)
                await wait_until_empty(postgres_url)

    assert sorted(delivered) == sorted([b"before the freeze", *during, b"after the thaw"])
    assert max(Counter(delivered).values()) == 1
