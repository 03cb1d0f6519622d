"""The benchmark still runs end to end: `python bench/run.py --smoke` in a few seconds.

It asserts only that the run works and that its counts add up (every envelope sent was
accepted, delivered and acknowledged exactly once), never anything about speed: speed is
a figure in docs/benchmarks.md, not a test.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def assert_counts_add_up(counts: dict[str, int]) -> None:
    """Every envelope sent was accepted, delivered and acknowledged exactly once."""
    assert counts["sent"] > 0
    assert counts["sent"] == counts["accepted"] == counts["delivered"]
    assert counts["delivered"] == counts["acknowledged"]
    assert counts["duplicates"] == counts["unexpected"] == counts["rejected"] == 0


def run_bench(script: str, *args: str) -> str:
    """Runs bench/<script> with ``args``; returns its output once it has exited with 0."""
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / script), *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done.stdout


@pytest.mark.slow
def test_smoke_run_counts_add_up() -> None:
    run_bench("run.py", "--smoke")
    results = json.loads((ROOT / "bench" / "results" / "latest.json").read_text())
    assert results["mode"] == "smoke"
    assert results["problems"] == []
    measured = [*results["peak"].values(), *results["latency"]]
    assert {row["name"].split(" ")[0] for row in measured} >= {
        "reference-forwarder",
        "reference-sqlite",
        "relay-sqlite",
    }
    for row in measured:
        for run in row["runs"]:
            assert_counts_add_up(run["counts"])
        # The disk's sync time at the start and end of each figure (bench/disk.py).
        assert row["disk_sync_ms"]["before"] > 0 and row["disk_sync_ms"]["after"] > 0
    backlog = results["backlog"]["relay-sqlite"]
    assert backlog["counts"]["drain"]["delivered"] == backlog["envelopes"]
    assert backlog["counts"]["fill"]["accepted"] == backlog["envelopes"]
    idle = results["idle"]["relay-sqlite"]
    assert idle["held_open"] == idle["connections"]


@pytest.mark.slow
def test_compare_runs_a_variant_beside_this_checkout() -> None:
    """bench/compare.py with this checkout as its own variant: both relays and references (b)
    and (d) are measured in each round and every envelope is counted."""
    out = run_bench(
        "compare.py",
        *("--variant", f"same={ROOT}", "--rounds", "1", "--pairs", "2", "--count", "300"),
        *("--seconds", "3", "--open-seconds", "0.5", "--load", "0.05"),
    )
    path = Path(out.rsplit("results: ", 1)[1].split()[0])
    record = json.loads(path.read_text())
    names = ["reference-sqlite", "reference-bare", "relay-sqlite-here", "relay-sqlite-same"]
    assert [row["name"] for row in record["summary"]] == names
    (only,) = record["rounds"]
    for phase in ("peak", "open"):
        assert sorted(only[phase]) == sorted(names)
        for run in only[phase].values():
            assert_counts_add_up(run["counts"])
            assert run["disk_sync_ms"] > 0


@pytest.mark.slow
def test_startup_times_the_relay_beside_its_reference() -> None:
    result = json.loads(run_bench("startup.py", "--runs", "1", "--import-runs", "1"))
    for kind in ("from_source", "from_bytecode", "reference_from_bytecode"):
        assert result[kind]["restart_to_healthz_median_s"] > 0
    assert result["relay_over_reference_to_healthz_median_s"] > 0
