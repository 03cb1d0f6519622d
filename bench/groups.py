"""What one group message costs the sender at 32 members, beside a one-to-one send.

Run: ``.venv/bin/python bench/groups.py [members] [runs] [messages]`` (defaults 32, 7, 40).
Prints JSON. A group message is pairwise fan-out (docs/protocol.md G§1): the SDK's own
:class:`~confide_client.groups.fanout.Fanout` seals one envelope per other member over warm
one-to-one sessions (each with its first reply received, so no prekey messages) and puts them
in the outbox. The baseline, measured in the same process and run, is the SDK's one-to-one
path: one payload sealed for one peer. Per message, each run reports

- ``sends``: envelopes the relay receives (outbox entries);
- ``bytes``: their total size (sealed, padded envelopes, as POSTed, before base64);
- ``cpu_us``: the sender's CPU time (``time.process_time``), in microseconds;

and the figures are medians over ``runs`` runs of ``messages`` messages each, with the ratio
group / one-to-one. The receiver's cost per group message is a one-to-one receive (each member
opens only its own envelope), so it is not measured separately here.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
from typing import Any

from confide_client.encoding import b64e
from confide_client.groups.fanout import Fanout
from confide_client.groups.model import Group, Member
from confide_client.messages import encode_payload
from confide_client.state import ClientState
from confide_crypto.device import Device
from confide_crypto.keys import PreKeyBundle

TEXT = "A short message to the group, about as long as most are. " * 2


def _warm_pair(sender: Device, peer: Device) -> None:
    """A session with ``peer`` that has seen a reply, so later envelopes are plain ratchet ones."""
    spk = peer.add_signed_prekey(1, os.urandom)
    bundle = PreKeyBundle(peer.identity.public, 1, spk.pair.public, spk.signature)
    sender.start_session(bundle, os.urandom)
    first = sender.encrypt_to(peer.identity.public, b"{}", rng=os.urandom)
    peer.decrypt_envelope(first, now=int(time.time()), rng=os.urandom)
    reply = peer.encrypt_to(sender.identity.public, b"{}", rng=os.urandom)
    sender.decrypt_envelope(reply, now=int(time.time()), rng=os.urandom)


def _setup(members: int) -> tuple[ClientState, Group, list[Member]]:
    state = ClientState(Device.create(os.urandom))
    group = Group(b64e(os.urandom(16)), name="bench")
    others = []
    for i in range(members - 1):
        peer = Device.create(os.urandom)
        _warm_pair(state.device, peer)
        m = Member(
            b64e(os.urandom(16)),
            f"m{i}",
            "client",
            peer.identity.public,
            {},
            os.urandom(16),
            os.urandom(32),
            1,
        )
        group.members[m.member_id] = m
        others.append(m)
    return state, group, others


def _run_group(
    state: ClientState, fanout: Fanout, group: Group, others: list[Member], messages: int
) -> dict[str, float]:
    before = len(state.outbox)
    start = time.process_time()
    for _ in range(messages):
        fanout.to_members(group, others, "group-text", {"text": TEXT})
    cpu = time.process_time() - start
    entries = list(state.outbox)[before:]
    return {
        "sends": len(entries) / messages,
        "bytes": sum(len(e.envelope) for e in entries) / messages,
        "cpu_us": cpu / messages * 1e6,
    }


def _run_one_to_one(state: ClientState, peer: Member, messages: int) -> dict[str, float]:
    # What ConfideClient.send_text does for a contact: one payload, one sealed envelope.
    sizes = []
    start = time.process_time()
    for seq in range(1, messages + 1):
        plaintext = encode_payload(seq, b64e(os.urandom(16)), "text", {"text": TEXT})
        sizes.append(len(state.device.encrypt_to(peer.identity_key, plaintext, rng=os.urandom)))
    cpu = time.process_time() - start
    return {"sends": 1.0, "bytes": sum(sizes) / messages, "cpu_us": cpu / messages * 1e6}


def measure(members: int = 32, runs: int = 7, messages: int = 40) -> dict[str, Any]:
    state, group, others = _setup(members)
    fanout = Fanout(state, os.urandom, lambda: None)
    group_runs, base_runs = [], []
    for _ in range(runs):
        base_runs.append(_run_one_to_one(state, others[0], messages))
        group_runs.append(_run_group(state, fanout, group, others, messages))
        state.outbox = type(state.outbox)()

    def median(rows: list[dict[str, float]], key: str) -> float:
        return round(statistics.median(r[key] for r in rows), 1)

    out: dict[str, Any] = {"members": members, "runs": runs, "messages_per_run": messages}
    for key in ("sends", "bytes", "cpu_us"):
        g, b = median(group_runs, key), median(base_runs, key)
        out[key] = {"group": g, "one_to_one": b, "ratio": round(g / b, 1)}
    return out


if __name__ == "__main__":
    args = [int(a) for a in sys.argv[1:]]
    print(json.dumps(measure(*args), indent=2))
