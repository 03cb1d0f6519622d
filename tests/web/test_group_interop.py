"""A group of a web worker, a web client and a Python SDK client (issue 18): the SDK device
joins by a link the web app made, all three talk both ways, an attachment from the SDK
opens in the browser, and after the web worker removes the SDK device it receives nothing
more. The SDK runs on an event loop of its own (web_support.LoopThread)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from confide_client.client import ConfideClient
from confide_client.messages import Event, GroupMemberRemoved, GroupMessage
from confide_client.transport.http import HttpTransport
from confide_crypto.group_consent import GroupConsentReceipt
from group_support import (
    GROUP_TERMS,
    create_group,
    group_invite,
    join_group,
    members,
    publish_group_terms,
    send,
    shows,
)
from playwright.sync_api import expect
from web_support import DESKTOP, PHONE, LoopThread, OriginGuard, enrol_worker

pytestmark = [pytest.mark.browser, pytest.mark.slow]

GROUP = "Saturday peer circle"


async def next_of(client: ConfideClient, kind: type) -> Event:
    while True:
        event = await client.next_event()
        if isinstance(event, kind):
            return event


def test_web_worker_web_client_and_sdk_client_in_one_group(
    relay, browser, sdk_loop: LoopThread, tmp_path: Path
) -> None:
    publish_group_terms(relay.process, tmp_path)
    contexts = [browser.new_context(viewport=v) for v in (DESKTOP, PHONE)]
    worker, wren = (c.new_page() for c in contexts)
    guard = OriginGuard(relay.url, worker)
    guard.watch(wren)
    worker.goto(relay.url + "/")
    enrol_worker(worker, relay.enrolment_code())
    create_group(worker, GROUP)
    web_link, sdk_link = group_invite(worker), group_invite(worker)
    join_group(wren, web_link, GROUP, name="Wren")

    sdk = ConfideClient.create(
        tmp_path / "sdk.state", "sdk passphrase", HttpTransport(relay.url), key_cost="min"
    )
    shown: list[str] = []

    async def sdk_join() -> str:
        group_id = await sdk.groups.join(
            sdk_link, lambda terms: shown.append(terms.text) or True, name="Otter"
        )
        await sdk.start()
        return group_id

    group_id = sdk_loop.run(sdk_join())
    try:
        assert shown == [GROUP_TERMS]
        for page in (worker, wren):
            expect(page.locator("#group-members li")).to_have_count(3)
            assert members(page) == ["Facilitator", "Wren", "Otter"]

        # The SDK to both browsers, and each browser to the SDK.
        async def sdk_says(text: str) -> None:
            sdk.groups.send_text(group_id, text)
            await sdk.flush()

        sdk_loop.run(sdk_says("hello from the SDK"))
        shows(worker, "Otter", "hello from the SDK")
        shows(wren, "Otter", "hello from the SDK")

        async def sdk_hears(count: int) -> set[tuple[str, str]]:
            got = set()
            while len(got) < count:
                event = await asyncio.wait_for(next_of(sdk, GroupMessage), 30)
                assert isinstance(event, GroupMessage)
                got.add((event.name, event.text or ""))
            return got

        send(wren, "hello from Wren's browser")
        send(worker, "hello from the worker's browser")
        assert sdk_loop.run(sdk_hears(2)) == {
            ("Wren", "hello from Wren's browser"),
            ("Facilitator", "hello from the worker's browser"),
        }
        # (Delivered shows only once every member's receipt is back; the SDK sends none yet,
        # so that is shown by tests/web/test_groups.py between browsers.)

        # An attachment from the SDK: uploaded once, opened in the worker's browser.
        async def sdk_file() -> None:
            await sdk.groups.send_attachment(
                group_id, b"weekly worksheet\n", name="worksheet.txt", mime="text/plain"
            )
            await sdk.flush()

        # New group terms: the web worker's device signs a roster naming them (change
        # `terms`); the SDK member takes it like any other change and the group goes on.
        publish_group_terms(relay.process, tmp_path, GROUP_TERMS + "\n\nAnd a second version.")
        worker.locator("nav").get_by_role("button", name=GROUP).click()
        expect(wren.locator("#group-new-terms")).to_be_visible()
        expect(worker.locator("#group-consent-waiting li")).to_have_count(2)
        send(worker, "the terms have changed")
        assert sdk_loop.run(sdk_hears(1)) == {("Facilitator", "the terms have changed")}
        assert (
            sdk.groups.terms_version(group_id)
            == sdk_loop.run(sdk._transport.current_group_terms()).version
        )
        wren.get_by_role("button", name="Read the new terms").click()
        wren.get_by_role("button", name="I agree to the new terms").click()
        expect(wren.locator("#compose-text")).to_be_enabled()
        # The SDK has no call to consent again yet, so Otter is still waiting on the worker.
        expect(worker.locator("#group-consent-waiting li")).to_have_count(1)
        expect(worker.locator("#group-consent-waiting li")).to_have_text("Otter")

        sdk_loop.run(sdk_file())
        open_button = worker.get_by_role("button", name="Save worksheet.txt to this device")
        expect(open_button).to_be_visible()
        with worker.expect_download() as download:
            open_button.click()
        assert Path(download.value.path()).read_bytes() == b"weekly worksheet\n"

        # The web worker removes the SDK device: it is told, and hears nothing afterwards.
        worker.get_by_role("button", name="Remove Otter").click()
        removed = sdk_loop.run(asyncio.wait_for(next_of(sdk, GroupMemberRemoved), 30))
        assert isinstance(removed, GroupMemberRemoved)
        expect(wren.get_by_text("Otter was removed from the group.")).to_be_visible()
        send(wren, "after Otter's removal")
        shows(worker, "Wren", "after Otter's removal")

        async def hears_nothing() -> None:
            with pytest.raises(asyncio.TimeoutError):
                await asyncio.wait_for(next_of(sdk, GroupMessage), 5)

        sdk_loop.run(hears_nothing())
        guard.assert_clean()
    finally:
        sdk_loop.run(sdk.close())
        for context in contexts:
            context.close()


def test_web_client_joins_an_sdk_workers_group(
    relay, browser, sdk_loop: LoopThread, tmp_path: Path
) -> None:
    """The other way round: the group and its roster come from an SDK worker device, and a
    web client joins by the SDK's link, reads the terms, and talks with it both ways."""
    publish_group_terms(relay.process, tmp_path)
    worker = ConfideClient.create(
        tmp_path / "worker.state", "sdk passphrase", HttpTransport(relay.url), key_cost="min"
    )

    async def setup() -> tuple[str, str]:
        await worker.enrol(relay.enrolment_code())
        await worker.start()
        group_id = await worker.groups.create(GROUP, display_name_="Group worker")
        return group_id, await worker.groups.invite(group_id)

    group_id, invite = sdk_loop.run(setup())
    context = browser.new_context(viewport=PHONE)
    page = context.new_page()
    guard = OriginGuard(relay.url, page)
    try:
        join_group(page, f"{relay.url}/join#{invite}", GROUP, name="Lark")
        expect(page.locator("#group-members li")).to_have_count(2)
        assert members(page) == ["Group worker", "Lark"]

        async def worker_says(text: str) -> None:
            worker.groups.send_text(group_id, text)
            await worker.flush()

        sdk_loop.run(worker_says("welcome, Lark"))
        shows(page, "Group worker", "welcome, Lark")
        send(page, "thank you")
        got = sdk_loop.run(asyncio.wait_for(next_of(worker, GroupMessage), 30))
        assert isinstance(got, GroupMessage) and (got.name, got.text) == ("Lark", "thank you")

        # New group terms, moved into the roster by the SDK worker: the web client is asked
        # again, agrees, and its fresh receipt passes the SDK's checks and is kept.
        publish_group_terms(relay.process, tmp_path, GROUP_TERMS + "\n\nAnd a third version.")
        assert sdk_loop.run(worker.groups.renew_terms(group_id))
        version = worker.groups.terms_version(group_id)
        page.get_by_role("button", name="Read the new terms").click()
        expect(page.locator("#group-terms-text")).to_contain_text("And a third version.")
        page.get_by_role("button", name="I agree to the new terms").click()
        expect(page.locator("#compose-text")).to_be_enabled()

        async def renewed() -> int:
            while True:
                for receipt, _ in worker.groups.consents(group_id).values():
                    if GroupConsentReceipt.decode(receipt).terms_version == version:
                        return version
                await asyncio.sleep(0.2)

        assert sdk_loop.run(asyncio.wait_for(renewed(), 30)) == version
        guard.assert_clean()
    finally:
        sdk_loop.run(worker.close())
        context.close()
