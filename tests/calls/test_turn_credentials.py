"""GET /v1/turn: coturn's use-auth-secret credentials for calls (docs/calls.md).

The endpoint runs in memory with a clock the test moves; the last test hands the relay's
credentials to a real coturn that shares the secret, so the scheme is checked by coturn
itself rather than by a copy of its arithmetic.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path

import httpx
import pytest
from call_support import need_executable
from confide_server.app import create_app
from confide_server.relay import Relay
from deploy.coturn_process import run_coturn
from deploy.stun import allocate_with
from server.conftest import SettingsFactory, in_memory, make_settings
from server.helpers import Device, FakeClock, enrol

__all__ = ["make_settings"]  # the relay tests' settings fixture, used here as is

SECRET = "a-turn-secret-shared-with-coturn"
URLS = ["turn:127.0.0.1:3478?transport=udp"]

Api = Callable[..., AbstractAsyncContextManager[tuple[httpx.AsyncClient, Relay]]]


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def api(tmp_path: Path, clock: FakeClock, make_settings: SettingsFactory) -> Api:
    """Builds a relay app in memory on a fresh SQLite file, with the given settings."""

    @asynccontextmanager
    async def build(**overrides: object) -> AsyncIterator[tuple[httpx.AsyncClient, Relay]]:
        turn = {"turn_secret": SECRET, "turn_urls": URLS, "turn_ttl_seconds": 600}
        settings = make_settings(
            f"sqlite+aiosqlite:///{tmp_path / 'relay.db'}", **turn, **overrides
        )
        app = create_app(settings, clock=clock)
        async with in_memory(app) as client:
            yield client, app.state.relay

    return build


def expected_credential(secret: str, username: str) -> str:
    mac = hmac.new(secret.encode(), username.encode(), hashlib.sha1).digest()
    return base64.b64encode(mac).decode()


async def test_credentials_expire_after_the_ttl_and_carry_the_hmac(
    api: Api, clock: FakeClock
) -> None:
    async with api() as (client, relay):
        worker = await enrol(client, relay)
        first = (await client.get("/v1/turn", headers=worker.auth)).json()
        assert first["urls"] == URLS
        assert first["ttl"] == 600
        assert first["ice_transport_policy"] == "all"
        expiry, _, label = first["username"].partition(":")
        assert int(expiry) == int(clock()) + 600
        assert label and worker.device_id not in first["username"]
        assert first["credential"] == expected_credential(SECRET, first["username"])
        assert first["credential"] != expected_credential("another-secret", first["username"])

        # Later requests get a later expiry and a fresh random label, so two sets of
        # credentials cannot be linked to each other or to the device by coturn.
        clock.now += 120
        second = (await client.get("/v1/turn", headers=worker.auth)).json()
        assert int(second["username"].partition(":")[0]) == int(clock()) + 600
        assert second["username"].partition(":")[2] != label


async def test_relay_only_is_a_setting(api: Api) -> None:
    async with api(turn_relay_only=True) as (client, relay):
        worker = await enrol(client, relay)
        got = (await client.get("/v1/turn", headers=worker.auth)).json()
        assert got["ice_transport_policy"] == "relay"


async def test_unauthenticated_requests_are_refused(api: Api, clock: FakeClock) -> None:
    async with api(token_ttl_seconds=300) as (client, relay):
        worker = await enrol(client, relay)
        for headers in (
            {},
            {"Authorization": "Basic abc"},
            {"Authorization": "Bearer not-a-token"},
            {"Authorization": "Bearer " + "A" * 43},
        ):
            refused = await client.get("/v1/turn", headers=headers)
            assert refused.status_code == 401, headers
            assert refused.headers["content-type"] == "application/problem+json"
            assert "credential" not in refused.text
        # An expired session token gets nothing either (410 "expired", docs/protocol.md).
        clock.now += 301
        expired = await client.get("/v1/turn", headers=worker.auth)
        assert expired.status_code == 410
        assert "credential" not in expired.text


async def test_requests_are_rate_limited_per_device(api: Api, clock: FakeClock) -> None:
    async with api(turn_requests_per_minute=3) as (client, relay):
        worker = await enrol(client, relay)
        other: Device = await enrol(client, relay)
        for _ in range(3):
            assert (await client.get("/v1/turn", headers=worker.auth)).status_code == 200
        limited = await client.get("/v1/turn", headers=worker.auth)
        assert limited.status_code == 429
        assert limited.headers["content-type"] == "application/problem+json"
        # Another device is counted on its own, and the limit resets with the next minute.
        assert (await client.get("/v1/turn", headers=other.auth)).status_code == 200
        clock.now += 60
        assert (await client.get("/v1/turn", headers=worker.auth)).status_code == 200


async def test_a_real_coturn_accepts_the_relays_credentials(
    api: Api, clock: FakeClock, tmp_path: Path
) -> None:
    turnserver = need_executable("turnserver")
    # coturn checks the expiry against the real time, so the relay's clock starts there.
    clock.now = time.time()
    async with api() as (client, relay):
        worker = await enrol(client, relay)
        good = (await client.get("/v1/turn", headers=worker.auth)).json()
    with run_coturn(turnserver, tmp_path, realm="relay.test", secret=SECRET) as coturn:
        stun, answer, _realm = allocate_with(coturn.port, good["username"], good["credential"])
        stun.close()
        assert not answer.is_error, answer.error_code
        forged = expected_credential("not-the-shared-secret", good["username"])
        stun, answer, _realm = allocate_with(coturn.port, good["username"], forged)
        stun.close()
        assert answer.error_code == 401
