"""The ``confide`` entry point pauses the cyclic collector only while the CLI is imported."""

from __future__ import annotations

import subprocess
import sys

CHECK = """
import gc
import confide_server.cli as cli
seen = []
cli.main = lambda: seen.append(gc.isenabled()) or 0
from confide_server.entry import main
assert main() == 0
print(seen, gc.isenabled())
"""


def test_commands_run_with_the_collector_on() -> None:
    result = subprocess.run(
        [sys.executable, "-c", CHECK], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["[True]", "True"]


def test_the_console_script_is_the_entry_point() -> None:
    from importlib.metadata import entry_points

    (script,) = [e for e in entry_points(group="console_scripts") if e.name == "confide"]
    assert script.value == "confide_server.entry:main"
