"""Settings (production refuses defaults), the CLI's check-config, static web app, sweeping."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from confide_server.app import create_app
from confide_server.relay import Relay
from confide_server.services.sweeper import sweep
from confide_server.settings import Settings
from confide_server.store.schema import capabilities, challenges, invites, sessions
from fastapi import FastAPI
from pydantic import ValidationError
from sqlalchemy import func, select

from .conftest import SettingsFactory, in_memory
from .helpers import FakeClock, b64e, capability, challenge, enrol, invite, setup_org


def test_production_refuses_default_secrets() -> None:
    with pytest.raises(ValidationError, match="TURN_SECRET"):
        Settings(env="production")
    Settings(env="production", turn_secret="a-long-enough-real-secret")


def test_check_config_and_refusal_from_the_command_line(tmp_path: Path) -> None:
    env = {"PATH": "/usr/bin:/bin", "CONFIDE_DATA_DIR": str(tmp_path)}
    ok = subprocess.run(
        [sys.executable, "-m", "confide_server", "check-config"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert ok.returncode == 0
    assert "CONFIDE_TURN_SECRET=(set)" in ok.stderr
    assert "development-turn-secret" not in ok.stderr
    refused = subprocess.run(
        [sys.executable, "-m", "confide_server", "check-config"],
        env={**env, "CONFIDE_ENV": "production"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert refused.returncode == 2
    assert "CONFIDE_TURN_SECRET" in refused.stderr


async def test_web_app_is_served_with_csp(
    sqlite_url: str, make_settings: SettingsFactory, tmp_path: Path
) -> None:
    dist = tmp_path / "dist"
    dist.mkdir()
    (dist / "index.html").write_text("<title>worker</title>")
    (dist / "join.html").write_text("<title>join</title>")
    (dist / "assets").mkdir()
    (dist / "assets" / "app-ABCD2345.js").write_text("console.log(1)")
    app: FastAPI = create_app(make_settings(sqlite_url, web_dist=dist))
    async with in_memory(app) as client:
        root = await client.get("/")
        assert "worker" in root.text
        csp = root.headers["content-security-policy"]
        assert "script-src 'self' 'wasm-unsafe-eval'" in csp
        assert "frame-ancestors 'none'" in csp
        assert root.headers["referrer-policy"] == "no-referrer"
        assert "join" in (await client.get("/join")).text
        assert (await client.get("/assets/app-ABCD2345.js")).status_code == 200
        assert (await client.get("/healthz")).status_code == 200
        assert (await client.get("/missing.js")).status_code == 404


async def test_envelope_ttl_is_capped_by_retention(
    client: httpx.AsyncClient, relay: Relay, clock: FakeClock
) -> None:
    await setup_org(relay)  # 30 days
    await relay.refresh_retention()
    worker = await enrol(client, relay)
    cap = await capability(client, worker)
    sent = await client.post(
        f"/v1/mailboxes/{worker.mailbox_id}/messages",
        json={"capability": cap, "client_message_id": "t", "body": b64e(b"x"), "ttl": 10**9},
    )
    assert sent.status_code == 202
    clock.now += 30 * 86_400 + 60
    counts = await sweep(relay.engine, clock(), relay.settings.prekey_max_age_seconds)
    assert counts["envelopes"] == 1


async def test_sweeper_removes_expired_secrets(
    client: httpx.AsyncClient, relay: Relay, clock: FakeClock
) -> None:
    worker = await enrol(client, relay)
    await invite(client, worker)
    await challenge(client)
    clock.now += relay.settings.invite_ttl_seconds + 1
    counts = await sweep(relay.engine, clock(), relay.settings.prekey_max_age_seconds)
    assert counts["invites"] == 1 and counts["capabilities"] == 1
    assert counts["challenges"] >= 1 and counts["sessions"] == 1
    async with relay.engine.connect() as conn:
        for table in (invites, challenges, sessions):
            assert await conn.scalar(select(func.count()).select_from(table)) == 0
        assert await conn.scalar(select(func.count()).select_from(capabilities)) == 0
