"""Per-device quotas and rates on what a device leaves stored on the relay.

Attachments: uploads per minute, bytes per day and uploads at once, all per device and in
memory. The relay stores no uploader for a blob (that would write down who sent something,
and when), so it cannot count the bytes a device has stored; it counts what each device
uploads per day instead. A blob lives at most ``attachment_ttl_seconds``, so one device can
have at most ``attachment_bytes_per_day`` times the TTL in days stored through one relay
process.

Consent records: a count per client device, read from the database (each record names the
device that signed it anyway), and submissions per minute in memory.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from confide_server.clock import DAY, Clock
from confide_server.errors import QuotaExceeded, RateLimited
from confide_server.ratelimit import RateLimiter
from confide_server.settings import Settings


class DailyBytes:
    """Bytes each device may upload per UTC day; what a failed upload took is given back."""

    def __init__(self, per_day: int, clock: Clock) -> None:
        self._limit = per_day
        self._clock = clock
        self._day = -1
        # Keys are authenticated device ids, so the table grows only with registered devices.
        self._used: Counter[bytes] = Counter()

    def _today(self) -> int:
        day = int(self._clock()) // DAY
        if day != self._day:
            self._day = day
            self._used.clear()
        return day

    def take(self, device_id: bytes, size: int) -> None:
        day = self._today()
        if self._used[device_id] + size > self._limit:
            retry_after = (day + 1) * DAY - int(self._clock())
            raise QuotaExceeded(
                f"this device may upload at most {self._limit} attachment bytes a day",
                retry_after=retry_after,
            )
        self._used[device_id] += size

    def give_back(self, device_id: bytes, size: int) -> None:
        self._today()
        left = self._used[device_id] - size
        if left > 0:
            self._used[device_id] = left
        else:
            self._used.pop(device_id, None)


class InFlight:
    """How many uploads each device has under way at once."""

    def __init__(self, limit: int) -> None:
        self._limit = limit
        self._open: Counter[bytes] = Counter()

    @contextmanager
    def hold(self, device_id: bytes) -> Iterator[None]:
        if self._open[device_id] >= self._limit:
            raise RateLimited("too many uploads at once from this device")
        self._open[device_id] += 1
        try:
            yield
        finally:
            self._open[device_id] -= 1
            if self._open[device_id] <= 0:
                del self._open[device_id]


@dataclass(frozen=True, slots=True)
class Quotas:
    attachment_uploads: RateLimiter
    attachment_bytes: DailyBytes
    uploads_in_flight: InFlight
    consent_submissions: RateLimiter
    consent_records: int

    @classmethod
    def from_settings(cls, settings: Settings, clock: Clock) -> Quotas:
        return cls(
            attachment_uploads=RateLimiter(settings.attachment_uploads_per_minute, clock),
            attachment_bytes=DailyBytes(settings.attachment_bytes_per_day, clock),
            uploads_in_flight=InFlight(settings.attachment_uploads_in_flight),
            consent_submissions=RateLimiter(settings.consent_submissions_per_minute, clock),
            consent_records=settings.consent_records_per_device,
        )
