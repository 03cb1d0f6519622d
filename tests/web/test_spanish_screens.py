"""The strong Spanish check (issue 17): each screen of both apps, shown in Spanish, holds no
English message of the catalogue. What is compared is what a person meets: visible text,
the tab title, and the names and hints controls carry (aria-label, title, placeholder).

An English message counts when Spanish says it differently: a message the two catalogues
share (a name, "[ip]") proves nothing. Text a page marks as English (`lang="en"`, such as
the relay's own words under a translated error) is declared for what it is and skipped."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect
from web_support import (
    DESKTOP,
    PHONE,
    WEB,
    OriginGuard,
    create_invite,
    enrol_worker,
    lock_and_unlock,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]

# Everything a person meets on the page, outside elements marked as English.
SHOWN = """() => {
  const english = (el) => (el.closest('[lang]')?.getAttribute('lang') ?? 'es').startsWith('en');
  const out = [document.title];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const el = node.parentElement;
    const text = node.textContent.trim();
    if (!text || !el || english(el) || ['SCRIPT', 'STYLE'].includes(el.tagName)) continue;
    if (el.checkVisibility && !el.checkVisibility()) continue;
    out.push(text);
  }
  for (const el of document.body.querySelectorAll('[aria-label], [title], [placeholder]')) {
    if (english(el) || (el.checkVisibility && !el.checkVisibility())) continue;
    for (const name of ['aria-label', 'title', 'placeholder']) {
      const value = el.getAttribute(name);
      if (value) out.push(value.trim());
    }
  }
  return out;
}"""

_PLACEHOLDER = re.compile(r"\{[^{}]*\}")


def _english_only() -> tuple[set[str], list[str]]:
    """English messages Spanish words differently: whole ones (to match a text exactly), and
    parts of 15 characters or more (to find inside a longer text): whole messages, and the
    fixed parts of those with placeholders."""
    locales = WEB / "src" / "locales"
    en = json.loads((locales / "en.json").read_text(encoding="utf-8"))
    es = json.loads((locales / "es.json").read_text(encoding="utf-8"))
    spanish = set(es.values())
    whole: set[str] = set()
    parts: list[str] = []
    for key, message in en.items():
        if message == es[key] or message in spanish:
            continue
        if "{" not in message:
            whole.add(message.strip())
            if len(message.strip()) >= 15:
                parts.append(message.strip())
        elif ", plural" not in message and ", select" not in message:
            parts += [p.strip() for p in _PLACEHOLDER.split(message) if len(p.strip()) >= 15]
    return whole, parts


WHOLE, PARTS = _english_only()


def assert_spanish(page: Any, screen: str) -> None:
    shown = page.evaluate(SHOWN)
    left = sorted(
        {text for text in shown if text in WHOLE}
        | {part for text in shown for part in PARTS if part in text}
    )
    assert left == [], f"{screen}: English left on screen: {left}"


def test_every_screen_in_spanish_has_no_english_message(relay, browser, tmp_path: Path) -> None:
    assert len(WHOLE) > 300  # the comparison has something to compare with

    # An admin (who is also a worker) sets up in English, then switches to Spanish.
    worker_ctx = browser.new_context(viewport=DESKTOP, locale="en-GB")
    worker = worker_ctx.new_page()
    guard = OriginGuard(relay.url, worker)
    worker.goto(relay.url + "/")
    enrol_worker(worker, relay.process.enrol_worker("admin"))
    link = create_invite(worker, "Rosa")
    worker.locator("#worker-language").select_option("es")
    expect(worker.get_by_role("heading", name="Conversaciones")).to_be_visible()
    assert_spanish(worker, "worker: invite made")
    worker.get_by_role("button", name="Abrir la conversación").click()
    assert_spanish(worker, "worker: conversation waiting for consent")

    # The client, on a Spanish phone: consent, the guide, the conversation, the records.
    client_ctx = browser.new_context(viewport=PHONE, locale="es-MX")
    client = client_ctx.new_page()
    guard.watch(client)
    client.goto(relay.url + "/join")
    expect(client.get_by_role("heading", name="Aquí no hay nada")).to_be_visible()
    assert_spanish(client, "client: no invite")
    client.goto(link)
    expect(client.get_by_role("heading", name="Antes de empezar")).to_be_visible(timeout=60_000)
    assert_spanish(client, "client: consent")
    client.get_by_role("button", name="Cómo mantener esta conversación en privado").click()
    assert_spanish(client, "client: privacy guide")
    client.get_by_role("button", name="Cerrar").click()
    client.get_by_role("button", name="Acepto").click()
    expect(client.get_by_role("heading", name="Tu conversación")).to_be_visible()
    worker.locator("#compose-text").fill("Hola Rosa.")
    worker.get_by_role("button", name="Enviar", exact=True).click()
    expect(client.get_by_text("Hola Rosa.")).to_be_visible()
    assert_spanish(client, "client: conversation")
    assert_spanish(worker, "worker: conversation")
    client.get_by_role("button", name="Tu consentimiento").click()
    assert_spanish(client, "client: consent details")
    client.get_by_role("button", name="Lo que el servidor guarda sobre este dispositivo").click()
    expect(client.get_by_role("dialog")).to_be_visible()
    assert_spanish(client, "client: what the relay keeps")
    client.get_by_role("dialog").get_by_role("button", name="Cerrar").click()
    client.get_by_role("button", name="Volver").click()

    # The worker's dialogs and screens.
    worker.get_by_role("button", name="Registros de consentimiento").click()
    expect(worker.locator("#consent-records li")).to_have_count(1)
    assert_spanish(worker, "worker: consent records")
    worker.get_by_role("dialog").get_by_role("button", name="Cerrar").click()
    worker.get_by_role("button", name="Lo que guarda el servidor").click()
    expect(worker.get_by_role("dialog")).to_be_visible()
    assert_spanish(worker, "worker: what the relay keeps")
    worker.get_by_role("dialog").get_by_role("button", name="Cerrar").click()
    worker.get_by_role("button", name="Consultar a un supervisor").click()
    expect(worker.get_by_role("heading", name="Consultar a un supervisor")).to_be_visible()
    assert_spanish(worker, "worker: ask a supervisor")
    worker.get_by_role("button", name="Cancelar").click()
    worker.get_by_role("button", name="Nuevo grupo").click()
    expect(worker.get_by_role("heading", name="Nuevo grupo")).to_be_visible()
    assert_spanish(worker, "worker: new group")

    # The organisation console, every section; a refusal shows the relay's words as English.
    worker.get_by_role("button", name="Organización").click()
    for tab in ("Trabajadores", "Políticas", "Ajustes", "Textos para clientes y trabajadores"):
        worker.locator("#admin nav").get_by_role("button", name=tab, exact=True).click()
        expect(worker.locator("#admin-title")).to_be_visible()
        expect(worker.locator("#admin .admin-body section").first).to_be_visible()
        assert_spanish(worker, f"console: {tab}")
    worker.locator("#admin nav").get_by_role("button", name="Registro de auditoría").click()
    expect(worker.locator("#admin tbody tr").first).to_be_visible()
    assert_spanish(worker, "console: audit")
    worker.get_by_role("button", name="Volver a las conversaciones").click()

    lock_and_unlock(worker, lambda: assert_spanish(worker, "worker: locked"), "es")

    # Quick exit lands on the Spanish neutral page.
    client.get_by_role("button", name="Salida rápida").click()
    client.wait_for_url(re.compile(r"/assets/neutral\.es\.html$"))
    assert_spanish(client, "client: neutral page")
    guard.assert_clean()
    worker_ctx.close()
    client_ctx.close()
