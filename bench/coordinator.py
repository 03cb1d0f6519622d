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
    role: str = "both"
    expected: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    def problems(self) -> list[str]:
        return self.tally.problems(self.role, self.expected)

    @property
    def completed(self) -> int:
        """Envelopes through the part of the path this run covers."""
        return self.tally.accepted if self.role == "send" else self.tally.delivered

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
            "problems": self.problems(),
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
    role: str = "both",
) -> Measurement:
    """One closed-loop (rate 0) or open-loop run; fails loudly if a worker cannot connect."""
    groups = split(pairs, processes)
    jobs = [
        Job(
            dialect=dialect,
            port=server.port,
            pairs=group,
            worker=w,
            count=count // len(groups) + (1 if w < count % len(groups) else 0),
            duration=duration,
            envelope_size=envelope_size,
            window=window,
            rate=rate / len(groups),
            drain_timeout=drain_timeout,
            role=role,
        )
        for w, group in enumerate(groups)
    ]
    with Workers(jobs) as workers:
        start = time.monotonic() + START_DELAY_S
        before = server.usage()
        tally = workers.go(start, duration + drain_timeout + 60.0)
        after = server.usage()
    elapsed = tally.finished - start
    cpu = after.cpu_s - before.cpu_s
    return Measurement(name, tally, elapsed, cpu, offered_rate=rate, role=role, expected=count)


def idle_memory(
    server: ServerProcess, dialect: str, pairs: list[Pair], processes: int, settle_s: float
) -> dict[str, Any]:
    """Server RSS growth per idle connection, with every connection open (and authenticated)."""
    groups = split(pairs, processes)
    jobs = [
        Job(dialect, server.port, group, w, 0, 0.0, 0, role="idle")
        for w, group in enumerate(groups)
    ]
    time.sleep(settle_s)
    before = server.usage().rss
    with Workers(jobs) as workers:
        time.sleep(settle_s)
        after = server.usage().rss
        tally = workers.go(time.monotonic(), 60.0)
    held = tally.accepted
    return {
        "connections": len(pairs),
        "held_open": held,
        "rss_before_mib": round(before / 2**20, 1),
        "rss_after_mib": round(after / 2**20, 1),
        "kib_per_connection": round((after - before) / 1024 / max(held, 1), 1),
        "problems": [] if held == len(pairs) else [f"{len(pairs) - held} connections dropped"],
    }


class Workers:
    """Generator processes, one per job: started and connected on entry, reaped on exit."""

    def __init__(self, jobs: list[Job]) -> None:
        self.jobs = jobs
        self.procs: list[Any] = []
        self.pipes: list[Any] = []

    def __enter__(self) -> Workers:
        ctx = mp.get_context("spawn")
        for job in self.jobs:
            parent, child = ctx.Pipe()
            proc = ctx.Process(target=worker_main, args=(job, child), daemon=True)
            proc.start()
            self.procs.append(proc)
            self.pipes.append(parent)
        for pipe in self.pipes:
            kind, detail = _receive(pipe, 300.0)
            if kind != "ready":
                self.__exit__()
                raise RuntimeError(detail)
        return self

    def go(self, start: float, timeout: float) -> Tally:
        """Release every worker at `start` and merge what they report."""
        for pipe in self.pipes:
            pipe.send(start)
        tally = Tally()
        for pipe in self.pipes:
            kind, detail = _receive(pipe, timeout)
            if kind != "tally":
                raise RuntimeError(detail)
            tally.merge(detail)
        return tally

    def __exit__(self, *_: object) -> None:
        for proc in self.procs:
            proc.join(timeout=10)
            if proc.is_alive():
                proc.kill()


def _receive(pipe: Any, timeout: float) -> tuple[str, Any]:
    if not pipe.poll(timeout):
        raise RuntimeError("a generator process did not answer in time")
    message: tuple[str, Any] = pipe.recv()
    return message


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")
