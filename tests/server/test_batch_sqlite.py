"""SQLite's batch backend: idempotency keys in memory, durable in sent_log across restarts."""

from __future__ import annotations

import hashlib
import os
import sqlite3
from functools import partial
from pathlib import Path

import pytest
from confide_server.store.batch import (
    AckRequest,
    Conflict,
    Lookup,
    Plan,
    SendRequest,
    SendResult,
    plan_batch,
)
from confide_server.store.batch_sqlite import SQLiteBatches, UsedKeys
from confide_server.store.migrate import upgrade

NOW = 1_800_000_000
MAILBOX = os.urandom(16)
CAPABILITY_HASH = hashlib.sha256(b"capability").digest()


@pytest.fixture
def database(tmp_path: Path) -> str:
    path = str(tmp_path / "relay.db")
    upgrade(f"sqlite+aiosqlite:///{path}")
    db = sqlite3.connect(path)
    db.execute("PRAGMA foreign_keys=OFF")
    db.execute("INSERT INTO mailboxes (id, device_id) VALUES (?, ?)", (MAILBOX, os.urandom(16)))
    db.execute(
        "INSERT INTO capabilities (id, secret_hash, mailbox_id, revoked) VALUES (?, ?, ?, 0)",
        (os.urandom(16), CAPABILITY_HASH, MAILBOX),
    )
    db.commit()
    db.close()
    return path


def send(backend: SQLiteBatches, key: bytes, expires_at: int = NOW + 600) -> SendResult:
    request = SendRequest(MAILBOX, CAPABILITY_HASH, key, b"sealed", expires_at, lambda _o: None)
    plan: Plan = backend.transaction(
        [CAPABILITY_HASH], [key], NOW, partial(plan_batch, [request], [], max_depth=100)
    )
    outcome = plan.outcomes[0][1]
    assert isinstance(outcome, SendResult)
    return outcome


def test_a_retry_is_a_duplicate_even_after_a_restart(database: str) -> None:
    first = SQLiteBatches(database)
    assert not send(first, b"k" * 32).duplicate
    assert send(first, b"k" * 32).duplicate
    first.close_now()
    again = SQLiteBatches(database)
    assert send(again, b"k" * 32).duplicate
    assert not send(again, b"j" * 32).duplicate
    again.close_now()
    db = sqlite3.connect(database)
    # Appended in arrival order; no row for the retries.
    assert db.execute("SELECT key FROM sent_log ORDER BY seq").fetchall() == [
        (b"k" * 32,),
        (b"j" * 32,),
    ]
    assert db.execute("SELECT count(*) FROM envelopes").fetchone() == (2,)


def test_keys_written_before_sent_log_existed_still_count(database: str) -> None:
    db = sqlite3.connect(database)
    db.execute("INSERT INTO sent_messages (key, expires_at) VALUES (?, ?)", (b"o" * 32, NOW + 60))
    db.execute("INSERT INTO sent_messages (key, expires_at) VALUES (?, ?)", (b"x" * 32, NOW - 60))
    db.commit()
    db.close()
    backend = SQLiteBatches(database)
    assert send(backend, b"o" * 32).duplicate
    assert not send(backend, b"x" * 32).duplicate  # expired: a new message
    backend.close_now()


def test_keys_of_a_rolled_back_batch_were_never_used(database: str) -> None:
    backend = SQLiteBatches(database)

    def failing_plan(lookup: object) -> Plan:
        raise RuntimeError("disk on fire")

    with pytest.raises(RuntimeError):
        backend.transaction([CAPABILITY_HASH], [b"r" * 32], NOW, failing_plan)  # type: ignore[arg-type]
    assert not send(backend, b"r" * 32).duplicate
    backend.close_now()


def test_used_keys_are_forgotten_when_their_time_is_up() -> None:
    used = UsedKeys()
    used.add(b"a", NOW + 60)
    used.add(b"b", NOW + 600)
    used.add(b"a", NOW + 900)  # already known: keeps its first expiry
    used.purge(NOW + 60)
    assert b"a" not in used and b"b" in used and len(used) == 1
    used.purge(NOW + 100)  # less than a minute since the last purge: nothing to do
    used.purge(NOW + 600)
    assert len(used) == 0


@pytest.mark.parametrize("sends", [3, 100])  # one statement per table, and several
def test_a_batch_is_written_whole_and_in_order_or_not_at_all(database: str, sends: int) -> None:
    backend = SQLiteBatches(database)
    requests = [
        SendRequest(MAILBOX, CAPABILITY_HASH, b"%031d!" % n, b"body %d" % n, NOW + 600, print)
        for n in range(sends)
    ]
    plan = backend.transaction(
        [CAPABILITY_HASH], [], NOW, partial(plan_batch, requests, [], max_depth=1000)
    )
    db = sqlite3.connect(database)
    bodies = [row[0] for row in db.execute("SELECT body FROM envelopes ORDER BY seq")]
    assert bodies == [b"body %d" % n for n in range(sends)]
    assert db.execute("SELECT count(*) FROM sent_log").fetchone() == (sends,)

    # Acks delete only from the acker's own mailbox; a clash late in the batch (an envelope
    # id already taken) undoes everything the batch wrote before it.
    ids = [row[0] for row in plan.envelope_rows]

    def clashing(lookup: Lookup) -> Plan:
        again = plan_batch(
            [
                SendRequest(MAILBOX, CAPABILITY_HASH, b"%031d?" % n, b"x", NOW + 600, print)
                for n in range(sends)
            ],
            [],
            lookup,
            max_depth=1000,
        )
        last = again.envelope_rows[-1]
        again.envelope_rows[-1] = (ids[0], *last[1:])
        again.delete_rows = [(MAILBOX, ids[1])]
        return again

    with pytest.raises(Conflict):
        backend.transaction([CAPABILITY_HASH], [], NOW, clashing)
    assert db.execute("SELECT count(*) FROM envelopes").fetchone() == (sends,)
    assert db.execute("SELECT count(*) FROM sent_log").fetchone() == (sends,)
    retry = SendRequest(MAILBOX, CAPABILITY_HASH, b"%031d?" % 0, b"x", NOW + 600, print)
    redone = backend.transaction(
        [CAPABILITY_HASH], [retry.dedupe_key], NOW, partial(plan_batch, [retry], [], max_depth=1000)
    )
    assert redone.outcomes[0][1] == SendResult(redone.envelope_rows[0][0], duplicate=False)

    acks = plan_batch([], [AckRequest(os.urandom(16), ids[:1], print)], Lookup(), max_depth=1)
    backend.transaction([], [], NOW, lambda _lookup: acks)  # someone else's mailbox
    acks = plan_batch([], [AckRequest(MAILBOX, ids[:2], print)], Lookup(), max_depth=1)
    backend.transaction([], [], NOW, lambda _lookup: acks)
    left = {row[0] for row in db.execute("SELECT id FROM envelopes")}
    assert ids[0] not in left and ids[1] not in left and ids[2] in left
    assert len(left) == sends - 1  # one more (the retry), two acked
    backend.close_now()
    db.close()
