"""Device registration (enrolment codes, proof of possession) and challenge-response auth."""

from __future__ import annotations

import httpx
from confide_server.relay import Relay

from .helpers import AUTH, Device, b64d, b64e, challenge, enrol, enrolment_code, login, setup_org


async def test_worker_enrols_and_authenticates(client: httpx.AsyncClient, relay: Relay) -> None:
    await setup_org(relay)
    worker = await enrol(client, relay, role="supervisor")
    me = await client.get("/v1/devices/me", headers=worker.auth)
    assert me.status_code == 200
    assert me.json()["kind"] == "worker"
    assert me.json()["role"] == "supervisor"
    assert me.json()["mailbox_id"] == worker.mailbox_id


async def test_replayed_enrolment_code_is_refused(client: httpx.AsyncClient, relay: Relay) -> None:
    code = await enrolment_code(relay)
    first = Device().registration(await challenge(client))
    first["enrolment_code"] = code
    assert (await client.post("/v1/devices/enrol", json=first)).status_code == 201
    second = Device().registration(await challenge(client))
    second["enrolment_code"] = code
    response = await client.post("/v1/devices/enrol", json=second)
    assert response.status_code == 410
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"].endswith("/already-used")


async def test_unknown_enrolment_code(client: httpx.AsyncClient) -> None:
    body = Device().registration(await challenge(client))
    body["enrolment_code"] = b64e(bytes(32))
    response = await client.post("/v1/devices/enrol", json=body)
    assert response.status_code == 404


async def test_bad_proof_of_possession(client: httpx.AsyncClient, relay: Relay) -> None:
    body = Device().registration(await challenge(client))
    body["signature"] = b64e(Device().sign(b"something else"))
    body["enrolment_code"] = await enrolment_code(relay)
    response = await client.post("/v1/devices/enrol", json=body)
    assert response.status_code == 400
    assert "signature" in response.json()["detail"]


async def test_bad_signed_prekey_signature(client: httpx.AsyncClient, relay: Relay) -> None:
    device = Device()
    body = device.registration(await challenge(client))
    body["signed_prekey"] = Device().signed_prekey()
    body["enrolment_code"] = await enrolment_code(relay)
    response = await client.post("/v1/devices/enrol", json=body)
    assert response.status_code == 400
    assert "signed_prekey" in response.json()["detail"]


async def test_wrong_key_length_and_bad_base64(client: httpx.AsyncClient, relay: Relay) -> None:
    device = Device()
    body = device.registration(await challenge(client))
    body["enrolment_code"] = await enrolment_code(relay)
    short = dict(body, identity_key=b64e(b"x" * 31))
    response = await client.post("/v1/devices/enrol", json=short)
    assert response.status_code == 400
    assert response.json()["errors"][0]["loc"] == "identity_key"
    padded = dict(body, identity_key=b64e(device.identity_key) + "=")
    assert (await client.post("/v1/devices/enrol", json=padded)).status_code == 400
    wrong_type = dict(body, signed_prekey={"key_id": "one", "public_key": 5, "signature": None})
    assert (await client.post("/v1/devices/enrol", json=wrong_type)).status_code == 400


async def test_malformed_json_is_a_problem(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/v1/devices/enrol", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"


async def test_challenge_is_single_use(client: httpx.AsyncClient, relay: Relay) -> None:
    worker = await enrol(client, relay)
    c = await challenge(client)
    body = {
        "device_id": worker.device_id,
        "challenge": c,
        "signature": b64e(worker.sign(AUTH + b64d(c))),
    }
    assert (await client.post("/v1/auth/token", json=body)).status_code == 201
    replay = await client.post("/v1/auth/token", json=body)
    assert replay.status_code == 401


async def test_auth_with_wrong_key_or_domain(client: httpx.AsyncClient, relay: Relay) -> None:
    worker = await enrol(client, relay)
    c = await challenge(client)
    wrong_domain = {
        "device_id": worker.device_id,
        "challenge": c,
        "signature": b64e(worker.sign(b"Confide device registration v1\x00" + b64d(c))),
    }
    assert (await client.post("/v1/auth/token", json=wrong_domain)).status_code == 401


async def test_bearer_token_checks(client: httpx.AsyncClient, relay: Relay) -> None:
    worker = await enrol(client, relay)
    assert (await client.get("/v1/devices/me")).status_code == 401
    bad = {"Authorization": "Bearer !!!"}
    assert (await client.get("/v1/devices/me", headers=bad)).status_code == 401
    unknown = {"Authorization": f"Bearer {b64e(bytes(32))}"}
    assert (await client.get("/v1/devices/me", headers=unknown)).status_code == 401
    assert (await client.delete("/v1/auth/token", headers=worker.auth)).status_code == 204
    assert (await client.get("/v1/devices/me", headers=worker.auth)).status_code == 401
    await login(client, worker)
    assert (await client.get("/v1/devices/me", headers=worker.auth)).status_code == 200


async def test_same_identity_key_twice_conflicts(client: httpx.AsyncClient, relay: Relay) -> None:
    device = Device()
    for expected in (201, 409):
        body = device.registration(await challenge(client))
        body["enrolment_code"] = await enrolment_code(relay)
        assert (await client.post("/v1/devices/enrol", json=body)).status_code == expected


async def test_expired_token_over_http(client: httpx.AsyncClient, relay: Relay) -> None:
    from .helpers import FakeClock

    worker = await enrol(client, relay)
    clock = relay.clock
    assert isinstance(clock, FakeClock)
    clock.now += relay.settings.token_ttl_seconds + 1
    response = await client.get("/v1/devices/me", headers=worker.auth)
    assert response.status_code == 410
    assert response.json()["type"].endswith("/expired")
