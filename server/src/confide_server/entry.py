"""The ``confide`` command's entry point: the CLI, imported with the cyclic collector paused.

Importing the relay's modules allocates hundreds of thousands of objects that live as long
as the process and makes almost no garbage, yet the collector walks the growing heap again
every few thousand allocations: about a fifth of a restart's CPU here (docs/benchmarks.md).
So the collector is paused while the CLI is imported and its arguments parsed (the first
collection after the imports would walk all of them) and resumed before any command runs,
except ``confide serve``, which resumes it once it has built the app and frozen what it
built (cli._serve).
"""

from __future__ import annotations

import gc


def main() -> int:
    was_enabled = gc.isenabled()
    gc.disable()
    serving = False
    try:
        from confide_server import cli

        args = cli.parse_args()
        serving = args.command == "serve"
    finally:
        if was_enabled and not serving:
            gc.enable()
    return cli.run(args)
