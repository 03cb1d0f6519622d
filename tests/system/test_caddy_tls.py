"""The relay behind Caddy with deploy/Caddyfile: TLS for HTTP and WebSocket, and no addresses.

A real Caddy with the shipped Caddyfile (site ``localhost``, free ports, its own local CA)
fronts a real relay listening on 127.0.0.2; clients connect over IPv4 from 127.0.0.1. The
test registers, sends and receives over https:// and wss://, checks the security headers and
the redirect from http://, stops the relay so that Caddy logs failed requests, and then
finds no client address and no mailbox id in Caddy's output or the relay's logs.
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from conftest import need_executable

from system.caddy_process import CaddyProcess
from system.relay_process import RelayProcess
from system.wire import Device, Inbox, b64e, http_send

pytestmark = pytest.mark.slow

CLIENT_ADDRESS = "127.0.0.1"
# The relay serves the repository's built web app by default (settings.py), when there is one.
DIST = Path(__file__).resolve().parents[2] / "clients" / "web" / "dist"


async def _web_app_passes_through(https: httpx.AsyncClient) -> None:
    """The relay's pre-compressed copy arrives byte for byte: the Caddyfile has no `encode`
    (docs/operations.md section 5), so Caddy neither compresses again nor decodes."""
    page = DIST / "join.html"
    if not page.is_file():
        return  # the relay serves no web app without a build; the rest still holds
    async with https.stream("GET", "/join", headers={"accept-encoding": "gzip"}) as answer:
        raw = b"".join([part async for part in answer.aiter_raw()])
        assert answer.headers["content-encoding"] == "gzip"
        assert answer.headers["vary"] == "Accept-Encoding"
        assert answer.headers["cache-control"] == "no-cache"
    assert raw == (DIST / "join.html.gz").read_bytes()


async def test_relay_behind_caddy(tmp_path: Path) -> None:
    caddy_exe = need_executable("caddy")
    # Caddy reaches the relay from 127.0.0.1, so that is the proxy the relay trusts.
    relay = RelayProcess(
        tmp_path / "relay", host="127.0.0.2", env={"CONFIDE_FORWARDED_ALLOW_IPS": "127.0.0.1"}
    )
    code = relay.create_org_and_enrolment_code(policy=None)
    caddy = CaddyProcess(caddy_exe, tmp_path / "caddy", upstream=f"127.0.0.2:{relay.port}")
    relay.start()
    try:
        relay.wait_ready()
        caddy.start()
        transport = httpx.AsyncHTTPTransport(
            verify=caddy.ssl_context(), local_address=CLIENT_ADDRESS
        )
        async with httpx.AsyncClient(
            base_url=caddy.https_url, transport=transport, timeout=30
        ) as https:
            health = await https.get("/healthz")
            assert health.status_code == 200
            assert health.headers["strict-transport-security"].startswith("max-age=")
            assert health.headers["x-content-type-options"] == "nosniff"
            assert "server" not in health.headers

            device = await Device.enrol(https, code)
            await http_send(https, device, "over-tls", b"sent over https")
            async with Inbox(caddy.wss_url, device, ssl_context=caddy.ssl_context()) as inbox:
                _, body = await inbox.next_envelope(30)
            assert body == b"sent over https"

            await _web_app_passes_through(https)

            relay.stop()
            # With the relay down, Caddy answers 502 and writes an error line per request.
            mailbox = b64e(device.mailbox_id)
            answer = await https.get(f"/v1/mailboxes/{mailbox}/messages")
            assert answer.status_code == 502

        async with httpx.AsyncClient(
            transport=httpx.AsyncHTTPTransport(local_address=CLIENT_ADDRESS)
        ) as plain:
            redirect = await plain.get(f"http://localhost:{caddy.http_port}/join")
        assert redirect.status_code in (301, 302, 307, 308)
        assert redirect.headers["location"].startswith("https://")
    finally:
        caddy.stop()
        relay.stop()

    caddy_log = caddy.log()
    assert "http.log.error" in caddy_log, "the failed request should have been logged"
    for log, name in ((caddy_log, "Caddy"), (relay.logs(), "relay")):
        assert CLIENT_ADDRESS not in log, f"{name} logged the client's address"
        assert mailbox not in log, f"{name} logged a mailbox id"
        assert b64e(device.token) not in log, f"{name} logged a session token"
