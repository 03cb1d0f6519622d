"""A private redis-server subprocess, for tests that must break Redis.

The machine's shared Redis must never be stopped, so such a test starts its own on a free
port, kills it with SIGKILL and starts it again on the same port, or freezes it with SIGSTOP
(it keeps accepting TCP connections in the kernel, and answers nothing) and thaws it with
SIGCONT.
"""

from __future__ import annotations

import signal
import socket
import subprocess
import time
from pathlib import Path

from system.relay_process import free_port, terminate


class RedisProcess:
    def __init__(self, executable: str, workdir: Path) -> None:
        self.executable = executable
        self.workdir = workdir
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, timeout: float = 30.0) -> None:
        """Start (or restart) on this object's port, with nothing kept on disk."""
        command = [self.executable, "--bind", "127.0.0.1", "--port", str(self.port)]
        command += ["--save", "", "--appendonly", "no", "--dir", str(self.workdir)]
        with (self.workdir / "redis.log").open("ab") as log:
            self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        for _ in range(1000):
            if self._ping():
                return
            if time.monotonic() > deadline or self.process.poll() is not None:
                break
            time.sleep(0.05)
        raise RuntimeError("redis-server did not answer PING")

    def _ping(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def kill9(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=15)
            self.process = None

    def freeze(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGSTOP)

    def thaw(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGCONT)

    def stop(self) -> None:
        if self.process is not None:
            self.thaw()  # a stopped process would not act on SIGTERM
            terminate(self.process)
            self.process = None
