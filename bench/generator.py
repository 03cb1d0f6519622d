"""One load-generator process: connects its pairs, waits for the signal, sends, counts.

The coordinator starts several of these (multiprocessing, spawn) so that the generator is
not the bottleneck and never shares a process with the server. Each process owns some
sender/recipient pairs and runs either a closed loop (each sender keeps `window` envelopes
in flight, for peak throughput) or an open loop (envelopes are due at fixed intervals and
latency is measured from the time an envelope was due, so queueing is not hidden).
Everything is bounded by a count and a duration, and the process stops by itself.
"""

from __future__ import annotations

import asyncio
import resource
import time
from multiprocessing.connection import Connection

import uvloop
from dialects import Dialect, dialect_named
from workload import EnvelopeMaker, Job, Tally, read_stamp
from wsclient import WebSocketClient

MIN_SLEEP_S = 0.001
MAX_NOTES = 10


def raise_fd_limit() -> None:
    """Thousands of idle connections need more descriptors than the default soft limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


class Run:
    """The state of one process's run: connections, per-pair progress and the tally."""

    def __init__(self, job: Job, dialect: Dialect) -> None:
        self.job = job
        self.dialect = dialect
        self.tally = Tally()
        self.maker = EnvelopeMaker(job.envelope_size)
        n = len(job.pairs)
        self.quota = [job.count // n + (1 if i < job.count % n else 0) for i in range(n)]
        self.next_seq = [0] * n
        self.in_flight = [0] * n
        self.accepted_seen = [bytearray(q) for q in self.quota]
        self.delivered_seen = [bytearray(q) for q in self.quota]
        self.senders: list[WebSocketClient] = []
        self.recipients: list[WebSocketClient] = []
        self.deadline = 0.0
        self.scheduling = False
        self.done = asyncio.Event()

    async def connect(self) -> None:
        port = self.job.port
        for i, pair in enumerate(self.job.pairs):
            if self.job.role not in ("send", "receive"):
                recipient = await self.dialect.open_recipient(port, pair)
                recipient.on_message = self._recipient_handler(i)
                self.recipients.append(recipient)
            if self.job.role != "receive":
                sender = await self.dialect.open_sender(port, pair)
                sender.on_message = self._sender_handler(i)
                self.senders.append(sender)

    def _send(self, i: int, intended: float) -> None:
        seq = self.next_seq[i]
        self.next_seq[i] = seq + 1
        self.in_flight[i] += 1
        envelope = self.maker.make(self.job.worker, i, seq, intended)
        self.senders[i].send_text(self.dialect.send_frame(self.job.pairs[i], seq, envelope))
        self.tally.sent += 1

    def _sender_handler(self, i: int):  # type: ignore[no-untyped-def]
        seen = self.accepted_seen[i]
        closed_loop = self.job.rate == 0

        def on_message(payload: bytes) -> None:
            for seq, problem in self.dialect.read_sender(payload):
                if not 0 <= seq < len(seen):
                    self.tally.unexpected += 1
                    self._note(problem or "an answer to no send")
                    continue
                if seen[seq]:
                    self.tally.duplicates += 1
                    continue
                seen[seq] = 1
                self.in_flight[i] -= 1
                if problem:
                    self.tally.rejected += 1
                    self._note(problem)
                else:
                    self.tally.accepted += 1
                if closed_loop and self._may_send(i):
                    self._send(i, time.monotonic())
            self._check_done()

        return on_message

    def _recipient_handler(self, i: int):  # type: ignore[no-untyped-def]
        seen = self.delivered_seen[i]
        worker = self.job.worker
        latencies = self.tally.latencies

        pending_acks: dict[int, int] = {}
        next_ref = 0

        def on_message(payload: bytes) -> None:
            nonlocal next_ref
            deliveries, acked_ref = self.dialect.read_recipient(payload)
            if acked_ref is not None:
                confirmed = pending_acks.pop(acked_ref, None)
                if confirmed is None:
                    self.tally.unexpected += 1
                else:
                    self.tally.acknowledged += confirmed
                self._check_done()
                return
            if not deliveries:
                return
            now = time.monotonic()
            first = 0
            for _, envelope in deliveries:
                w, pair, seq, intended = read_stamp(envelope)
                if w != worker or pair != i or seq >= len(seen):
                    self.tally.unexpected += 1
                    continue
                if seen[seq]:
                    self.tally.duplicates += 1
                    continue
                seen[seq] = 1
                self.tally.delivered += 1
                first += 1
                latencies.append(now - intended)
            # Redelivered envelopes are acknowledged too (as a client would), but only the
            # first delivery of each counts once the server confirms the ack is durable;
            # repeats are counted in `duplicates`.
            pending_acks[next_ref] = first
            ids = [m for m, _ in deliveries]
            self.recipients[i].send_text(self.dialect.ack_frame(ids, next_ref))
            next_ref += 1
            self._check_done()

        return on_message

    def _note(self, problem: str) -> None:
        if len(self.tally.errors) < MAX_NOTES and problem not in self.tally.errors:
            self.tally.errors.append(problem)

    def _may_send(self, i: int) -> bool:
        return self.next_seq[i] < self.quota[i] and time.monotonic() < self.deadline

    def _check_done(self) -> None:
        t = self.tally
        acknowledged = t.acknowledged >= t.delivered
        if self.job.role == "receive":
            finished = t.delivered >= sum(self.quota) and acknowledged
        else:
            answered = t.accepted + t.rejected >= t.sent
            delivered = self.job.role == "send" or (t.delivered >= t.sent and acknowledged)
            finished = self.sending_over() and answered and delivered
        if finished and not self.done.is_set():
            self.tally.finished = time.monotonic()
            self.done.set()

    def sending_over(self) -> bool:
        # An open loop decides for itself when it has sent its last envelope: replies that
        # arrive after the deadline but before its last due envelope went out must not end
        # the run early.
        if self.scheduling:
            return False
        if time.monotonic() >= self.deadline:
            return True
        return all(s >= q for s, q in zip(self.next_seq, self.quota, strict=True))

    async def closed_loop(self) -> None:
        for i in range(len(self.job.pairs)):
            for _ in range(self.job.window):
                if self._may_send(i):
                    self._send(i, time.monotonic())

    async def open_loop(self, start: float) -> None:
        """Envelope k is due at start + k/rate and goes to pair k mod n, late or not."""
        n = len(self.job.pairs)
        interval = 1.0 / self.job.rate
        total = sum(self.quota)
        k = 0
        self.scheduling = True
        while k < total:
            due = start + k * interval
            if due >= self.deadline:
                break
            now = time.monotonic()
            # Everything already due goes out now; then the loop yields so that replies
            # are read even when the generator is behind schedule.
            while due <= now and k < total and due < self.deadline:
                self._send(k % n, due)
                self.tally.lags.append(now - due)
                k += 1
                due = start + k * interval
            # The event loop's timers have millisecond resolution, and a shorter wait would
            # spin on the CPU the server needs; the lag this adds is reported, not hidden.
            await asyncio.sleep(max(MIN_SLEEP_S, due - time.monotonic()))
        self.scheduling = False
        self.deadline = min(self.deadline, time.monotonic())
        self._check_done()

    async def drive(self, start: float) -> None:
        self.deadline = start + self.job.duration
        await asyncio.sleep(max(0.0, start - time.monotonic()))
        cpu0 = time.process_time()
        self.tally.started = time.monotonic()
        if self.job.role == "receive":
            # A draining recipient connects only now: the relay starts delivering its
            # backlog as soon as it has authenticated, and that is what is timed.
            self.deadline = start
            for i, pair in enumerate(self.job.pairs):
                recipient = await self.dialect.open_recipient(self.job.port, pair)
                recipient.on_message = self._recipient_handler(i)
                self.recipients.append(recipient)
        elif self.job.rate:
            await self.open_loop(start)
        else:
            await self.closed_loop()
        try:
            remaining = self.deadline - time.monotonic() + self.job.drain_timeout
            async with asyncio.timeout(max(remaining, 0.1)):
                await self.done.wait()
        except TimeoutError:
            self.tally.errors.append(f"worker {self.job.worker}: drain timed out")
            self.tally.finished = time.monotonic()
        self.tally.cpu_s = time.process_time() - cpu0
        for client in self.senders + self.recipients:
            client.close()


async def _hold_idle(job: Job, pipe: Connection) -> None:
    """Open one connection per pair (as its recipient) and keep them open until told."""
    dialect = dialect_named(job.dialect)
    clients = []
    try:
        for pair in job.pairs:
            clients.append(await dialect.open_recipient(job.port, pair))
    except Exception as exc:
        pipe.send(("error", f"worker {job.worker}: {len(clients)} connected, then {exc!r}"))
        return
    pipe.send(("ready", None))
    await asyncio.get_running_loop().run_in_executor(None, pipe.recv)
    closed = sum(1 for c in clients if c.closed.done())
    for client in clients:
        client.close()
    tally = Tally(accepted=len(clients) - closed)
    pipe.send(("tally", tally))


async def _main(job: Job, pipe: Connection) -> None:
    if job.role == "idle":
        await _hold_idle(job, pipe)
        return
    run = Run(job, dialect_named(job.dialect))
    try:
        await run.connect()
    except Exception as exc:
        pipe.send(("error", f"worker {job.worker} could not connect: {exc!r}"))
        return
    pipe.send(("ready", None))
    loop = asyncio.get_running_loop()
    start = await loop.run_in_executor(None, pipe.recv)
    await run.drive(start)
    pipe.send(("tally", run.tally))


def worker_main(job: Job, pipe: Connection) -> None:
    """Entry point of a generator process."""
    raise_fd_limit()
    uvloop.run(_main(job, pipe))
