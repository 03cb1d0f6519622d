"""A second group worker between the web app and the Python SDK (issue 18, docs/protocol.md
G7a): an SDK worker adds a web worker over the staff channel, and the web worker, now a
worker of the group, removes a client; a web worker adds an SDK worker from the group
view, and the SDK worker invites a client. Every member ends on the same roster. The SDK
runs on an event loop of its own (web_support.LoopThread)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from accessibility import assert_accessible
from confide_client.client import ConfideClient
from confide_client.messages import Event, GroupMemberJoined, GroupMemberRemoved
from confide_client.transport.http import HttpTransport
from group_support import create_group, members, publish_group_terms
from playwright.sync_api import expect
from web_support import LoopThread, open_worker_app

pytestmark = [pytest.mark.browser, pytest.mark.slow]

GROUP = "Thursday carers' circle"


async def next_of(client: ConfideClient, kind: type, name: str) -> Event:
    while True:
        event = await client.next_event()
        if isinstance(event, kind) and getattr(event, "name", None) == name:
            return event


def roster_of(device: ConfideClient, group_id: str) -> list[tuple[str, str]]:
    return sorted((m.name, m.role) for m in device.groups.members(group_id))


def web_roster(page: Any) -> list[tuple[str, str]]:
    items = page.locator("#group-members li").evaluate_all(
        "items => items.map((li) => [li.dataset.memberName, li.dataset.role])"
    )
    return sorted((str(n), str(r)) for n, r in items)


def sdk_device(tmp_path: Path, relay: Any, name: str) -> ConfideClient:
    return ConfideClient.create(
        tmp_path / f"{name}.state", "sdk passphrase", HttpTransport(relay.url), key_cost="min"
    )


async def sdk_worker_adds_the_web_worker(
    relay: Any, worker: ConfideClient, clients: list[tuple[ConfideClient, str]]
) -> str:
    """The SDK worker creates the group, lets ``clients`` in, and adds the web worker."""
    await worker.enrol(relay.enrolment_code())
    await worker.start()
    group_id = await worker.groups.create(GROUP, display_name_="Group worker")
    for client, name in clients:
        link = await worker.groups.invite(group_id)
        await client.groups.join(f"{relay.url}/join#{link}", lambda _terms: True, name=name)
        await client.start()
        await asyncio.wait_for(next_of(worker, GroupMemberJoined, name), 30)
    # The web worker's device is the one other worker device the relay lists.
    colleagues = [
        w for w in await worker._transport.workers() if w.device_id != worker._state.device_id
    ]
    assert len(colleagues) == 1
    await worker.groups.add_worker(group_id, colleagues[0].device_id)
    await worker.flush()
    return group_id


def test_sdk_worker_adds_a_web_worker_who_removes_a_client(
    relay, browser, sdk_loop: LoopThread, tmp_path: Path
) -> None:
    publish_group_terms(relay.process, tmp_path)
    context, page, guard = open_worker_app(browser, relay)
    worker, otter, heron = (sdk_device(tmp_path, relay, n) for n in ("worker", "otter", "heron"))
    clients = [(otter, "Otter"), (heron, "Heron")]
    group_id = sdk_loop.run(sdk_worker_adds_the_web_worker(relay, worker, clients))
    try:
        # The browser checked the invite with the relay, answered it, and took the SDK
        # worker's roster: the group is in its list and it is a worker there.
        page.locator("nav").get_by_role("button", name=GROUP).click()
        expect(page.get_by_role("heading", name=GROUP)).to_be_visible()
        expect(page.locator("#group-members li")).to_have_count(4)
        sdk_loop.run(asyncio.wait_for(next_of(worker, GroupMemberJoined, "Peer worker"), 30))
        expected = [
            ("Group worker", "worker"),
            ("Heron", "client"),
            ("Otter", "client"),
            ("Peer worker", "worker"),
        ]
        assert web_roster(page) == expected
        assert roster_of(worker, group_id) == expected
        assert_accessible(page, "a group the web worker was added to")

        # The added web worker removes a client: every member takes its roster.
        page.get_by_role("button", name="Remove Otter").click()
        removed = sdk_loop.run(asyncio.wait_for(next_of(otter, GroupMemberRemoved, "Otter"), 30))
        assert isinstance(removed, GroupMemberRemoved) and removed.reason == "removed"
        for device in (worker, heron):
            sdk_loop.run(asyncio.wait_for(next_of(device, GroupMemberRemoved, "Otter"), 30))
        expect(page.locator("#group-members li")).to_have_count(3)
        after = [e for e in expected if e[0] != "Otter"]
        assert web_roster(page) == after
        assert roster_of(worker, group_id) == after
        assert roster_of(heron, group_id) == after
        guard.assert_clean()
    finally:
        for device in (worker, otter, heron):
            sdk_loop.run(device.close())
        context.close()


def test_web_worker_adds_an_sdk_worker_who_invites_a_client(
    relay, browser, sdk_loop: LoopThread, tmp_path: Path
) -> None:
    publish_group_terms(relay.process, tmp_path)
    context, page, guard = open_worker_app(browser, relay)
    create_group(page, GROUP)
    colleague, kite = sdk_device(tmp_path, relay, "colleague"), sdk_device(tmp_path, relay, "kite")
    colleague.groups.worker_name = "Second worker"

    async def enrol() -> str:
        await colleague.enrol(relay.enrolment_code())
        await colleague.start()
        assert colleague._state.device_id is not None
        return colleague._state.device_id

    device_id = sdk_loop.run(enrol())
    try:
        page.get_by_text("Add a colleague as a group worker").click()
        entry = page.locator(f'#group-colleagues li[data-device="{device_id}"]')
        expect(entry).to_be_visible()
        assert_accessible(page, "the list of colleagues to add as group workers")
        entry.get_by_role("button").click()
        expect(page.locator("#group-worker-status")).to_contain_text("Invite sent")

        # The SDK device answers; the web worker's roster adds it with role worker.
        joined = sdk_loop.run(
            asyncio.wait_for(next_of(colleague, GroupMemberJoined, "Second worker"), 30)
        )
        assert isinstance(joined, GroupMemberJoined)
        group_id = joined.group_id
        expect(page.locator("#group-members li")).to_have_count(2)
        expected = [("Facilitator", "worker"), ("Second worker", "worker")]
        assert web_roster(page) == expected
        assert roster_of(colleague, group_id) == expected

        # The added SDK worker invites a client; the web worker takes its roster.
        async def invite_kite() -> None:
            link = await colleague.groups.invite(group_id)
            await kite.groups.join(f"{relay.url}/join#{link}", lambda _terms: True, name="Kite")
            await kite.start()
            await asyncio.wait_for(next_of(colleague, GroupMemberJoined, "Kite"), 30)

        sdk_loop.run(invite_kite())
        expect(page.locator("#group-members li")).to_have_count(3)
        after = sorted([*expected, ("Kite", "client")])
        assert web_roster(page) == after
        assert roster_of(colleague, group_id) == after
        assert members(page)[-1] == "Kite"

        # Kite's own first roster, from the SDK worker, lists both workers too.
        sdk_loop.run(asyncio.wait_for(next_of(kite, GroupMemberJoined, "Kite"), 30))
        assert roster_of(kite, group_id) == after
        guard.assert_clean()
    finally:
        for device in (colleague, kite):
            sdk_loop.run(device.close())
        context.close()
