"""One policy version in several languages, and the organisation's own texts for its apps.

A client consents to the text in its language: the receipt (format 2) names that language
and its hash, and the relay accepts it only if the organisation published exactly that text
for that version. Receipts of format 1 (no language) keep being accepted for the version's
first text. The privacy guide and the call checklist are the organisation's to edit, per
language, and every device reads them from GET /v1/organisation."""

from __future__ import annotations

import httpx
from confide_server.relay import Relay

from .helpers import (
    POLICY_TEXT,
    FakeClock,
    consent_body,
    enrol,
    join,
    receipt_bytes,
    setup_org,
    step_up,
)

SPANISH = "Lo que nos cuentas es privado, salvo..."


async def _admin(client: httpx.AsyncClient, relay: Relay):  # type: ignore[no-untyped-def]
    admin = await enrol(client, relay, role="admin")
    await step_up(client, admin)
    return admin


async def test_a_translation_is_published_once_and_listed(
    client: httpx.AsyncClient, relay: Relay
) -> None:
    await setup_org(relay)
    admin = await _admin(client, relay)
    added = await client.post(
        "/v1/admin/policies/1/translations",
        headers=admin.auth,
        json={"language": "es", "text": SPANISH},
    )
    assert added.status_code == 201, added.text
    assert added.json()["language"] == "es"
    again = await client.post(
        "/v1/admin/policies/1/translations",
        headers=admin.auth,
        json={"language": "es", "text": "otra cosa"},
    )
    assert again.status_code == 409 and again.headers["content-type"] == "application/problem+json"
    # The first text's own language is not a translation of it.
    same = await client.post(
        "/v1/admin/policies/1/translations",
        headers=admin.auth,
        json={"language": "en", "text": "other"},
    )
    assert same.status_code == 409
    missing = await client.post(
        "/v1/admin/policies/9/translations",
        headers=admin.auth,
        json={"language": "es", "text": SPANISH},
    )
    assert missing.status_code == 404
    for bad in ("e", "español", "es_MX", "x" * 40, "es-"):
        refused = await client.post(
            "/v1/admin/policies/1/translations",
            headers=admin.auth,
            json={"language": bad, "text": SPANISH},
        )
        assert refused.status_code == 400, bad
    org = (await client.get("/v1/organisation")).json()
    assert org["policy"]["language"] == "en"
    assert org["policy"]["translations"] == [
        {"language": "es", "text": SPANISH, "sha256": added.json()["sha256"]}
    ]
    history = (await client.get("/v1/admin/policies", headers=admin.auth)).json()
    assert history[0]["languages"] == ["en", "es"]
    events = (
        await client.get("/v1/admin/audit?action=policy.translate", headers=admin.auth)
    ).json()
    assert [e["subject"] for e in events] == ["1/es"]


async def test_a_new_version_may_be_written_in_another_language(
    client: httpx.AsyncClient, relay: Relay
) -> None:
    await setup_org(relay)
    admin = await _admin(client, relay)
    out = await client.post(
        "/v1/admin/policies", headers=admin.auth, json={"text": SPANISH, "language": "es-MX"}
    )
    assert out.status_code == 201, out.text
    assert out.json()["language"] == "es-MX" and out.json()["version"] == 2
    bad = await client.post(
        "/v1/admin/policies", headers=admin.auth, json={"text": SPANISH, "language": "??"}
    )
    assert bad.status_code == 400


