"""The run's output: the machine it ran on, the bars of issue 6, a table, and JSON files."""

from __future__ import annotations

import json
import math
import os
import platform
import sqlite3
import subprocess
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"
PACKAGES = ("uvicorn", "uvloop", "websockets", "fastapi", "sqlalchemy", "aiosqlite", "asyncpg")


def machine() -> dict[str, Any]:
    model = ""
    with open("/proc/cpuinfo", encoding="utf-8") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo", encoding="utf-8") as f:
        mem_kib = int(f.readline().split()[1])
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"],
        capture_output=True,
        text=True,
        check=False,
        cwd=RESULTS.parent,
    ).stdout.strip()
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "absent"
    return {
        "postgres": _postgres_version(),
        "nproc": os.cpu_count(),
        "cpu": model,
        "memory_gib": round(mem_kib / 2**20, 1),
        "python": platform.python_version(),
        "kernel": platform.release(),
        "sqlite": sqlite3.sqlite_version,
        "packages": versions,
        "commit": commit,
    }


def _postgres_version() -> str:
    import asyncio

    import asyncpg

    async def ask() -> str:
        conn = await asyncpg.connect("postgresql://postgres@127.0.0.1:5432/test", timeout=3)
        try:
            return str(await conn.fetchval("SHOW server_version"))
        finally:
            await conn.close()

    try:
        return asyncio.run(ask())
    except (OSError, asyncpg.PostgresError, TimeoutError):
        return "not running"


def _ratio(a: float | None, b: float | None) -> float | None:
    if a is None or b is None or not b or math.isnan(a) or math.isnan(b):
        return None
    return round(a / b, 3)


def ratios(results: dict[str, Any]) -> dict[str, Any]:
    """Each relay configuration against the reference that does the same durable work."""
    peaks = results["peak"]
    out: dict[str, Any] = {}
    for name, row in peaks.items():
        if not name.startswith("relay-"):
            continue
        store, size = name.removeprefix("relay-").split(" ", 1)
        row_ratios = {}
        for ref in ("forwarder", "bare", store):
            other = peaks.get(f"reference-{ref} {size}")
            if other:
                row_ratios[f"msgs_per_s_vs_reference_{ref}"] = _ratio(
                    row["msgs_per_s"], other["msgs_per_s"]
                )
                row_ratios[f"server_cpu_vs_reference_{ref}"] = _ratio(
                    row["server_cpu_us_per_msg"], other["server_cpu_us_per_msg"]
                )
        row["ratios"] = row_ratios
        out[name] = row_ratios
    synapse = results.get("synapse")
    relay_sqlite = peaks.get("relay-sqlite 1024 B")
    if synapse and relay_sqlite:
        results["synapse_ratio"] = _ratio(relay_sqlite["msgs_per_s"], synapse["sends_per_s"])
    return out


def bars(results: dict[str, Any]) -> dict[str, Any]:
    """Issue 6's bars: met, not met, or not measured in this mode (None)."""
    peaks = results["peak"]

    def peak(name: str) -> float | None:
        row = peaks.get(f"{name} 1024 B")
        return row["msgs_per_s"] if row else None

    def throughput_bar(store: str) -> dict[str, Any]:
        ratio = _ratio(peak(f"relay-{store}"), peak(f"reference-{store}"))
        return {"ratio": ratio, "needed": 0.8, "met": None if ratio is None else ratio >= 0.8}

    p99 = {"needed": 2.0, "ratio": None, "met": None}
    lat = {(r["name"].split(" ")[0], r["load"]): r for r in results["latency"]}
    ref, rel = lat.get(("reference-sqlite", 0.5)), lat.get(("relay-sqlite", 0.5))
    if ref and rel:
        p99["ratio"] = _ratio(rel["p99_ms"], ref["p99_ms"])
        p99["met"] = p99["ratio"] is not None and p99["ratio"] <= 2.0
    idle = results["idle"].get("relay-sqlite")
    kib = idle["kib_per_connection"] if idle else None
    drain = results["backlog"].get("relay-sqlite")
    send_rate = peak("relay-sqlite")
    drain_rate = drain["drain_msgs_per_s"] if drain else None
    return {
        "sqlite_throughput_vs_reference_b": throughput_bar("sqlite"),
        "postgres_throughput_vs_reference_c": throughput_bar("postgres"),
        "p99_at_half_reference_b_peak": p99,
        "idle_kib_per_connection": {
            "value": kib,
            "needed": 40.0,
            "met": None if kib is None else kib <= 40.0,
        },
        "backlog_drain_vs_durable_send_rate": {
            "drain_msgs_per_s": drain_rate,
            "send_msgs_per_s": send_rate,
            "met": None if not (drain_rate and send_rate) else drain_rate >= send_rate,
        },
        "no_envelope_lost_or_duplicated": {"met": not results["problems"]},
    }


