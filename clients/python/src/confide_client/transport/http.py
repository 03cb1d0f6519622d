"""The relay's real protocol: HTTP under /v1 and the live WebSocket at /v1/ws.

docs/protocol.md is the reference for every endpoint and frame used here. Network failures,
5xx answers and 429 (the relay asking for patience) become :class:`RelayUnavailable`, which
the SDK retries with backoff; other 4xx answers become :class:`RelayRejected` with the
relay's problem+json. Error messages name endpoints and statuses only, never bodies, so no
ciphertext or token can reach an application's logs through them.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Sequence
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI

from confide_client.encoding import b64d, b64e
from confide_client.errors import ProtocolError, RelayRejected, RelayUnavailable
from confide_client.receipts import Signed
from confide_client.transport.base import (
    ColleagueCapability,
    Delivery,
    DeviceRegistration,
    LiveItem,
    MintedCapability,
    NewInvite,
    OneTimePrekey,
    Policy,
    PolicyPublished,
    PolicyTranslation,
    PrekeyBundle,
    PrekeysLow,
    Redemption,
    RegisteredDevice,
    SignedPrekey,
    StoredConsent,
    WorkerDevice,
)

__all__ = ["HttpTransport"]

log = logging.getLogger("confide_client")

#: The relay's cap on one-time prekeys per upload request.
PREKEY_UPLOAD_CHUNK = 100
#: The relay's cap on envelope ids per acknowledgement.
ACK_CHUNK = 512
#: How long to wait for the relay's "ready" frame after authenticating a live connection.
READY_TIMEOUT = 30.0
#: WebSocket close codes after which logging in again (not just reconnecting) is needed.
AUTH_CLOSE_CODES = frozenset({4401, 4410})


def _registration_json(reg: DeviceRegistration) -> dict[str, Any]:
    return {
        "identity_key": b64e(reg.identity_key),
        "challenge": b64e(reg.challenge),
        "signature": b64e(reg.signature),
        "signed_prekey": _signed_prekey_json(reg.signed_prekey),
        "one_time_prekeys": [_one_time_json(k) for k in reg.one_time_prekeys],
    }


def _signed_prekey_json(spk: SignedPrekey) -> dict[str, Any]:
    return {"key_id": spk.key_id, "public_key": b64e(spk.public), "signature": b64e(spk.signature)}


def _one_time_json(key: OneTimePrekey) -> dict[str, Any]:
    return {"key_id": key.key_id, "public_key": b64e(key.public)}


def _bundle(data: dict[str, Any]) -> PrekeyBundle:
    spk, otk = data["signed_prekey"], data.get("one_time_prekey")
    return PrekeyBundle(
        device_id=str(data["device_id"]),
        identity_key=b64d(data["identity_key"]),
        signed_prekey=SignedPrekey(
            int(spk["key_id"]), b64d(spk["public_key"]), b64d(spk["signature"])
        ),
        one_time_prekey=None
        if otk is None
        else OneTimePrekey(int(otk["key_id"]), b64d(otk["public_key"])),
    )


def _policy(data: dict[str, Any] | None) -> Policy:
    if data is None:
        raise ProtocolError("the organisation has not published a confidentiality policy")
    translations = tuple(
        PolicyTranslation(str(t["language"]), str(t["text"]), str(t["sha256"]))
        for t in data.get("translations", [])
    )
    return Policy(
        int(data["version"]),
        str(data["text"]),
        str(data["sha256"]),
        str(data.get("language", "en")),
        translations,
    )


class HttpTransport:
    """A :class:`~confide_client.transport.base.Transport` over httpx and websockets."""

    def __init__(self, base_url: str, *, timeout: float = 30.0) -> None:
        self.base_url = base_url.rstrip("/")
        self._http = httpx.AsyncClient(base_url=self.base_url, timeout=timeout)
        self._token: str | None = None
        self._mailbox: str | None = None

    async def _call(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        content: bytes | None = None,
        auth: bool = True,
        params: dict[str, Any] | None = None,
    ) -> httpx.Response:
        headers = {}
        if auth:
            if self._token is None:
                raise RelayRejected(401, {"title": "not logged in", "detail": "log in first"})
            headers["Authorization"] = f"Bearer {self._token}"
        if content is not None:
            headers["Content-Type"] = "application/octet-stream"
        try:
            response = await self._http.request(
                method, path, json=body, content=content, headers=headers, params=params
            )
        except httpx.HTTPError as exc:
            raise RelayUnavailable(f"{method} {path}: {type(exc).__name__}") from None
        status = response.status_code
        if status >= 500 or status == 429:
            raise RelayUnavailable(f"{method} {path}: {status}")
        if status >= 400:
            try:
                problem = response.json()
            except ValueError:
                problem = {}
            raise RelayRejected(status, problem if isinstance(problem, dict) else {})
        return response

    async def _json(self, method: str, path: str, **kwargs: Any) -> Any:
        response = await self._call(method, path, **kwargs)
        try:
            return response.json()
        except ValueError as exc:
            raise ProtocolError(f"{method} {path}: the relay's answer is not JSON") from exc

    def _mailbox_path(self, tail: str) -> str:
        if self._mailbox is None:
            raise RelayRejected(401, {"title": "not logged in", "detail": "log in first"})
        return f"/v1/mailboxes/{self._mailbox}/{tail}"

    async def challenge(self) -> bytes:
        data = await self._json("POST", "/v1/challenges", auth=False)
        return b64d(data["challenge"])

    async def enrol(self, code: str, registration: DeviceRegistration) -> RegisteredDevice:
        body = {**_registration_json(registration), "enrolment_code": code}
        data = await self._json("POST", "/v1/devices/enrol", body=body, auth=False)
        return RegisteredDevice(str(data["device_id"]), b64d(data["mailbox_id"]))

    async def redeem(self, invite_token: bytes, registration: DeviceRegistration) -> Redemption:
        body = {**_registration_json(registration), "token": b64e(invite_token)}
        data = await self._json("POST", "/v1/invites/redeem", body=body, auth=False)
        return Redemption(
            device=RegisteredDevice(str(data["device_id"]), b64d(data["mailbox_id"])),
            worker_bundle=_bundle(data["worker_bundle"]),
            worker_mailbox_id=b64d(data["worker_mailbox_id"]),
            worker_capability=b64d(data["worker_capability"]),
            policy=_policy(data.get("policy")),
        )

    async def login(self, device_id: str, challenge: bytes, signature: bytes) -> None:
        body = {"device_id": device_id, "challenge": b64e(challenge), "signature": b64e(signature)}
        data = await self._json("POST", "/v1/auth/token", body=body, auth=False)
        self._token = str(data["token"])
        me = await self._json("GET", "/v1/devices/me")
        self._mailbox = str(me["mailbox_id"])

    async def upload_prekeys(
        self, signed_prekey: SignedPrekey | None, one_time: Sequence[OneTimePrekey]
    ) -> None:
        if signed_prekey is not None:
            await self._call("PUT", "/v1/prekeys/signed", body=_signed_prekey_json(signed_prekey))
        for start in range(0, len(one_time), PREKEY_UPLOAD_CHUNK):
            chunk = one_time[start : start + PREKEY_UPLOAD_CHUNK]
            body = {"prekeys": [_one_time_json(k) for k in chunk]}
            await self._call("POST", "/v1/prekeys/one-time", body=body)

    async def prekey_count(self) -> int:
        return int((await self._json("GET", "/v1/prekeys/status"))["one_time_prekeys"])

    async def fetch_bundle(self, device_id: str) -> PrekeyBundle:
        return _bundle(await self._json("GET", f"/v1/devices/{device_id}/bundle"))

    async def create_invite(self, ttl_seconds: int) -> NewInvite:
        data = await self._json("POST", "/v1/invites", body={"ttl": ttl_seconds})
        return NewInvite(b64d(data["token"]), int(data["expires_at"]), str(data["capability_id"]))

    async def cancel_invite(self, capability_id: str) -> None:
        await self._call("DELETE", f"/v1/invites/{capability_id}")

    async def current_policy(self) -> Policy:
        data = await self._json("GET", "/v1/organisation", auth=False)
        return _policy(data.get("policy"))

    async def current_group_terms(self) -> Policy | None:
        data = await self._json("GET", "/v1/organisation", auth=False)
        terms = data.get("group_terms")
        return None if terms is None else _policy(terms)

    async def rotate_capability(self, capability_id: str) -> MintedCapability:
        data = await self._json("POST", self._mailbox_path(f"capabilities/{capability_id}/rotate"))
        return MintedCapability(str(data["capability_id"]), b64d(data["capability"]))

    async def mint_capability(self) -> MintedCapability:
        data = await self._json("POST", self._mailbox_path("capabilities"))
        return MintedCapability(str(data["capability_id"]), b64d(data["capability"]))

    async def revoke_capability(self, capability_id: str) -> None:
        await self._call("DELETE", self._mailbox_path(f"capabilities/{capability_id}"))

    async def capabilities(self) -> list[str]:
        listed = await self._json("GET", self._mailbox_path("capabilities"))
        return [str(c["capability_id"]) for c in listed if not c["revoked"]]

    async def organisation_settings(self) -> dict[str, int]:
        data = await self._json("GET", "/v1/organisation", auth=False)
        return {str(k): int(v) for k, v in data.get("settings", {}).items()}

    async def workers(self) -> list[WorkerDevice]:
        rows = await self._json("GET", "/v1/workers")
        return [WorkerDevice(r["worker_id"], r["role"], r["device_id"]) for r in rows]

    async def colleague_capability(self, device_id: str) -> ColleagueCapability:
        data = await self._json("POST", f"/v1/workers/{device_id}/capabilities")
        return ColleagueCapability(device_id, b64d(data["mailbox_id"]), b64d(data["capability"]))

    async def send(
        self, mailbox_id: bytes, capability: bytes, client_msg_id: str, envelope: bytes
    ) -> None:
        body = {
            "capability": b64e(capability),
            "client_message_id": client_msg_id,
            "body": b64e(envelope),
        }
        # Sending carries no Authorization header: the relay must not learn the sender.
        await self._call(
            "POST", f"/v1/mailboxes/{b64e(mailbox_id)}/messages", body=body, auth=False
        )

    async def fetch(self, limit: int) -> list[Delivery]:
        data = await self._json("GET", self._mailbox_path("messages"), params={"limit": limit})
        return [Delivery(str(e["id"]), b64d(e["body"])) for e in data["envelopes"]]

    async def ack(self, delivery_ids: Sequence[str]) -> None:
        for start in range(0, len(delivery_ids), ACK_CHUNK):
            body = {"ids": list(delivery_ids[start : start + ACK_CHUNK])}
            await self._call("POST", self._mailbox_path("acks"), body=body)

    async def put_blob(self, data: bytes) -> str:
        return str((await self._json("POST", "/v1/attachments", content=data))["attachment_id"])

    async def get_blob(self, blob_id: str) -> bytes:
        return (await self._call("GET", f"/v1/attachments/{blob_id}")).content

    async def submit_consent(self, worker_device_id: str, kind: str, statement: Signed) -> None:
        body = {
            "worker_device_id": worker_device_id,
            "kind": kind,
            "receipt": b64e(statement.data),
            "signature": b64e(statement.signature),
        }
        await self._call("POST", "/v1/consent", body=body)

    async def consent_records(self, page_size: int = 50) -> list[StoredConsent]:
        records: list[StoredConsent] = []
        params: dict[str, str | int] = {"limit": page_size}
        seen: set[str] = set()
        while True:
            data = await self._json("GET", "/v1/consent", params=params)
            records += [_consent_record(r) for r in data["records"]]
            cursor = data["next"]
            if cursor is None:
                return records
            if cursor in seen:  # a relay that repeats itself must not loop us forever
                raise ProtocolError("the relay returned the same consent page cursor twice")
            seen.add(cursor)
            params = {"limit": page_size, "after": cursor}

    async def live(self) -> WebSocketLive:
        if self._token is None:
            raise RelayRejected(401, {"title": "not logged in", "detail": "log in first"})
        url = "ws" + self.base_url.removeprefix("http") + "/v1/ws"
        try:
            socket = await connect(url, compression=None, max_size=2**20, open_timeout=30)
        except (OSError, InvalidHandshake, InvalidURI, TimeoutError) as exc:
            raise RelayUnavailable(f"live connection: {type(exc).__name__}") from None
        live = WebSocketLive(socket)
        try:
            await live.authenticate(self._token)
        except BaseException:
            # Cancelled or refused before the stream began: do not leak the socket.
            await socket.close()
            raise
        return live

    async def aclose(self) -> None:
        await self._http.aclose()


class WebSocketLive:
    """The live connection: a reader task turns relay frames into queued events."""

    def __init__(self, socket: ClientConnection) -> None:
        self._socket = socket
        self._events: asyncio.Queue[LiveItem | Exception] = asyncio.Queue()
        self._reader: asyncio.Task[None] | None = None
        self._failure: Exception | None = None

    async def authenticate(self, token: str) -> None:
        try:
            await self._socket.send(json.dumps({"type": "auth", "token": token}))
            async with asyncio.timeout(READY_TIMEOUT):  # not wait_for: see sync._gather
                first = json.loads(await self._socket.recv())
        except ConnectionClosed as exc:
            raise _closed(exc) from None
        except TimeoutError:
            raise RelayUnavailable("the relay did not confirm the live connection") from None
        if first.get("type") != "ready":
            await self._socket.close()
            raise RelayRejected(401, {"title": "live authentication refused", "detail": ""})
        self._reader = asyncio.create_task(self._read(), name="confide-live-reader")

    async def _read(self) -> None:
        try:
            async for raw in self._socket:
                frame = json.loads(raw)
                kind = frame.get("type")
                if kind == "envelope":
                    self._events.put_nowait(Delivery(str(frame["id"]), b64d(frame["body"])))
                elif kind == "notice" and frame.get("kind") == "prekeys-low":
                    self._events.put_nowait(PrekeysLow(int(frame.get("remaining", 0))))
                elif kind == "notice" and frame.get("kind") == "policy":
                    notice = PolicyPublished(int(frame["version"]), str(frame["sha256"]))
                    self._events.put_nowait(notice)
                elif kind == "error":
                    log.warning("the relay refused a frame: %s", frame.get("error"))
            self._events.put_nowait(RelayUnavailable("live connection closed"))
        except ConnectionClosed as exc:
            self._events.put_nowait(_closed(exc))
        except (ValueError, KeyError, ProtocolError):
            self._events.put_nowait(RelayUnavailable("live connection sent a malformed frame"))

    async def next_batch(self, limit: int) -> list[LiveItem]:
        batch: list[LiveItem] = []
        if self._failure is not None:
            raise self._failure
        item = await self._events.get()
        while True:
            if isinstance(item, Exception):
                # What arrived before the failure is delivered; the failure is reported now
                # if nothing did, and on every later call (the connection is gone).
                self._failure = item
                if batch:
                    return batch
                raise item
            batch.append(item)
            if len(batch) >= limit or self._events.empty():
                return batch
            item = self._events.get_nowait()

    async def ack(self, delivery_ids: Sequence[str]) -> None:
        try:
            for start in range(0, len(delivery_ids), ACK_CHUNK):
                ids = list(delivery_ids[start : start + ACK_CHUNK])
                await self._socket.send(json.dumps({"type": "ack", "ids": ids}))
        except ConnectionClosed as exc:
            raise _closed(exc) from None

    async def close(self) -> None:
        try:
            if self._reader is not None:
                self._reader.cancel()
                # Waited for, not awaited: its CancelledError is the reader's, and a
                # cancellation of the closing task itself must still reach that task.
                await asyncio.wait({self._reader})
        finally:
            await self._socket.close()


def _closed(exc: ConnectionClosed) -> RelayRejected | RelayUnavailable:
    code = exc.rcvd.code if exc.rcvd is not None else None
    if code in AUTH_CLOSE_CODES:
        return RelayRejected(401, {"title": "live connection closed", "detail": str(code)})
    return RelayUnavailable(f"live connection closed ({code})")


def _consent_record(data: dict[str, Any]) -> StoredConsent:
    return StoredConsent(
        receipt_id=str(data["receipt_id"]),
        client_device_id=str(data["client_device_id"]),
        kind=str(data["kind"]),
        statement=Signed(b64d(data["receipt"]), b64d(data["signature"])),
        created_day=int(data["created_day"]),
    )
