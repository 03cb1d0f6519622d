"""Reference (d): a bare forwarder on websockets' own asyncio server, with no store at all.

`python bench/references/bare.py --port P`. The frames are the other references' (see
app.py); envelopes go to the recipient's connection at once and `accepted` and `acked` are
sent at once, so this is the ceiling of a Python WebSocket relay on this machine: uvloop,
websockets' C-accelerated framing, orjson, and nothing between the frames. Since the
relay's own transport (ws/protocol.py) replaced the plain uvicorn stack that references
(a) to (c) run on, the relay can beat those; this one shows how far it is from the
fastest forwarder measured here (docs/benchmarks.md).
"""

from __future__ import annotations

import argparse
import base64
import resource
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qs, urlsplit

import orjson
import uvloop
from websockets.asyncio.server import Request, Response, ServerConnection, serve


class BareForwarder:
    def __init__(self) -> None:
        self.owners: dict[str, ServerConnection] = {}
        self.next_id = 0

    async def handle(self, ws: ServerConnection) -> None:
        mailbox = parse_qs(urlsplit(ws.request.path if ws.request else "").query)
        owner = mailbox.get("mailbox", [""])[0]
        if owner:
            self.owners[owner] = ws
        try:
            async for text in ws:
                await self._frame(orjson.loads(text), ws)
        finally:
            if owner and self.owners.get(owner) is ws:
                del self.owners[owner]

    async def _frame(self, frame: dict[str, Any], ws: ServerConnection) -> None:
        if frame["type"] == "ack":
            if frame.get("ref") is not None:
                await ws.send(orjson.dumps({"type": "acked", "ref": frame["ref"]}).decode())
            return
        self.next_id += 1
        envelope_id = base64.urlsafe_b64encode(self.next_id.to_bytes(16, "big")).rstrip(b"=")
        eid = envelope_id.decode()
        accepted = {"type": "accepted", "ref": frame["ref"], "id": eid, "duplicate": False}
        await ws.send(orjson.dumps(accepted).decode())
        recipient = self.owners.get(frame["mailbox_id"])
        if recipient is not None:
            envelope = {"type": "envelope", "id": eid, "body": frame["body"]}
            await recipient.send(orjson.dumps(envelope).decode())


def health(connection: ServerConnection, request: Request) -> Response | None:
    """Plain HTTP GETs (the benchmark's readiness check) get 200; upgrades go through."""
    if request.headers.get("Upgrade") is None:
        return connection.respond(HTTPStatus.OK, "ok\n")
    return None


async def main(port: int) -> None:
    forwarder = BareForwarder()
    async with serve(
        forwarder.handle,
        "127.0.0.1",
        port,
        compression=None,
        max_size=1 << 20,
        process_request=health,
        backlog=8192,
    ) as server:
        await server.serve_forever()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    uvloop.run(main(args.port))
