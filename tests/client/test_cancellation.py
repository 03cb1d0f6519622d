"""Stopping a client cancels its background tasks, and a cancellation must stop them even
when it arrives in the same instant as the result they were waiting for.

Python 3.11's ``asyncio.wait_for`` drops the cancellation in that case (it returns the
inner result instead), so a receiver cancelled just as a frame arrived went on running and
``ConfideClient.close`` waited for it forever: a test that hung in CI. The SDK therefore
waits with ``asyncio.timeout``, and ruff bans ``asyncio.wait_for`` outside the tests.

The live connection and the socket here are scripted, because the race needs the
cancellation and the result to land together, which a real socket cannot be made to do on
demand.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence

from confide_client.sync import LINGER_SECONDS, Sync
from confide_client.transport.base import Delivery, LiveItem
from confide_client.transport.http import WebSocketLive


class _CancelsAsSecondBatchArrives:
    """Delivers one envelope, then a second one while its reader is being cancelled."""

    def __init__(self) -> None:
        self.reader: asyncio.Task[list[LiveItem]] | None = None
        self.calls = 0

    async def next_batch(self, limit: int) -> list[LiveItem]:
        self.calls += 1
        if self.calls == 2:
            assert self.reader is not None
            self.reader.cancel()
            return [Delivery("second", b"")]
        if self.calls > 2:
            await asyncio.sleep(LINGER_SECONDS * 4)
            return []
        return [Delivery("first", b"")]

    async def ack(self, delivery_ids: Sequence[str]) -> None:
        raise AssertionError("not used")

    async def close(self) -> None:
        raise AssertionError("not used")


async def test_a_receiver_cancelled_while_a_batch_lingers_stops() -> None:
    live = _CancelsAsSecondBatchArrives()
    live.reader = asyncio.create_task(Sync._gather(live))
    done, _ = await asyncio.wait({live.reader}, timeout=10)
    assert done, "the gathering task neither stopped nor finished"
    assert live.reader.cancelled(), f"the cancellation was lost: {live.reader.result()!r}"


class _SocketReadyWhileCancelled:
    """A socket whose relay confirms the login at the moment its reader is cancelled."""

    def __init__(self) -> None:
        self.task: asyncio.Task[None] | None = None
        self.sent: list[str] = []

    async def send(self, text: str) -> None:
        self.sent.append(text)

    async def recv(self) -> str:
        assert self.task is not None
        self.task.cancel()
        return json.dumps({"type": "ready"})

    def __aiter__(self) -> _SocketReadyWhileCancelled:
        return self

    async def __anext__(self) -> str:
        await asyncio.sleep(3600)
        raise StopAsyncIteration

    async def close(self) -> None:
        pass


async def test_a_login_cancelled_as_the_relay_confirms_it_stops() -> None:
    socket = _SocketReadyWhileCancelled()
    live = WebSocketLive(socket)  # type: ignore[arg-type]

    async def connect_then_receive() -> None:
        await live.authenticate("token")
        await asyncio.sleep(5)  # the receiver would now wait for envelopes

    socket.task = asyncio.create_task(connect_then_receive())
    done, _ = await asyncio.wait({socket.task}, timeout=10)
    assert done and socket.task.cancelled(), "the cancellation was lost during the login"
    await live.close()


class _SocketSlowToStop(_SocketReadyWhileCancelled):
    """A socket whose reader takes a moment to unwind once it is cancelled."""

    async def recv(self) -> str:
        return json.dumps({"type": "ready"})

    async def __anext__(self) -> str:
        try:
            await asyncio.sleep(3600)
        finally:
            await asyncio.sleep(0.05)  # unwinding, as a closing handshake would
        raise StopAsyncIteration


async def test_closing_the_live_connection_can_itself_be_cancelled() -> None:
    # The receiver closes its connection after a network error, and the client is stopped
    # meanwhile: that cancellation must not be taken for the reader's own.
    live = WebSocketLive(_SocketSlowToStop())  # type: ignore[arg-type]
    await live.authenticate("token")
    await asyncio.sleep(0)
    closing = asyncio.create_task(live.close())
    await asyncio.sleep(0.01)
    closing.cancel()
    done, _ = await asyncio.wait({closing}, timeout=10)
    assert done and closing.cancelled(), "the cancellation was lost while closing"
