"""Bytes and time until a client can consent on /join, in a slowed-down Chromium (issue 17).

    .venv/bin/python bench/join_load.py                                   # this checkout
    .venv/bin/python bench/join_load.py --variant before=/tmp/confide-before --runs 5
    .venv/bin/python bench/join_load.py --smoke                           # one load, for tests

A variant is a checkout of this repository whose web app is built (clients/web/dist; for
example `git worktree add /tmp/confide-before main`, then `npm run build` there). Each runs
its own relay on loopback, that checkout's server package first on PYTHONPATH as in
bench/compare.py, serving that checkout's dist, with an organisation, a policy and a worker
device made through the admin CLI and the HTTP API (bench/relay_setup.py). The worker makes
one invite per load.

Each load opens a fresh invite link in a new browser context (an empty cache: a cold load)
of Debian's chromium, on a phone-sized page, with the CPU slowed four times
(Emulation.setCPUThrottlingRate) and the network shaped by Network.emulateNetworkConditions
to the profile Lighthouse's mobile runs apply through DevTools ("Slow 4G"): 562.5 ms of
latency per request, 1.44 Mbit/s down, 675 kbit/s up. It records, on the page's own clock:

- ``consent_ms``: from navigation start until "I agree" is on the page and enabled;
- ``consent_bytes``: what had arrived over the network by then (Resource Timing's
  transferSize of the page and of every request finished by then: headers and bodies as
  sent, so compressed when they were);
- ``total_bytes`` and ``redeemed_ms``: everything the page fetched until the network was
  idle, and when the invite's redemption answered (after the consent screen, on a page
  that loads the crypto in the background).

Loads take turns between variants (A B A B ...), after one untimed load each, so a machine
that slows down during the run affects every variant alike. The medians, and each variant's
ratio to the first, are printed and written to bench/results/join-<timestamp>.json. The
figures are for docs/benchmarks.md; tests/bench/test_join_load.py runs --smoke and asserts
only that the pieces fit together.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import sys
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import httpx
from relay_setup import Admin, Enroller, bootstrap_admin_code, confide_cli, relay_env
from servers import ServerProcess, free_port

ROOT = Path(__file__).resolve().parents[1]
RESULTS = Path(__file__).resolve().parent / "results"
CHROMIUM = "/usr/bin/chromium"
POLICY = (
    "Benchmark Peer Support keeps what you share private.\n\n"
    "Limits of confidentiality: we must act if you tell us you plan to seriously harm "
    "yourself or someone else, if a child or vulnerable adult is being abused, or if a court "
    "orders us to share records.\n\nYou may withdraw consent at any time."
)
# DevTools' "Slow 4G", which Lighthouse applies for its mobile figures: 150 ms of round trip
# and 1.6 Mbit/s, adjusted as DevTools does (x3.75 latency, x0.9 throughput).
NETWORK = {
    "offline": False,
    "latency": 562.5,
    "downloadThroughput": 1.6e6 * 0.9 / 8,
    "uploadThroughput": 750e3 * 0.9 / 8,
}
CPU_SLOWDOWN = 4
PHONE = {"width": 390, "height": 844}

# The moment the consent screen can be used, on the Resource Timing clock.
CONSENT_USABLE = """
new MutationObserver(() => {
  const agree = document.getElementById("agree");
  if (agree && !agree.disabled && window.__consentUsable === undefined) {
    window.__consentUsable = performance.now();
  }
}).observe(document, { subtree: true, childList: true, attributes: true });
"""
REDEEMED = """() => performance.getEntriesByType("resource")
  .some((e) => e.name.endsWith("/v1/invites/redeem") && e.responseEnd > 0)"""
RESOURCES = """() => [...performance.getEntriesByType("navigation"),
  ...performance.getEntriesByType("resource")].map((e) => ({
    path: new URL(e.name).pathname, start: e.startTime, end: e.responseEnd,
    bytes: e.transferSize }))"""


@dataclass
class Variant:
    name: str
    checkout: Path
    invites: list[str] = field(default_factory=list)
    url: str = ""


def _variant(text: str) -> Variant:
    name, sep, path = text.partition("=")
    checkout = Path(path).resolve()
    if not sep or not name or not (checkout / "clients" / "web" / "dist" / "join.html").is_file():
        raise argparse.ArgumentTypeError(f"expected NAME=CHECKOUT with a built web app: {text}")
    return Variant(name, checkout)


async def _invites(port: int, admin_code: str, count: int) -> list[str]:
    """A worker device enrolled through the admin's code, and ``count`` of its invites."""
    enroller = Enroller(port)
    try:
        admin_token = await Admin(admin_code).login(enroller)
        _device, token = await enroller.worker(admin_token)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as http:
            secrets = []
            for _ in range(count):
                answer = await http.post(
                    "/v1/invites", json={}, headers={"Authorization": f"Bearer {token}"}
                )
                answer.raise_for_status()
                secrets.append(answer.json()["token"])
        return secrets
    finally:
        await enroller.close()


