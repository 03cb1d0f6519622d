"""What the SDK needs from a relay, independent of how it is reached.

:class:`Transport` is the seam between the SDK's logic (sessions, consent, the outbox) and
the wire. :class:`~confide_client.transport.http.HttpTransport` speaks the relay's HTTP and
WebSocket protocol (docs/protocol.md); tests use it too, against the real relay started in
process by :mod:`confide_client.testing`. Only public keys, opaque ids and ciphertext cross
this seam: nothing secret.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from confide_client.receipts import Signed

__all__ = [
    "Delivery",
    "DeviceRegistration",
    "LiveConnection",
    "NewInvite",
    "OneTimePrekey",
    "Policy",
    "PrekeyBundle",
    "PrekeysLow",
    "Redemption",
    "RegisteredDevice",
    "SignedPrekey",
    "StoredConsent",
    "Transport",
]


@dataclass(frozen=True)
class SignedPrekey:
    """A medium-term X25519 prekey with the identity key's signature over it."""

    key_id: int
    public: bytes
    signature: bytes


@dataclass(frozen=True)
class OneTimePrekey:
    """A single-use X25519 prekey."""

    key_id: int
    public: bytes


@dataclass(frozen=True)
class DeviceRegistration:
    """Everything a new device hands the relay: public keys and a proof of possession."""

    identity_key: bytes
    challenge: bytes
    signature: bytes
    signed_prekey: SignedPrekey
    one_time_prekeys: Sequence[OneTimePrekey]


@dataclass(frozen=True)
class NewInvite:
    """A fresh invite: its secret token, the relay's expiry, and the id that cancels it."""

    token: bytes
    expires_at: int
    capability_id: str


@dataclass(frozen=True)
class RegisteredDevice:
    """The relay's names for a registered device and the mailbox it receives into."""

    device_id: str
    mailbox_id: bytes


@dataclass(frozen=True)
class PrekeyBundle:
    """What another device needs to start an X3DH session with ``device_id``."""

    device_id: str
    identity_key: bytes
    signed_prekey: SignedPrekey
    one_time_prekey: OneTimePrekey | None


@dataclass(frozen=True)
class PolicyTranslation:
    """The same policy version in one more language: its text and that text's SHA-256."""

    language: str
    text: str
    sha256: str


@dataclass(frozen=True)
class Policy:
    """The organisation's confidentiality policy: the version, its text and its SHA-256.

    ``language`` is the language of ``text``; ``translations`` the version in others.
    """

    version: int
    text: str
    sha256: str
    language: str = "en"
    translations: tuple[PolicyTranslation, ...] = ()

    def in_language(self, language: str | None) -> Policy:
        """This version with its text in ``language`` first (unchanged if it has none)."""
        if language is None or language == self.language:
            return self
        for other in self.translations:
            if other.language == language:
                first = PolicyTranslation(self.language, self.text, self.sha256)
                rest = (first, *(t for t in self.translations if t is not other))
                return Policy(self.version, other.text, other.sha256, other.language, rest)
        return self


@dataclass(frozen=True)
class Redemption:
    """What redeeming an invite returns to the client's new device."""

    device: RegisteredDevice
    worker_bundle: PrekeyBundle
    worker_mailbox_id: bytes
    worker_capability: bytes
    policy: Policy


@dataclass(frozen=True)
class MintedCapability:
    """A send capability for this device's mailbox: its id (to revoke it) and its secret."""

    capability_id: str
    secret: bytes


@dataclass(frozen=True)
class Delivery:
    """One queued envelope handed to its recipient, to be acknowledged by ``delivery_id``."""

    delivery_id: str
    envelope: bytes


@dataclass(frozen=True)
class StoredConsent:
    """A signed consent receipt or revocation the relay keeps for a worker device.

    ``statement`` is as the client device signed it; verify it (receipts.verify_receipt)
    before relying on it, since the relay only checked the signature.
    """

    receipt_id: str
    client_device_id: str
    kind: str
    statement: Signed
    created_day: int


@dataclass(frozen=True)
class WorkerDevice:
    """One active worker device of the organisation and its worker's role."""

    worker_id: str
    role: str
    device_id: str


@dataclass(frozen=True)
class ColleagueCapability:
    """A send capability for a colleague's mailbox, minted by the relay on their behalf."""

    device_id: str
    mailbox_id: bytes
    capability: bytes


@dataclass(frozen=True)
class PrekeysLow:
    """The relay's notice that this device's stock of one-time prekeys is running low."""

    remaining: int


@dataclass(frozen=True)
class PolicyPublished:
    """The relay's notice that the organisation published a new policy version."""

    version: int
    sha256: str


