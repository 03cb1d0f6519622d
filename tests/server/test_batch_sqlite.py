"""SQLite's batch backend: idempotency keys in memory, durable in sent_log across restarts;
commits on the loop, synced on the writer's thread, answered only then."""

from __future__ import annotations

import asyncio
import hashlib
import os
import sqlite3
from collections.abc import Callable
from functools import partial
from pathlib import Path

import pytest
from confide_server.app import create_app
from confide_server.errors import RelayError, Unavailable
from confide_server.relay import Relay
from confide_server.store import wal
from confide_server.store.batch import (
    AckRequest,
    Lookup,
    Plan,
    RetryBatch,
    SendRequest,
    SendResult,
    plan_batch,
)
from confide_server.store.batch_sqlite import SQLiteBatches
from confide_server.store.engine import make_engine
from confide_server.store.idempotency import Ledger
from confide_server.store.migrate import upgrade
from confide_server.store.writer import Writer
from fastapi import FastAPI

from .conftest import SettingsFactory, in_memory
from .helpers import FakeClock, capability, enrol
from .helpers import send as send_http
from .storeseed import seed_sqlite

NOW = 1_800_000_000
MAILBOX = os.urandom(16)
CAPABILITY_HASH = hashlib.sha256(b"capability").digest()

Durable = Callable[[BaseException | None], None]


@pytest.fixture
def database(tmp_path: Path) -> str:
    path = str(tmp_path / "relay.db")
    upgrade(f"sqlite+aiosqlite:///{path}")
    seed_sqlite(path, MAILBOX, CAPABILITY_HASH)
    return path


def send(backend: SQLiteBatches, key: bytes, expires_at: int = NOW + 600) -> SendResult:
    request = SendRequest(MAILBOX, CAPABILITY_HASH, key, b"sealed", expires_at, lambda _o: None)
    plan: Plan = backend.transaction(
        [CAPABILITY_HASH],
        [key],
        NOW,
        partial(plan_batch, [request], [], max_depth=100, deadline=NOW + 600),
    )
    outcome = plan.outcomes[0][1]
    assert isinstance(outcome, SendResult)
    return outcome


def test_a_retry_is_a_duplicate_even_after_a_restart(database: str) -> None:
    first = SQLiteBatches(database, 3600)
    assert not send(first, b"k" * 32).duplicate
    assert send(first, b"k" * 32).duplicate
    first.close_now()
    again = SQLiteBatches(database, 3600)
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


def test_keys_written_before_sent_log_existed_still_count(tmp_path: Path) -> None:
    """Migration 0004 moves SQLite's records from sent_messages to sent_log, its one table."""
    from alembic import command
    from confide_server.store.migrate import alembic_config

    path = str(tmp_path / "old.db")
    url = f"sqlite+aiosqlite:///{path}"
    command.upgrade(alembic_config(url), "0002")
    db = sqlite3.connect(path)
    db.execute("INSERT INTO sent_messages (key, expires_at) VALUES (?, ?)", (b"o" * 32, NOW + 60))
    db.execute("INSERT INTO sent_messages (key, expires_at) VALUES (?, ?)", (b"x" * 32, NOW - 60))
    db.commit()
    upgrade(url)
    assert db.execute("SELECT count(*) FROM sent_messages").fetchone() == (0,)
    assert db.execute("SELECT count(*) FROM sent_log").fetchone() == (2,)
    db.close()
    seed_sqlite(path, MAILBOX, CAPABILITY_HASH)
    backend = SQLiteBatches(path, 3600)
    assert send(backend, b"o" * 32).duplicate
    assert not send(backend, b"x" * 32).duplicate  # expired: a new message
    backend.close_now()


def test_keys_of_a_rolled_back_batch_were_never_used(database: str) -> None:
    backend = SQLiteBatches(database, 3600)

    def failing_plan(lookup: object) -> Plan:
        raise RuntimeError("disk on fire")

    with pytest.raises(RuntimeError):
        backend.transaction([CAPABILITY_HASH], [b"r" * 32], NOW, failing_plan)  # type: ignore[arg-type]
    assert not send(backend, b"r" * 32).duplicate
    backend.close_now()


def test_used_keys_are_forgotten_when_their_time_is_up() -> None:
    used = Ledger()
    used.add(b"a", NOW + 60)
    used.add(b"b", NOW + 600)
    used.add(b"a", NOW + 900)  # already known: keeps its first deadline
    used.purge(NOW + 60, latest=NOW + 660)
    assert b"a" not in used and b"b" in used and len(used) == 1
    used.purge(NOW + 100, latest=NOW + 700)  # less than a minute since the last purge
    used.purge(NOW + 600, latest=NOW + 1200)
    assert len(used) == 0


