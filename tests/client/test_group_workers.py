"""A group with two workers over the real relay (docs/protocol.md G§7 and G§7a).

The first worker adds a colleague's device as a second group worker over their staff
channel; the second worker then does what a group worker does (invites a client, removes a
member) while the first is offline, and every member takes its rosters. A client's device
that signs a roster calling itself a worker is not believed.
"""

from __future__ import annotations

import asyncio

import pytest
from confide_client.client import ConfideClient
from confide_client.errors import StateError
from confide_client.messages import GroupMemberRemoved, GroupMessage
from confide_client.testing import DEFAULT_PASSPHRASE, LocalRelay

from .test_groups import (
    GROUP_NAME,
    TERMS,
    joined_event,
    next_of,
    queued_for,
    remove,
    send_forged_roster,
    texts,
)

NAMES = {
    "w1": "Facilitator Ash",
    "w2": "Facilitator Birch",
    "a": "Robin",
    "b": "Quill",
    "c": "Wren",
}


async def join(relay: LocalRelay, worker: ConfideClient, group_id: str, name: str) -> ConfideClient:
    link = await worker.groups.invite(group_id)
    device = relay.device(name)
    await device.groups.join(f"{relay.url}/join#{link}", lambda _t: True, name=NAMES[name])
    await device.start()
    await joined_event(worker, NAMES[name])
    await joined_event(device, NAMES[name])
    return device


def roles(device: ConfideClient, group_id: str) -> dict[str, str]:
    return {m.name: m.role for m in device.groups.members(group_id)}


async def two_workers(relay: LocalRelay) -> tuple[ConfideClient, ConfideClient, str]:
    await relay.publish_group_terms(TERMS)
    w1, w2 = await relay.worker("w1"), await relay.worker("w2")
    w2.groups.worker_name = NAMES["w2"]
    await w1.start()
    await w2.start()
    group_id = await w1.groups.create(GROUP_NAME, display_name_=NAMES["w1"])
    assert w2._state.device_id is not None
    await w1.groups.add_worker(group_id, w2._state.device_id)
    await joined_event(w1, NAMES["w2"])
    await joined_event(w2, NAMES["w2"])
    return w1, w2, group_id


async def test_a_second_worker_runs_the_group_while_the_first_is_away(
    local_relay: LocalRelay,
) -> None:
    relay = local_relay
    w1, w2, group_id = await two_workers(relay)
    assert roles(w2, group_id) == {NAMES["w1"]: "worker", NAMES["w2"]: "worker"}
    assert w2.groups.groups()[0].name == GROUP_NAME
    a = await join(relay, w1, group_id, "a")
    await joined_event(w2, NAMES["a"])
    # The second worker invites a client; its roster reaches every member.
    b = await join(relay, w2, group_id, "b")
    for device in (w1, a):
        await joined_event(device, NAMES["b"])
    expected = {NAMES["w1"]: "worker", NAMES["w2"]: "worker", NAMES["a"]: "client"}
    expected[NAMES["b"]] = "client"
    for device in (w1, w2, a, b):
        assert roles(device, group_id) == expected
    assert w2.groups.consents(group_id).keys() == {
        m.member_id for m in w2.groups.members(group_id) if m.name == NAMES["b"]
    }
    members = {"w1": w1, "w2": w2, "a": a, "b": b}
    for who, device in members.items():
        device.groups.send_text(group_id, f"hello from {who}")
    for who, device in members.items():
        want = {(NAMES[o], f"hello from {o}") for o in members if o != who}
        assert await texts(device, 3) == want

    # The first worker goes offline; the second and the clients talk, and it removes Robin.
    w1_path = w1.state_path
    await w1.close()
    b.groups.send_text(group_id, "while Ash is away")
    assert await texts(w2, 1) == {(NAMES["b"], "while Ash is away")}
    assert await texts(a, 1) == {(NAMES["b"], "while Ash is away")}
    w2.groups.send_text(group_id, "Birch here")
    assert await texts(b, 1) == {(NAMES["w2"], "Birch here")}
    assert await texts(a, 1) == {(NAMES["w2"], "Birch here")}
    a_id, before = await remove(relay, w2, group_id, a, NAMES["a"], (b,))
    b.groups.send_text(group_id, "after the removal")
    w2.groups.send_text(group_id, "after it too")
    await b.flush()
    await w2.flush()
    assert await texts(b, 1) == {(NAMES["w2"], "after it too")}
    assert await texts(w2, 1) == {(NAMES["b"], "after the removal")}

    # The first worker comes back: it takes the second's rosters and the messages it missed.
    w1 = ConfideClient.open(w1_path, DEFAULT_PASSPHRASE, relay.transport())
    await w1.start()
    gone = await next_of(w1, GroupMemberRemoved)
    assert gone == GroupMemberRemoved(group_id, a_id, NAMES["a"], "removed")
    assert roles(w1, group_id) == {k: v for k, v in expected.items() if k != NAMES["a"]}
    assert await texts(w1, 2) == {(NAMES["b"], "after the removal"), (NAMES["w2"], "after it too")}
    w1.groups.send_text(group_id, "back again")
    await w1.flush()
    for device in (w2, b):
        assert await texts(device, 1) == {(NAMES["w1"], "back again")}
    assert await queued_for(relay, a) == before
    assert w1._state.groups[group_id].epoch == w2._state.groups[group_id].epoch


