"""The relay's TURN credentials open an allocation on coturn run with the shipped config.

The relay and coturn share only a secret (coturn's use-auth-secret scheme). A real relay
process hands an authenticated device credentials from GET /v1/turn; the device uses them on
a real coturn started with deploy/coturn/turnserver.conf. A relay with another secret, or an
unauthenticated request, gets nothing coturn accepts.
"""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from conftest import need_executable
from deploy.coturn_process import run_coturn
from deploy.stun import allocate_with

from system.relay_process import RelayProcess
from system.wire import Device, b64e

pytestmark = pytest.mark.slow

SECRET = "the-secret-relay-and-coturn-share"
REALM = "relay.test"


async def credentials(relay: RelayProcess, code: str) -> dict[str, object]:
    async with httpx.AsyncClient(base_url=relay.http_url, timeout=30) as http:
        assert (await http.get("/v1/turn")).status_code == 401
        device = await Device.enrol(http, code)
        answer = await http.get(
            "/v1/turn", headers={"Authorization": f"Bearer {b64e(device.token)}"}
        )
    assert answer.status_code == 200, answer.text
    body: dict[str, object] = answer.json()
    return body


@pytest.mark.parametrize("relay_secret", [SECRET, "a-different-secret-entirely"])
async def test_relay_issued_credentials_allocate_on_coturn(
    tmp_path: Path, relay_secret: str
) -> None:
    turnserver = need_executable("turnserver")
    with run_coturn(turnserver, tmp_path, realm=REALM, secret=SECRET) as coturn:
        urls = [f"turn:127.0.0.1:{coturn.port}?transport=udp"]
        env = {"CONFIDE_TURN_SECRET": relay_secret, "CONFIDE_TURN_URLS": json.dumps(urls)}
        relay = RelayProcess(tmp_path / "relay", env=env)
        code = relay.create_org_and_enrolment_code(policy=None)
        with relay:
            issued = await credentials(relay, code)
        assert issued["urls"] == urls
        username, password = str(issued["username"]), str(issued["credential"])
        client, answer, realm = allocate_with(coturn.port, username, password)
        client.close()
    assert realm == REALM.encode()
    if relay_secret == SECRET:
        assert not answer.is_error, answer.error_code
    else:
        assert answer.error_code == 401
