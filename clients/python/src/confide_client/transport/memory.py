"""A whole relay in memory, for integrators' tests and the SDK's own.

``MemoryRelay`` keeps the relay's rules (proof of possession, single-use challenges and
invites, capabilities stored as hashes, one-time prekeys consumed once, idempotent sends,
per-mailbox order, acknowledgement deletes) so a bot tested against it behaves the same
against a real relay. Each SDK instance gets its own :class:`MemoryTransport` from
:meth:`MemoryRelay.transport`; :meth:`MemoryRelay.drop_connections` simulates the network
failing, to exercise reconnection.
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field

from confide_crypto.errors import CryptoError
from confide_crypto.keys import AUTH_TAG, REGISTRATION_TAG, signed_prekey_message, verify_signature

from confide_client.encoding import b64e
from confide_client.errors import RelayRejected, RelayUnavailable
from confide_client.receipts import Signed
from confide_client.transport.base import (
    Delivery,
    DeviceRegistration,
    OneTimePrekey,
    Policy,
    PrekeyBundle,
    PrekeysLow,
    Redemption,
    RegisteredDevice,
    SignedPrekey,
)

__all__ = ["MemoryRelay", "MemoryTransport"]

KINDS = frozenset({"receipt", "revocation"})


def _digest(secret: bytes) -> bytes:
    return hashlib.sha256(secret).digest()


def _reject(status: int, detail: str) -> RelayRejected:
    return RelayRejected(status, {"type": "about:blank", "title": detail, "detail": detail})


def _verify(identity_key: bytes, message: bytes, signature: bytes) -> None:
    try:
        verify_signature(identity_key, message, signature)
    except CryptoError as exc:
        raise _reject(400, "bad signature") from exc


@dataclass
class _Device:
    device_id: str
    identity_key: bytes
    mailbox_id: bytes
    signed_prekey: SignedPrekey
    one_time: list[OneTimePrekey] = field(default_factory=list)
    live: _MemoryLive | None = None


@dataclass
class _Mailbox:
    owner: str
    queue: dict[str, bytes] = field(default_factory=dict)
    seen_ids: set[str] = field(default_factory=set)


class MemoryRelay:
    """An in-memory relay shared by the SDK instances under test."""

    def __init__(self, policy_text: str = "Confidentiality policy v1.", low_water: int = 5) -> None:
        self.low_water = low_water
        self._devices: dict[str, _Device] = {}
        self._mailboxes: dict[bytes, _Mailbox] = {}
        self._capabilities: dict[bytes, bytes] = {}
        self._challenges: set[bytes] = set()
        self._enrolment_codes: set[bytes] = set()
        self._invites: dict[bytes, str] = {}
        self._blobs: dict[str, bytes] = {}
        self.consent_receipts: list[bytes] = []
        self._ids = itertools.count(1)
        self.policy = self._make_policy(1, policy_text)

    @staticmethod
    def _make_policy(version: int, text: str) -> Policy:
        return Policy(version, text, hashlib.sha256(text.encode()).hexdigest())

    def publish_policy(self, text: str) -> Policy:
        """Publish a new policy version, as an administrator would."""
        self.policy = self._make_policy(self.policy.version + 1, text)
        return self.policy

    def enrolment_code(self) -> str:
        """A one-time code that enrols one worker device, as ``confide enrol-worker`` prints."""
        code = b64e(secrets.token_bytes(32))
        self._enrolment_codes.add(_digest(code.encode()))
        return code

    def transport(self) -> MemoryTransport:
        """A transport for one SDK instance."""
        return MemoryTransport(self)

    def drop_connections(self) -> None:
        """Cut every live connection, as a network failure or a relay restart would."""
        for device in self._devices.values():
            if device.live is not None:
                device.live.dropped = True
                device.live.wake.set()
                device.live = None

    def stored_bytes(self) -> bytes:
        """Everything the relay holds, concatenated, for tests that look for plaintext."""
        parts = [e for m in self._mailboxes.values() for e in m.queue.values()]
        parts += list(self._blobs.values()) + self.consent_receipts
        return b"".join(parts)

    # The operations below are the relay's rules, called by MemoryTransport.

    def _challenge(self) -> bytes:
        value = secrets.token_bytes(32)
        self._challenges.add(value)
        return value

    def _take_challenge(self, value: bytes) -> None:
        if value not in self._challenges:
            raise _reject(400, "unknown or used challenge")
        self._challenges.discard(value)

    def _register(self, reg: DeviceRegistration) -> _Device:
        self._take_challenge(reg.challenge)
        _verify(reg.identity_key, REGISTRATION_TAG + reg.challenge, reg.signature)
        self._check_signed_prekey(reg.identity_key, reg.signed_prekey)
        device = _Device(
            device_id=secrets.token_urlsafe(12),
            identity_key=reg.identity_key,
            mailbox_id=secrets.token_bytes(16),
            signed_prekey=reg.signed_prekey,
            one_time=list(reg.one_time_prekeys),
        )
        self._devices[device.device_id] = device
        self._mailboxes[device.mailbox_id] = _Mailbox(owner=device.device_id)
        return device

    @staticmethod
    def _check_signed_prekey(identity_key: bytes, spk: SignedPrekey) -> None:
        _verify(identity_key, signed_prekey_message(spk.key_id, spk.public), spk.signature)

    def _enrol(self, code: str, reg: DeviceRegistration) -> RegisteredDevice:
        digest = _digest(code.encode())
        if digest not in self._enrolment_codes:
            raise _reject(403, "unknown or used enrolment code")
        device = self._register(reg)
        self._enrolment_codes.discard(digest)
        return RegisteredDevice(device.device_id, device.mailbox_id)

    def _redeem(self, token: bytes, reg: DeviceRegistration) -> Redemption:
        worker_id = self._invites.pop(_digest(token), None)
        if worker_id is None:
            raise _reject(410, "unknown, used or expired invite")
        device = self._register(reg)
        worker = self._devices[worker_id]
        capability = secrets.token_bytes(32)
        self._capabilities[_digest(capability)] = worker.mailbox_id
        return Redemption(
            device=RegisteredDevice(device.device_id, device.mailbox_id),
            worker_bundle=self._bundle(worker),
            worker_mailbox_id=worker.mailbox_id,
            worker_capability=capability,
            policy=self.policy,
        )

    def _bundle(self, device: _Device) -> PrekeyBundle:
        one_time = device.one_time.pop(0) if device.one_time else None
        if device.live is not None and len(device.one_time) < self.low_water:
            device.live.push(PrekeysLow(len(device.one_time)))
        return PrekeyBundle(device.device_id, device.identity_key, device.signed_prekey, one_time)

    def _login(self, device_id: str, challenge: bytes, signature: bytes) -> _Device:
        device = self._devices.get(device_id)
        if device is None:
            raise _reject(401, "unknown device")
        self._take_challenge(challenge)
        _verify(device.identity_key, AUTH_TAG + challenge, signature)
        return device

    def _send(self, mailbox_id: bytes, capability: bytes, msg_id: str, envelope: bytes) -> None:
        if self._capabilities.get(_digest(capability)) != mailbox_id:
            raise _reject(403, "wrong or revoked capability")
        mailbox = self._mailboxes[mailbox_id]
        if msg_id in mailbox.seen_ids:
            return
        mailbox.seen_ids.add(msg_id)
        delivery = Delivery(str(next(self._ids)), envelope)
        mailbox.queue[delivery.delivery_id] = envelope
        owner = self._devices[mailbox.owner]
        if owner.live is not None:
            owner.live.push(delivery)

    def _pending(self, device: _Device) -> list[Delivery]:
        mailbox = self._mailboxes[device.mailbox_id]
        return [Delivery(i, e) for i, e in mailbox.queue.items()]

    def _ack(self, device: _Device, ids: Sequence[str]) -> None:
        queue = self._mailboxes[device.mailbox_id].queue
        for delivery_id in ids:
            queue.pop(delivery_id, None)


class _MemoryLive:
    """One live connection: the backlog first, then new deliveries and notices."""

    def __init__(self, relay: MemoryRelay, device: _Device) -> None:
        self._relay = relay
        self._device = device
        self._events: list[Delivery | PrekeysLow] = list(relay._pending(device))
        self.wake = asyncio.Event()
        self.dropped = False

    def push(self, event: Delivery | PrekeysLow) -> None:
        self._events.append(event)
        self.wake.set()

    async def next_batch(self, limit: int) -> list[Delivery | PrekeysLow]:
        while not self._events:
            if self.dropped:
                raise RelayUnavailable("connection dropped")
            self.wake.clear()
            await self.wake.wait()
        if self.dropped:
            raise RelayUnavailable("connection dropped")
        batch, self._events = self._events[:limit], self._events[limit:]
        return batch

    async def ack(self, delivery_ids: Sequence[str]) -> None:
        if self.dropped:
            raise RelayUnavailable("connection dropped")
        self._relay._ack(self._device, delivery_ids)

    async def close(self) -> None:
        if self._device.live is self:
            self._device.live = None
        self.dropped = True
        self.wake.set()


class MemoryTransport:
    """One SDK instance's view of a :class:`MemoryRelay` (implements ``Transport``)."""

    def __init__(self, relay: MemoryRelay) -> None:
        self._relay = relay
        self._device: _Device | None = None

    def _me(self) -> _Device:
        if self._device is None:
            raise _reject(401, "not logged in")
        return self._device

    async def challenge(self) -> bytes:
        return self._relay._challenge()

    async def enrol(self, code: str, registration: DeviceRegistration) -> RegisteredDevice:
        return self._relay._enrol(code, registration)

    async def redeem(self, invite_token: bytes, registration: DeviceRegistration) -> Redemption:
        return self._relay._redeem(invite_token, registration)

    async def login(self, device_id: str, challenge: bytes, signature: bytes) -> None:
        self._device = self._relay._login(device_id, challenge, signature)

    async def upload_prekeys(
        self, signed_prekey: SignedPrekey | None, one_time: Sequence[OneTimePrekey]
    ) -> None:
        me = self._me()
        if signed_prekey is not None:
            self._relay._check_signed_prekey(me.identity_key, signed_prekey)
            me.signed_prekey = signed_prekey
        me.one_time.extend(one_time)

    async def prekey_count(self) -> int:
        return len(self._me().one_time)

    async def fetch_bundle(self, device_id: str) -> PrekeyBundle:
        self._me()
        device = self._relay._devices.get(device_id)
        if device is None:
            raise _reject(404, "unknown device")
        return self._relay._bundle(device)

    async def create_invite(self, ttl_seconds: int) -> bytes:
        token = secrets.token_bytes(32)
        self._relay._invites[_digest(token)] = self._me().device_id
        return token

    async def current_policy(self) -> Policy:
        return self._relay.policy

    async def mint_capability(self) -> bytes:
        capability = secrets.token_bytes(32)
        self._relay._capabilities[_digest(capability)] = self._me().mailbox_id
        return capability

    async def send(
        self, mailbox_id: bytes, capability: bytes, client_msg_id: str, envelope: bytes
    ) -> None:
        self._relay._send(mailbox_id, capability, client_msg_id, envelope)

    async def fetch(self, limit: int) -> list[Delivery]:
        return self._relay._pending(self._me())[:limit]

    async def ack(self, delivery_ids: Sequence[str]) -> None:
        self._relay._ack(self._me(), delivery_ids)

    async def put_blob(self, data: bytes) -> str:
        blob_id = secrets.token_urlsafe(16)
        self._relay._blobs[blob_id] = bytes(data)
        return blob_id

    async def get_blob(self, blob_id: str) -> bytes:
        try:
            return self._relay._blobs[blob_id]
        except KeyError:
            raise _reject(404, "unknown blob") from None

    async def submit_consent(self, worker_device_id: str, kind: str, statement: Signed) -> None:
        me = self._me()
        if worker_device_id not in self._relay._devices or kind not in KINDS:
            raise _reject(404, "unknown worker device or statement kind")
        _verify(me.identity_key, statement.data, statement.signature)
        self._relay.consent_receipts.append(statement.data)

    async def live(self) -> _MemoryLive:
        me = self._me()
        if me.live is not None:
            await me.live.close()
        me.live = _MemoryLive(self._relay, me)
        return me.live

    async def aclose(self) -> None:
        if self._device is not None and self._device.live is not None:
            await self._device.live.close()