async def test_a_client_calling_itself_a_worker_changes_nothing(local_relay: LocalRelay) -> None:
    relay = local_relay
    w1, w2, group_id = await two_workers(relay)
    a = await join(relay, w1, group_id, "a")
    await joined_event(w2, NAMES["a"])
    # Robin's device signs a roster in which it is a worker and the workers are gone, and
    # sends it to the second worker, then an ordinary message behind it.
    group = a._state.groups[group_id]
    me = group.members[group.own_member_id or ""]
    send_forged_roster(a, group_id, [me.roster_entry() | {"role": "worker"}], NAMES["w2"])
    event = await asyncio.wait_for(w2.next_event(), 30)
    assert isinstance(event, GroupMessage) and event.text == "after my forgery"
    assert roles(w2, group_id) == {
        NAMES["w1"]: "worker",
        NAMES["w2"]: "worker",
        NAMES["a"]: "client",
    }
    assert w2._state.groups[group_id].epoch == group.epoch
    # Only a worker of the group adds workers.
    with pytest.raises(StateError):
        await a.groups.add_worker(group_id, "anyone")


async def removed_event(device: ConfideClient, name: str) -> None:
    """Wait until ``device`` has been shown the member called ``name`` removed."""
    while True:
        seen = await next_of(device, GroupMemberRemoved)
        if isinstance(seen, GroupMemberRemoved) and seen.name == name:
            return


async def test_two_workers_removing_at_once_end_with_one_roster(local_relay: LocalRelay) -> None:
    relay = local_relay
    w1, w2, group_id = await two_workers(relay)
    a = await join(relay, w1, group_id, "a")
    b = await join(relay, w1, group_id, "b")
    c = await join(relay, w2, group_id, "c")
    for device in (w1, a, b):
        await joined_event(device, NAMES["c"])
    epoch = w1._state.groups[group_id].epoch
    # Birch's device is offline while Ash removes Robin, and removes Quill before it hears
    # of that: both sign the same epoch from the same roster.
    w2_path = w2.state_path
    await w2.close()
    members = {m.name: m.member_id for m in w1.groups.members(group_id)}
    await w1.groups.remove(group_id, members[NAMES["a"]])
    await w1.flush()
    w2 = ConfideClient.open(w2_path, DEFAULT_PASSPHRASE, relay.transport())
    await w2.login()
    await w2.groups.remove(group_id, members[NAMES["b"]])
    assert w2._state.groups[group_id].epoch == epoch + 1
    await w2.start()
    # Each worker is shown the other's removal (from the winning roster of that epoch, or
    # from the loser's change signed again on top of it); then each says so, behind its
    # rosters in every pair's order.
    await removed_event(w1, NAMES["b"])
    await removed_event(w2, NAMES["a"])
    w1.groups.send_text(group_id, "Ash done")
    w2.groups.send_text(group_id, "Birch done")
    assert await texts(c, 2) == {(NAMES["w1"], "Ash done"), (NAMES["w2"], "Birch done")}
    assert await texts(w1, 1) == {(NAMES["w2"], "Birch done")}
    assert await texts(w2, 1) == {(NAMES["w1"], "Ash done")}
    held = {
        (d._state.groups[group_id].epoch, d._state.groups[group_id].roster_sha256)
        for d in (w1, w2, c)
    }
    assert len(held) == 1 and next(iter(held))[0] == epoch + 2
    expected = {NAMES["w1"]: "worker", NAMES["w2"]: "worker", NAMES["c"]: "client"}
    for device in (w1, w2, c):
        assert roles(device, group_id) == expected
    for device, name in ((a, NAMES["a"]), (b, NAMES["b"])):
        await removed_event(device, name)
        assert device._state.groups[group_id].gone == "removed"
