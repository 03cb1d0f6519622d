"""Bringing devices into a fresh relay the way a user would, so the benchmark drives the
real protocol: the admin CLI creates the organisation and the first admin's enrolment
code; that admin's device then asks the HTTP API for one enrolment code per worker device;
each device registers with an Ed25519 identity key (proof of possession over a challenge),
logs in for a bearer token, and recipients mint a send capability for their mailbox.
"""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import httpx
from nacl.public import PrivateKey
from nacl.signing import SigningKey
from workload import Pair, b64, unb64

REGISTRATION_TAG = b"Confide device registration v1\x00"
AUTH_TAG = b"Confide auth v1\x00"
SIGNED_PREKEY_TAG = b"Confide signed prekey v1\x00"
STEP_UP_TAG = b"Confide step-up v1\x00"
# The relay's step-up lasts CONFIDE_STEP_UP_SECONDS (300 s by default); confirm well before.
STEP_UP_REFRESH = 120.0
# Not \b: a code may begin or end with "-", which is not a word character.
CODE = re.compile(r"(?<![A-Za-z0-9_-])[A-Za-z0-9_-]{43}(?![A-Za-z0-9_-])")
CONCURRENCY = 8
CONNECTIONS_PER_TOKEN = 4


def confide_cli(args: list[str], env: Mapping[str, str]) -> str:
    """Run the relay's admin CLI (the same interpreter as the benchmark) and return stdout."""
    argv = [sys.executable, "-m", "confide_server", *args]
    done = subprocess.run(
        argv, env={**os.environ, **env}, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"confide {' '.join(args)} failed: {done.stderr.strip()[-500:]}")
    return done.stdout


def bootstrap_admin_code(env: Mapping[str, str]) -> str:
    """create-org, then an admin enrolment code; returns the code printed by the CLI."""
    confide_cli(["create-org", "--name", "Benchmark Peer Support"], env)
    out = confide_cli(["enrol-worker", "--role", "admin"], env)
    codes = CODE.findall(out)
    if not codes:
        raise RuntimeError(f"no enrolment code in the CLI's output: {out!r}")
    return codes[-1]


@dataclass
class Device:
    key: SigningKey
    device_id: str = ""
    mailbox_id: str = ""


class Enroller:
    """An HTTP client for one relay at 127.0.0.1:port, a few requests in flight at a time."""

    def __init__(self, port: int) -> None:
        self.http = httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30.0)
        self.gate = asyncio.Semaphore(CONCURRENCY)

    async def close(self) -> None:
        await self.http.aclose()

    async def _post(self, path: str, body: object, token: str = "") -> dict[str, str]:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        async with self.gate:
            response = await self.http.post(path, json=body, headers=headers)
        if response.status_code >= 300:
            raise RuntimeError(f"POST {path}: {response.status_code} {response.text[:300]}")
        result: dict[str, str] = response.json()
        return result

    async def _challenge(self) -> bytes:
        return unb64((await self._post("/v1/challenges", {}))["challenge"])

    async def enrol(self, code: str) -> Device:
        device = Device(SigningKey.generate())
        challenge = await self._challenge()
        spk = bytes(PrivateKey.generate().public_key)
        key_id = 1
        spk_sig = device.key.sign(SIGNED_PREKEY_TAG + key_id.to_bytes(4, "big") + spk).signature
        out = await self._post(
            "/v1/devices/enrol",
            {
                "enrolment_code": code,
                "identity_key": b64(bytes(device.key.verify_key)),
                "challenge": b64(challenge),
                "signature": b64(device.key.sign(REGISTRATION_TAG + challenge).signature),
                "signed_prekey": {
                    "key_id": key_id,
                    "public_key": b64(spk),
                    "signature": b64(spk_sig),
                },
            },
        )
        device.device_id, device.mailbox_id = out["device_id"], out["mailbox_id"]
        return device

    async def token(self, device: Device) -> str:
        challenge = await self._challenge()
        out = await self._post(
            "/v1/auth/token",
            {
                "device_id": device.device_id,
                "challenge": b64(challenge),
                "signature": b64(device.key.sign(AUTH_TAG + challenge).signature),
            },
        )
        return out["token"]

    async def step_up(self, device: Device, token: str) -> None:
        """Confirm again as admin: changes through /v1/admin need a recent step-up."""
        challenge = await self._challenge()
        signature = device.key.sign(STEP_UP_TAG + challenge).signature
        await self._post(
            "/v1/admin/step-up", {"challenge": b64(challenge), "signature": b64(signature)}, token
        )

    async def enrolment_code(self, admin_token: str) -> str:
        return (await self._post("/v1/admin/enrolment-codes", {"role": "worker"}, admin_token))[
            "enrolment_code"
        ]

    async def capability(self, device: Device, token: str) -> str:
        path = f"/v1/mailboxes/{device.mailbox_id}/capabilities"
        return (await self._post(path, {}, token))["capability"]

    async def worker(self, admin_token: str) -> tuple[Device, str]:
        device = await self.enrol(await self.enrolment_code(admin_token))
        return device, await self.token(device)


