// The relay's problem types (docs/protocol.md, "Errors") reach a reader in their language,
// not as the relay's English detail; an unknown type falls back to a general sentence.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { CATALOGUES, LANGUAGES, loadLanguage, setLanguage } from "../src/shared/i18n.js";
import { PROBLEM_BASE, RelayError } from "../src/shared/relay.js";
import { errorText, relayWords } from "../src/shared/problems.js";

for (const lang of LANGUAGES) await loadLanguage(lang);

// The slugs of the Errors table, as the protocol documents them.
const protocol = readFileSync(new URL("../../../docs/protocol.md", import.meta.url), "utf8");
const table = protocol.split("\n## Errors\n")[1].split("\n## ")[0];
const SLUGS = [...table.matchAll(/^\| ([a-z-]+) \| \d{3} \|/gm)].map((m) => m[1]);

const problem = (slug, status, detail) => new RelayError(status, {
  type: PROBLEM_BASE + slug, title: "Some English title", status, detail, instance: "/v1/x",
});

test("the protocol's Errors table is read", () => {
  assert.ok(SLUGS.length >= 20, SLUGS.join(","));
  assert.ok(SLUGS.includes("step-up-required") && SLUGS.includes("storage-full"));
});

test("every documented problem type has its own sentence in every language", () => {
  for (const lang of LANGUAGES) {
    const missing = SLUGS.filter((slug) => !Object.hasOwn(CATALOGUES[lang], `problem.${slug}`));
    assert.deepEqual(missing, [], lang);
  }
  // Two types never read the same, or the reader could not tell them apart.
  const sentences = SLUGS.map((slug) => CATALOGUES.en[`problem.${slug}`]);
  assert.equal(new Set(sentences).size, sentences.length);
});

test("a relay problem is shown in the active language, never as the relay's detail", (t) => {
  t.mock.method(console, "info", () => {});
  const err = problem("conflict", 409, "version 1 already has a text in pt-BR");
  for (const lang of LANGUAGES) {
    setLanguage(lang);
    const text = errorText(err);
    assert.equal(text, CATALOGUES[lang]["problem.conflict"]);
    assert.ok(!text.includes("already has a text"), text);
  }
  setLanguage("en");
  // The relay's own words stay available as a secondary.
  assert.equal(relayWords(err), "version 1 already has a text in pt-BR");
});

test("the relay's words go to the console", (t) => {
  const said = [];
  t.mock.method(console, "info", (line) => said.push(line));
  errorText(problem("expired", 410, "invite expired"));
  assert.deepEqual(said, ["relay: 410 expired: invite expired"]);
});

test("an unknown type, a foreign type or no body falls back to the status", (t) => {
  t.mock.method(console, "info", () => {});
  setLanguage("es");
  assert.equal(errorText(problem("something-new", 418, "I'm a teapot")), "El servidor lo rechazó (error 418).");
  assert.equal(errorText(new RelayError(502, { type: "about:blank", title: "Bad Gateway" })), "El servidor lo rechazó (error 502).");
  assert.equal(errorText(new RelayError(500, null)), "El servidor lo rechazó (error 500).");
  assert.equal(new RelayError(500, null).slug, null);
  setLanguage("en");
});

test("this device's own errors are shown in the active language, their English words only logged", async (t) => {
  const logged = [];
  t.mock.method(console, "info", (line) => logged.push(line));
  const { ConsentError } = await import("../src/crypto/consent.js");
  const { AttachmentDigestError } = await import("../src/crypto/attachments.js");
  const { MalformedInput } = await import("../src/crypto/wire.js");
  const { DuplicateMessage } = await import("../src/crypto/ratchet.js");
  const { WrongPassphrase } = await import("../src/crypto/keystore.js");
  const { RosterError } = await import("../src/group/roster.js");
  const { LOCAL_ERRORS } = await import("../src/shared/problems.js");
  const kinds = [ConsentError, AttachmentDigestError, MalformedInput, DuplicateMessage, WrongPassphrase, RosterError];
  // Each kind is known by the name it sets itself (class names do not survive minifying).
  assert.deepEqual(kinds.map((Kind) => new Kind("x").name).sort(), Object.keys(LOCAL_ERRORS).sort());
  const cases = [
    [new ConsentError("receipt names a different signer"), "problem.local.consent"],
    [new AttachmentDigestError("attachment digest does not match"), "problem.local.file"],
    [new TypeError("Failed to fetch"), "problem.local.network"],
    [new Error("more than 2000 skipped message keys"), "problem.local.unexpected"],
  ];
  for (const lang of LANGUAGES) {
    setLanguage(lang);
    for (const [err, key] of cases) {
      const shown = errorText(err);
      assert.equal(shown, CATALOGUES[lang][key], `${lang} ${key}`);
      assert.ok(!shown.includes(err.message), shown);
    }
  }
  setLanguage("en");
  assert.ok(logged.some((line) => line.includes("receipt names a different signer")));
});

test("a check of this device's own that refuses names its reason in the active language", async (t) => {
  t.mock.method(console, "info", () => {});
  const { Explained } = await import("../src/shared/explained.js");
  const err = new Explained("consult.error.length", { max: 4000 }, "a consultation message has 1 to 4000 characters");
  for (const lang of LANGUAGES) {
    setLanguage(lang);
    assert.equal(errorText(err), CATALOGUES[lang]["consult.error.length"].replace("{max}", "4000"));
  }
  setLanguage("en");
  // Every key such a check names is in every catalogue.
  const sources = ["../src/worker/consult.js", "../src/call/calls.js"].map((f) => readFileSync(new URL(f, import.meta.url), "utf8"));
  const keys = sources.flatMap((s) => [...s.matchAll(/new Explained\("([\w.]+)"/g)].map((m) => m[1]));
  assert.ok(keys.length >= 8);
  for (const lang of LANGUAGES) assert.deepEqual(keys.filter((k) => !Object.hasOwn(CATALOGUES[lang], k)), [], lang);
});
