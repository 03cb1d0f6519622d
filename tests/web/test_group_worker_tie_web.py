"""A web worker and an SDK worker remove different clients at one epoch (issue 18,
docs/protocol.md G7 "Two workers"): whichever roster loses the tie of equal epochs, its
signer, the browser or the SDK device, signs its removal again on top, and every member
ends on epoch + 2 without either client. A module of its own: the relay it runs against
lists no worker devices but these two."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from confide_client.client import ConfideClient
from confide_client.encoding import b64e
from confide_client.messages import GroupMemberJoined, GroupMemberRemoved
from confide_client.transport.http import HttpTransport
from group_support import publish_group_terms
from playwright.sync_api import expect
from test_group_workers_web import (
    GROUP,
    next_of,
    roster_of,
    sdk_device,
    sdk_worker_adds_the_web_worker,
    web_roster,
)
from web_support import LoopThread, open_worker_app

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_a_web_worker_and_an_sdk_worker_removing_at_once_end_on_one_roster(
    relay, browser, sdk_loop: LoopThread, tmp_path: Path
) -> None:
    """G7 "Two workers": both sign the same epoch; whichever roster loses the tie, its
    signer (the browser or the SDK device) signs its removal again on top."""
    publish_group_terms(relay.process, tmp_path)
    context, page, guard = open_worker_app(browser, relay)
    worker = sdk_device(tmp_path, relay, "worker")
    clients = [(sdk_device(tmp_path, relay, n.lower()), n) for n in ("Otter", "Heron", "Wren")]
    (otter, _), (heron, _), (wren, _) = clients
    group_id = sdk_loop.run(sdk_worker_adds_the_web_worker(relay, worker, clients))
    try:
        page.locator("nav").get_by_role("button", name=GROUP).click()
        expect(page.locator("#group-members li")).to_have_count(5)
        sdk_loop.run(asyncio.wait_for(next_of(worker, GroupMemberJoined, "Peer worker"), 30))
        epoch = worker._state.groups[group_id].epoch
        path = worker.state_path

        # The SDK worker is offline while the web worker removes Otter, and removes Heron
        # before it hears of that: both sign epoch + 1 from the same roster.
        sdk_loop.run(worker.close())
        page.get_by_role("button", name="Remove Otter").click()
        sdk_loop.run(asyncio.wait_for(next_of(otter, GroupMemberRemoved, "Otter"), 30))
        back = worker = ConfideClient.open(path, "sdk passphrase", HttpTransport(relay.url))

        async def remove_heron() -> str:
            await back.login()
            ids = {m.name: m.member_id for m in back.groups.members(group_id)}
            assert "Otter" in ids
            await back.groups.remove(group_id, ids["Heron"])
            assert back._state.groups[group_id].epoch == epoch + 1
            signed = back._state.groups[group_id].roster_sha256
            await back.start()
            return signed

        sdk_signed = sdk_loop.run(remove_heron())
        # Otter's device holds the web worker's roster of epoch + 1 (its removal); the
        # worker whose roster has the larger hash lost, and signs the final roster.
        web_signed = otter._state.groups[group_id].roster_sha256
        web_key = next(
            m.identity_key
            for m in back._state.groups[group_id].members.values()
            if m.name == "Peer worker"
        )
        own_key = back._state.device.identity.public
        loser = web_key if web_signed > sdk_signed else own_key
        for device, name in ((back, "Otter"), (wren, "Otter"), (wren, "Heron")):
            sdk_loop.run(asyncio.wait_for(next_of(device, GroupMemberRemoved, name), 30))
        sdk_loop.run(asyncio.wait_for(next_of(heron, GroupMemberRemoved, "Heron"), 30))
        after = [("Group worker", "worker"), ("Peer worker", "worker"), ("Wren", "client")]
        expect(page.locator('#group-members li[data-member-name="Otter"]')).to_have_count(0)
        expect(page.locator('#group-members li[data-member-name="Heron"]')).to_have_count(0)
        expect(page.locator("#group-members li")).to_have_count(3)
        assert web_roster(page) == after
        held = {
            (d._state.groups[group_id].epoch, d._state.groups[group_id].roster_sha256)
            for d in (back, wren)
        }
        assert held == {(epoch + 2, back._state.groups[group_id].roster_sha256)}
        assert back._state.groups[group_id].signed_by == b64e(loser)
        for device in (back, wren):
            assert roster_of(device, group_id) == after
        for device in (otter, heron):
            assert device._state.groups[group_id].gone == "removed"
        guard.assert_clean()
    finally:
        for device in (worker, otter, heron, wren):
            sdk_loop.run(device.close())
        context.close()
