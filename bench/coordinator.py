"""Runs one measurement: spreads pairs over generator processes, starts them together,
and turns their tallies and the server's own counters into figures.
"""

from __future__ import annotations

import multiprocessing as mp
import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from generator import worker_main
from servers import ServerProcess
from workload import Job, Pair, Tally

START_DELAY_S = 0.3


@dataclass
class Measurement:
    """Figures from one load run against one server."""

    name: str
    tally: Tally
    elapsed_s: float
    server_cpu_s: float
    offered_rate: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def completed(self) -> int:
        return self.tally.delivered

    @property
    def msgs_per_s(self) -> float:
        return self.completed / self.elapsed_s if self.elapsed_s > 0 else 0.0

    def percentile_ms(self, q: float) -> float:
        return percentile_ms(self.tally.latencies, q)

    @property
    def server_cpu_us_per_msg(self) -> float:
        return self.server_cpu_s / self.completed * 1e6 if self.completed else float("nan")

    @property
    def generator_cpu_us_per_msg(self) -> float:
        return self.tally.cpu_s / self.completed * 1e6 if self.completed else float("nan")

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "offered_rate": self.offered_rate,
            "msgs_per_s": round(self.msgs_per_s, 1),
            "p50_ms": round(self.percentile_ms(0.50), 3),
            "p99_ms": round(self.percentile_ms(0.99), 3),
            "p999_ms": round(self.percentile_ms(0.999), 3),
            "server_cpu_us_per_msg": round(self.server_cpu_us_per_msg, 1),
            "generator_cpu_us_per_msg": round(self.generator_cpu_us_per_msg, 1),
            "generator_lag_p99_ms": round(percentile_ms(self.tally.lags, 0.99), 3),
            "elapsed_s": round(self.elapsed_s, 3),
            "counts": self.tally.as_dict(),
            "problems": self.tally.problems(),
            **self.extra,
        }


def percentile_ms(values: Sequence[float], q: float) -> float:
    """The q-quantile in milliseconds (nearest rank), NaN when there are no samples."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000.0


def split(pairs: list[Pair], parts: int) -> list[list[Pair]]:
    parts = max(1, min(parts, len(pairs)))
    return [pairs[i::parts] for i in range(parts)]


def measure(
    name: str,
    server: ServerProcess,
    dialect: str,
    pairs: list[Pair],
    *,
    count: int,
    duration: float,
    envelope_size: int,
    processes: int,
    window: int = 8,
    rate: float = 0.0,
    drain_timeout: float = 30.0,
) -> Measurement:
    """One closed-loop (rate 0) or open-loop run; fails loudly if a worker cannot connect."""
    groups = split(pairs, processes)
    ctx = mp.get_context("spawn")
    workers = []
    pipes = []
    for w, group in enumerate(groups):
        share = count // len(groups) + (1 if w < count % len(groups) else 0)
        job = Job(
            dialect=dialect,
            port=server.port,
            pairs=group,
            worker=w,
            count=share,
            duration=duration,
            envelope_size=envelope_size,
            window=window,
            rate=rate / len(groups),
            drain_timeout=drain_timeout,
        )
        parent, child = ctx.Pipe()
        proc = ctx.Process(target=worker_main, args=(job, child), daemon=True)
        proc.start()
        workers.append(proc)
        pipes.append(parent)
    try:
        for pipe in pipes:
            kind, detail = _receive(pipe, 120.0)
            if kind != "ready":
                raise RuntimeError(detail)
        start = time.monotonic() + START_DELAY_S
        before = server.usage()
        for pipe in pipes:
            pipe.send(start)
        tally = Tally()
        for pipe in pipes:
            kind, detail = _receive(pipe, duration + drain_timeout + 60.0)
            if kind != "tally":
                raise RuntimeError(detail)
            tally.merge(detail)
        after = server.usage()
    finally:
        for proc in workers:
            proc.join(timeout=10)
            if proc.is_alive():
                proc.kill()
    elapsed = tally.finished - start
    return Measurement(name, tally, elapsed, after.cpu_s - before.cpu_s, offered_rate=rate)


def _receive(pipe: Any, timeout: float) -> tuple[str, Any]:
    if not pipe.poll(timeout):
        raise RuntimeError("a generator process did not answer in time")
    message: tuple[str, Any] = pipe.recv()
    return message


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")