class Admin:
    """The first admin's device: enrolled once with the CLI's code, then reused."""

    def __init__(self, code: str) -> None:
        self.code = code
        self.token = ""
        self.device: Device | None = None
        self.confirmed_at = -STEP_UP_REFRESH

    async def login(self, enroller: Enroller) -> str:
        if self.device is None:
            self.device = await enroller.enrol(self.code)
            self.token = await enroller.token(self.device)
        if time.monotonic() - self.confirmed_at >= STEP_UP_REFRESH:
            await enroller.step_up(self.device, self.token)
            self.confirmed_at = time.monotonic()
        return self.token


_admins: dict[str, Admin] = {}


def _admin(code: str) -> Admin:
    return _admins.setdefault(code, Admin(code))


async def _pairs(port: int, admin_code: str, n: int) -> list[Pair]:
    enroller = Enroller(port)
    try:
        admin_token = await _admin(admin_code).login(enroller)
        workers = await asyncio.gather(*(enroller.worker(admin_token) for _ in range(2 * n)))
        pairs = []
        halves = zip(workers[0::2], workers[1::2], strict=True)
        for (recipient, r_token), (_sender, s_token) in halves:
            capability = await enroller.capability(recipient, r_token)
            pairs.append(
                Pair(
                    mailbox=recipient.mailbox_id,
                    capability=capability,
                    recipient={"token": r_token},
                    sender={"token": s_token},
                )
            )
        return pairs
    finally:
        await enroller.close()


async def _idle(port: int, admin_code: str, connections: int) -> list[Pair]:
    enroller = Enroller(port)
    try:
        admin_token = await _admin(admin_code).login(enroller)
        devices = -(-connections // CONNECTIONS_PER_TOKEN)
        workers = await asyncio.gather(*(enroller.worker(admin_token) for _ in range(devices)))
        return [
            Pair(mailbox=device.mailbox_id, capability="", recipient={"token": token})
            for device, token in workers
            for _ in range(CONNECTIONS_PER_TOKEN)
        ][:connections]
    finally:
        await enroller.close()


def enrol_pairs(port: int, admin_code: str, n: int) -> list[Pair]:
    """n sender/recipient pairs of worker devices on a relay whose organisation exists."""
    return asyncio.run(_pairs(port, admin_code, n))


def enrol_idle(port: int, admin_code: str, connections: int) -> list[Pair]:
    """Logged-in devices for idle connections, each token used by the relay's default
    maximum of connections per token (four: a worker with a few tabs open)."""
    return asyncio.run(_idle(port, admin_code, connections))


def relay_env(data_dir: Path, database_url: str = "") -> dict[str, str]:
    """Settings for a benchmark relay: a fresh store, and limits that fit a load test.

    Rate limits per client address would throttle a generator that makes every device from
    one loopback address, and a backlog of 100,000 envelopes exceeds the default queue depth.
    """
    env = {
        "CONFIDE_DATA_DIR": str(data_dir),
        "CONFIDE_LOG_LEVEL": "warning",
        "CONFIDE_ANONYMOUS_REQUESTS_PER_MINUTE": "1000000",
        "CONFIDE_INVITE_REDEMPTIONS_PER_MINUTE": "1000000",
        "CONFIDE_MAX_QUEUE_DEPTH": "200000",
    }
    if database_url:
        env["CONFIDE_DATABASE_URL"] = database_url
    return env
