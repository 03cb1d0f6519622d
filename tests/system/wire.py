"""The relay's /v1 protocol spoken by hand, for system tests (docs/protocol.md).

Deliberately not the SDK: these tests judge the relay, so the client side is the smallest
thing that follows the wire contract (Ed25519 proofs with their domain tags, base64url
without padding, the WebSocket frame catalogue), with nothing of its own to hide a fault.
Only the base64url helpers come from confide_crypto, the encoding every part shares.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import ssl
from dataclasses import dataclass
from typing import Any

import httpx
from confide_crypto.encoding import b64decode as b64d
from confide_crypto.encoding import b64encode as b64e
from nacl.signing import SigningKey
from websockets.asyncio.client import ClientConnection, connect

REGISTRATION_TAG = b"Confide device registration v1\x00"
AUTH_TAG = b"Confide auth v1\x00"
SIGNED_PREKEY_TAG = b"Confide signed prekey v1\x00"


async def challenge(http: httpx.AsyncClient) -> bytes:
    answer = await http.post("/v1/challenges")
    answer.raise_for_status()
    return b64d(answer.json()["challenge"])


@dataclass
class Device:
    """A registered worker device: its key, ids, a session token and a send capability."""

    key: SigningKey
    device_id: bytes
    mailbox_id: bytes
    token: bytes = b""
    capability: bytes = b""

    @classmethod
    async def enrol(cls, http: httpx.AsyncClient, enrolment_code: str) -> Device:
        """Register with an enrolment code, log in, and mint one send capability."""
        key = SigningKey.generate()
        nonce = await challenge(http)
        spk_public, key_id = os.urandom(32), 1
        spk_signature = key.sign(SIGNED_PREKEY_TAG + key_id.to_bytes(4, "big") + spk_public)
        answer = await http.post(
            "/v1/devices/enrol",
            json={
                "enrolment_code": enrolment_code,
                "identity_key": b64e(bytes(key.verify_key)),
                "challenge": b64e(nonce),
                "signature": b64e(key.sign(REGISTRATION_TAG + nonce).signature),
                "signed_prekey": {
                    "key_id": key_id,
                    "public_key": b64e(spk_public),
                    "signature": b64e(spk_signature.signature),
                },
            },
        )
        assert answer.status_code == 201, answer.text
        body = answer.json()
        device = cls(key, b64d(body["device_id"]), b64d(body["mailbox_id"]))
        await device.login(http)
        device.capability = await device.mint_capability(http)
        return device

    @classmethod
    async def enrol_at(cls, base_url: str, enrolment_code: str) -> Device:
        """``enrol`` on a relay by its URL, with a client of its own."""
        async with httpx.AsyncClient(base_url=base_url, timeout=30) as http:
            return await cls.enrol(http, enrolment_code)

    async def login(self, http: httpx.AsyncClient) -> None:
        nonce = await challenge(http)
        answer = await http.post(
            "/v1/auth/token",
            json={
                "device_id": b64e(self.device_id),
                "challenge": b64e(nonce),
                "signature": b64e(self.key.sign(AUTH_TAG + nonce).signature),
            },
        )
        assert answer.status_code == 201, answer.text
        self.token = b64d(answer.json()["token"])

    async def mint_capability(self, http: httpx.AsyncClient) -> bytes:
        answer = await http.post(
            f"/v1/mailboxes/{b64e(self.mailbox_id)}/capabilities",
            headers={"Authorization": f"Bearer {b64e(self.token)}"},
        )
        assert answer.status_code == 201, answer.text
        return b64d(answer.json()["capability"])


def send_frame(device: Device, client_message_id: str, body: bytes, ref: int | str) -> str:
    """A WebSocket ``send`` frame to ``device``'s mailbox with its capability."""
    return json.dumps(
        {
            "type": "send",
            "ref": ref,
            "mailbox_id": b64e(device.mailbox_id),
            "capability": b64e(device.capability),
            "client_message_id": client_message_id,
            "body": b64e(body),
        }
    )


async def http_send(
    http: httpx.AsyncClient, device: Device, client_message_id: str, body: bytes
) -> dict[str, Any]:
    """Send one envelope over HTTP, anonymously (no Authorization header); 202 expected."""
    answer = await http.post(
        f"/v1/mailboxes/{b64e(device.mailbox_id)}/messages",
        json={
            "capability": b64e(device.capability),
            "client_message_id": client_message_id,
            "body": b64e(body),
        },
    )
    assert answer.status_code == 202, answer.text
    result: dict[str, Any] = answer.json()
    return result


class Inbox:
    """A device's live WebSocket: authenticated, reading envelopes and acknowledging them."""

    def __init__(
        self, ws_url: str, device: Device, *, ssl_context: ssl.SSLContext | None = None
    ) -> None:
        self.ws_url = ws_url
        self.device = device
        self.ssl_context = ssl_context
        self.socket: ClientConnection | None = None

    async def __aenter__(self) -> Inbox:
        # IPv4 only, so that a test knows the client address the relay or a proxy sees.
        self.socket = await connect(
            self.ws_url,
            compression=None,
            open_timeout=10,
            ssl=self.ssl_context,
            family=socket.AF_INET,
        )
        await self.socket.send(json.dumps({"type": "auth", "token": b64e(self.device.token)}))
        ready = json.loads(await self.socket.recv())
        assert ready["type"] == "ready", ready
        return self

    async def __aexit__(self, *_: object) -> None:
        if self.socket is not None:
            await self.socket.close()

    async def next_envelope(self, wait: float) -> tuple[bytes, bytes]:
        """The next envelope (id, body), acknowledged at once; TimeoutError after ``wait`` s."""
        assert self.socket is not None
        async with asyncio.timeout(wait):
            while True:
                frame = json.loads(await self.socket.recv())
                if frame["type"] == "envelope":
                    break
        envelope_id, body = b64d(frame["id"]), b64d(frame["body"])
        await self.socket.send(json.dumps({"type": "ack", "ids": [frame["id"]]}))
        return envelope_id, body

    async def receive_until(self, sentinel: bytes, wait: float, limit: int) -> list[bytes]:
        """Bodies up to and including ``sentinel`` (delivery is in queue order).

        ``wait`` bounds the wait for each envelope, ``limit`` the number of envelopes.
        """
        bodies: list[bytes] = []
        for _ in range(limit):
            _, body = await self.next_envelope(wait)
            bodies.append(body)
            if body == sentinel:
                return bodies
        raise AssertionError(f"no sentinel within {limit} envelopes")
