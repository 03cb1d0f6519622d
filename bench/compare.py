"""Two or more versions of the relay against references (b) and (d), side by side, in one run.

    python bench/compare.py                          # this checkout only
    python bench/compare.py --variant before=/tmp/confide-before --rounds 5
    python bench/compare.py --postgres --variant before=/tmp/confide-before

Where bench/run.py measures each server once after the other, this keeps every server
running and takes turns: each round measures every server's closed-loop peak and then its
latency in an open loop at `--load` of reference (b)'s peak in that round, in a rotated
order, so a machine that speeds up or slows down during the run affects every server
alike. Reference (d), the bare forwarder on websockets' own server (references/bare.py),
takes its turn too, and every server's peak is also given as a ratio to it. A variant is
a checkout of this repository (for example `git worktree add /tmp/confide-before HEAD~1`);
its server package and migrations run in place of the installed ones. The figures are
medians over rounds, and ratios are taken within a round. This is the tool behind the A/B
figures in docs/benchmarks.md; bench/run.py makes the figures of record.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import disk
from coordinator import measure
from generator import raise_fd_limit
from targets import Target, reference, relay

RESULTS = Path(__file__).resolve().parent / "results"


def _variant(text: str) -> tuple[str, Path]:
    name, sep, path = text.partition("=")
    if not sep or not name or not (Path(path) / "server" / "src").is_dir():
        raise argparse.ArgumentTypeError(f"expected NAME=CHECKOUT (with server/src): {text}")
    return name, Path(path)


def _measure(target: Target, args: argparse.Namespace, rate: float) -> dict[str, Any]:
    closed = rate == 0.0
    seconds = args.seconds if closed else args.open_seconds
    disk_before = disk.sync_ms()
    m = measure(
        target.name,
        target.server,
        target.dialect,
        target.pairs(args.pairs),
        count=args.count if closed else int(rate * seconds) + 1,
        duration=seconds,
        envelope_size=1024,
        processes=1,
        rate=rate,
        drain_timeout=60.0,
    )
    row = m.as_dict()
    row["problems"] = m.problems()
    row["disk_sync_ms"] = disk_before
    return row


def run_rounds(targets: list[Target], args: argparse.Namespace) -> list[dict[str, Any]]:
    rounds = []
    for n in range(args.rounds):
        # The reference goes first (its peak sets the open loop's rate); the relays rotate.
        relays = targets[1:]
        order = [targets[0], *relays[n % len(relays) :], *relays[: n % len(relays)]]
        peaks = {t.name: _measure(t, args, 0.0) for t in order}
        rate = args.load * peaks[targets[0].name]["msgs_per_s"]
        opens = {t.name: _measure(t, args, rate) for t in order}
        rounds.append({"rate": round(rate, 1), "peak": peaks, "open": opens})
        _log(
            f"round {n + 1}: "
            + ", ".join(f"{k} {v['msgs_per_s']:.0f}/s" for k, v in peaks.items())
            + f"; open at {rate:.0f}/s p50 "
            + ", ".join(f"{k} {v['p50_ms']:.1f}" for k, v in opens.items())
            + "; disk sync ms "
            + ", ".join(f"{v['disk_sync_ms']:.1f}" for v in [*peaks.values(), *opens.values()])
        )
    return rounds


def summary(rounds: list[dict[str, Any]], names: list[str]) -> list[dict[str, Any]]:
    """Per server: medians over rounds, and the median of each round's ratio to the first."""
    base = names[0]
    bare = "reference-bare"

    def med(values: list[float]) -> float:
        return round(statistics.median(values), 3)

    rows = []
    for name in names:
        peak = [r["peak"][name] for r in rounds]
        opened = [r["open"][name] for r in rounds]
        rows.append(
            {
                "name": name,
                "peak_msgs_per_s": med([p["msgs_per_s"] for p in peak]),
                "peak_ratio": med(
                    [r["peak"][name]["msgs_per_s"] / r["peak"][base]["msgs_per_s"] for r in rounds]
                ),
                "peak_vs_bare": med(
                    [r["peak"][name]["msgs_per_s"] / r["peak"][bare]["msgs_per_s"] for r in rounds]
                ),
                "peak_cpu_us_per_msg": med([p["server_cpu_us_per_msg"] for p in peak]),
                "open_p50_ms": med([o["p50_ms"] for o in opened]),
                "open_p99_ms": med([o["p99_ms"] for o in opened]),
                "open_p99_ratio": med(
                    [r["open"][name]["p99_ms"] / r["open"][base]["p99_ms"] for r in rounds]
                ),
                "open_cpu_us_per_msg": med([o["server_cpu_us_per_msg"] for o in opened]),
                "problems": [p for x in peak + opened for p in x["problems"]],
            }
        )
    return rows


def table(rows: list[dict[str, Any]], load: float) -> str:
    head = (
        f"| server | peak msg/s | vs first | vs (d) | µs/msg | open {load:.0%} p50 ms | p99 ms"
        " | p99 vs first | µs/msg |"
    )
    lines = [head, "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        lines.append(
            f"| {r['name']} | {r['peak_msgs_per_s']:.0f} | {r['peak_ratio']:.2f}"
            f" | {r['peak_vs_bare']:.2f}"
            f" | {r['peak_cpu_us_per_msg']:.0f} | {r['open_p50_ms']:.1f} | {r['open_p99_ms']:.1f}"
            f" | {r['open_p99_ratio']:.2f} | {r['open_cpu_us_per_msg']:.0f} |"
        )
    return "\n".join(lines)


def _log(message: str) -> None:
    print(f"[compare] {message}", file=sys.stderr, flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--variant", type=_variant, action="append", default=[])
    parser.add_argument("--postgres", action="store_true", help="reference (c) and PostgreSQL")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--load", type=float, default=0.5, help="open loop, share of the peak")
    parser.add_argument("--pairs", type=int, default=32)
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--seconds", type=float, default=6.0, help="closed loop, at most")
    parser.add_argument("--open-seconds", type=float, default=5.0)
    args = parser.parse_args()
    if args.rounds < 1 or not 0.0 < args.load < 1.0:
        parser.error("--rounds must be at least 1 and --load between 0 and 1")
    raise_fd_limit()
    store = "postgres" if args.postgres else "sqlite"
    variants: list[tuple[str, Path | None]] = [("here", None), *args.variant]
    with ExitStack() as stack:
        targets = [stack.enter_context(reference(store)), stack.enter_context(reference("bare"))]
        for name, source in variants:
            targets.append(stack.enter_context(relay(store, source, f"relay-{store}-{name}")))
        for t in targets:
            t.pairs(args.pairs)
        rounds = run_rounds(targets, args)
    rows = summary(rounds, [t.name for t in targets])
    RESULTS.mkdir(exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    out = RESULTS / f"compare-{stamp}.json"
    record = {"command": " ".join(["python", "bench/compare.py", *sys.argv[1:]]), "rounds": rounds}
    out.write_text(json.dumps({**record, "summary": rows}, indent=1), encoding="utf-8")
    print(table(rows, args.load))
    print(f"results: {out}")
    problems = [p for r in rows for p in r["problems"]]
    for p in problems:
        print(f"problem: {p}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
