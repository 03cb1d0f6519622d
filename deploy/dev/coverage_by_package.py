"""Prints line and branch coverage per package from the .coverage file `make test` leaves.

`pytest --cov` reports file by file; a reader deciding where tests are thin wants one line per
package (crypto, server, client). Relays that tests start as subprocesses are not measured,
so the server's figure is a floor, not the whole truth.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

PACKAGES = ("confide_crypto", "confide_server", "confide_client")


def main() -> int:
    if not Path(".coverage").exists():
        print("coverage: no .coverage file (run the tests with --cov first)")
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "coverage.json"
        subprocess.run(  # noqa: S603 - a fixed command line, no user input
            [sys.executable, "-m", "coverage", "json", "-q", "--ignore-errors", "-o", str(out)],
            check=True,
        )
        files = json.loads(out.read_text())["files"]
    totals: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for name, data in files.items():
        package = next((p for p in PACKAGES if f"/{p}/" in f"/{name}"), None)
        if package is None:
            continue
        summary = data["summary"]
        row = totals[package]
        row[0] += summary["covered_lines"]
        row[1] += summary["num_statements"]
        row[2] += summary.get("covered_branches", 0)
        row[3] += summary.get("num_branches", 0)
    print(f"{'package':<16} {'lines':>14} {'branches':>14}")
    for package in PACKAGES:
        lines, statements, branches, all_branches = totals[package]
        line_share = _percent(lines, statements)
        branch_share = _percent(branches, all_branches)
        print(f"{package:<16} {line_share:>14} {branch_share:>14}")
    return 0


def _percent(part: int, whole: int) -> str:
    return f"{100 * part / whole:5.1f}% of {whole}" if whole else "-"


if __name__ == "__main__":
    sys.exit(main())