async def test_the_relay_keeps_a_receipt_only_for_the_text_in_the_language_it_names(
    client: httpx.AsyncClient, relay: Relay, clock: FakeClock
) -> None:
    await setup_org(relay)
    admin = await _admin(client, relay)
    worker = await enrol(client, relay)
    await client.post(
        "/v1/admin/policies/1/translations",
        headers=admin.auth,
        json={"language": "es", "text": SPANISH},
    )
    device, _ = await join(client, worker)

    async def submit(receipt: bytes) -> httpx.Response:
        clock.now += 61  # past the per-minute limit on consent submissions
        return await client.post(
            "/v1/consent", headers=device.auth, json=consent_body(device, worker, receipt)
        )

    # The Spanish text's hash under "en", or the English text's under "es": refused.
    wrong = await submit(receipt_bytes(device, worker, policy=SPANISH, language="en"))
    assert wrong.status_code == 400 and "in en" in wrong.json()["detail"]
    mixed = await submit(receipt_bytes(device, worker, policy=POLICY_TEXT, language="es"))
    assert mixed.status_code == 400
    absent = await submit(receipt_bytes(device, worker, policy=SPANISH, language="fr"))
    assert absent.status_code == 400 and "no text in fr" in absent.json()["detail"]
    # A format 1 receipt names the version's first text, as before languages existed.
    old_form = await submit(receipt_bytes(device, worker, policy=SPANISH))
    assert old_form.status_code == 400
    assert (await submit(receipt_bytes(device, worker))).status_code == 201
    spanish = await submit(receipt_bytes(device, worker, policy=SPANISH, language="es"))
    assert spanish.status_code == 201, spanish.text
    english = await submit(receipt_bytes(device, worker, language="en"))
    assert english.status_code == 201, english.text


async def test_the_organisation_edits_the_guide_and_the_checklist_per_language(
    client: httpx.AsyncClient, relay: Relay
) -> None:
    await setup_org(relay)
    admin = await _admin(client, relay)
    assert (await client.get("/v1/organisation")).json()["texts"] == {}
    guide = "Busca un lugar donde nadie te escuche.\nUsa auriculares."
    put = await client.put(
        "/v1/admin/texts/privacy_guide/es", headers=admin.auth, json={"text": guide}
    )
    assert put.status_code == 204
    put = await client.put(
        "/v1/admin/texts/call_checklist/en", headers=admin.auth, json={"text": "A closed door."}
    )
    assert put.status_code == 204
    replaced = await client.put(
        "/v1/admin/texts/call_checklist/en", headers=admin.auth, json={"text": "A quiet room."}
    )
    assert replaced.status_code == 204
    texts = (await client.get("/v1/organisation")).json()["texts"]
    assert texts == {"privacy_guide": {"es": guide}, "call_checklist": {"en": "A quiet room."}}
    assert (await client.get("/v1/admin/texts", headers=admin.auth)).json() == texts
    for path, body in [
        ("/v1/admin/texts/other/en", {"text": "x"}),
        ("/v1/admin/texts/privacy_guide/!!", {"text": "x"}),
        ("/v1/admin/texts/privacy_guide/en", {"text": ""}),
        ("/v1/admin/texts/privacy_guide/en", {"text": "x" * 8001}),
        ("/v1/admin/texts/privacy_guide/en", {"words": "x"}),
    ]:
        refused = await client.put(path, headers=admin.auth, json=body)
        assert refused.status_code in (400, 404), (path, refused.status_code)
        assert refused.headers["content-type"] == "application/problem+json"
    # A worker who is not an admin may not change them.
    worker = await enrol(client, relay)
    denied = await client.put(
        "/v1/admin/texts/privacy_guide/en", headers=worker.auth, json={"text": "x"}
    )
    assert denied.status_code == 403
    gone = await client.delete("/v1/admin/texts/privacy_guide/es", headers=admin.auth)
    assert gone.status_code == 204
    assert (
        await client.delete("/v1/admin/texts/privacy_guide/es", headers=admin.auth)
    ).status_code == 404
    assert "privacy_guide" not in (await client.get("/v1/organisation")).json()["texts"]
    actions = [
        e["action"]
        for e in (await client.get("/v1/admin/audit?action=text.", headers=admin.auth)).json()
    ]
    assert actions == ["text.reset", "text.set", "text.set", "text.set"]
