"""The end-to-end proof: a worker and a client talk through a real relay, which keeps nothing.

Two SDK instances go through enrolment, invite and consent, exchange 1,000 messages each way
while relays are disrupted twice in the middle (one SIGKILLed and restarted, then one
restarted gracefully), and send a 5 MiB attachment.
Every message must arrive exactly once and in order. Then the relay's database (the SQLite
files, or a full pg_dump) and everything it logged are searched for every plaintext, the
attachment's bytes, the worker's alias for the client and the loopback address: finding any
of them fails the test. The same runs on PostgreSQL with two relay processes joined by Redis
fan-out, the worker on one and the client on the other.
"""

from __future__ import annotations

import asyncio
import os
import re
import secrets
from collections.abc import Callable
from pathlib import Path

import pytest
from confide_client.client import ConfideClient
from confide_client.consent import ConsentState
from confide_client.messages import ConsentChanged, ContactJoined, Event, Message
from confide_client.transport.http import HttpTransport
from system.relay_process import RelayProcess

from .leaks import Search, pg_dump, read_tree, with_bytea_decoded

pytestmark = pytest.mark.slow

MESSAGES = 1000
ATTACHMENT_BYTES = 5 * 1024 * 1024
ALIAS = "Jamie Rivera (Tuesday group)"
POLICY = "Confidentiality policy: what you share stays between you and your peer worker.\n"
PLAINTEXT = re.compile(rb"confide-plaintext-[wc]-\d{4}-[0-9a-f]{16}")
PASS = "a passphrase for the test devices"
FILE_NAME = "intake-form-jamie-rivera.pdf"


def _texts(side: str) -> list[str]:
    return [f"confide-plaintext-{side}-{i:04d}-{secrets.token_hex(8)}" for i in range(MESSAGES)]


async def _next(client: ConfideClient) -> Event:
    # A guard against a hang, not a performance assertion.
    return await asyncio.wait_for(client.next_event(), timeout=120)


async def _messages(
    client: ConfideClient, count: int, sender: ConfideClient | None = None
) -> list[Message]:
    got: list[Message] = []
    while len(got) < count:
        try:
            event = await _next(client)
        except TimeoutError:
            raise AssertionError(
                f"{client.role.value} stalled after {len(got)} of {count} messages; "
                f"the sender's outbox holds {sender.pending if sender else '?'}; "
                f"background errors: {client.last_error!r}, {sender and sender.last_error!r}"
            ) from None
        assert isinstance(event, Message), event
        got.append(event)
    return got


def _prepare(relay: RelayProcess) -> None:
    relay.create_org("Riverside Peer Support")
    relay.publish_policy(POLICY)


def _kill_and_restart(relay: RelayProcess) -> None:
    relay.kill9()
    relay.start()
    relay.wait_ready()


def _graceful_restart(relay: RelayProcess) -> None:
    relay.stop()
    relay.start()
    relay.wait_ready()


