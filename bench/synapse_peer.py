"""The peer in the full mode: Matrix Synapse on SQLite, on loopback, same 1 KiB messages.

Synapse lives in its own virtual environment (bench/.synapse-venv, gitignored; created with
`uv venv bench/.synapse-venv && uv pip install matrix-synapse` into it). This module writes
a config for a throwaway homeserver, raises its per-user rate limits (they would otherwise
cap a benchmark at a few messages a second), registers pairs of users with the shared
secret, gives each pair a private room, then has one user of each pair send messages
(`PUT .../send/m.room.message/{txn}`, one in flight per sender) while the other long-polls
`/sync`. Latency runs from the send to the message's arrival in the recipient's sync;
server CPU comes from Synapse's own process counters, as for every other server.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import yaml
from coordinator import percentile_ms
from servers import ServerProcess, free_port

VENV = Path(__file__).resolve().parent / ".synapse-venv"
PYTHON = VENV / "bin" / "python"
SERVER_NAME = "bench.localhost"
# A throwaway homeserver on loopback, gone after the run.
SECRET = "confide-bench-shared-secret"
HIGH = {"per_second": 100000, "burst_count": 100000}


def available() -> bool:
    return PYTHON.exists()


def _configure(workdir: Path, port: int) -> Path:
    config = workdir / "homeserver.yaml"
    argv = [str(PYTHON), "-m", "synapse.app.homeserver", "--server-name", SERVER_NAME]
    argv += ["--config-path", str(config), "--data-directory", str(workdir)]
    subprocess.run(
        [*argv, "--generate-config", "--report-stats=no"],
        cwd=workdir,
        check=True,
        capture_output=True,
    )
    settings = yaml.safe_load(config.read_text(encoding="utf-8"))
    settings["listeners"] = [
        {
            "port": port,
            "bind_addresses": ["127.0.0.1"],
            "type": "http",
            "tls": False,
            "x_forwarded": False,
            "resources": [{"names": ["client"], "compress": False}],
        }
    ]
    settings["registration_shared_secret"] = SECRET
    settings["enable_metrics"] = False
    settings["presence"] = {"enabled": False}
    settings["trusted_key_servers"] = []
    for limit in ("rc_message", "rc_login", "rc_registration", "rc_joins", "rc_invites"):
        settings[limit] = HIGH
    settings["rc_login"] = {"address": HIGH, "account": HIGH, "failed_attempts": HIGH}
    settings["rc_joins"] = {"local": HIGH, "remote": HIGH}
    settings["rc_invites"] = {"per_room": HIGH, "per_user": HIGH, "per_issuer": HIGH}
    config.write_text(yaml.safe_dump(settings), encoding="utf-8")
    return config


async def _register(http: httpx.AsyncClient, name: str) -> str:
    nonce = (await http.get("/_synapse/admin/v1/register")).json()["nonce"]
    password = "bench-" + name
    mac = hmac.new(SECRET.encode(), digestmod=hashlib.sha1)
    mac.update(b"\x00".join([nonce.encode(), name.encode(), password.encode(), b"notadmin"]))
    body = {"nonce": nonce, "username": name, "password": password, "mac": mac.hexdigest()}
    response = await http.post("/_synapse/admin/v1/register", json=body)
    response.raise_for_status()
    token: str = response.json()["access_token"]
    return token


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def _pair(http: httpx.AsyncClient, i: int) -> tuple[str, str, str]:
    alice = await _register(http, f"sender{i}")
    bob = await _register(http, f"recipient{i}")
    room = await http.post(
        "/_matrix/client/v3/createRoom",
        json={"preset": "private_chat", "invite": [f"@recipient{i}:{SERVER_NAME}"]},
        headers=_auth(alice),
    )
    room.raise_for_status()
    room_id: str = room.json()["room_id"]
    joined = await http.post(f"/_matrix/client/v3/join/{room_id}", headers=_auth(bob))
    joined.raise_for_status()
    return alice, bob, room_id


async def _setup(port: int, pairs: int) -> list[tuple[str, str, str]]:
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=60.0) as http:
        return [await _pair(http, i) for i in range(pairs)]


class _Run:
    """Counts for one Synapse run: what was sent when, and what each recipient saw."""

    def __init__(self, http: httpx.AsyncClient, seconds: float, quota: int) -> None:
        self.http = http
        self.deadline = time.monotonic() + seconds
        self.quota = quota
        self.sent: dict[str, float] = {}
        self.seen: set[str] = set()
        self.latencies: list[float] = []
        self.duplicates = 0
        self.sending_done = False
        self.filler = "x" * 1000

    async def send(self, i: int, token: str, room: str) -> None:
        for seq in range(self.quota):
            if time.monotonic() >= self.deadline:
                return
            key = f"{i}:{seq}"
            self.sent[key] = time.monotonic()
            body = {"msgtype": "m.text", "body": f"{key} {self.filler}"}
            path = f"/_matrix/client/v3/rooms/{room}/send/m.room.message/{key}"
            (await self.http.put(path, json=body, headers=_auth(token))).raise_for_status()

    async def receive(self, token: str) -> None:
        first = await self.http.get("/_matrix/client/v3/sync", headers=_auth(token))
        batch = first.json()["next_batch"]
        give_up = self.deadline + 30.0
        while time.monotonic() < give_up:
            if self.sending_done and len(self.seen) >= len(self.sent):
                return
            response = await self.http.get(
                "/_matrix/client/v3/sync",
                params={"since": batch, "timeout": 500},
                headers=_auth(token),
            )
            data = response.json()
            batch = data["next_batch"]
            now = time.monotonic()
            for room in data.get("rooms", {}).get("join", {}).values():
                for event in room.get("timeline", {}).get("events", []):
                    self._arrived(event.get("content", {}).get("body", ""), now)

    def _arrived(self, body: str, now: float) -> None:
        key = body.split(" ", 1)[0]
        if key not in self.sent:
            return
        if key in self.seen:
            self.duplicates += 1
            return
        self.seen.add(key)
        self.latencies.append(now - self.sent[key])


async def _drive(
    port: int, made: list[tuple[str, str, str]], seconds: float, count: int
) -> dict[str, Any]:
    limits = httpx.Limits(max_connections=4 * len(made) + 4)
    base = f"http://127.0.0.1:{port}"
    async with httpx.AsyncClient(base_url=base, timeout=60.0, limits=limits) as http:
        run = _Run(http, seconds, count // len(made))
        receivers = [asyncio.create_task(run.receive(bob)) for _, bob, _ in made]
        started = time.monotonic()
        await asyncio.gather(*(run.send(i, a, room) for i, (a, _, room) in enumerate(made)))
        sending_s = time.monotonic() - started
        run.sending_done = True
        await asyncio.gather(*receivers)
    return {
        "sent": len(run.sent),
        "delivered": len(run.seen),
        "duplicates": run.duplicates,
        "sends_per_s": round(len(run.sent) / sending_s, 1),
        "p50_ms": round(percentile_ms(run.latencies, 0.5), 1),
        "p99_ms": round(percentile_ms(run.latencies, 0.99), 1),
    }


def measure(pairs: int = 8, seconds: float = 20.0, count: int = 4000) -> dict[str, Any]:
    """Start a fresh homeserver, set up its users and rooms, drive it, stop it."""
    workdir = Path(tempfile.mkdtemp(prefix="confide-bench-synapse-"))
    port = free_port()
    try:
        config = _configure(workdir, port)
        argv = [str(PYTHON), "-m", "synapse.app.homeserver", "-c", str(config)]
        server = ServerProcess(argv, port)
        server.start(ready_path="/health", timeout=120.0)
        try:
            made = asyncio.run(_setup(port, pairs))
            before = server.usage()
            figures = asyncio.run(_drive(port, made, seconds, count))
            after = server.usage()
        finally:
            server.stop()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    problems = []
    if figures["delivered"] != figures["sent"]:
        problems.append(f"{figures['sent'] - figures['delivered']} messages not delivered")
    if figures["duplicates"]:
        problems.append(f"{figures['duplicates']} messages arrived twice")
    cpu_us = (after.cpu_s - before.cpu_s) / max(figures["sent"], 1) * 1e6
    return {
        "name": "synapse-sqlite",
        **figures,
        "server_cpu_us_per_msg": round(cpu_us, 1),
        "problems": problems,
    }
