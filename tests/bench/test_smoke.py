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


@pytest.mark.slow
def test_smoke_run_counts_add_up() -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "run.py"), "--smoke"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
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
            counts = run["counts"]
            assert counts["sent"] > 0
            assert counts["sent"] == counts["accepted"] == counts["delivered"]
            assert counts["delivered"] == counts["acknowledged"]
            assert counts["duplicates"] == counts["unexpected"] == counts["rejected"] == 0
    backlog = results["backlog"]["relay-sqlite"]
    assert backlog["counts"]["drain"]["delivered"] == backlog["envelopes"]
    assert backlog["counts"]["fill"]["accepted"] == backlog["envelopes"]
    idle = results["idle"]["relay-sqlite"]
    assert idle["held_open"] == idle["connections"]
