"""The ``confide`` command's entry point: the CLI, imported with the cyclic collector paused.

Importing the relay's modules allocates hundreds of thousands of objects that live as long
as the process and makes almost no garbage, yet the collector walks the growing heap again
every few thousand allocations: about a fifth of a restart's CPU here (docs/benchmarks.md).
So the collector is paused while the CLI is imported and resumed before any command runs;
``confide serve`` pauses it again while it builds the app, then freezes what it built
(cli._serve).
"""

from __future__ import annotations

import gc


def main() -> int:
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        from confide_server import cli
    finally:
        if was_enabled:
            gc.enable()
    return cli.main()
