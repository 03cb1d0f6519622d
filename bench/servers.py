"""Server processes under test: start, wait until ready, read their CPU and memory, stop.

The server's cost is read from its own process counters (psutil on its pid, children
included), the same way for the relay and for every reference, so the generator's work
on the same two cores never counts against the server.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import psutil

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass(frozen=True)
class Usage:
    cpu_s: float
    rss: int


class ServerProcess:
    """A server subprocess listening on 127.0.0.1:port, with its output kept in a log file."""

    def __init__(
        self,
        argv: list[str],
        port: int,
        env: Mapping[str, str] | None = None,
        log: Path | None = None,
    ) -> None:
        self.argv = argv
        self.port = port
        self.env = {**os.environ, **(env or {})}
        self.log_path = log or BENCH / "results" / f"server-{port}.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, ready_path: str = "/", timeout: float = 60.0) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("wb")
        self.proc = subprocess.Popen(
            self.argv, env=self.env, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited early; see {self.log_path}")
            if _http_ok(self.port, ready_path):
                return
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"server not ready after {timeout} s; see {self.log_path}")

    def usage(self) -> Usage:
        assert self.proc is not None
        root = psutil.Process(self.proc.pid)
        cpu = 0.0
        rss = 0
        for p in [root, *root.children(recursive=True)]:
            with contextlib.suppress(psutil.NoSuchProcess):
                t = p.cpu_times()
                cpu += t.user + t.system
                rss += p.memory_info().rss
        return Usage(cpu, rss)

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def _http_ok(port: int, path: str) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1.0) as s:
            request = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
            s.sendall(request.encode())
            return s.recv(64).startswith(b"HTTP/1.1 200")
    except OSError:
        return False


def reference_server(kind: str, db: str = "") -> ServerProcess:
    port = free_port()
    if kind == "bare":  # reference (d): websockets' own server, no store (references/bare.py)
        return ServerProcess(
            [sys.executable, str(BENCH / "references" / "bare.py"), "--port", str(port)], port
        )
    argv = [sys.executable, str(BENCH / "references" / "serve.py"), kind, "--port", str(port)]
    if db:
        argv += ["--db", db]
    return ServerProcess(argv, port)