#: What a live connection hands over: an envelope, or one of the relay's notices.
LiveItem = Delivery | PrekeysLow | PolicyPublished


class LiveConnection(Protocol):
    """A live delivery stream: queued envelopes first, then new ones as they arrive.

    ``next_batch`` waits for at least one event and returns it together with whatever else
    has already arrived (up to ``limit``), so the receiver can save its state once per batch.
    It raises :class:`~confide_client.errors.RelayUnavailable` when the connection drops;
    the caller reconnects, and the relay re-delivers whatever was not acknowledged.
    """

    async def next_batch(self, limit: int) -> list[LiveItem]: ...

    async def ack(self, delivery_ids: Sequence[str]) -> None: ...

    async def close(self) -> None: ...


class Transport(Protocol):
    """The relay operations the SDK uses; an implementation keeps its own login session."""

    async def challenge(self) -> bytes:
        """A fresh single-use challenge for registration or login."""
        ...

    async def enrol(self, code: str, registration: DeviceRegistration) -> RegisteredDevice:
        """Register a worker's device with a one-time enrolment code."""
        ...

    async def redeem(self, invite_token: bytes, registration: DeviceRegistration) -> Redemption:
        """Register a client's device by redeeming an invite."""
        ...

    async def login(self, device_id: str, challenge: bytes, signature: bytes) -> None:
        """Authenticate this transport as ``device_id`` for the calls that need it."""
        ...

    async def upload_prekeys(
        self, signed_prekey: SignedPrekey | None, one_time: Sequence[OneTimePrekey]
    ) -> None:
        """Add one-time prekeys (and optionally replace the signed prekey)."""
        ...

    async def prekey_count(self) -> int:
        """How many of this device's one-time prekeys the relay still holds."""
        ...

    async def fetch_bundle(self, device_id: str) -> PrekeyBundle:
        """Fetch another device's bundle; the relay consumes one one-time prekey."""
        ...

    async def create_invite(self, ttl_seconds: int) -> NewInvite:
        """Create a single-use invite."""
        ...

    async def cancel_invite(self, capability_id: str) -> None:
        """Withdraw a pending invite, named by its capability id."""
        ...

    async def current_policy(self) -> Policy:
        """The organisation's current confidentiality policy."""
        ...

    async def current_group_terms(self) -> Policy | None:
        """The organisation's current terms for peer support groups, if it published any."""
        ...

    async def rotate_capability(self, capability_id: str) -> MintedCapability:
        """Replace one of this device's mailbox capabilities (the old one stops at once)."""
        ...

    async def mint_capability(self) -> MintedCapability:
        """A new send capability for this device's own mailbox (the relay keeps its hash)."""
        ...

    async def revoke_capability(self, capability_id: str) -> None:
        """Withdraw a capability for this device's own mailbox: sends with it are refused."""
        ...

    async def capabilities(self) -> list[str]:
        """The ids of the capabilities for this device's own mailbox not yet withdrawn."""
        ...

    async def organisation_settings(self) -> dict[str, int]:
        """The organisation's settings the apps apply (seconds), by name."""
        ...

    async def workers(self) -> list[WorkerDevice]:
        """Every active worker device and its role (a worker's device only)."""
        ...

    async def colleague_capability(self, device_id: str) -> ColleagueCapability:
        """A send capability for a colleague's mailbox (a worker's device only)."""
        ...

    async def send(
        self, mailbox_id: bytes, capability: bytes, client_msg_id: str, envelope: bytes
    ) -> None:
        """Queue an envelope; returns only once the relay holds it durably."""
        ...

    async def fetch(self, limit: int) -> list[Delivery]:
        """Pending envelopes for this device, oldest first (the HTTP alternative to live)."""
        ...

    async def ack(self, delivery_ids: Sequence[str]) -> None:
        """Delete delivered envelopes from this device's mailbox."""
        ...

    async def put_blob(self, data: bytes) -> str:
        """Store an encrypted attachment; returns its id."""
        ...

    async def get_blob(self, blob_id: str) -> bytes:
        """Fetch an encrypted attachment by id."""
        ...

    async def submit_consent(self, worker_device_id: str, kind: str, statement: Signed) -> None:
        """Hand the relay a signed consent ``receipt`` or ``revocation`` (``kind``) to keep."""
        ...

    async def consent_records(self, page_size: int = 50) -> list[StoredConsent]:
        """Every consent record kept for this worker device, oldest day first.

        The relay hands them out ``page_size`` at a time; this follows every page.
        """
        ...

    async def live(self) -> LiveConnection:
        """Open a live delivery stream for this device."""
        ...

    async def aclose(self) -> None:
        """Release connections."""
        ...