def test_keys_stamped_by_a_clock_that_ran_ahead_are_forgotten_when_it_is_put_back() -> None:
    used = Ledger()
    used.add(b"now", NOW + 600)
    used.add(b"ahead", NOW + 8 * 86_400 + 600)  # sent while the clock was eight days ahead
    used.purge(NOW + 60, latest=NOW + 660)
    assert b"now" in used and b"ahead" not in used


@pytest.mark.parametrize("sends", [3, 100])  # one statement per table, and several
def test_a_batch_is_written_whole_and_in_order_or_not_at_all(database: str, sends: int) -> None:
    backend = SQLiteBatches(database, 3600)
    requests = [
        SendRequest(MAILBOX, CAPABILITY_HASH, b"%031d!" % n, b"body %d" % n, NOW + 600, print)
        for n in range(sends)
    ]
    plan = backend.transaction(
        [CAPABILITY_HASH],
        [],
        NOW,
        partial(plan_batch, requests, [], max_depth=1000, deadline=NOW + 600),
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
            deadline=NOW + 600,
        )
        last = again.envelope_rows[-1]
        again.envelope_rows[-1] = (ids[0], *last[1:])
        again.delete_rows = [(MAILBOX, ids[1])]
        return again

    with pytest.raises(RetryBatch):
        backend.transaction([CAPABILITY_HASH], [], NOW, clashing)
    assert db.execute("SELECT count(*) FROM envelopes").fetchone() == (sends,)
    assert db.execute("SELECT count(*) FROM sent_log").fetchone() == (sends,)
    retry = SendRequest(MAILBOX, CAPABILITY_HASH, b"%031d?" % 0, b"x", NOW + 600, print)
    redone = backend.transaction(
        [CAPABILITY_HASH],
        [retry.dedupe_key],
        NOW,
        partial(plan_batch, [retry], [], max_depth=1000, deadline=NOW + 600),
    )
    assert redone.outcomes[0][1] == SendResult(redone.envelope_rows[0][0], duplicate=False)

    acks = plan_batch(
        [], [AckRequest(os.urandom(16), ids[:1], print)], Lookup(), max_depth=1, deadline=NOW + 600
    )
    backend.transaction([], [], NOW, lambda _lookup: acks)  # someone else's mailbox
    acks = plan_batch(
        [], [AckRequest(MAILBOX, ids[:2], print)], Lookup(), max_depth=1, deadline=NOW + 600
    )
    backend.transaction([], [], NOW, lambda _lookup: acks)
    left = {row[0] for row in db.execute("SELECT id FROM envelopes")}
    assert ids[0] not in left and ids[1] not in left and ids[2] in left
    assert len(left) == sends - 1  # one more (the retry), two acked
    backend.close_now()
    db.close()


