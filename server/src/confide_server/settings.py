"""All relay settings, read from the environment with the CONFIDE_ prefix.

Nothing here is built at import time: callers construct ``Settings()`` (or pass values) and
hand it to ``create_app``. Production mode refuses the development defaults of secrets.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEV_TURN_SECRET = "confide-development-turn-secret"  # noqa: S105 - a known dev default, refused in production

# The push services of the browsers workers use (Chromium-based, Firefox, Safari, Edge).
PUSH_SERVICE_HOSTS = (
    "fcm.googleapis.com",
    "push.services.mozilla.com",
    "push.apple.com",
    "notify.windows.com",
)

REPO_ROOT = Path(__file__).resolve().parents[3]


def _default_migrations_dir() -> Path:
    # A wheel carries a copy beside the package (server/pyproject.toml, force-include); a
    # checkout, editable install or the container image uses the top-level migrations/.
    packaged = Path(__file__).resolve().parent / "migrations"
    return packaged if (packaged / "env.py").is_file() else REPO_ROOT / "migrations"


def _default_web_dist() -> Path | None:
    candidate = REPO_ROOT / "clients" / "web" / "dist"
    return candidate if candidate.is_dir() else None


class Settings(BaseSettings):
    """Relay configuration. Every limit the design calls a setting lives here."""

    model_config = SettingsConfigDict(env_prefix="CONFIDE_", extra="ignore")

    env: Literal["development", "production"] = "development"
    data_dir: Path = Path("data")
    database_url: str | None = None
    redis_url: str | None = None
    # Names this deployment's Redis channels (fanout/redis.py); by default "confide:" and the
    # database's deployment id, so deployments that share a Redis server never share channels.
    redis_channel_prefix: str | None = Field(default=None, pattern=r"^[A-Za-z0-9._:-]{1,100}$")
    public_url: str = "http://127.0.0.1:8000"
    web_dist: Path | None = Field(default_factory=_default_web_dist)
    log_level: str = "info"
    # "relay": the relay's own WebSocket protocol (ws/protocol.py), one frame reader with a
    # direct path for text frames; "asgi": uvicorn's websockets implementation, plain ASGI.
    ws_transport: Literal["relay", "asgi"] = "relay"
    migrations_dir: Path = Field(default_factory=_default_migrations_dir)
    turn_secret: str = DEV_TURN_SECRET
    turn_urls: list[str] = Field(default_factory=list)
    turn_ttl_seconds: int = Field(default=3600, ge=60, le=86_400)
    # Relay-only ICE hides each side's IP address from the other: media always goes through
    # coturn. Browsers are told so by GET /v1/turn (ice_transport_policy).
    turn_relay_only: bool = False
    turn_requests_per_minute: int = Field(default=20, ge=1)
    # Only a reverse proxy at these addresses may set X-Forwarded-For (used, in memory only,
    # for per-address rate limits).
    forwarded_allow_ips: str = "127.0.0.1"

    # Sizes, in decoded bytes.
    max_envelope_bytes: int = Field(default=64 * 1024, ge=64)
    max_attachment_bytes: int = Field(default=25 * 1024 * 1024, ge=1024)
    max_http_body_bytes: int = Field(default=1024 * 1024, ge=1024)

    # Queues and delivery.
    max_queue_depth: int = Field(default=10_000, ge=1)
    delivery_window: int = Field(default=256, ge=1, le=10_000)
    delivery_window_bytes: int = Field(default=1024 * 1024, ge=1024)
    default_ttl_seconds: int = Field(default=7 * 24 * 3600, ge=60)
    default_max_retention_seconds: int = Field(default=30 * 24 * 3600, ge=60)
    writer_max_batch: int = Field(default=512, ge=1)
    # SQLite: sends are refused (503) while the disk's free space plus the database's free
    # pages is below this, so acknowledgements always have room (store/space.py); 0: only
    # when a write fails for want of space.
    disk_reserve_bytes: int = Field(default=256 * 1024 * 1024, ge=0)
    # How long a send's idempotency key is kept (never beyond its envelope's expiry): the
    # time a client may retry a send it never saw answered (store/idempotency.py).
    idempotency_window_seconds: int = Field(default=3600, ge=60)
    connections_per_token: int = Field(default=4, ge=1)
    # A WebSocket that has not authenticated this long after opening, and has had no
    # envelope accepted for as long, is closed with 4401 (docs/protocol.md): answering pings
    # alone does not keep a socket open.
    ws_auth_timeout_seconds: float = Field(default=20.0, gt=0)

    # The front door (http_guard.py): every request head, and connections per address
    # (counted in memory only while open; a trusted proxy's address is not counted).
    max_request_head_bytes: int = Field(default=16 * 1024, ge=1024)
    request_head_timeout_seconds: float = Field(default=10.0, gt=0)
    connections_per_address: int = Field(default=128, ge=1)

    # Lifetimes of secrets and one-time things.
    challenge_ttl_seconds: int = Field(default=60, ge=5)
    token_ttl_seconds: int = Field(default=24 * 3600, ge=60)
    invite_ttl_seconds: int = Field(default=7 * 24 * 3600, ge=60)
    enrolment_code_ttl_seconds: int = Field(default=7 * 24 * 3600, ge=60)
    attachment_ttl_seconds: int = Field(default=7 * 24 * 3600, ge=60)
    prekey_max_age_seconds: int = Field(default=180 * 24 * 3600, ge=3600)

    # Prekeys.
    prekey_low_watermark: int = Field(default=10, ge=0)
    max_one_time_prekeys: int = Field(default=500, ge=1)
    max_prekeys_per_upload: int = Field(default=200, ge=1)

    # Rate limits (in memory only; client addresses never leave the process).
    prekey_fetches_per_minute: int = Field(default=30, ge=1)
    anonymous_requests_per_minute: int = Field(default=120, ge=1)
    invite_redemptions_per_minute: int = Field(default=10, ge=1)

    # Per-device quotas and rates on what devices leave stored on the relay (quotas.py).
    attachment_uploads_per_minute: int = Field(default=10, ge=1)
    attachment_bytes_per_day: int = Field(default=256 * 1024 * 1024, ge=1024)
    attachment_uploads_in_flight: int = Field(default=2, ge=1)
    # All devices together: the attachment bytes the relay keeps at most (507 beyond it).
    max_attachment_storage_bytes: int = Field(default=10 * 1024**3, ge=1024)
    consent_records_per_device: int = Field(default=20, ge=1)
    consent_submissions_per_minute: int = Field(default=5, ge=1)

    sweep_interval_seconds: float = Field(default=60.0, gt=0)
    redis_poll_interval_seconds: float = Field(default=2.0, gt=0)
    # Bounds every Redis call, and how long the subscription may stay silent (heartbeat)
    # before the relay treats Redis as lost and polls the queue (fanout/redis.py).
    redis_timeout_seconds: float = Field(default=2.0, gt=0, le=60)
    # How often each relay closes connections of devices cut off without a fan-out notice
    # reaching it (cutoff.py), and how long an admin's confirmation lasts (services/stepup.py).
    cutoff_check_seconds: float = Field(default=5.0, gt=0)
    step_up_seconds: int = Field(default=300, ge=30)

    # Web Push (push/): an empty wake-up for a worker device with no live connection when an
    # envelope is queued for it. The VAPID key pair is made once and kept in the database
    # (push/vapid.py), or in this file (PEM, made there if missing) when it is set.
    push_enabled: bool = True
    push_vapid_key_file: Path | None = None
    # The VAPID "sub" claim, a contact the push service may use (mailto: or https:); by
    # default the relay's public URL.
    push_contact: str | None = Field(default=None, max_length=200)
    push_ttl_seconds: int = Field(default=24 * 3600, ge=1, le=28 * 24 * 3600)
    # At most one push per device in this long, however many envelopes arrive.
    push_min_interval_seconds: float = Field(default=60.0, ge=0)
    # How long an envelope must stay unacknowledged before its device is woken: a device
    # connected to another relay process reads it within this and is not disturbed.
    push_grace_seconds: float = Field(default=2.0, ge=0, le=300)
    push_timeout_seconds: float = Field(default=10.0, gt=0, le=60)
    push_concurrency: int = Field(default=8, ge=1, le=256)
    # A subscription the app has not renewed (it does on every unlock) goes after this long.
    push_subscription_ttl_seconds: int = Field(default=30 * 24 * 3600, ge=3600)
    # Push endpoints must be https on one of these hosts or their subdomains ("*": any host):
    # the relay makes requests to the URL a device names, so it is held to push services.
    push_service_hosts: list[str] = Field(default_factory=lambda: list(PUSH_SERVICE_HOSTS))
    # Tests only: accept http:// and https:// endpoints on loopback (refused in production).
    push_allow_loopback: bool = False

    @model_validator(mode="after")
    def _refuse_defaults_in_production(self) -> Settings:
        if self.env == "production" and self.turn_secret == DEV_TURN_SECRET:
            raise ValueError("CONFIDE_TURN_SECRET must be set to a secret value in production")
        if self.env == "production" and len(self.turn_secret) < 16:
            raise ValueError("CONFIDE_TURN_SECRET must be at least 16 characters in production")
        if self.env == "production" and self.push_allow_loopback:
            raise ValueError("CONFIDE_PUSH_ALLOW_LOOPBACK is for tests; refused in production")
        if self.attachment_bytes_per_day < self.max_attachment_bytes:
            raise ValueError(
                "CONFIDE_ATTACHMENT_BYTES_PER_DAY must be at least CONFIDE_MAX_ATTACHMENT_BYTES"
            )
        if self.max_attachment_storage_bytes < self.max_attachment_bytes:
            raise ValueError(
                "CONFIDE_MAX_ATTACHMENT_STORAGE_BYTES must be at least CONFIDE_MAX_ATTACHMENT_BYTES"
            )
        return self

    @property
    def resolved_database_url(self) -> str:
        """The database URL, defaulting to a SQLite file in the data directory."""
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'confide.db').resolve()}"

    @property
    def max_frame_bytes(self) -> int:
        """The largest WebSocket text frame: a base64 envelope plus a little JSON around it."""
        return (self.max_envelope_bytes * 4) // 3 + 4096
