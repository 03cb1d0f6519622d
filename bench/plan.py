"""How much each mode measures. Everything is bounded: counts, durations and timeouts."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Plan:
    mode: str
    repeats: int
    pairs: int
    count: int
    duration: float
    sizes: tuple[int, ...]
    loads: tuple[float, ...]
    open_duration: float
    idle_connections: int
    backlog: int
    references: tuple[str, ...] = ("forwarder", "sqlite", "postgres", "bare")
    relays: tuple[str, ...] = ("sqlite", "postgres")
    window: int = 8
    processes: int = 1
    drain_timeout: float = 60.0
    crypto_repeats: int = 0
    synapse: bool = False
    notes: list[str] = field(default_factory=list)


# Seconds, for tests/bench/test_smoke.py: proves the pieces still fit together.
SMOKE = Plan(
    mode="smoke",
    repeats=1,
    pairs=2,
    count=400,
    duration=5.0,
    sizes=(1024,),
    loads=(0.05,),
    open_duration=0.5,
    idle_connections=8,
    backlog=300,
    references=("forwarder", "sqlite"),
    relays=("sqlite",),
    drain_timeout=20.0,
    crypto_repeats=3,
)

# Under three minutes on the 2-core development machine.
QUICK = Plan(
    mode="quick",
    repeats=1,
    pairs=16,
    count=40_000,
    duration=4.0,
    sizes=(1024,),
    loads=(0.25, 0.5, 0.8),
    open_duration=2.0,
    idle_connections=1000,
    backlog=20_000,
    crypto_repeats=200,
)

# The figures in docs/benchmarks.md: three repeats, three sizes, the full counts.
FULL = Plan(
    mode="full",
    repeats=3,
    pairs=32,
    count=150_000,
    duration=10.0,
    sizes=(256, 1024, 16384),
    loads=(0.25, 0.5, 0.8),
    open_duration=6.0,
    idle_connections=5000,
    backlog=100_000,
    drain_timeout=120.0,
    crypto_repeats=2000,
    synapse=True,
)

PLANS = {p.mode: p for p in (SMOKE, QUICK, FULL)}
