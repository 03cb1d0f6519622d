"""The audit trail proves itself: rows edited, deleted or reordered in the database directly
(SQLite and a fresh PostgreSQL) make ``confide audit verify`` fail naming the event."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import orjson
import pytest
from confide_server.cli import main
from confide_server.clock import HOUR
from confide_server.services import audit, org_settings, sweeper
from confide_server.store.engine import make_engine
from sqlalchemy import text


@pytest.fixture
def trail(db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A database with five audit events written by the CLI, as an admin would."""
    monkeypatch.setenv("CONFIDE_DATABASE_URL", db_url)
    monkeypatch.delenv("CONFIDE_REDIS_URL", raising=False)
    assert main(["create-org", "--name", "Org"]) == 0
    for role in ("worker", "supervisor"):
        assert main(["enrol-worker", "--role", role]) == 0
    assert main(["settings", "set", "idle_lock_seconds", "15m"]) == 0
    assert main(["settings", "set", "disappearing_max_seconds", "7d"]) == 0
    yield db_url


def _sql(url: str, *statements: str) -> None:
    async def go() -> None:
        engine = make_engine(url)
        try:
            async with engine.begin() as conn:
                for statement in statements:
                    await conn.execute(text(statement))
        finally:
            await engine.dispose()

    asyncio.run(go())


def _verify(capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    capsys.readouterr()
    code = main(["audit", "verify"])
    return code, capsys.readouterr().err


def test_intact_trail_verifies_and_exports(trail: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, err = _verify(capsys)
    assert code == 0 and "intact: 5 events" in err
    assert main(["audit", "export"]) == 0
    lines = [orjson.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [e["action"] for e in lines] == [
        "organisation.create",
        "worker.enrol",
        "worker.enrol",
        "settings.change",
        "settings.change",
    ]
    assert lines[3]["subject"] == "idle_lock_seconds" and lines[3]["detail"] == "900"
    assert all(lines[i]["prev_hash"] == lines[i - 1]["hash"] for i in range(1, 5))
    assert main(["audit", "show", "--limit", "2"]) == 0
    shown = capsys.readouterr().out.splitlines()
    assert len(shown) == 2 and "disappearing_max_seconds" in shown[0]


def test_an_edited_event_is_named(trail: str, capsys: pytest.CaptureFixture[str]) -> None:
    _sql(trail, "UPDATE audit_events SET detail = '60' WHERE id = 4")
    code, err = _verify(capsys)
    assert code == 1 and "audit event 4 was altered" in err


def test_an_edited_and_rehashed_event_is_named(
    trail: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Whoever rewrites an event and its own hash still breaks the next event's link."""
    _sql(trail, "UPDATE audit_events SET action = 'worker.role' WHERE id = 2")

    async def rehash() -> None:
        engine = make_engine(trail)
        try:
            async with engine.begin() as conn:
                _start, events = await audit.chain(conn)
                e = events[1]
                digest = audit.event_hash(
                    e.prev_hash, e.hour, e.action, e.actor, e.subject, e.detail
                )
                await conn.execute(
                    text("UPDATE audit_events SET hash = :h WHERE id = 2"), {"h": digest}
                )
        finally:
            await engine.dispose()

    asyncio.run(rehash())
    code, err = _verify(capsys)
    assert code == 1 and "audit event 2 was altered and rehashed" in err


def test_a_deleted_event_is_named(trail: str, capsys: pytest.CaptureFixture[str]) -> None:
    _sql(trail, "DELETE FROM audit_events WHERE id = 3")
    code, err = _verify(capsys)
    assert code == 1 and "audit event 3 was removed" in err


def test_the_first_event_deleted_is_named(trail: str, capsys: pytest.CaptureFixture[str]) -> None:
    _sql(trail, "DELETE FROM audit_events WHERE id = 1")
    code, err = _verify(capsys)
    assert code == 1 and "audit event 1 was removed" in err


def test_reordered_events_are_named(trail: str, capsys: pytest.CaptureFixture[str]) -> None:
    """Swap events 2 and 3 by their ids, as a direct edit of the table would."""
    _sql(
        trail,
        "UPDATE audit_events SET id = 1000 WHERE id = 2",
        "UPDATE audit_events SET id = 2 WHERE id = 3",
        "UPDATE audit_events SET id = 3 WHERE id = 1000",
    )
    code, err = _verify(capsys)
    assert code == 1 and "audit event 2 is out of order" in err


def test_retention_prunes_and_the_chain_still_verifies(
    trail: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """The sweeper removes events past audit retention; what is left still verifies, and a
    deletion of the oldest event left is still caught."""
    _sql(trail, "UPDATE audit_events SET hour = hour - 8 * 365 * 86400 WHERE id <= 2")

    async def sweep() -> dict[str, int]:
        engine = make_engine(trail)
        try:
            return await sweeper.sweep(engine, time.time() + HOUR, 0)
        finally:
            await engine.dispose()

    counts = asyncio.run(sweep())
    assert counts["audit_events"] == 2
    code, err = _verify(capsys)
    assert code == 0 and "intact: 3 events" in err
    _sql(trail, "DELETE FROM audit_events WHERE id = 3")
    code, err = _verify(capsys)
    assert code == 1 and "audit event 3 was removed" in err


def test_settings_are_bounded(trail: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["settings", "set", "disappearing_min_seconds", "30d"]) == 1
    assert main(["settings", "set", "idle_lock_seconds", "1s"]) == 1
    assert main(["settings", "set", "audit_retention_seconds", "7y"]) == 0
    capsys.readouterr()
    assert main(["settings", "show"]) == 0
    shown = capsys.readouterr().out
    assert f"audit_retention_seconds={7 * org_settings.YEAR}" in shown
    assert "idle_lock_seconds=900" in shown
