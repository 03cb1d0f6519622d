"""Reconnection delays: exponential backoff with full jitter.

When a relay restarts, every device it served reconnects at once. Growing the delay
exponentially keeps a struggling relay from being hammered, and drawing each delay at random
from ``[0, ceiling]`` ("full jitter") spreads the herd out so the reconnections do not arrive
in synchronised waves.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

__all__ = ["Backoff"]


@dataclass
class Backoff:
    """Delays for successive reconnection attempts; :meth:`reset` after a success.

    ``rng`` is a parameter so tests can pin the jitter instead of measuring time.
    """

    base: float = 0.2
    factor: float = 2.0
    cap: float = 30.0
    rng: random.Random = field(default_factory=random.Random)
    attempt: int = 0

    def __post_init__(self) -> None:
        if self.base <= 0 or self.factor < 1 or self.cap < self.base:
            raise ValueError("backoff needs base > 0, factor >= 1 and cap >= base")

    def ceiling(self) -> float:
        """The largest delay the current attempt may wait."""
        # The exponent is clamped so that many failed attempts cannot overflow a float.
        return min(self.cap, self.base * self.factor ** min(self.attempt, 64))

    def next_delay(self) -> float:
        """The delay before the next attempt; each call counts one more failure."""
        delay = self.rng.uniform(0, self.ceiling())
        self.attempt += 1
        return delay

    def reset(self) -> None:
        """Forget earlier failures once a connection has succeeded."""
        self.attempt = 0
