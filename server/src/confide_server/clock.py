"""Time for the relay: one injectable clock and the coarsening that keeps timestamps vague."""

from __future__ import annotations

import time
from collections.abc import Callable

Clock = Callable[[], float]

DAY = 86_400
HOUR = 3_600


def system_clock() -> float:
    return time.time()


def day_of(now: float) -> int:
    """A creation time rounded down to the day, so rows cannot be ordered within a day."""
    return int(now) // DAY * DAY


def hour_of(now: float) -> int:
    return int(now) // HOUR * HOUR


def minute_expiry(now: float, ttl: int) -> int:
    """An expiry rounded down to the minute, so it does not reveal the second of sending."""
    return (int(now) + ttl) // 60 * 60
