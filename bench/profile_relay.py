"""Profile `confide serve` under the benchmark's load: `python bench/profile_relay.py`.

Starts the relay on a fresh SQLite file (or PostgreSQL with --postgres), attaches py-spy to
the server process while the generator runs a closed loop (or an open loop with --rate),
and prints the functions with the most samples, inclusive and self. The collapsed stacks
are kept in bench/results/profile-*.txt for a flame graph.
"""

from __future__ import annotations

import argparse
import collections
import shutil
import subprocess
import sys
import threading
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from coordinator import measure
from generator import raise_fd_limit
from targets import relay

RESULTS = Path(__file__).resolve().parent / "results"


def summarise(raw: Path, top: int) -> str:
    inclusive: collections.Counter[str] = collections.Counter()
    own: collections.Counter[str] = collections.Counter()
    total = 0
    for line in raw.read_text(encoding="utf-8").splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack:
            continue
        count = int(count_text)
        frames = stack.split(";")
        total += count
        for frame in set(frames):
            inclusive[frame] += count
        own[frames[-1]] += count
    lines = [f"{total} samples", "inclusive:"]
    lines += [f"  {100 * n / total:5.1f}%  {f}" for f, n in inclusive.most_common(top)]
    lines.append("self:")
    lines += [f"  {100 * n / total:5.1f}%  {f}" for f, n in own.most_common(top)]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--postgres", action="store_true")
    parser.add_argument("--rate", type=float, default=0.0, help="open loop at this rate")
    parser.add_argument("--count", type=int, default=30_000)
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--pairs", type=int, default=16)
    parser.add_argument("--top", type=int, default=40)
    args = parser.parse_args()
    py_spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    raise_fd_limit()
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"profile-{'postgres' if args.postgres else 'sqlite'}-{args.rate:g}.txt"
    with relay("postgres" if args.postgres else "sqlite") as target:
        pairs = target.pairs(args.pairs)
        assert target.server.proc is not None
        argv = [py_spy, "record", "-p", str(target.server.proc.pid), "-f", "raw", "-o", str(out)]
        argv += ["-d", str(int(args.seconds)), "-r", "250", "--gil"]
        spy = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        threading.Event().wait(1.0)
        m = measure(
            target.name,
            target.server,
            target.dialect,
            pairs,
            count=args.count,
            duration=args.seconds - 1.5,
            envelope_size=1024,
            processes=1,
            rate=args.rate,
        )
        spy.wait(timeout=args.seconds + 30)
    print(m.as_dict())
    print(summarise(out, args.top))
    return 0


if __name__ == "__main__":
    sys.exit(main())
