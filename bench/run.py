"""Confide's benchmark: `python bench/run.py [--smoke | --quick]` (the default is full).

It starts each server on loopback (the three references, then `confide serve` on SQLite and
on PostgreSQL), drives it with generator processes, prints a table and writes
bench/results/<timestamp>.json and bench/results/latest.json. Every envelope is counted;
the run fails (exit status 1) if any went missing or arrived twice. The bars of issue 6
are reported as met or not met, but are figures, not pass/fail conditions.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import crypto_costs
import report
import scenarios
import synapse_peer
from generator import raise_fd_limit
from plan import PLANS, Plan
from targets import Target, postgres_available, reference, relay


def _measure_target(
    target: Target, plan: Plan, results: dict[str, Any], rates: list[float]
) -> None:
    # Idle memory comes first, on a server that has not yet grown (and freed) the heap that
    # load leaves behind: new connections would reuse that memory and look almost free.
    if target.name in ("reference-forwarder", "relay-sqlite"):
        results["idle"][target.name] = scenarios.idle(target, plan)
        _log(f"idle {target.name}: {results['idle'][target.name]['kib_per_connection']} KiB")
    sizes = plan.sizes if target.name == "relay-sqlite" else (1024,)
    for size in sizes:
        row = scenarios.peak(target, plan, size)
        results["peak"][row["name"]] = row
        _log(f"{row['name']}: {row['msgs_per_s']} msgs/s")
    if target.name in ("reference-sqlite", "relay-sqlite"):
        if not rates:
            peak_b = results["peak"][f"{target.name} 1024 B"]["msgs_per_s"]
            rates.extend(load * peak_b for load in plan.loads)
        own_peak = results["peak"][f"{target.name} 1024 B"]["msgs_per_s"]
        for load, rate in zip(plan.loads, rates, strict=True):
            row = scenarios.latency(target, plan, rate, load, own_peak)
            results["latency"].append(row)
            _log(f"{row['name']}: p99 {row['p99_ms']} ms at {row['offered_rate']} msgs/s")
    if target.name == "relay-sqlite":
        results["backlog"][target.name] = scenarios.backlog(target, plan)
        _log(f"backlog: {results['backlog'][target.name]['drain_s']} s")


def run(plan: Plan) -> dict[str, Any]:
    results: dict[str, Any] = {
        "mode": plan.mode,
        "started": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": " ".join(["python", "bench/run.py", *sys.argv[1:]]),
        "machine": report.machine(),
        "plan": {k: v for k, v in vars(plan).items() if k != "notes"},
        "peak": {},
        "latency": [],
        "idle": {},
        "backlog": {},
        "notes": list(plan.notes),
    }
    have_pg = postgres_available()
    if not have_pg:
        results["notes"].append("PostgreSQL is not running on 127.0.0.1:5432: skipped")
    rates: list[float] = []
    started = time.monotonic()
    load_at_start = os.getloadavg()
    for kind in plan.references:
        if kind == "postgres" and not have_pg:
            continue
        with reference(kind) as target:
            _measure_target(target, plan, results, rates)
    for store in plan.relays:
        if store == "postgres" and not have_pg:
            continue
        with relay(store) as target:
            _measure_target(target, plan, results, rates)
    results["crypto"] = crypto_costs.measure(plan.crypto_repeats, results["notes"])
    if plan.synapse and synapse_peer.available():
        try:
            results["synapse"] = synapse_peer.measure()
            _log(f"synapse: {results['synapse']['sends_per_s']} sends/s")
        except Exception as exc:  # The peer is a comparison; Confide's figures stand alone.
            results["notes"].append(f"Synapse peer failed: {exc!r}")
    elif plan.synapse:
        results["notes"].append(f"Synapse peer skipped: {synapse_peer.VENV} does not exist")
    results["elapsed_s"] = round(time.monotonic() - started, 1)
    # Other work on the machine competes for the same cores; the load average before and
    # after says how quiet the run was.
    results["load_average"] = {"start": load_at_start, "end": os.getloadavg()}
    results["problems"] = _problems(results)
    report.ratios(results)
    results["bars"] = report.bars(results)
    return results


def _problems(results: dict[str, Any]) -> list[str]:
    rows = [*results["peak"].values(), *results["latency"]]
    rows += [*results["idle"].values(), *results["backlog"].values()]
    return [f"{row['name']}: {p}" for row in rows for p in row.get("problems", [])]


def _log(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--smoke", action="store_true", help="seconds; proves it works")
    group.add_argument("--quick", action="store_true", help="under three minutes")
    args = parser.parse_args()
    plan = PLANS["smoke" if args.smoke else "quick" if args.quick else "full"]
    raise_fd_limit()
    results = run(plan)
    path = report.write(results)
    print(report.table(results))
    print(f"results: {path} (and {path.with_name('latest.json')})")
    return 1 if results["problems"] else 0


if __name__ == "__main__":
    sys.exit(main())
