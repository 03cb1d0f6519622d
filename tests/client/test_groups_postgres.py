"""A group session on a relay process over PostgreSQL: pg_dump and logs name no group.

The same search as tests/client/test_groups.py, on the production database: a worker and
three clients (a group invite each, the group terms, a message from every member, an
attachment, a removal), then a full pg_dump (bytea values decoded) and everything the relay
process logged are searched for the group's name, its id, the members' ids and names.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from confide_client.client import ConfideClient
from confide_client.encoding import b64d
from confide_client.messages import GroupMemberRemoved, GroupMessage
from confide_client.transport.http import HttpTransport
from system.relay_process import RelayProcess

from .leaks import Search, pg_dump, with_bytea_decoded
from .test_groups import GROUP_NAME, NAMES, TERMS, joined_event, next_of, texts

pytestmark = pytest.mark.slow

PASS = "a passphrase for the test devices"


async def test_postgres_relay_keeps_no_group_name_id_or_member(
    tmp_path: Path, postgres_url: str
) -> None:
    relay = RelayProcess(tmp_path / "relay", env={"CONFIDE_DATABASE_URL": postgres_url})
    relay.create_org("Riverside Peer Support")
    relay.publish_policy("Policy: limits of confidentiality.")
    relay.publish_group_terms(TERMS)
    devices: list[ConfideClient] = []

    def device(name: str) -> ConfideClient:
        made = ConfideClient.create(
            tmp_path / f"{name}.state", PASS, HttpTransport(relay.http_url), key_cost="min"
        )
        devices.append(made)
        return made

    with relay:
        worker = device("worker")
        await worker.enrol(relay.enrol_worker())
        await worker.start()
        group_id = await worker.groups.create(GROUP_NAME, display_name_=NAMES["worker"])
        members = {}
        for name in ("a", "b", "c"):
            link = await worker.groups.invite(group_id)
            member = device(name)
            await member.groups.join(
                f"{relay.http_url}/join#{link}", lambda t: t.text == TERMS, name=NAMES[name]
            )
            await member.start()
            await joined_event(worker, NAMES[name])
            await joined_event(member, NAMES[name])
            members[name] = member
        for name in ("a", "b"):
            await joined_event(members[name], NAMES["c"])
        everyone = {"worker": worker, **members}
        for who, member in everyone.items():
            member.groups.send_text(group_id, f"hello from {who}")
        for who, member in everyone.items():
            assert len(await texts(member, 3)) == 3, who
        data = b"a worksheet for the group " * 200
        await members["a"].groups.send_attachment(group_id, data, name="worksheet.txt")
        for member in (worker, members["b"], members["c"]):
            event = await next_of(member, GroupMessage)
            assert isinstance(event, GroupMessage) and event.attachment is not None
            assert await member.download(event.attachment) == data
        member_ids = [m.member_id for m in worker.groups.members(group_id)]
        c_id = next(m.member_id for m in worker.groups.members(group_id) if m.name == NAMES["c"])
        await worker.groups.remove(group_id, c_id)
        for member in (members["a"], members["b"], members["c"]):
            await next_of(member, GroupMemberRemoved)
        for member in devices:
            await member.flush()
            await member.close()
        dump = with_bytea_decoded(pg_dump(postgres_url, tmp_path / "dump.sql"))

    assert TERMS.encode() in dump, "the search must look at the relay's real database"
    search = Search()
    search.needles["the group's name"] = GROUP_NAME.encode()
    search.needles["the group id"] = group_id.encode()
    search.needles["the group id's bytes"] = b64d(group_id)
    search.needles["the group id in hex"] = b64d(group_id).hex().encode()
    for key, name in NAMES.items():
        search.needles[f"{key}'s display name"] = name.encode()
    for n, member_id in enumerate(member_ids):
        search.needles[f"member id {n}"] = member_id.encode()
        search.needles[f"member id {n}'s bytes"] = b64d(member_id)
    logs = {"relay logs": relay.logs().encode()}
    assert search.findings({"pg_dump": dump, **logs}) == []
