"""How long a restarted relay takes to answer: ``confide serve`` from exec to /healthz 200.

A restart is the recovery path after every crash, so this is the time a relay is away. Each
run starts ``confide serve`` on a free port with a data directory migrated by the first
(untimed) run, polls /healthz every 10 ms, and stops the process with SIGTERM. It prints
the median and the spread of the runs, and the import time of the serve path alone
(``python -X importtime``), as JSON.

    .venv/bin/python bench/startup.py --runs 7
"""

from __future__ import annotations

import argparse
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

CONFIDE = Path(sys.executable).parent / "confide"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _environment(data_dir: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONFIDE_")}
    env["CONFIDE_DATA_DIR"] = data_dir
    return env


def _cpu_seconds(pid: int) -> float:
    """User plus system CPU time of process ``pid`` so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def start_to_healthz(data_dir: str, timeout: float = 60.0) -> tuple[float, float]:
    """Seconds from starting ``confide serve`` to its first /healthz 200, and the CPU
    seconds the process had used by then (which a busy machine inflates much less)."""
    port = _free_port()
    started = time.perf_counter()
    process = subprocess.Popen(
        [str(CONFIDE), "serve", "--port", str(port)],
        env=_environment(data_dir),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        while time.perf_counter() - started < timeout:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as r:
                    if r.status == 200:
                        return time.perf_counter() - started, _cpu_seconds(process.pid)
            except (urllib.error.URLError, OSError):
                pass
            if process.poll() is not None:
                raise RuntimeError("confide serve exited before it answered")
            time.sleep(0.01)
        raise TimeoutError("no /healthz answer")
    finally:
        process.terminate()
        process.wait(30)


def import_seconds() -> float:
    """The import time of what ``confide serve`` imports, by ``python -X importtime``."""
    code = (
        "import confide_server.cli, confide_server.app, confide_server.serving,"
        " confide_server.logs, uvicorn"
    )
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", code],
        capture_output=True,
        text=True,
        check=True,
    )
    total = 0
    for line in result.stderr.splitlines():
        match = re.match(r"import time:\s+(\d+) \|", line)
        if match:
            total += int(match.group(1))
    return total / 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="confide-startup-") as data_dir:
        first, _ = start_to_healthz(data_dir)  # migrates a fresh database; reported apart
        timed = [start_to_healthz(data_dir) for _ in range(args.runs)]
    runs = [wall for wall, _cpu in timed]
    cpu = [cpu for _wall, cpu in timed]
    imports = [import_seconds() for _ in range(3)]
    print(
        json.dumps(
            {
                "runs": args.runs,
                "first_start_with_migrations_s": round(first, 3),
                "restart_to_healthz_median_s": round(statistics.median(runs), 3),
                "restart_to_healthz_min_s": round(min(runs), 3),
                "restart_to_healthz_max_s": round(max(runs), 3),
                "restart_cpu_median_s": round(statistics.median(cpu), 3),
                "serve_imports_median_s": round(statistics.median(imports), 3),
                "load_average_1m": round(os.getloadavg()[0], 2),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
