"""Every operation of a running relay's OpenAPI document, fuzzed with schemathesis.

A standing check (issue "hardening"): a real ``confide serve`` on SQLite, its own
``/openapi.json``, and for every operation a bounded number of generated requests, each sent
as four identities: nobody, a client device, a worker device and an admin device that has
stepped up. Any 5xx fails, and so does a response that breaks the document: a status code
it does not list, a content type it does not declare, or a body that does not match the
declared schema.

The identities are real devices set up the way users would: the admin CLI creates the
organisation and the first admin's code, the admin's device asks for a worker's code, the
worker creates an invite and a client device redeems it.
"""

from __future__ import annotations

import os
import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.core.failures import FailureGroup
from server.helpers import AUTH, STEP_UP, Device, b64d, b64e

from system.relay_process import RelayProcess

pytestmark = pytest.mark.slow

# Generated requests per operation and identity. Bounded so that the whole document runs in
# a minute or two here.
EXAMPLES = int(os.environ.get("CONFIDE_SCHEMATHESIS_EXAMPLES", "12"))
# The same requests on every run, so that `make test` is repeatable; a hunt for new failures
# sets CONFIDE_SCHEMATHESIS_RANDOM=1 (and more examples).
DERANDOMIZE = os.environ.get("CONFIDE_SCHEMATHESIS_RANDOM", "") != "1"
# Step-up lasts CONFIDE_STEP_UP_SECONDS (300 s by default); confirm again well before.
STEP_UP_REFRESH = 120.0
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@dataclass
class Identities:
    relay: RelayProcess
    admin: Device
    worker: Device
    client: Device
    stepped_up_at: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def headers(self, who: str) -> dict[str, str]:
        if who == "nobody":
            return {}
        if who == "admin":
            self._fresh_step_up()
        device: Device = getattr(self, who)
        return device.auth

    def log_in_again(self, who: str) -> None:
        with httpx.Client(base_url=self.relay.http_url, timeout=30) as http:
            _login(http, getattr(self, who))
        if who == "admin":
            self.stepped_up_at = 0.0  # a step-up belongs to the session that made it

    def _fresh_step_up(self) -> None:
        with self.lock:
            if time.monotonic() - self.stepped_up_at < STEP_UP_REFRESH:
                return
            with httpx.Client(base_url=self.relay.http_url, timeout=30) as http:
                nonce = _challenge(http)
                answer = http.post(
                    "/v1/admin/step-up",
                    headers=self.admin.auth,
                    json={
                        "challenge": nonce,
                        "signature": b64e(self.admin.sign(STEP_UP + b64d(nonce))),
                    },
                )
                assert answer.status_code == 200, answer.text
            self.stepped_up_at = time.monotonic()


def _challenge(http: httpx.Client) -> str:
    answer = http.post("/v1/challenges")
    assert answer.status_code == 201, answer.text
    return str(answer.json()["challenge"])


def _login(http: httpx.Client, device: Device) -> None:
    nonce = _challenge(http)
    answer = http.post(
        "/v1/auth/token",
        json={
            "device_id": device.device_id,
            "challenge": nonce,
            "signature": b64e(device.sign(AUTH + b64d(nonce))),
        },
    )
    assert answer.status_code == 201, answer.text
    device.token = answer.json()["token"]


def _register(http: httpx.Client, path: str, secret: dict[str, str]) -> Device:
    device = Device()
    answer = http.post(path, json=device.registration(_challenge(http)) | secret)
    assert answer.status_code == 201, answer.text
    device.device_id = answer.json()["device_id"]
    device.mailbox_id = answer.json()["mailbox_id"]
    _login(http, device)
    return device


@pytest.fixture(scope="module")
def identities(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Identities]:
    workdir: Path = tmp_path_factory.mktemp("schemathesis-relay")
    # The fuzzer's own logins (after it calls DELETE /v1/auth/token) need challenges beyond
    # the per-address default; every other limit keeps its default.
    relay = RelayProcess(workdir, env={"CONFIDE_ANONYMOUS_REQUESTS_PER_MINUTE": "100000"})
    code = relay.create_org_and_enrolment_code(role="admin")
    with relay, httpx.Client(base_url=relay.http_url, timeout=30) as http:
        admin = _register(http, "/v1/devices/enrol", {"enrolment_code": code})
        found = Identities(relay, admin, admin, admin)
        answer = http.post(
            "/v1/admin/enrolment-codes",
            headers=found.headers("admin"),
            json={"role": "worker"},
        )
        assert answer.status_code == 201, answer.text
        worker_code = answer.json()["enrolment_code"]
        found.worker = _register(http, "/v1/devices/enrol", {"enrolment_code": worker_code})
        answer = http.post("/v1/invites", headers=found.worker.auth)
        assert answer.status_code == 201, answer.text
        found.client = _register(http, "/v1/invites/redeem", {"token": answer.json()["token"]})
        yield found


def _fuzz(
    operation: schemathesis.APIOperation,
    identities: Identities,
    statuses: dict[tuple[str, str], list[int]],
) -> None:
    """Generated requests for one operation, each sent as every identity in turn."""
    base_url = identities.relay.http_url
    label = operation.label

    @given(case=operation.as_strategy())
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        database=None,
        derandomize=DERANDOMIZE,
        phases=[Phase.explicit, Phase.generate, Phase.shrink],
    )
    def fuzz(case: schemathesis.Case) -> None:
        # "nobody" keeps whatever Authorization header was generated (often none, or a
        # malformed one); the others replace it with their own bearer token.
        generated = dict(case.headers or {})
        for who in ("nobody", "client", "worker", "admin"):
            case.headers = generated | identities.headers(who)
            response = case.call_and_validate(base_url=base_url, checks=CHECKS)
            statuses[label, who].append(response.status_code)
            if label == "DELETE /v1/auth/token" and response.status_code == 204:
                identities.log_in_again(who)  # the fuzzer just logged this one out

    fuzz()


def test_no_server_error_and_no_schema_violation(identities: Identities) -> None:
    """Each operation in turn; hypothesis reports the smallest request that breaks it."""
    schema = schemathesis.openapi.from_url(f"{identities.relay.http_url}/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 40, [op.label for op in operations]

    statuses: dict[tuple[str, str], list[int]] = defaultdict(list)
    failures: list[str] = []
    for operation in operations:
        try:
            _fuzz(operation, identities, statuses)
        # Every operation runs and all failures are reported; schemathesis groups the failures
        # of one operation in a FailureGroup, a BaseExceptionGroup.
        except (Exception, FailureGroup) as failure:
            failures.append(f"{operation.label}: {failure}")
    assert not failures, "\n\n".join(failures)

    # The identities were real: each got past authentication somewhere.
    for who in ("client", "worker", "admin"):
        answered = [code for (_, w), codes in statuses.items() if w == who for code in codes]
        assert any(code < 300 for code in answered), (who, sorted(set(answered)))
