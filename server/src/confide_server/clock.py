"""Time for the relay: one injectable clock and the coarsening that keeps stored times vague.

Every time the relay stores goes through ``rounded`` (docs/operations.md §7):

- creation times are rounded down to the day (``day_of``) and audit times to the hour
  (``hour_of``), so rows cannot be ordered within those spans;
- expiries are rounded *up* to the minute (``expiry``), so nothing expires before its
  documented lifetime and nothing lives more than 59 s beyond it; a retention limit is
  rounded *down* instead, so nothing is kept past it.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

Clock = Callable[[], float]

DAY = 86_400
HOUR = 3_600
MINUTE = 60


def system_clock() -> float:
    return time.time()


def rounded(t: float, unit: int, *, up: bool = False) -> int:
    """``t`` moved to a whole multiple of ``unit`` seconds: down, or up (never below ``t``)."""
    if up:
        return -(-math.ceil(t) // unit) * unit
    return math.floor(t) // unit * unit


def day_of(now: float) -> int:
    """A creation time rounded down to the day, so rows cannot be ordered within a day."""
    return rounded(now, DAY)


def hour_of(now: float) -> int:
    return rounded(now, HOUR)


def expiry(now: float, ttl: int, *, limit: int | None = None) -> int:
    """When something made at ``now`` that lives ``ttl`` seconds expires, as stored.

    Rounded up to the minute: it is valid for at least ``ttl`` and less than ``ttl`` + 60 s,
    and the stored value does not reveal the second it was made. ``limit`` is a retention
    ceiling (the organisation's): rounded down, so nothing outlives it.
    """
    at = rounded(now + ttl, MINUTE, up=True)
    if limit is not None:
        at = min(at, rounded(now + limit, MINUTE))
    return at


def minute_expiry(now: float, ttl: int) -> int:
    """``now`` + ``ttl`` rounded down to the minute: for bounds that must not be exceeded
    (store/idempotency.py's retry deadline), not for lifetimes promised to a device."""
    return rounded(now + ttl, MINUTE)
