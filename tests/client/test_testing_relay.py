"""confide_client.testing.relay itself: real WebSocket delivery, cuts, settings, clean exit."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import pytest
from confide_client import ConfideClient, ContactJoined, RelayUnavailable
from confide_client.testing import DEFAULT_POLICY, Holdings, LocalRelay, relay
from confide_client.transport.base import Delivery
from confide_client.transport.http import HttpTransport
from confide_server.settings import Settings


async def _logged_in_as(local: LocalRelay, device: ConfideClient) -> HttpTransport:
    """A transport of the test's own, logged in as ``device`` (which stays idle)."""
    assert device.device_id is not None
    transport = local.transport()
    challenge = await transport.challenge()
    signature = device._state.device.identity.sign_auth(challenge)
    await transport.login(device.device_id, challenge, signature)
    return transport


async def _held(local: LocalRelay, envelopes: int) -> Holdings:
    """The holdings once the relay has applied the acks in flight (bounded wait)."""
    for _ in range(1000):
        held = await local.holdings()
        if held.envelopes == envelopes:
            return held
        await asyncio.sleep(0.01)
    raise AssertionError(f"the relay still holds {held.envelopes} envelopes")


async def test_a_live_websocket_delivers_is_cut_and_redelivers(local_relay: LocalRelay) -> None:
    worker = await local_relay.worker()
    receiver = await _logged_in_as(local_relay, worker)
    capability = (await receiver.mint_capability()).secret
    mailbox = worker._state.mailbox_id
    assert mailbox is not None
    live = await receiver.live()
    await local_relay.transport().send(mailbox, capability, "m-1", b"opaque envelope")
    (first,) = await asyncio.wait_for(live.next_batch(10), 30)
    assert isinstance(first, Delivery) and first.envelope == b"opaque envelope"
    assert (await local_relay.holdings()).envelopes == 1
    local_relay.drop_connections()
    with pytest.raises(RelayUnavailable):
        await asyncio.wait_for(live.next_batch(10), 30)
    await live.close()
    # Not acknowledged before the cut, so the relay delivers it again on the next connection.
    again = await receiver.live()
    assert await asyncio.wait_for(again.next_batch(10), 30) == [first]
    await again.ack([first.delivery_id])
    assert await _held(local_relay, 0) == Holdings(envelopes=0, attachments=0, consent=())
    await again.close()


async def test_settings_come_from_the_arguments_never_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CONFIDE_DATABASE_URL", "postgresql+asyncpg://nobody@127.0.0.1:1/none")
    monkeypatch.setenv("CONFIDE_MAX_QUEUE_DEPTH", "3")
    async with relay(tmp_path / "a") as plain:
        default = Settings.model_fields["max_queue_depth"].default
        assert plain.settings.max_queue_depth == default != 3
        assert plain.settings.resolved_database_url.endswith("/a/relay/confide.db")
        assert plain.policy is not None and plain.policy.text == DEFAULT_POLICY
    async with relay(tmp_path / "b", max_queue_depth=5, policy=None) as tuned:
        assert tuned.settings.max_queue_depth == 5
        assert tuned.policy is None
        published = await tuned.publish_policy("Our first policy.")
        assert (published.version, tuned.policy) == (1, published)


@pytest.mark.parametrize(
    ("override", "refusal"),
    [
        ({"max_qeue_depth": 3}, "not relay settings: max_qeue_depth"),
        ({"database_url": "sqlite+aiosqlite:///x.db"}, "chooses these itself: database_url"),
    ],
)
async def test_unknown_and_reserved_settings_are_refused(
    tmp_path: Path, override: dict[str, object], refusal: str
) -> None:
    with pytest.raises(TypeError, match=refusal):
        async with relay(tmp_path, **override):
            raise AssertionError("the relay should not have started")


async def test_on_exit_devices_close_and_the_relay_stops_listening() -> None:
    async with relay() as local:
        directory, url = local.directory, local.url
        worker = await local.worker()
        await worker.start()  # left running on purpose: the helper must close it
        client = local.device("client")
        await client.join(await worker.create_invite(), lambda _policy: True)
        await client.start()
        assert isinstance(await asyncio.wait_for(worker.next_event(), 30), ContactJoined)
    assert worker._sync._tasks == [] and client._sync._tasks == []
    assert not directory.exists()
    port = int(url.rsplit(":", 1)[1])
    with pytest.raises(OSError):
        await asyncio.open_connection("127.0.0.1", port)


def test_the_sdk_works_without_the_relay_and_testing_says_what_to_install() -> None:
    # Fresh interpreters in which confide_server cannot be imported, as without the extra.
    hide = "import sys; sys.modules['confide_server'] = None; "
    sdk = subprocess.run([sys.executable, "-c", hide + "import confide_client, confide_client.cli"])
    assert sdk.returncode == 0
    code = hide + "import confide_client.testing"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 1
    assert "install confide-client[testing]" in result.stderr