def test_a_commit_is_answered_only_after_the_wal_is_synced(
    database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The writer's COMMIT only writes the WAL; when_durable syncs it, on the thread, before
    calling back on the loop, and one sync covers every commit made before it started."""
    synced: list[int] = []
    real = os.fdatasync
    monkeypatch.setattr(wal.os, "fdatasync", lambda fd: (synced.append(fd), real(fd)))

    async def run() -> list[object]:
        backend = SQLiteBatches(database, 3600)
        backend.transaction([], [], NOW, lambda _lookup: Plan())  # connects; synced at once
        assert len(synced) == 1
        db = backend._db
        assert db is not None
        assert db.execute("PRAGMA synchronous").fetchone() == (1,)  # NORMAL
        assert db.execute("PRAGMA wal_autocheckpoint").fetchone() == (0,)
        answers: list[object] = []
        for n in range(2):
            request = SendRequest(MAILBOX, CAPABILITY_HASH, b"%032d" % n, b"b", NOW + 600, print)
            await backend.apply(
                [CAPABILITY_HASH],
                [],
                NOW,
                partial(plan_batch, [request], [], max_depth=9, deadline=NOW + 600),
            )
        assert len(synced) == 1  # committed, not yet synced
        done = asyncio.get_running_loop().create_future()
        backend.when_durable(answers.append)
        backend.when_durable(lambda failure: (answers.append(failure), done.set_result(None)))
        await done
        await backend.close()
        return answers

    assert asyncio.run(run()) == [None, None]
    assert len(synced) == 2  # the second flush found the first had covered both commits
    db = sqlite3.connect(database)
    assert db.execute("SELECT count(*) FROM envelopes").fetchone() == (2,)


def test_a_failed_sync_refuses_every_later_batch(
    database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After a failed fsync nothing written since can be promised durable (the kernel may
    have dropped the pages): the backend refuses until the relay restarts."""

    def broken_disk(fd: int) -> None:
        raise OSError(5, "Input/output error")

    async def run() -> tuple[BaseException | None, BaseException]:
        backend = SQLiteBatches(database, 3600)
        backend.transaction([], [], NOW, lambda _lookup: Plan())
        monkeypatch.setattr(wal.os, "fdatasync", broken_disk)
        request = SendRequest(MAILBOX, CAPABILITY_HASH, b"f" * 32, b"b", NOW + 600, print)
        await backend.apply(
            [CAPABILITY_HASH],
            [],
            NOW,
            partial(plan_batch, [request], [], max_depth=9, deadline=NOW + 600),
        )
        answer: asyncio.Future[BaseException | None] = asyncio.get_running_loop().create_future()
        backend.when_durable(answer.set_result)
        failure = await answer
        monkeypatch.undo()  # the disk is back, but what was lost is not known
        with pytest.raises(Unavailable) as refused:
            await backend.apply([], [], NOW, lambda _lookup: Plan())
        await backend.close()
        return failure, refused.value

    failure, refused = asyncio.run(run())
    assert isinstance(failure, OSError) and failure.errno == 5
    assert "restart" in str(refused)


def test_the_wal_is_checkpointed_by_the_thread(
    database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(wal, "CHECKPOINT_EVERY", 3)
    backend = SQLiteBatches(database, 3600, FakeClock(0.0))  # no time passes: no truncation
    for n in range(7):
        send(backend, b"%032d" % n)
    assert backend._wal.checkpoints == 2  # after the third and the sixth sync
    # The database file alone (immutable: the WAL is not read) holds six of the seven.
    alone = sqlite3.connect(f"file:{database}?immutable=1", uri=True)
    assert alone.execute("SELECT count(*) FROM sent_log").fetchone() == (6,)
    alone.close()
    backend.close_now()


def send_and_ack(backend: SQLiteBatches, body: bytes) -> None:
    key = os.urandom(32)
    request = SendRequest(MAILBOX, CAPABILITY_HASH, key, body, NOW + 600, print)
    plan = backend.transaction(
        [CAPABILITY_HASH],
        [key],
        NOW,
        partial(plan_batch, [request], [], max_depth=10**6, deadline=NOW + 600),
    )
    ack = AckRequest(MAILBOX, [plan.envelope_rows[0][0]], print)
    acks = plan_batch([], [ack], Lookup(), max_depth=1, deadline=NOW)
    backend.transaction([], [], NOW, lambda _lookup: acks)


def holding(directory: Path, marker: bytes) -> list[str]:
    """The files of a copy of the data directory that still hold ``marker``."""
    return sorted(p.name for p in directory.iterdir() if marker in p.read_bytes())


def test_an_acknowledged_envelope_leaves_the_data_directory_within_the_bound(
    database: str,
) -> None:
    """Issue 19 §3: with readers holding the checkpoints back for a while, the WAL grew, and
    an acknowledged envelope's bytes stayed in its tail after 1,000 further send and ack
    pairs. Now the WAL is truncated at least every wal.TRUNCATE_EVERY seconds."""
    monotonic = FakeClock(0.0)
    backend = SQLiteBatches(database, 3600, monotonic)
    directory = Path(database).parent
    reader = sqlite3.connect(database)
    reader.execute("BEGIN")
    reader.execute("SELECT count(*) FROM envelopes").fetchall()  # an old snapshot, held
    for _ in range(100):
        send_and_ack(backend, os.urandom(1024))
    marker = os.urandom(1024)
    send_and_ack(backend, marker)
    reader.rollback()
    reader.close()
    assert holding(directory, marker) == ["relay.db-wal"]  # acknowledged, still on disk
    for _ in range(1_000):
        monotonic.now += 0.01
        send_and_ack(backend, os.urandom(1024))
    assert holding(directory, marker) == []
    assert backend._wal.truncations >= 9
    backend.close_now()


def test_an_idle_relay_truncates_the_wal_too(database: str) -> None:
    monotonic = FakeClock(0.0)
    backend = SQLiteBatches(database, 3600, monotonic)
    directory = Path(database).parent
    marker = os.urandom(1024)
    send_and_ack(backend, marker)
    assert holding(directory, marker) == ["relay.db-wal"]
    assert not backend._wal.tidy()  # too soon
    monotonic.now += wal.TRUNCATE_EVERY
    assert backend._wal.tidy()  # what the backend's timer calls while writes are idle
    assert holding(directory, marker) == [] and os.path.getsize(database + "-wal") == 0
    assert not backend._wal.tidy()  # nothing written since
    backend.close_now()


def test_the_backends_timer_truncates_the_wal_while_writes_are_idle(
    database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(wal, "TRUNCATE_EVERY", 0.02)

    async def run() -> list[str]:
        backend = SQLiteBatches(database, 3600)
        backend.open()  # on the loop: starts the timer
        marker = os.urandom(1024)
        await asyncio.get_running_loop().run_in_executor(
            backend._thread, send_and_ack, backend, marker
        )
        for _ in range(500):  # bounded: up to 10 s on a busy machine
            if not holding(Path(database).parent, marker):
                break
            await asyncio.sleep(0.02)
        left = holding(Path(database).parent, marker)
        await backend.close()
        return left

    assert asyncio.run(run()) == []


def test_the_wal_file_is_reopened_when_sqlite_replaced_it(tmp_path: Path) -> None:
    path = str(tmp_path / "w.db")
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("CREATE TABLE t (x)")
    wal_file = wal.WalFile(path, FakeClock(0.0))
    wal_file.sync()
    first = wal_file._fd
    db.close()  # the last connection: SQLite checkpoints and deletes the WAL
    assert not os.path.exists(path + "-wal")
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("INSERT INTO t VALUES (1)")
    wal_file.sync()
    assert (
        wal_file._fd is not None and os.fstat(wal_file._fd).st_ino == os.stat(path + "-wal").st_ino
    )
    assert first is not None
    wal_file.close()
    db.close()


def test_answers_wait_for_the_sync_and_the_next_batch_waits_for_the_answers(
    database: str,
) -> None:
    """With the sync held back, a committed batch stays unanswered and the writer does not
    start the next one; released, the answers come in order, then the next batch is written
    (as one, with everything that queued meanwhile). A failed sync refuses its batch."""

    async def run() -> None:
        engine = make_engine(f"sqlite+aiosqlite:///{database}")
        writer = Writer(engine, lambda: NOW, max_batch=100, max_queue_depth=100, on_commit=print)
        backend = writer._backend
        held: list[Durable] = []
        asked = asyncio.Event()

        def hold(callback: Durable) -> None:
            held.append(callback)
            asked.set()

        backend.when_durable = hold  # type: ignore[method-assign]
        batches: list[int] = []
        writer._on_batch = batches.append
        writer.start()
        answers: list[object] = []

        def submit(n: int) -> None:
            writer.submit_send(
                MAILBOX, CAPABILITY_HASH, b"%032d" % n, b"b", NOW + 60, answers.append
            )

        submit(0)
        await asked.wait()
        asked.clear()
        for n in (1, 2, 3):
            submit(n)
        await asyncio.sleep(0.05)
        assert answers == [] and len(held) == 1 and writer.pending() == 3
        held.pop()(None)
        await asked.wait()
        assert [type(a) for a in answers] == [SendResult] and writer.pending() == 0
        held.pop()(OSError(5, "Input/output error"))
        assert batches == [1, 3]
        assert len(answers) == 4 and all(isinstance(a, RelayError) for a in answers[1:])
        backend.when_durable = lambda callback: callback(None)  # type: ignore[method-assign]
        await writer.close()
        await engine.dispose()

    asyncio.run(run())


async def test_memory_holds_the_keys_of_the_retry_window_not_of_the_ttl(
    sqlite_url: str, make_settings: SettingsFactory, clock: FakeClock
) -> None:
    """Issue 19 §11: each key stayed in memory for its envelope's TTL (a week by default).
    Now only the keys of the sends accepted within the retry window (plus two minutes of
    rounding and purging) are held, counted as entries, whatever the TTL."""
    window, step = 600, 10
    app: FastAPI = create_app(
        make_settings(sqlite_url, idempotency_window_seconds=window), clock=clock
    )
    async with in_memory(app) as client:
        relay: Relay = app.state.relay
        worker = await enrol(client, relay)
        cap = await capability(client, worker)
        backend = relay.writer._backend
        accepted: list[float] = []
        for n in range(4 * window // step):
            response = await send_http(client, worker.mailbox_id, cap, f"m{n}", b"sealed")
            assert response.status_code == 202, response.text
            accepted.append(clock.now)
            clock.now += step
            held = len(backend._used)  # type: ignore[attr-defined]
            assert held <= sum(1 for t in accepted if t > clock.now - window - 120)
            assert held >= sum(1 for t in accepted if t > clock.now - window + 60)
        forgotten = len(accepted) - len(backend._used)  # type: ignore[attr-defined]
        assert forgotten >= 2 * window // step
