"""The disk's state beside each figure: how long a small write takes to become durable now.

Every durable server here waits for the disk in each group commit, and this machine's disk
is shared: a run where the relay alone looked slow could not say whether the disk was slow
at that moment. A probe before and after each measurement (16 writes of 4 KiB, each
followed by fdatasync, in a scratch file where the servers keep their databases) puts the
disk's median sync time in the results beside the figure.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time


def sync_ms(writes: int = 16, directory: str | None = None) -> float:
    """Median milliseconds of one 4 KiB write plus fdatasync, over ``writes`` tries."""
    block = os.urandom(4096)
    times = []
    with tempfile.NamedTemporaryFile(dir=directory or tempfile.gettempdir()) as scratch:
        fd = scratch.fileno()
        for n in range(writes):
            started = time.perf_counter()
            os.pwrite(fd, block, n * len(block))
            os.fdatasync(fd)
            times.append(time.perf_counter() - started)
    return round(statistics.median(times) * 1000, 3)
