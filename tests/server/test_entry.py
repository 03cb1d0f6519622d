"""The ``confide`` entry point pauses the cyclic collector only while the CLI is imported."""

from __future__ import annotations

import subprocess
import sys

CHECK = """
import gc, sys
import confide_server.cli as cli
seen = []
cli.run = lambda args: seen.append((args.command, gc.isenabled())) or 0
from confide_server.entry import main
sys.argv = ["confide", "migrate"]
assert main() == 0
sys.argv = ["confide", "serve", "--port", "1"]
assert main() == 0
print(seen)
"""


def test_commands_run_with_the_collector_on_and_serve_turns_it_on_itself() -> None:
    result = subprocess.run(
        [sys.executable, "-c", CHECK], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr
    # serve resumes the collector itself, once the app is built and frozen (cli._serve).
    assert result.stdout.strip() == "[('migrate', True), ('serve', False)]"


def test_the_console_script_is_the_entry_point() -> None:
    from importlib.metadata import entry_points

    (script,) = [e for e in entry_points(group="console_scripts") if e.name == "confide"]
    assert script.value == "confide_server.entry:main"
