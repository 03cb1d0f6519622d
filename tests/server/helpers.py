"""Test devices that hold real Ed25519 keys and speak the relay's HTTP API."""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from typing import Any

import httpx
from confide_crypto.consent import ConsentReceipt, ConsentRevocation, policy_digest
from confide_crypto.keys import fingerprint
from confide_server.clock import Clock
from confide_server.relay import Relay
from confide_server.services import organisation
from nacl.public import PrivateKey
from nacl.signing import SigningKey

REG = b"Confide device registration v1\x00"
AUTH = b"Confide auth v1\x00"
SPK = b"Confide signed prekey v1\x00"
STEP_UP = b"Confide step-up v1\x00"


def b64e(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64d(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@dataclass
class Device:
    signing_key: SigningKey = field(default_factory=SigningKey.generate)
    device_id: str = ""
    mailbox_id: str = ""
    token: str = ""
    next_key_id: int = 1

    @property
    def identity_key(self) -> bytes:
        return bytes(self.signing_key.verify_key)

    def sign(self, message: bytes) -> bytes:
        return self.signing_key.sign(message).signature

    def signed_prekey(self, key_id: int = 1) -> dict[str, Any]:
        public = bytes(PrivateKey.generate().public_key)
        signature = self.sign(SPK + key_id.to_bytes(4, "big") + public)
        return {"key_id": key_id, "public_key": b64e(public), "signature": b64e(signature)}

    def one_time_prekeys(self, count: int) -> list[dict[str, Any]]:
        keys = []
        for _ in range(count):
            public = bytes(PrivateKey.generate().public_key)
            keys.append({"key_id": self.next_key_id, "public_key": b64e(public)})
            self.next_key_id += 1
        return keys

    def registration(self, challenge: str, otps: int = 5) -> dict[str, Any]:
        return {
            "identity_key": b64e(self.identity_key),
            "challenge": challenge,
            "signature": b64e(self.sign(REG + b64d(challenge))),
            "signed_prekey": self.signed_prekey(),
            "one_time_prekeys": self.one_time_prekeys(otps),
        }

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


async def challenge(client: httpx.AsyncClient) -> str:
    response = await client.post("/v1/challenges")
    assert response.status_code == 201, response.text
    return str(response.json()["challenge"])


async def login(client: httpx.AsyncClient, device: Device) -> None:
    c = await challenge(client)
    response = await client.post(
        "/v1/auth/token",
        json={
            "device_id": device.device_id,
            "challenge": c,
            "signature": b64e(device.sign(AUTH + b64d(c))),
        },
    )
    assert response.status_code == 201, response.text
    device.token = response.json()["token"]


async def step_up(client: httpx.AsyncClient, admin: Device) -> None:
    """Confirm again as admin (what the worker app does after the passphrase is re-entered)."""
    c = await challenge(client)
    response = await client.post(
        "/v1/admin/step-up",
        headers=admin.auth,
        json={"challenge": c, "signature": b64e(admin.sign(STEP_UP + b64d(c)))},
    )
    assert response.status_code == 200, response.text


async def enrolment_code(relay: Relay, role: str = "worker", clock: Clock | None = None) -> str:
    now = (clock or relay.clock)()
    async with relay.engine.begin() as conn:
        _worker, code = await organisation.enrol_worker(conn, role, now, 3600, "test")
    return b64e(code)


POLICY_TEXT = "We keep what you say private, except..."
SIGNED_AT = 1_800_000_000  # FakeClock's default time


async def setup_org(relay: Relay, policy: str = POLICY_TEXT) -> None:
    now = relay.clock()
    async with relay.engine.begin() as conn:
        await organisation.create(conn, "Test Peer Org", 30 * 86_400, now)
        await organisation.publish_policy(conn, policy, now, "test")


async def enrol(client: httpx.AsyncClient, relay: Relay, role: str = "worker") -> Device:
    device = Device()
    body = device.registration(await challenge(client))
    body["enrolment_code"] = await enrolment_code(relay, role)
    response = await client.post("/v1/devices/enrol", json=body)
    assert response.status_code == 201, response.text
    device.device_id = response.json()["device_id"]
    device.mailbox_id = response.json()["mailbox_id"]
    await login(client, device)
    return device


async def invite(client: httpx.AsyncClient, worker: Device) -> str:
    response = await client.post("/v1/invites", headers=worker.auth)
    assert response.status_code == 201, response.text
    return str(response.json()["token"])


async def join(client: httpx.AsyncClient, worker: Device) -> tuple[Device, dict[str, Any]]:
    """A client device redeems a fresh invite from ``worker`` and logs in."""
    device = Device()
    body = device.registration(await challenge(client))
    body["token"] = await invite(client, worker)
    response = await client.post("/v1/invites/redeem", json=body)
    assert response.status_code == 201, response.text
    out: dict[str, Any] = response.json()
    device.device_id, device.mailbox_id = out["device_id"], out["mailbox_id"]
    await login(client, device)
    return device, out


def consent_body(
    client_device: Device, worker: Device, receipt: bytes, kind: str = "receipt"
) -> dict[str, str]:
    """A POST /v1/consent body: ``receipt`` signed by the client's device, for ``worker``."""
    return {
        "worker_device_id": worker.device_id,
        "kind": kind,
        "receipt": b64e(receipt),
        "signature": b64e(client_device.sign(receipt)),
    }


def receipt_bytes(
    client_device: Device,
    worker: Device,
    version: int = 1,
    policy: str = POLICY_TEXT,
    *,
    signed_at: int = SIGNED_AT,
    purpose: str = "Peer support",
    language: str | None = None,
) -> bytes:
    """A well-formed consent receipt (docs/protocol.md part 2 section 10), not yet signed;
    of format 2 when it names the ``language`` of the policy text read."""
    return ConsentReceipt(
        client_identity_key=client_device.identity_key,
        worker_key_fingerprint=fingerprint(worker.identity_key),
        policy_version=version,
        policy_sha256=policy_digest(policy),
        signed_at=signed_at,
        expires_at=signed_at + 365 * 86400,
        discloser="The person signing with this device",
        recipient="The worker holding the named key",
        purpose=purpose,
        information="Messages",
        policy_language=language,
    ).encode()


def revocation_bytes(client_device: Device, receipt: bytes, at: int = SIGNED_AT + 60) -> bytes:
    """A well-formed revocation of ``receipt`` by ``client_device``, not yet signed."""
    return ConsentRevocation.for_receipt(receipt, client_device.identity_key, at).encode()


async def capability(client: httpx.AsyncClient, owner: Device) -> str:
    response = await client.post(
        f"/v1/mailboxes/{owner.mailbox_id}/capabilities", headers=owner.auth
    )
    assert response.status_code == 201, response.text
    return str(response.json()["capability"])


async def send(
    client: httpx.AsyncClient, mailbox_id: str, cap: str, cmid: str, body: bytes
) -> httpx.Response:
    return await client.post(
        f"/v1/mailboxes/{mailbox_id}/messages",
        json={"capability": cap, "client_message_id": cmid, "body": b64e(body)},
    )


async def org_with_setting(
    client: httpx.AsyncClient, relay: Relay, name: str, value: int
) -> Device:
    """An organisation whose admin (returned, stepped up) has set one setting through the API."""
    await setup_org(relay)
    admin = await enrol(client, relay, role="admin")
    await step_up(client, admin)
    changed = await client.put(
        f"/v1/admin/settings/{name}", headers=admin.auth, json={"value": value}
    )
    assert changed.status_code == 204, changed.text
    return admin