async def _prove(
    tmp: Path,
    worker_relay: RelayProcess,
    client_relay: RelayProcess,
    disruptions: list[Callable[[], None]],
) -> tuple[Search, bytes]:
    """Run the whole flow; returns what to search for and a public key the relay must hold."""
    worker = ConfideClient.create(
        tmp / "worker.state",
        PASS,
        HttpTransport(worker_relay.http_url),
        key_cost="min",
        max_backoff=1.0,
    )
    await worker.enrol(worker_relay.enrol_worker())
    await worker.start()
    invite = await worker.create_invite()
    client = ConfideClient.create(
        tmp / "client.state",
        PASS,
        HttpTransport(client_relay.http_url),
        key_cost="min",
        max_backoff=1.0,
    )
    worker_id = await client.join(invite, lambda policy: policy.text == POLICY)
    await client.start()
    joined = await _next(worker)
    assert isinstance(joined, ContactJoined)
    assert await _next(worker) == ConsentChanged(joined.contact_id, ConsentState.GRANTED)
    client_id = joined.contact_id
    worker.set_alias(client_id, ALIAS)
    assert worker.safety_number(client_id) == client.safety_number(worker_id)

    to_client, to_worker = _texts("w"), _texts("c")
    for w_text, c_text in zip(to_client, to_worker, strict=True):
        worker.send_text(client_id, w_text)
        client.send_text(worker_id, c_text)
    got_c: list[Message] = []
    got_w: list[Message] = []
    for part, disrupt in enumerate([*disruptions, None], start=1):
        until = MESSAGES * part // (len(disruptions) + 1)
        got_c += await _messages(client, until - len(got_c), worker)
        got_w += await _messages(worker, until - len(got_w), client)
        if disrupt is not None:
            # The devices hold what they have not sent yet and reconnect on their own.
            await asyncio.to_thread(disrupt)
    assert [m.text for m in got_c] == to_client
    assert [m.text for m in got_w] == to_worker

    attachment = os.urandom(ATTACHMENT_BYTES)
    await client.send_attachment(worker_id, attachment, name=FILE_NAME, mime="application/pdf")
    # A final marker each way: the next event after the last message must be exactly it,
    # so no message was delivered twice in between.
    worker.send_text(client_id, "end-w")
    client.send_text(worker_id, "end-c")
    (with_file,) = await _messages(worker, 1)
    assert with_file.attachment is not None
    assert await worker.download(with_file.attachment) == attachment
    assert [m.text for m in await _messages(worker, 1)] == ["end-c"]
    assert [m.text for m in await _messages(client, 1)] == ["end-w"]
    await worker.flush()
    await client.flush()
    await worker.close()
    await client.close()

    search = Search(patterns={"a plaintext": PLAINTEXT})
    assert all(PLAINTEXT.fullmatch(t.encode()) for t in to_client + to_worker)
    search.needles["the worker's alias"] = ALIAS.encode()
    search.needles["the loopback address"] = b"127.0.0.1"
    search.needles["the attachment's file name"] = FILE_NAME.encode()
    for offset in (0, ATTACHMENT_BYTES // 2, ATTACHMENT_BYTES - 64):
        search.needles[f"attachment bytes at {offset}"] = attachment[offset : offset + 64]
    return search, worker.identity_key


def _assert_is_the_relays(database: bytes, identity_key: bytes) -> None:
    # Positive controls: the search must be looking at the relay's real data, with binary
    # columns decoded, or finding nothing would prove nothing.
    assert POLICY.strip().encode() in database, "the policy text should be in the database"
    assert identity_key in database, "the worker's public identity key should be in it"


def _log_findings(search: Search, relays: list[RelayProcess]) -> list[str]:
    logs = {
        f"{path.parent.name}/{path.name}": path.read_bytes()
        for r in relays
        for path in (r.stdout_path, r.stderr_path)
    }
    # The literal IPv6 loopback is too short to look for in binary database files, but
    # text logs must not hold it either.
    text_search = Search(needles={"the IPv6 loopback address": b"::1"})
    return search.findings(logs) + text_search.findings(logs)


async def test_sqlite_relay_keeps_no_plaintext(tmp_path: Path) -> None:
    relay = RelayProcess(tmp_path / "relay", host="localhost")
    _prepare(relay)
    with relay:
        disruptions = [lambda: _kill_and_restart(relay), lambda: _graceful_restart(relay)]
        search, key = await _prove(tmp_path, relay, relay, disruptions)
    database = read_tree(relay.data_dir)
    _assert_is_the_relays(database, key)
    assert search.findings({"the SQLite database": database}) == []
    assert _log_findings(search, [relay]) == []


async def test_postgres_two_relays_with_redis_keep_no_plaintext(
    tmp_path: Path, postgres_url: str, redis_url: str
) -> None:
    env = {"CONFIDE_DATABASE_URL": postgres_url, "CONFIDE_REDIS_URL": redis_url}
    relays = [RelayProcess(tmp_path / f"relay-{n}", env=env, host="localhost") for n in "ab"]
    _prepare(relays[0])
    with relays[0], relays[1]:
        disruptions = [
            lambda: _kill_and_restart(relays[1]),
            lambda: _graceful_restart(relays[0]),
        ]
        search, key = await _prove(tmp_path, relays[0], relays[1], disruptions)
    dump = with_bytea_decoded(pg_dump(postgres_url, tmp_path / "dump.sql"))
    _assert_is_the_relays(dump, key)
    assert search.findings({"pg_dump": dump}) == []
    assert _log_findings(search, relays) == []
