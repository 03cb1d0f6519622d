"""Both apps in English and Spanish (issue 17): the client's page follows the browser's
language and offers a switch that keeps nothing after quick exit; the client reads and
consents to the policy in Spanish, and the signed receipt names that text; the worker's app
has a language setting; dates follow the language; the privacy guide and the call checklist
carry the organisation's own wording. Phone and desktop layouts are photographed in both
languages."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from accessibility import assert_accessible
from confide_server.services.org_settings import SETTINGS
from playwright.sync_api import expect
from web_support import (
    DESKTOP,
    PASSPHRASE,
    PHONE,
    UNLABELLED,
    WEB,
    OriginGuard,
    create_invite,
    enrol_worker,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SPANISH_POLICY = (
    "Riverside Peer Recovery mantiene en privado lo que compartes.\n\n"
    "Límites de la confidencialidad: tenemos que actuar si nos dices que piensas hacerte "
    "daño grave o hacérselo a otra persona, si se maltrata a un menor o a un adulto "
    "vulnerable, o si un tribunal nos ordena entregar registros.\n\n"
    "Puedes retirar tu consentimiento cuando quieras."
)
GUIDE_ES = "Busca un sitio donde nadie te oiga.\nUsa auriculares.\nBorra tus descargas."


# The text of an element without the <details> it holds (the relay's own words).
_TEXT_OUTSIDE_DETAILS = """el => {
  const copy = el.cloneNode(true);
  copy.querySelectorAll("details").forEach((d) => d.remove());
  return copy.textContent;
}"""


def _cli_text(relay: Any, tmp_path: Path, name: str, text: str, *args: str) -> None:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    relay.process.cli(*args, "--file", str(path))


def _shot(page: Any, folder: Path, name: str) -> None:
    page.screenshot(path=str(folder / f"i18n-{name}.png"), full_page=True)


def test_both_apps_in_english_and_spanish(
    relay, browser, screenshots: Path, tmp_path: Path
) -> None:
    # The organisation publishes its policy in Spanish too, and its own Spanish privacy guide.
    _cli_text(
        relay,
        tmp_path,
        "es.txt",
        SPANISH_POLICY,
        "publish-policy",
        "--language",
        "es",
        "--translation-of",
        "1",
    )
    _cli_text(relay, tmp_path, "guide.txt", GUIDE_ES, "texts", "set", "privacy_guide", "es")

    worker_ctx = browser.new_context(viewport=DESKTOP, locale="en-GB")
    worker = worker_ctx.new_page()
    guard = OriginGuard(relay.url, worker)
    worker.goto(relay.url + "/")
    enrol_worker(worker, relay.enrolment_code())
    link = create_invite(worker, "Rosa")
    worker.get_by_role("button", name="Open the conversation").click()

    # A phone whose browser prefers Mexican Spanish: the page speaks Spanish from the start.
    client_ctx = browser.new_context(viewport=PHONE, locale="es-MX")
    client = client_ctx.new_page()
    guard.watch(client)
    client.goto(link)
    expect(client.get_by_role("heading", name="Antes de empezar")).to_be_visible(timeout=60_000)
    assert client.evaluate("document.documentElement.lang") == "es"
    assert client.title() == "Notas"
    expect(client.get_by_role("button", name="Salida rápida")).to_be_visible()
    expect(client.locator("#join-language")).to_have_value("es")
    # The policy in the client's language, marked as such for screen readers.
    expect(client.locator("#policy-text")).to_contain_text("Límites de la confidencialidad")
    expect(client.locator("#policy-text")).to_have_attribute("lang", "es")
    assert client.evaluate(UNLABELLED) == []
    _shot(client, screenshots, "phone-es-consent")

    # The guide, in the organisation's Spanish words.
    client.get_by_role("button", name="Cómo mantener esta conversación en privado").click()
    guide = client.locator("#privacy-guide")
    expect(guide).to_contain_text("Busca un sitio donde nadie te oiga.")
    expect(guide.locator("li")).to_have_count(3)
    _shot(client, screenshots, "phone-es-privacy-guide")
    client.get_by_role("button", name="Cerrar").click()

    client.get_by_role("button", name="Acepto").click()
    expect(client.get_by_role("heading", name="Tu conversación")).to_be_visible()
    expect(client.locator(".message.system")).to_contain_text("Aceptaste.")
    # The worker's app records which text was agreed to: version 1, in Spanish.
    expect(worker.locator("#consent-state")).to_contain_text(
        "policy version 1 in Spanish", timeout=30_000
    )

    # The receipt the relay keeps names the Spanish text (checked by the worker's app).
    worker.get_by_role("button", name="Consent records").click()
    expect(worker.locator("#consent-records li")).to_contain_text("in Spanish, text")
    worker.get_by_role("button", name="Close").click()

    worker.locator("#compose-text").fill("Hola Rosa, soy Alex.")
    worker.get_by_role("button", name="Send", exact=True).click()
    expect(client.get_by_text("Hola Rosa, soy Alex.")).to_be_visible()
    expect(client.locator(".message:not(.mine) .meta")).to_contain_text("Tu persona de apoyo")
    client.locator("#compose-text").fill("Gracias, Alex.")
    client.locator("#compose-text").press("Enter")
    expect(worker.get_by_text("Gracias, Alex.")).to_be_visible()
    expect(client.locator(".message.mine .meta")).to_contain_text("Entregado")
    _shot(client, screenshots, "phone-es-conversation")

    # Dates follow the language: the consent's expiry is written the Spanish way.
    client.get_by_role("button", name="Tu consentimiento").click()
    expect(client.locator("#consent-language")).to_have_text("español")
    expect(client.locator("dd").nth(-1)).to_have_text(re.compile(r"^\d{1,2} de [a-z]+ de \d{4}$"))
    client.get_by_role("button", name="Volver").click()

    # The switch: English at once, system lines included; the choice lasts for this tab only.
    client.locator("#join-language").select_option("en")
    expect(client.get_by_role("heading", name="Your conversation")).to_be_visible()
    assert client.evaluate("document.documentElement.lang") == "en"
    expect(client.locator(".message.system")).to_contain_text("You agreed.")
    expect(client.get_by_role("button", name="Quick exit")).to_be_visible()
    assert client.evaluate("sessionStorage.getItem('confide-language')") == "en"
    assert client.evaluate("localStorage.length") == 0
    _shot(client, screenshots, "phone-en-conversation")
    client.set_viewport_size(DESKTOP)
    _shot(client, screenshots, "desktop-en-client")
    client.locator("#join-language").select_option("es")
    expect(client.get_by_role("heading", name="Tu conversación")).to_be_visible()
    _shot(client, screenshots, "desktop-es-client")

    # The worker's own language setting, kept on the worker's device across a lock.
    _shot(worker, screenshots, "desktop-en-worker")
    worker.locator("#worker-language").select_option("es")
    expect(worker.get_by_role("heading", name="Conversaciones")).to_be_visible()
    expect(worker.locator("#consent-state")).to_contain_text("versión 1 de la política en español")
    expect(worker.locator(".message.system").first).to_contain_text("Consentimiento dado")
    expect(worker.get_by_role("button", name="Bloquear")).to_be_visible()
    assert worker.evaluate(UNLABELLED) == []
    _shot(worker, screenshots, "desktop-es-worker")
    worker.set_viewport_size(PHONE)
    _shot(worker, screenshots, "phone-es-worker")
    # On a phone the open conversation stands alone, with its way back to the list.
    expect(worker.get_by_role("button", name="← Todas las conversaciones")).to_be_visible()
    worker.locator("#worker-language").select_option("en")
    expect(worker.get_by_role("button", name="← All conversations")).to_be_visible()
    _shot(worker, screenshots, "phone-en-worker")
    worker.locator("#worker-language").select_option("es")
    worker.set_viewport_size(DESKTOP)
    worker.get_by_role("button", name="Bloquear").click()
    expect(worker.get_by_role("heading", name="Confide está bloqueado")).to_be_visible()
    worker.get_by_label("Frase de contraseña").fill(PASSPHRASE)
    worker.get_by_role("button", name="Desbloquear").click()
    expect(worker.get_by_role("heading", name="Conversaciones")).to_be_visible(timeout=60_000)

    # Quick exit wipes the language choice with everything else the tab kept.
    client.get_by_role("button", name="Salida rápida").click()
    # The neutral page is in the language the client was reading, with nothing of the app.
    client.wait_for_url(re.compile(r"/assets/neutral\.es\.html$"))
    assert client.title() == "El tiempo"
    assert client.evaluate("document.documentElement.lang") == "es"
    expect(client.get_by_role("heading", name="El tiempo")).to_be_visible()
    assert "Weather" not in client.locator("body").inner_text()
    assert client.evaluate("sessionStorage.length") == 0
    assert client.evaluate("localStorage.length") == 0
    guard.assert_clean()
    worker_ctx.close()
    client_ctx.close()


def test_the_empty_join_page_follows_the_browser_and_offers_the_guide(
    relay, browser, screenshots: Path
) -> None:
    # A language the apps lack falls back to English; the app's own guide names this address.
    context = browser.new_context(viewport=PHONE, locale="fr-FR")
    page = context.new_page()
    page.goto(relay.url + "/join")
    expect(page.get_by_role("heading", name="Nothing here")).to_be_visible()
    page.get_by_role("button", name="Keeping this conversation private").click()
    guide = page.locator("#privacy-guide")
    expect(guide).to_contain_text("headphones")
    expect(guide).to_contain_text("lock screen")
    expect(guide).to_contain_text("downloads")
    expect(guide).to_contain_text(relay.url.split("//", 1)[1])
    expect(guide).to_contain_text("shared phone")
    _shot(page, screenshots, "phone-en-privacy-guide")
    page.get_by_role("button", name="Close").click()
    page.locator("#join-language").select_option("es")
    expect(page.get_by_role("heading", name="Aquí no hay nada")).to_be_visible()
    context.close()


def test_the_console_publishes_a_translation_and_the_organisations_texts(
    relay, browser, screenshots: Path, tmp_path: Path
) -> None:
    _cli_text(relay, tmp_path, "guide.txt", GUIDE_ES, "texts", "set", "privacy_guide", "es")
    context = browser.new_context(viewport=DESKTOP, locale="en-GB")
    admin = context.new_page()
    guard = OriginGuard(relay.url, admin)
    admin.goto(relay.url + "/")
    enrol_worker(admin, relay.process.enrol_worker("admin"))
    admin.get_by_role("button", name="Organisation").click()
    admin.locator("#admin nav").get_by_role("button", name="Policies").click()
    form = admin.locator("#policy-translation")
    form.get_by_label("Language of this text").fill("pt-BR")
    form.get_by_label("The same policy, in that language").fill(
        "Mantemos em sigilo o que você compartilha."
    )
    form.get_by_role("button", name="Add the translation").click()
    dialog = admin.get_by_role("dialog", name="Confirm it is you")
    dialog.get_by_label("Passphrase").fill(PASSPHRASE)
    dialog.get_by_role("button", name="Confirm").click()
    expect(admin.locator("tbody tr").first.locator("td").last).to_contain_text("pt-BR")
    # A second text in the same language is refused: receipts may already name the first.
    form = admin.locator("#policy-translation")
    form.get_by_label("Language of this text").fill("pt-BR")
    form.get_by_label("The same policy, in that language").fill("Outra coisa.")
    form.get_by_role("button", name="Add the translation").click()
    # The reader gets the app's sentence for the problem type; the relay's English detail is
    # only a secondary, in a closed <details> marked as English.
    error = admin.locator("#admin-error")
    expect(error).to_contain_text("That clashes with something the relay already holds.")
    detail = error.locator("details.relay-detail")
    expect(detail).not_to_have_attribute("open", "")
    expect(detail.locator("p[lang=en]")).to_contain_text("already has a text in pt-BR")
    assert "already has a text" not in error.evaluate(_TEXT_OUTSIDE_DETAILS)
    assert_accessible(admin, "console with a refusal of the relay")
    detail.locator("summary").click()
    expect(detail.locator("p[lang=en]")).to_be_visible()
    assert_accessible(admin, "console with the relay's words open")

    admin.locator("#admin nav").get_by_role("button", name="Texts for clients and workers").click()
    admin.get_by_label("In English").first.fill("Find a quiet room.\nWear headphones.")
    admin.locator('form[data-text="privacy_guide/en"]').get_by_role("button", name="Save").click()
    expect(
        admin.locator('form[data-text="privacy_guide/en"]').get_by_role(
            "button", name="Use the app's wording"
        )
    ).to_be_visible()
    assert admin.evaluate(UNLABELLED) == []
    admin.screenshot(path=str(screenshots / "i18n-desktop-en-console-texts.png"), full_page=True)

    # The client's page shows the organisation's English guide now, and the app's own Spanish one.
    page = browser.new_context(viewport=PHONE, locale="en-US").new_page()
    guard.watch(page)
    page.goto(relay.url + "/join")
    page.get_by_role("button", name="Keeping this conversation private").click()
    expect(page.locator("#privacy-guide li")).to_have_text(
        ["Find a quiet room.", "Wear headphones."]
    )
    page.get_by_role("button", name="Close").click()
    page.locator("#join-language").select_option("es")
    page.get_by_role("button", name="Cómo mantener esta conversación en privado").click()
    expect(page.locator("#privacy-guide")).to_contain_text("Busca un sitio donde nadie te oiga.")

    admin.locator('form[data-text="privacy_guide/en"]').get_by_role(
        "button", name="Use the app's wording"
    ).click()
    expect(admin.locator('form[data-text="privacy_guide/en"] textarea')).to_have_value("")

    # In Spanish: the settings' descriptions are the app's own, and a refusal of the relay is
    # a Spanish sentence too.
    admin.locator("#worker-language").select_option("es")
    admin.locator("#admin nav").get_by_role("button", name="Ajustes").click()
    expect(admin.locator('label[for="setting-invite_ttl_seconds"]')).to_have_text(
        "invite_ttl_seconds (segundos): vigencia de una invitación sin usar"
    )
    settings = admin.locator("#admin section").first.inner_text()
    for english in ("lifetime of an unused invite", "how long", "longest", "shortest"):
        assert english not in settings, english
    admin.locator("#admin nav").get_by_role("button", name="Políticas").click()
    form = admin.locator("#policy-translation")
    form.get_by_label("Idioma de este texto").fill("pt-BR")
    form.get_by_label("La misma política, en ese idioma").fill("Outra coisa.")
    form.get_by_role("button", name="Añadir la traducción").click()
    expect(admin.locator("#admin-error")).to_contain_text(
        "Eso choca con algo que el servidor ya tiene."
    )
    expect(admin.locator("#admin-error summary")).to_have_text(
        "Lo que dijo el servidor (en inglés)"
    )
    guard.assert_clean()
    context.close()


@pytest.mark.parametrize("locale", ["en-US", "es-MX"])
def test_the_light_consent_screen_stays_light_in_either_language(
    relay, browser, locale: str, tmp_path: Path
) -> None:
    # A Spanish reader also fetches the Spanish catalogue (a chunk of its own) and reads the
    # policy's Spanish text; the consent screen must still come within test_light_join's budget.
    from test_light_join import BUDGET, CONSENT_USABLE, RESOURCES

    translated = relay.process.cli("policy", "list").stdout.splitlines()[1].split()[-1]
    if "es" not in translated.split(","):
        _cli_text(
            relay,
            tmp_path,
            "es.txt",
            SPANISH_POLICY,
            "publish-policy",
            "--language",
            "es",
            "--translation-of",
            "1",
        )
    context, worker, guard = _worker(browser, relay)
    link = create_invite(worker, "Mo")
    client_ctx = browser.new_context(viewport=PHONE, locale=locale)
    client_ctx.add_init_script(CONSENT_USABLE)
    client = client_ctx.new_page()
    guard.watch(client)
    client.goto(link)
    heading = "Antes de empezar" if locale.startswith("es") else "Before you start"
    expect(client.get_by_role("heading", name=heading)).to_be_visible(timeout=60_000)
    usable = client.wait_for_function("() => window.__consentUsable").json_value()
    before = [e for e in client.evaluate(RESOURCES) if e["end"] <= usable]
    sent = sum(e["bytes"] for e in before)
    print(f"{locale}: {sent} bytes before the consent screen")
    # Another language's reader also fetches its catalogue beside the English one the page
    # bundles as the fallback; both hold only the first screens' messages (src/locales/
    # parts.js), so the same budget holds (seen: 34,029 bytes in Spanish with whole ones).
    assert sent < BUDGET, f"{sent} bytes before the consent screen: {before}"
    guard.assert_clean()
    context.close()
    client_ctx.close()


def _worker(browser: Any, relay: Any) -> tuple[Any, Any, OriginGuard]:
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    guard = OriginGuard(relay.url, page)
    page.goto(relay.url + "/")
    enrol_worker(page, relay.enrolment_code())
    return context, page, guard


def test_every_setting_of_the_relay_is_described_in_both_catalogues() -> None:
    # The console shows the app's own description of each setting (in the reader's language);
    # the English one says what the relay's does, so the two do not drift apart.
    catalogues = {
        lang: json.loads((WEB / "src" / "locales" / f"{lang}.json").read_text(encoding="utf-8"))
        for lang in ("en", "es")
    }
    for name, setting in SETTINGS.items():
        assert catalogues["en"].get(f"admin.setting.{name}") == setting.meaning, name
        assert catalogues["es"].get(f"admin.setting.{name}"), name
        assert catalogues["es"][f"admin.setting.{name}"] != setting.meaning, name
