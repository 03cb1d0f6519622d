"""Run one reference relay: `python bench/references/serve.py KIND --port P [--db ...]`.

KIND is `forwarder` (no storage), `sqlite` (--db is a file path) or `postgres` (--db is a
DSN). The stack is the relay's: uvicorn on uvloop and httptools, the sans-io websockets
implementation, per-message deflate off. It listens on 127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import resource
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import uvicorn
from references.app import ReferenceRelay, Store
from references.stores import NullStore, PostgresStore, SQLiteStore


def make_store(kind: str, db: str) -> Store:
    if kind == "forwarder":
        return NullStore()
    if kind == "sqlite":
        return SQLiteStore(db)
    if kind == "postgres":
        return PostgresStore(db)
    raise SystemExit(f"unknown reference kind {kind!r}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("kind", choices=["forwarder", "sqlite", "postgres"])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--db", default="")
    args = parser.parse_args()
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    uvicorn.run(
        ReferenceRelay(make_store(args.kind, args.db)),
        host="127.0.0.1",
        port=args.port,
        loop="uvloop",
        http="httptools",
        ws="websockets-sansio",
        ws_per_message_deflate=False,
        ws_max_size=1 << 20,
        lifespan="on",
        log_level="warning",
        access_log=False,
        backlog=8192,
    )


if __name__ == "__main__":
    main()
