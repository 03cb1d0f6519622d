"""How long a restarted relay takes to answer: ``confide serve`` from exec to /healthz 200.

A restart is the recovery path after every crash, so this is the time a relay is away. Each
run starts ``confide serve`` on a free port with a data directory migrated by the first
(untimed) run, polls /healthz every 10 ms, and stops the process with SIGTERM. It prints
the median and the spread of the runs, and the import time of the serve path alone
(``python -X importtime``), as JSON.

A reference runs interleaved with them: bench/startup_reference.py, one /healthz route on
the same stack (FastAPI, pydantic, uvicorn) from the same bytecode. Its time is the floor a
relay built on that stack cannot go under; ``relay_over_reference`` is the ratio of the
medians measured in the same run, which a busy or slower machine moves far less than the
seconds themselves.

Each run is made twice, interleaved: once from source (a ``PYTHONPYCACHEPREFIX`` holding the
bytecode of the standard library alone, and ``PYTHONDONTWRITEBYTECODE=1``: a relay whose
installation holds no compiled bytecode of its dependencies or its own code and may not
write it, so every start compiles every such module it imports) and once from bytecode (a
prefix the untimed first start filled). The project's own virtual environment is not
touched either way.

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
import sysconfig
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

CONFIDE = Path(sys.executable).parent / "confide"
REFERENCE = Path(__file__).with_name("startup_reference.py")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _environment(data_dir: str, pycache: str, *, write: bool = False) -> dict[str, str]:
    """The relay's environment: its data directory and where its bytecode is read from
    (``pycache``); ``write`` lets it write bytecode there, otherwise it may not."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONFIDE_")}
    env["CONFIDE_DATA_DIR"] = data_dir
    env["PYTHONPYCACHEPREFIX"] = pycache
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    if not write:
        env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def _cpu_seconds(pid: int) -> float:
    """User plus system CPU time of process ``pid`` so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _keep_only_the_standard_library(prefix: str) -> None:
    """Delete from a bytecode prefix all but the standard library's, which a Python
    installation ships compiled."""
    stdlib = Path(prefix + str(Path(sysconfig.get_paths()["stdlib"]).resolve()))
    for compiled in Path(prefix).rglob("*.pyc"):
        if stdlib not in compiled.parents:
            compiled.unlink()


def _only_the_standard_library(prefix: str) -> bool:
    stdlib = Path(prefix + str(Path(sysconfig.get_paths()["stdlib"]).resolve()))
    return all(stdlib in compiled.parents for compiled in Path(prefix).rglob("*.pyc"))


def start_to_healthz(
    env: dict[str, str], timeout: float = 60.0, *, reference: bool = False
) -> tuple[float, float]:
    """Seconds from starting ``confide serve`` (or the reference app) to its first /healthz
    200, and the CPU seconds the process had used by then (which a busy machine inflates
    much less)."""
    port = _free_port()
    command = (
        [sys.executable, str(REFERENCE), str(port)]
        if reference
        else [str(CONFIDE), "serve", "--port", str(port)]
    )
    started = time.perf_counter()
    process = subprocess.Popen(
        command,
        env=env,
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
                raise RuntimeError(f"{command[1]} exited before it answered")
            time.sleep(0.01)
        raise TimeoutError("no /healthz answer")
    finally:
        process.terminate()
        process.wait(30)


def import_seconds(env: dict[str, str]) -> float:
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
        env=env,
    )
    total = 0
    for line in result.stderr.splitlines():
        match = re.match(r"import time:\s+(\d+) \|", line)
        if match:
            total += int(match.group(1))
    return total / 1e6


def _summary(timed: list[tuple[float, float]], imports: list[float] | None) -> dict[str, float]:
    runs = [wall for wall, _cpu in timed]
    summary = {
        "restart_to_healthz_median_s": round(statistics.median(runs), 3),
        "restart_to_healthz_min_s": round(min(runs), 3),
        "restart_to_healthz_max_s": round(max(runs), 3),
        "restart_cpu_median_s": round(statistics.median(cpu for _wall, cpu in timed), 3),
    }
    if imports is not None:
        summary["serve_imports_median_s"] = round(statistics.median(imports), 3)
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--import-runs", type=int, default=3, help="-X importtime runs")
    args = parser.parse_args()
    load = [os.getloadavg()[0]]
    with (
        tempfile.TemporaryDirectory(prefix="confide-startup-") as data_dir,
        tempfile.TemporaryDirectory(prefix="confide-source-") as stdlib_only,
        tempfile.TemporaryDirectory(prefix="confide-bytecode-") as compiled,
    ):
        source = _environment(data_dir, stdlib_only)
        bytecode = _environment(data_dir, compiled)
        # Migrates a fresh database and writes the bytecode of what serving imports.
        first, _ = start_to_healthz(_environment(data_dir, compiled, write=True))
        start_to_healthz(_environment(data_dir, stdlib_only, write=True))
        start_to_healthz(_environment(data_dir, compiled, write=True), reference=True)
        _keep_only_the_standard_library(stdlib_only)
        timed: dict[str, list[tuple[float, float]]] = {"source": [], "bytecode": [], "ref": []}
        for _ in range(args.runs):
            timed["source"].append(start_to_healthz(source))
            timed["bytecode"].append(start_to_healthz(bytecode))
            timed["ref"].append(start_to_healthz(bytecode, reference=True))
        imports = {
            "source": [import_seconds(source) for _ in range(args.import_runs)],
            "bytecode": [import_seconds(bytecode) for _ in range(args.import_runs)],
        }
        assert _only_the_standard_library(stdlib_only), "the runs from source wrote bytecode"
    load.append(os.getloadavg()[0])
    result: dict[str, object] = {
        "runs": args.runs,
        "first_start_with_migrations_s": round(first, 3),
    }
    for kind in ("source", "bytecode"):
        result[f"from_{kind}"] = _summary(timed[kind], imports[kind])
    result["reference_from_bytecode"] = _summary(timed["ref"], None)
    for measure in ("restart_to_healthz_median_s", "restart_cpu_median_s"):
        relay = result["from_bytecode"][measure]  # type: ignore[index]
        floor = result["reference_from_bytecode"][measure]  # type: ignore[index]
        result[f"relay_over_reference_{measure.removeprefix('restart_')}"] = round(relay / floor, 2)
    result["load_average_1m_start_end"] = [round(value, 2) for value in load]
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
