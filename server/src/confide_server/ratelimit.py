"""In-memory fixed-window rate limits. Keys (device ids, client addresses) never leave memory.

Client addresses are hashed with a per-process random salt before use as keys, so not even a
memory dump lists them in the clear, and the table is bounded so a flood cannot grow it.
"""

from __future__ import annotations

import hashlib
import os

from confide_server.clock import Clock
from confide_server.errors import RateLimited


class RateLimiter:
    def __init__(self, per_minute: int, clock: Clock, max_keys: int = 100_000) -> None:
        self._limit = per_minute
        self._clock = clock
        self._max_keys = max_keys
        self._window = -1
        self._counts: dict[bytes, int] = {}
        self._salt = os.urandom(16)

    def hit(self, key: str | bytes, what: str = "requests") -> None:
        """Count one use of ``key``; raise RateLimited past the limit for this minute."""
        window = int(self._clock()) // 60
        if window != self._window:
            self._window = window
            self._counts.clear()
        raw = key.encode() if isinstance(key, str) else key
        digest = hashlib.blake2b(raw, key=self._salt, digest_size=16).digest()
        if digest not in self._counts and len(self._counts) >= self._max_keys:
            raise RateLimited(f"too many {what}; try again in a minute")
        count = self._counts.get(digest, 0) + 1
        self._counts[digest] = count
        if count > self._limit:
            raise RateLimited(f"too many {what}; try again in a minute")
