"""Print a results file as the Markdown tables of docs/benchmarks.md.

`python bench/markdown.py [bench/results/latest.json]`
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

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


def main() -> None:
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else RESULTS / "latest.json"
    results = json.loads(path.read_text(encoding="utf-8"))
    print("\n".join(peaks(results)), end="\n\n")
    print("\n".join(latencies(results)), end="\n\n")
    print("\n".join(bars(results)))


if __name__ == "__main__":
    main()