@contextmanager
def serving(variant: Variant, invites: int) -> Iterator[None]:
    """The variant's relay on a free port with ``invites`` invite links waiting."""
    workdir = Path(tempfile.mkdtemp(prefix=f"confide-join-{variant.name}-"))
    try:
        env = relay_env(workdir)
        env["CONFIDE_WEB_DIST"] = str(variant.checkout / "clients" / "web" / "dist")
        env["PYTHONPATH"] = str(variant.checkout / "server" / "src")
        admin_code = bootstrap_admin_code(env)
        policy = workdir / "policy.txt"
        policy.write_text(POLICY, encoding="utf-8")
        confide_cli(["publish-policy", "--file", str(policy)], env)
        port = free_port()
        confide = Path(sys.executable).with_name("confide")
        argv = [str(confide), "serve", "--host", "127.0.0.1", "--port", str(port)]
        server = ServerProcess(argv, port, env, log=workdir / "relay.log")
        server.start(ready_path="/readyz")
        try:
            variant.url = f"http://127.0.0.1:{port}"
            variant.invites = asyncio.run(_invites(port, admin_code, invites))
            yield
        finally:
            server.stop()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def cold_load(browser: Any, variant: Variant, throttle: bool) -> dict[str, Any]:
    """One invite link in a fresh context: when consent was usable, and what it cost."""
    context = browser.new_context(viewport=PHONE)
    try:
        context.add_init_script(CONSENT_USABLE)
        page = context.new_page()
        cdp = context.new_cdp_session(page)
        cdp.send("Network.enable")
        if throttle:
            cdp.send("Network.emulateNetworkConditions", NETWORK)
            cdp.send("Emulation.setCPUThrottlingRate", {"rate": CPU_SLOWDOWN})
        page.goto(f"{variant.url}/join#{variant.invites.pop()}", wait_until="commit")
        usable = float(
            page.wait_for_function("() => window.__consentUsable", timeout=120_000).json_value()
        )
        arrived = page.evaluate(RESOURCES)
        # The background work is over once the invite is redeemed and the network is quiet.
        page.wait_for_function(REDEEMED, timeout=120_000)
        page.wait_for_load_state("networkidle", timeout=120_000)
        settled = page.evaluate(RESOURCES)
    finally:
        context.close()
    redeemed = [e["end"] for e in settled if e["path"] == "/v1/invites/redeem"]
    return {
        "consent_ms": round(usable, 1),
        "consent_bytes": sum(e["bytes"] for e in arrived if e["end"] <= usable),
        "consent_requests": sum(1 for e in arrived if e["end"] <= usable),
        "total_bytes": sum(e["bytes"] for e in settled),
        "redeemed_ms": round(redeemed[0], 1) if redeemed else None,
        "requests": [e for e in settled],
    }


def summary(runs: dict[str, list[dict[str, Any]]]) -> list[dict[str, Any]]:
    rows = []
    first: dict[str, float] = {}
    for name, loads in runs.items():
        row: dict[str, Any] = {"name": name, "loads": len(loads)}
        for key in ("consent_ms", "consent_bytes", "total_bytes", "redeemed_ms"):
            values = [load[key] for load in loads if load[key] is not None]
            row[key] = statistics.median(values) if values else None
        for key in ("consent_ms", "consent_bytes"):
            first.setdefault(key, row[key])
            row[f"{key}_ratio"] = round(row[key] / first[key], 3) if first[key] else None
        rows.append(row)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--variant", action="append", type=_variant, default=[])
    parser.add_argument("--runs", type=int, default=5, help="cold loads per variant")
    parser.add_argument("--smoke", action="store_true", help="one load each, no warm-up")
    parser.add_argument("--no-throttle", action="store_true", help="full speed (to compare)")
    parser.add_argument("--out", type=Path, help="the results file (default bench/results/)")
    args = parser.parse_args()
    variants = args.variant or [Variant("here", ROOT)]
    runs = 1 if args.smoke else args.runs
    warmups = 0 if args.smoke else 1
    throttle = not args.no_throttle
    from playwright.sync_api import sync_playwright

    started = datetime.now(UTC)
    load_before = os.getloadavg()
    results: dict[str, list[dict[str, Any]]] = {v.name: [] for v in variants}
    with ExitStack() as stack:
        for variant in variants:
            stack.enter_context(serving(variant, runs + warmups))
        playwright = stack.enter_context(sync_playwright())
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=["--no-sandbox", "--disable-gpu"]
        )
        stack.callback(browser.close)
        for variant in variants:
            for _ in range(warmups):
                cold_load(browser, variant, throttle)
        for n in range(runs):
            order = variants[n % len(variants) :] + variants[: n % len(variants)]
            for variant in order:
                load = cold_load(browser, variant, throttle)
                results[variant.name].append(load)
                figures = {k: v for k, v in load.items() if k != "requests"}
                print(f"{variant.name} #{n + 1}: {figures}", file=sys.stderr, flush=True)
    record = {
        "started": started.isoformat(timespec="seconds"),
        "command": " ".join(["python", "bench/join_load.py", *sys.argv[1:]]),
        "mode": "smoke" if args.smoke else "full",
        "profile": {
            "network": NETWORK if throttle else None,
            "cpu_slowdown": CPU_SLOWDOWN if throttle else 1,
        },
        "variants": {v.name: str(v.checkout) for v in variants},
        "loadavg": {"before": load_before, "after": os.getloadavg()},
        "runs": results,
        "summary": summary(results),
    }
    out = args.out or RESULTS / f"join-{started.strftime('%Y%m%dT%H%M%SZ')}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(record, indent=2) + "\n")
    for row in record["summary"]:
        print(
            f"{row['name']}: consent usable after {row['consent_ms']} ms "
            f"({row['consent_ms_ratio']}x), {row['consent_bytes']} bytes before it "
            f"({row['consent_bytes_ratio']}x), {row['total_bytes']} bytes in all"
        )
    print(f"results: {out}")


if __name__ == "__main__":
    main()
