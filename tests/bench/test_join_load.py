"""bench/join_load.py still runs end to end: one cold load of /join through a real relay in a
throttled chromium. Asserts that the figures are there and add up, never how large or fast
they are: those are figures in docs/benchmarks.md, not tests."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import need, need_executable

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
@pytest.mark.browser
def test_join_load_smoke(tmp_path: Path) -> None:
    need_executable("chromium")
    need((ROOT / "clients/web/dist/join.html").is_file(), "the web app is not built (make web)")
    out = tmp_path / "join.json"
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "join_load.py"), "--smoke", "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    record = json.loads(out.read_text())
    assert record["mode"] == "smoke" and record["profile"]["cpu_slowdown"] == 4
    ((name, loads),) = record["runs"].items()
    assert name == "here" and len(loads) == 1
    (load,) = loads
    paths = [request["path"] for request in load["requests"]]
    assert paths[0] == "/join" and "/v1/invites/redeem" in paths
    assert 0 < load["consent_bytes"] <= load["total_bytes"]
    assert 0 < load["consent_requests"] < len(paths)
    assert load["consent_ms"] > 0 and load["redeemed_ms"] > 0
    (row,) = record["summary"]
    assert row["consent_ms_ratio"] == row["consent_bytes_ratio"] == 1.0
