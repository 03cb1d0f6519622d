import { test } from "node:test";
import assert from "node:assert/strict";
import { CATALOGUES, LANGUAGES, chooseLanguage, format, formatDate, formatNumber, hasMessage, loadLanguage, setLanguage, switchLanguage, t } from "../src/shared/i18n.js";

// Every catalogue, loaded as a page would load it.
for (const lang of LANGUAGES) await loadLanguage(lang);

test("every language has exactly the keys English has", () => {
  const keys = Object.keys(CATALOGUES.en).sort();
  for (const [lang, catalogue] of Object.entries(CATALOGUES)) {
    assert.deepEqual(Object.keys(catalogue).sort(), keys, `catalogue ${lang}`);
  }
});

test("every message in every language parses and renders", () => {
  for (const catalogue of Object.values(CATALOGUES)) {
    for (const [key, message] of Object.entries(catalogue)) {
      assert.equal(typeof format(message, { count: 2, n: 2 }), "string", key);
    }
  }
});

test("placeholders, plurals with exact matches, select and # formatted", () => {
  assert.equal(format("Hello {name}", { name: "Ana" }), "Hello Ana");
  assert.equal(format("{n, plural, =0 {none} one {# item} other {# items}}", { n: 0 }, "en"), "none");
  assert.equal(format("{n, plural, =0 {none} one {# item} other {# items}}", { n: 1 }, "en"), "1 item");
  assert.equal(format("{n, plural, one {# item} other {# items}}", { n: 1234 }, "en"), "1,234 items");
  assert.equal(format("{n, plural, one {# elemento} other {# elementos}}", { n: 1234.5 }, "es"), "1234,5 elementos");
  assert.equal(format("{who, select, worker {Worker} other {Client}} left", { who: "worker" }), "Worker left");
  assert.equal(format("{who, select, worker {Worker} other {Client}} left", { who: "x" }), "Client left");
  assert.equal(format("It''s {name}", { name: "ok" }), "It's ok");
  assert.throws(() => format("{n, plural, one {x}}", { n: 1 }), /without "other"/);
  assert.throws(() => format("broken {", {}), /unclosed/);
});

test("the browser's language chooses the catalogue, by primary subtag", () => {
  assert.equal(chooseLanguage(["es-MX", "en"]), "es");
  assert.equal(chooseLanguage(["fr-FR", "es"]), "es");
  assert.equal(chooseLanguage(["fr-FR"]), "en");
  assert.equal(chooseLanguage([]), "en");
});

test("a missing key falls back to English, then to the key", () => {
  setLanguage("es");
  try {
    assert.equal(t("app.loading"), "Cargando…");
    assert.equal(t("common.unread", { count: 1 }), "1 mensaje sin leer");
    assert.equal(t("no.such.key"), "no.such.key");
    assert.equal(hasMessage("app.loading"), true);
  } finally {
    setLanguage("en");
  }
});

test("dates and numbers follow the language", () => {
  const d = new Date(Date.UTC(2026, 11, 4, 15, 30));
  assert.match(formatDate(d, { month: "long", timeZone: "UTC" }, "es"), /diciembre/);
  assert.match(formatDate(d, { month: "long", timeZone: "UTC" }, "en"), /December/);
  assert.equal(formatNumber(1234.5, {}, "es"), "1234,5");
});

test("a language the apps lack falls back to English; a loaded one switches", async () => {
  assert.equal(await switchLanguage("fr"), "en");
  assert.equal(await switchLanguage("es"), "es");
  assert.equal(t("app.loading"), "Cargando…");
  setLanguage("en");
});

test("completing the catalogues while a language loads leaves it whole", async () => {
  // On /join the modules i18n.js imports hold part of each catalogue (build.mjs); here they
  // are whole, so the part is made by hand: what completion adds must be every message.
  const { completeCatalogues, loadLanguage } = await import("../src/shared/i18n.js");
  const keys = Object.keys(CATALOGUES.en);
  CATALOGUES.en = { "join.open": CATALOGUES.en["join.open"] };
  delete CATALOGUES.es;
  const [spanish] = await Promise.all([loadLanguage("es"), completeCatalogues()]);
  assert.deepEqual(Object.keys(CATALOGUES.en).sort(), [...keys].sort());
  assert.deepEqual(Object.keys(spanish).sort(), [...keys].sort());
  assert.deepEqual(Object.keys(await loadLanguage("es")).sort(), [...keys].sort());
});
