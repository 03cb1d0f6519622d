"""A real ``confide serve`` process relays opaque envelopes between two WebSocket clients."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from .helpers import Device, b64d, challenge, login
from .wsclient import WsClient

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _confide(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "confide_server", *args],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return done.stdout.strip()


@pytest.fixture
def served(db_url: str, tmp_path: Path) -> Iterator[tuple[str, str, Path]]:
    """(http base, enrolment code, log file) of a running relay subprocess."""
    env = dict(os.environ, CONFIDE_DATABASE_URL=db_url, CONFIDE_DATA_DIR=str(tmp_path))
    env.pop("CONFIDE_REDIS_URL", None)
    policy = tmp_path / "policy.txt"
    policy.write_text("What we keep private, and when we cannot.", encoding="utf-8")
    _confide(env, "create-org", "--name", "Serve Test")
    _confide(env, "publish-policy", "--file", str(policy))
    code = _confide(env, "enrol-worker", "--role", "worker")
    port = _free_port()
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "confide_server", "serve", "--port", str(port)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(base)
        yield base, code, log
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0, log.read_text()


def _wait_healthy(base: str) -> None:
    for _ in range(300):
        try:
            if httpx.get(base + "/healthz").status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.1)
    raise AssertionError("the relay did not become healthy")


async def _register(
    client: httpx.AsyncClient, path: str, extra: dict[str, str]
) -> tuple[Device, dict[str, Any]]:
    device = Device()
    body = device.registration(await challenge(client))
    body.update(extra)
    response = await client.post(path, json=body)
    assert response.status_code == 201, response.text
    joined: dict[str, Any] = response.json()
    device.device_id, device.mailbox_id = joined["device_id"], joined["mailbox_id"]
    await login(client, device)
    return device, joined


async def test_two_clients_exchange_envelopes(served: tuple[str, str, Path]) -> None:
    base, code, log = served
    ws_url = base.replace("http", "ws") + "/v1/ws"
    async with httpx.AsyncClient(base_url=base) as client:
        worker, _ = await _register(client, "/v1/devices/enrol", {"enrolment_code": code})
        token = (await client.post("/v1/invites", headers=worker.auth)).json()["token"]
        person, joined = await _register(client, "/v1/invites/redeem", {"token": token})
        assert joined["policy"]["version"] == 1
        back = await client.post(
            f"/v1/mailboxes/{person.mailbox_id}/capabilities", headers=person.auth
        )
        person_cap = back.json()["capability"]

    worker_ws = await WsClient.open(ws_url, worker.token)
    person_ws = await WsClient.open(ws_url, person.token)
    sealed = os.urandom(1024)
    await person_ws.send(worker.mailbox_id, joined["worker_capability"], "c1", sealed, ref=1)
    assert (await person_ws.get())["type"] == "accepted"
    got = await worker_ws.get()
    assert got["type"] == "envelope" and b64d(got["body"]) == sealed
    await worker_ws.put({"type": "ack", "ids": [got["id"]], "ref": "a"})
    assert (await worker_ws.get()) == {"type": "acked", "ref": "a"}
    reply = os.urandom(2048)
    await worker_ws.send(person.mailbox_id, person_cap, "w1", reply, ref=2)
    assert (await worker_ws.get())["type"] == "accepted"
    got = await person_ws.get()
    assert b64d(got["body"]) == reply
    await worker_ws.close()
    await person_ws.close()
    text = log.read_text()
    assert "127.0.0.1:" not in text.replace(base.removeprefix("http://"), "")
