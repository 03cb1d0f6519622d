"""The figures the issue asks for, each a short sequence of measurements on one target."""

from __future__ import annotations

import statistics
from typing import Any

import disk
from coordinator import Measurement, idle_memory, measure
from plan import Plan
from targets import Target


def summarise(name: str, runs: list[Measurement]) -> dict[str, Any]:
    """Medians over repeated runs, with the spread of the throughput."""
    rates = [r.msgs_per_s for r in runs]

    def med(key: str) -> float:
        return round(statistics.median(r.as_dict()[key] for r in runs), 3)

    return {
        "name": name,
        "msgs_per_s": round(statistics.median(rates), 1),
        "msgs_per_s_min": round(min(rates), 1),
        "msgs_per_s_max": round(max(rates), 1),
        "p50_ms": med("p50_ms"),
        "p99_ms": med("p99_ms"),
        "p999_ms": med("p999_ms"),
        "server_cpu_us_per_msg": med("server_cpu_us_per_msg"),
        "generator_cpu_us_per_msg": med("generator_cpu_us_per_msg"),
        "runs": [r.as_dict() for r in runs],
        "problems": [p for r in runs for p in r.problems()],
    }


def _repeat(target: Target, plan: Plan, repeats: int = 0, **load: Any) -> list[Measurement]:
    pairs = target.pairs(plan.pairs)
    return [
        measure(
            target.name,
            target.server,
            target.dialect,
            pairs,
            processes=plan.processes,
            drain_timeout=plan.drain_timeout,
            **load,
        )
        for _ in range(repeats or plan.repeats)
    ]


def peak(target: Target, plan: Plan, size: int) -> dict[str, Any]:
    """Closed loop: every sender keeps `window` envelopes in flight; repeated, median kept."""
    before = disk.sync_ms()
    runs = _repeat(
        target,
        plan,
        count=plan.count,
        duration=plan.duration,
        envelope_size=size,
        window=plan.window,
    )
    summary = summarise(f"{target.name} {size} B", runs)
    summary["disk_sync_ms"] = {"before": before, "after": disk.sync_ms()}
    return summary


def latency(
    target: Target, plan: Plan, rate: float, load: float, own_peak: float
) -> dict[str, Any]:
    """Open loop at a fixed offered rate; latency counts from each envelope's due time.

    A rate above the target's own closed-loop peak can only build a queue, so it is run
    once (not `repeats` times) and marked saturated: its latency is the queue's length.
    """
    saturated = rate > own_peak
    before = disk.sync_ms()
    runs = _repeat(
        target,
        plan,
        repeats=1 if saturated else 0,
        count=int(rate * plan.open_duration) + 1,
        duration=plan.open_duration,
        envelope_size=1024,
        rate=rate,
    )
    summary = summarise(f"{target.name} open {load:.0%}", runs)
    summary.update(load=load, offered_rate=round(rate, 1), saturated=saturated)
    summary["disk_sync_ms"] = {"before": before, "after": disk.sync_ms()}
    return summary


def idle(target: Target, plan: Plan) -> dict[str, Any]:
    pairs = target.idle_pairs(plan.idle_connections)
    processes = max(1, min(4, plan.idle_connections // 1000))
    result = idle_memory(target.server, target.dialect, pairs, processes, settle_s=1.0)
    result["name"] = target.name
    return result


def backlog(target: Target, plan: Plan) -> dict[str, Any]:
    """Queue `plan.backlog` envelopes for an offline recipient, then time its drain."""
    pair = target.fresh_pairs(1)
    common: dict[str, Any] = {
        "count": plan.backlog,
        "duration": 600.0,
        "envelope_size": 1024,
        "processes": 1,
        "drain_timeout": plan.drain_timeout,
    }
    fill = measure(
        target.name, target.server, target.dialect, pair, window=256, role="send", **common
    )
    drain = measure(target.name, target.server, target.dialect, pair, role="receive", **common)
    return {
        "name": target.name,
        "envelopes": plan.backlog,
        "fill_msgs_per_s": round(fill.msgs_per_s, 1),
        "drain_s": round(drain.elapsed_s, 3),
        "drain_msgs_per_s": round(drain.msgs_per_s, 1),
        "drain_server_cpu_us_per_msg": round(drain.server_cpu_us_per_msg, 1),
        "counts": {"fill": fill.tally.as_dict(), "drain": drain.tally.as_dict()},
        "problems": fill.problems() + drain.problems(),
    }