def _fmt(value: Any, spec: str = ".1f") -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return format(value, spec)


def table(results: dict[str, Any]) -> str:
    lines = [
        f"{'configuration':34} {'msgs/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'p999 ms':>8}"
        f" {'srv us/msg':>10} {'gen us/msg':>10}  ratio",
        "-" * 106,
    ]
    rows = list(results["peak"].values()) + list(results["latency"])
    for row in rows:
        name = row["name"] + (" (saturated)" if row.get("saturated") else "")
        ratio = " ".join(
            f"{k.replace('msgs_per_s_vs_reference_', 'vs ')}={_fmt(v, '.2f')}"
            for k, v in row.get("ratios", {}).items()
            if k.startswith("msgs_per_s")
        )
        lines.append(
            f"{name:34} {_fmt(row['msgs_per_s']):>9} {_fmt(row['p50_ms'], '.2f'):>8}"
            f" {_fmt(row['p99_ms'], '.2f'):>8} {_fmt(row['p999_ms'], '.2f'):>8}"
            f" {_fmt(row['server_cpu_us_per_msg']):>10} {_fmt(row['generator_cpu_us_per_msg']):>10}"
            f"  {ratio}"
        )
    for name, row in results["idle"].items():
        lines.append(
            f"idle {name}: {row['kib_per_connection']} KiB per connection"
            f" ({row['held_open']} held, RSS {row['rss_before_mib']} -> {row['rss_after_mib']} MiB)"
        )
    for name, row in results["backlog"].items():
        lines.append(
            f"backlog {name}: {row['envelopes']} envelopes drained in {row['drain_s']} s"
            f" ({row['drain_msgs_per_s']} msgs/s; filled at {row['fill_msgs_per_s']} msgs/s)"
        )
    synapse = results.get("synapse")
    if synapse:
        lines.append(
            f"synapse-sqlite: {synapse['sends_per_s']} sends/s, p50 {synapse['p50_ms']} ms,"
            f" p99 {synapse['p99_ms']} ms, {synapse['server_cpu_us_per_msg']} us CPU per message;"
            f" relay-sqlite / synapse = {results['synapse_ratio']}"
        )
    for name, value in results.get("crypto", {}).items():
        lines.append(f"crypto {name}: {_fmt(value, '.1f')}")
    lines.append("bars:")
    for name, bar in results["bars"].items():
        verdict = {True: "met", False: "NOT met", None: "not measured"}[bar["met"]]
        detail = ", ".join(f"{k}={v}" for k, v in bar.items() if k != "met")
        lines.append(f"  {name}: {verdict} ({detail})")
    for problem in results["problems"]:
        lines.append(f"PROBLEM: {problem}")
    return "\n".join(lines)


def write(results: dict[str, Any]) -> Path:
    RESULTS.mkdir(exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    path = RESULTS / f"{stamp}.json"
    text = json.dumps(results, indent=2, default=str)
    path.write_text(text, encoding="utf-8")
    (RESULTS / "latest.json").write_text(text, encoding="utf-8")
    return path
