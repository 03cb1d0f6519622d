"""Two relay processes on one PostgreSQL: Redis fans deliveries out, and losing Redis loses
nothing.

The recipient is connected to node B while senders use node A. With Redis up, B delivers
live what A accepted, which only the Redis fan-out can do (B reads its queue again only on
connection, on reconnection to Redis, or while Redis is down). With Redis killed, A still
accepts, and B delivers from the queue: on the recipient's reconnection, or, where the poll
interval is short, on the live connection; when Redis returns, live delivery resumes.
"""

from __future__ import annotations

from collections import Counter
from contextlib import ExitStack
from pathlib import Path

import httpx
import pytest

from system.redis_process import RedisProcess
from system.relay_process import two_nodes
from system.wire import Device, Inbox, http_send

pytestmark = [pytest.mark.slow, pytest.mark.postgres, pytest.mark.redis]

LIVE_WAIT = 30.0


async def test_a_send_on_node_a_reaches_a_recipient_on_node_b_live(
    tmp_path: Path, postgres_url: str, redis_url: str
) -> None:
    env = {"CONFIDE_DATABASE_URL": postgres_url, "CONFIDE_REDIS_URL": redis_url}
    with ExitStack() as stack:
        a, b, code = two_nodes(stack, tmp_path, env)
        async with httpx.AsyncClient(base_url=a.http_url, timeout=30) as on_a:
            recipient = await Device.enrol(on_a, code)
            async with Inbox(b.ws_url, recipient) as inbox:
                for i in range(20):
                    sent = f"live {i} via node A".encode()
                    await http_send(on_a, recipient, f"m{i}", sent)
                    _, received = await inbox.next_envelope(LIVE_WAIT)
                    assert received == sent


@pytest.mark.parametrize("fallback", ["reconnect", "poll"])
async def test_when_redis_drops_nothing_is_lost(
    tmp_path: Path, postgres_url: str, private_redis: RedisProcess, fallback: str
) -> None:
    env = {"CONFIDE_DATABASE_URL": postgres_url, "CONFIDE_REDIS_URL": private_redis.url}
    # "reconnect": B never polls, so only the recipient's reconnection can read the queue.
    # "poll": B polls every 0.2 s while Redis is down, so the live connection gets it all.
    poll = "3600" if fallback == "reconnect" else "0.2"
    with ExitStack() as stack:
        a, b, code = two_nodes(stack, tmp_path, env, {"CONFIDE_REDIS_POLL_INTERVAL_SECONDS": poll})
        async with httpx.AsyncClient(base_url=a.http_url, timeout=30) as on_a:
            recipient = await Device.enrol(on_a, code)
            delivered: list[bytes] = []
            async with Inbox(b.ws_url, recipient) as inbox:
                await http_send(on_a, recipient, "before", b"before the drop")
                delivered.append((await inbox.next_envelope(LIVE_WAIT))[1])

                private_redis.kill9()
                b.wait_status(503)
                during = [f"during the drop {i}".encode() for i in range(10)]
                for i, body in enumerate(during):
                    await http_send(on_a, recipient, f"during-{i}", body)

                if fallback == "poll":
                    for _ in during:
                        delivered.append((await inbox.next_envelope(LIVE_WAIT))[1])
            if fallback == "reconnect":
                async with Inbox(b.ws_url, recipient) as inbox:
                    for _ in during:
                        delivered.append((await inbox.next_envelope(LIVE_WAIT))[1])

            private_redis.start()
            b.wait_status(200)
            a.wait_status(200)
            async with Inbox(b.ws_url, recipient) as inbox:
                await http_send(on_a, recipient, "after", b"after the return")
                delivered += await inbox.receive_until(
                    b"after the return", wait=LIVE_WAIT, limit=50
                )

    assert delivered == [b"before the drop", *during, b"after the return"]
    assert max(Counter(delivered).values()) == 1
