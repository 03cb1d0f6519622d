"""Print results as the Markdown tables of docs/benchmarks.md.

`python bench/markdown.py [RESULTS.json ...]` (default: bench/results/latest.json). Given
several runs, each figure is the median of the runs' medians, the spread covers every
repeat of every run, and the bars are judged on those medians.
"""

from __future__ import annotations

import json
import statistics
import sys
from pathlib import Path
from typing import Any

import report
from report import RESULTS


def _n(value: Any, spec: str = ".1f") -> str:
    return "-" if value is None else format(value, spec)


def peaks(results: dict[str, Any]) -> list[str]:
    lines = [
        "| configuration | msg/s (median) | spread (min to max) | p50 ms | p99 ms | p999 ms"
        " | server CPU µs/msg | generator CPU µs/msg | ratio to reference |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for row in results["peak"].values():
        ratio = ", ".join(
            f"{k.removeprefix('msgs_per_s_vs_reference_')} {_n(v, '.2f')}"
            for k, v in row.get("ratios", {}).items()
            if k.startswith("msgs_per_s")
        )
        lines.append(
            f"| {row['name']} | {_n(row['msgs_per_s'], '.0f')}"
            f" | {_n(row['msgs_per_s_min'], '.0f')} to {_n(row['msgs_per_s_max'], '.0f')}"
            f" | {_n(row['p50_ms'], '.2f')} | {_n(row['p99_ms'], '.2f')}"
            f" | {_n(row['p999_ms'], '.2f')} | {_n(row['server_cpu_us_per_msg'])}"
            f" | {_n(row['generator_cpu_us_per_msg'])} | {ratio} |"
        )
    return lines


def latencies(results: dict[str, Any]) -> list[str]:
    lines = [
        "| configuration | offered msg/s | achieved msg/s | p50 ms | p99 ms | p999 ms"
        " | server CPU µs/msg | saturated |",
        "|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for row in results["latency"]:
        lines.append(
            f"| {row['name']} | {_n(row['offered_rate'], '.0f')} | {_n(row['msgs_per_s'], '.0f')}"
            f" | {_n(row['p50_ms'], '.2f')} | {_n(row['p99_ms'], '.2f')}"
            f" | {_n(row['p999_ms'], '.2f')} | {_n(row['server_cpu_us_per_msg'])}"
            f" | {'yes' if row.get('saturated') else 'no'} |"
        )
    return lines


def bars(results: dict[str, Any]) -> list[str]:
    lines = ["| bar | figure | met |", "|---|---|---|"]
    for name, bar in results["bars"].items():
        verdict = {True: "met", False: "**not met**", None: "not measured"}[bar["met"]]
        detail = ", ".join(f"{k} {v}" for k, v in bar.items() if k != "met")
        lines.append(f"| {name} | {detail} | {verdict} |")
    return lines


def _median_rows(rows: list[dict[str, Any]], keys: tuple[str, ...]) -> dict[str, Any]:
    merged = dict(rows[0])
    for key in keys:
        values = [r[key] for r in rows if r.get(key) is not None]
        merged[key] = round(statistics.median(values), 3) if values else None
    return merged


def merge(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """One results dict whose figures are medians over several runs."""
    figures = ("msgs_per_s", "p50_ms", "p99_ms", "p999_ms", "server_cpu_us_per_msg")
    figures += ("generator_cpu_us_per_msg",)
    merged: dict[str, Any] = {"peak": {}, "latency": [], "idle": {}, "backlog": {}}
    for name in runs[0]["peak"]:
        rows = [r["peak"][name] for r in runs if name in r["peak"]]
        row = _median_rows(rows, figures)
        repeats = [x["msgs_per_s"] for r in rows for x in r["runs"]]
        row["msgs_per_s_min"], row["msgs_per_s_max"] = min(repeats), max(repeats)
        merged["peak"][name] = row
    for i, first in enumerate(runs[0]["latency"]):
        rows = [r["latency"][i] for r in runs if len(r["latency"]) > i]
        merged["latency"].append(_median_rows(rows, (*figures, "offered_rate")))
        merged["latency"][-1]["name"] = first["name"]
    for part, keys in (("idle", ("kib_per_connection",)), ("backlog", ("drain_msgs_per_s",))):
        for name in runs[0][part]:
            merged[part][name] = _median_rows([r[part][name] for r in runs], keys)
    merged["problems"] = [p for r in runs for p in r["problems"]]
    report.ratios(merged)
    merged["bars"] = report.bars(merged)
    return merged


def main() -> None:
    paths = [Path(a) for a in sys.argv[1:]] or [RESULTS / "latest.json"]
    runs = [json.loads(p.read_text(encoding="utf-8")) for p in paths]
    results = runs[0] if len(runs) == 1 else merge(runs)
    print("\n".join(peaks(results)), end="\n\n")
    print("\n".join(latencies(results)), end="\n\n")
    print("\n".join(bars(results)))


if __name__ == "__main__":
    main()
