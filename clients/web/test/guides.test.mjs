// The privacy guide and the call checklist: the organisation's wording for the language shown
// replaces the app's own, line by line; anything it has not written falls back to the app's.
import { test } from "node:test";
import assert from "node:assert/strict";
import { CHECKLIST_KEYS, GUIDE_KEYS, guideItems, organisationText } from "../src/shared/guides.js";
import { loadLanguage, setLanguage } from "../src/shared/i18n.js";

await loadLanguage("es");

test("the organisation's text in the language shown, one item per non-empty line", () => {
  const texts = { privacy_guide: { es: "Un lugar tranquilo.\n\n  Auriculares.  \n" } };
  assert.deepEqual(organisationText(texts, "privacy_guide", "es"), ["Un lugar tranquilo.", "Auriculares."]);
  assert.deepEqual(organisationText(texts, "privacy_guide", "es-MX"), ["Un lugar tranquilo.", "Auriculares."]);
  assert.equal(organisationText(texts, "privacy_guide", "en"), null);
  assert.equal(organisationText(texts, "call_checklist", "es"), null);
  assert.equal(organisationText({ privacy_guide: { en: "   " } }, "privacy_guide", "en"), null);
  assert.equal(organisationText(undefined, "privacy_guide", "en"), null);
});

test("without the organisation's wording, the app's own covers every point, in each language", () => {
  setLanguage("en");
  try {
    const guide = guideItems({}, "privacy_guide", GUIDE_KEYS, { host: "relay.example:8443" }).join(" ");
    for (const words of ["private space", "headphones", "lock screen", "Quick exit", "downloads", "relay.example:8443", "shared phone"]) {
      assert.ok(guide.includes(words), words);
    }
    const checklist = guideItems({ call_checklist: { es: "Solo en español." } }, "call_checklist", CHECKLIST_KEYS).join(" ");
    for (const words of ["private room", "Headphones", "No names"]) assert.ok(checklist.includes(words), words);
    setLanguage("es");
    assert.deepEqual(guideItems({ call_checklist: { es: "Solo en español." } }, "call_checklist", CHECKLIST_KEYS), ["Solo en español."]);
    const spanish = guideItems({}, "privacy_guide", GUIDE_KEYS, { host: "relay.example" }).join(" ");
    for (const words of ["auriculares", "pantalla de bloqueo", "descargas", "relay.example", "compartidos"]) {
      assert.ok(spanish.includes(words), words);
    }
  } finally {
    setLanguage("en");
  }
});
