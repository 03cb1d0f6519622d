"""The relay's error tree, one HTTP problem type and one WebSocket close code per leaf.

::

    RelayError                          500  about:blank      (never raised for bad input)
    ├── InvalidInput                    400  invalid-input    WS error frame / close 4400
    │   ├── TooLarge                    413  too-large        close 4413
    │   │   └── HeadTooLarge            431  head-too-large   (http_guard.py)
    │   ├── RequestTimeout              408  request-timeout  (http_guard.py)
    │   └── ConsentRejected             400  consent-rejected (a consent record the relay
    │                                                          cannot check, services/consent.py)
    ├── Unauthenticated                 401  unauthenticated  close 4401
    │   └── Revoked                     401  revoked          close 4408 (device revoked,
    │                                                          worker disabled)
    ├── Forbidden                       403  forbidden        close 4403
    │   ├── CapabilityRejected          403  capability-rejected
    │   └── StepUpRequired              403  step-up-required (admin changes, services/stepup.py)
    ├── NotFound                        404  not-found
    ├── Conflict                        409  conflict
    │   └── AlreadyUsed                 410  already-used     (invites, enrolment codes)
    ├── Expired                         410  expired          (challenges, invites, tokens)
    ├── QueueFull                       429  queue-full
    ├── RateLimited                     429  rate-limited     close 4429
    ├── QuotaExceeded                   429  quota-exceeded   (attachments, consent records)
    ├── StorageFull                     507  storage-full     (the relay-wide attachment cap)
    └── Unavailable                     503  unavailable      close 1013 (try again later)

Every leaf is rendered as ``application/problem+json`` (RFC 9457) with ``type`` set to
``https://confide.invalid/problems/<slug>``; over the WebSocket a request that fails gets an
``error`` frame carrying the same slug, and a connection that must end is closed with the
leaf's close code. docs/protocol.md lists them all. ``retry_after`` (seconds) becomes the
HTTP Retry-After header where waiting helps.
"""

from __future__ import annotations

PROBLEM_BASE = "https://confide.invalid/problems/"


class RelayError(Exception):
    status = 500
    slug = "internal"
    title = "Internal error"
    close_code = 1011
    retry_after: int | None = None

    def __init__(self, detail: str = "") -> None:
        super().__init__(detail or self.title)
        self.detail = detail or self.title

    def problem(self, instance: str | None = None) -> dict[str, object]:
        body: dict[str, object] = {
            "type": PROBLEM_BASE + self.slug,
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
        }
        if instance is not None:
            body["instance"] = instance
        return body


class InvalidInput(RelayError):
    status = 400
    slug = "invalid-input"
    title = "Invalid input"
    close_code = 4400


class TooLarge(InvalidInput):
    status = 413
    slug = "too-large"
    title = "Too large"
    close_code = 4413


class ConsentRejected(InvalidInput):
    """A consent record that is not a well-formed receipt or revocation this client may file."""

    slug = "consent-rejected"
    title = "Consent record rejected"


class HeadTooLarge(TooLarge):
    status = 431
    slug = "head-too-large"
    title = "Request header fields too large"


class RequestTimeout(InvalidInput):
    status = 408
    slug = "request-timeout"
    title = "Request timeout"


class Unauthenticated(RelayError):
    status = 401
    slug = "unauthenticated"
    title = "Authentication required"
    close_code = 4401


class Revoked(Unauthenticated):
    """The device was revoked or its worker disabled: its open connections end with 4408."""

    slug = "revoked"
    title = "Device revoked or worker disabled"
    close_code = 4408


class Forbidden(RelayError):
    status = 403
    slug = "forbidden"
    title = "Forbidden"
    close_code = 4403


class CapabilityRejected(Forbidden):
    slug = "capability-rejected"
    title = "Send capability rejected"


class StepUpRequired(Forbidden):
    slug = "step-up-required"
    title = "Confirm again"


class NotFound(RelayError):
    status = 404
    slug = "not-found"
    title = "Not found"
    close_code = 4404


class Conflict(RelayError):
    status = 409
    slug = "conflict"
    title = "Conflict"
    close_code = 4409


class AlreadyUsed(Conflict):
    status = 410
    slug = "already-used"
    title = "Already used"


class Expired(RelayError):
    status = 410
    slug = "expired"
    title = "Expired"
    close_code = 4410


class QueueFull(RelayError):
    status = 429
    slug = "queue-full"
    title = "Mailbox queue is full"
    close_code = 4429
    retry_after = 60


class RateLimited(RelayError):
    status = 429
    slug = "rate-limited"
    title = "Too many requests"
    close_code = 4429
    retry_after = 60


class QuotaExceeded(RelayError):
    """A device has stored as much as it may: waiting helps only when ``retry_after`` says so."""

    status = 429
    slug = "quota-exceeded"
    title = "Quota exceeded"
    close_code = 4429

    def __init__(self, detail: str = "", retry_after: int | None = None) -> None:
        super().__init__(detail)
        self.retry_after = retry_after


class StorageFull(RelayError):
    """The relay holds as many attachment bytes as ``max_attachment_storage_bytes`` allows.

    Not the device's doing, and waiting helps: blobs go when fetched and deleted, or expire.
    """

    status = 507
    slug = "storage-full"
    title = "Attachment storage is full"
    close_code = 1013
    retry_after = 300


class Unavailable(RelayError):
    status = 503
    slug = "unavailable"
    title = "Temporarily unavailable"
    close_code = 1013
    retry_after = 60
