// The build's output as the relay serves it (server/src/confide_server/web_assets.py): every
// file a page loads has a content-hashed name and exists, every compressed copy decodes to its
// file, and the client's page reaches its consent screen without the crypto (issue 17, "a
// light /join"). The build runs into a folder of its own, so dist/ is left alone.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { brotliDecompressSync, gunzipSync } from "node:zlib";
import { CATALOGUES, LANGUAGES, loadLanguage } from "../src/shared/i18n.js";
import { neutralPage } from "../src/join/neutral.js";
import { FIRST_SCREENS } from "../src/locales/parts.js";

const web = join(dirname(fileURLToPath(import.meta.url)), "..");
const out = mkdtempSync(join(tmpdir(), "confide-web-build-"));
execFileSync(process.execPath, ["build.mjs", out], { cwd: web, stdio: "pipe", timeout: 120_000 });
process.on("exit", () => rmSync(out, { recursive: true, force: true }));

const assets = join(out, "assets");
const HASHED = /-[A-Z2-7]{8}\.[a-z.]+$/;
const files = readdirSync(assets).filter((name) => !/\.(br|gz)$/.test(name));
const NEUTRAL = LANGUAGES.map(neutralPage);
const pages = {
  "index.html": join(out, "index.html"), "join.html": join(out, "join.html"),
  ...Object.fromEntries(NEUTRAL.map((name) => [name, join(assets, name)])),
};
const refs = (html, rel = "") => [...html.matchAll(new RegExp(`<[^>]*${rel}[^>]*(?:href|src)="/assets/([^"]+)"`, "g"))].map((m) => m[1]);

test("every asset but the fixed-address quick-exit pages has a content-hashed name", () => {
  assert.deepEqual(files.filter((name) => !HASHED.test(name)).sort(), [...NEUTRAL].sort());
});

test("the quick-exit page exists in every language, in that language's words", async () => {
  assert.deepEqual(NEUTRAL, ["neutral.html", "neutral.es.html"]);
  for (const lang of LANGUAGES) {
    const catalogue = await loadLanguage(lang);
    const html = readFileSync(pages[neutralPage(lang)], "utf8");
    assert.match(html, new RegExp(`<html lang="${lang}">`));
    assert.ok(!html.includes("data-i18n"), lang);
    for (const key of ["neutral.title", "neutral.today", "neutral.tomorrow"]) assert.ok(html.includes(catalogue[key]), `${lang} ${key}`);
    assert.match(html, new RegExp(`<title>${catalogue["neutral.title"]}</title>`));
    if (lang === "en") continue;
    // No English left behind: nothing of the English page's text is in another language's.
    for (const key of ["neutral.title", "neutral.today", "neutral.tomorrow"]) assert.ok(!html.includes(CATALOGUES.en[key]), `${lang} ${key}`);
  }
});

test("the pages refer only to files the build made, by their hashed names", () => {
  for (const [page, path] of Object.entries(pages)) {
    const named = refs(readFileSync(path, "utf8"));
    assert.ok(named.length >= 2, page);
    for (const name of named) {
      assert.ok(files.includes(name), `${page} -> ${name}`);
      assert.match(name, HASHED);
    }
  }
  const join = readFileSync(pages["join.html"], "utf8");
  assert.match(join, /<script type="module" src="\/assets\/join-[A-Z2-7]{8}\.js">/);
});

test("every compressed copy decodes to its file", () => {
  const copies = readdirSync(assets).filter((name) => /\.(br|gz)$/.test(name)).map((name) => join(assets, name));
  copies.push(join(out, "join.html.br"), join(out, "index.html.gz"));
  assert.ok(copies.length >= 2 * 10);
  for (const copy of copies) {
    const decode = copy.endsWith(".br") ? brotliDecompressSync : gunzipSync;
    assert.deepEqual(decode(readFileSync(copy)), readFileSync(copy.slice(0, -3)), copy);
  }
});

// What the client's page loads before its script can run: the entry and what it preloads.
function staticClosure() {
  const names = refs(readFileSync(pages["join.html"], "utf8")).filter((name) => name.endsWith(".js"));
  return names.map((name) => readFileSync(join(assets, name), "utf8"));
}

test("the client's page loads no crypto before its consent screen", () => {
  const sodiumMark = "crypto_sign_detached";
  assert.ok(files.some((name) => readFileSync(join(assets, name), "utf8").includes(sodiumMark)));
  const closure = staticClosure();
  assert.ok(closure.length >= 1);
  for (const text of closure) assert.ok(!text.includes(sodiumMark));
  // Small enough to arrive in a few round trips on a slow connection, compressed.
  const brotli = refs(readFileSync(pages["join.html"], "utf8"))
    .map((name) => join(assets, name))
    .reduce((sum, path) => sum + readFileSync(existsSync(`${path}.br`) ? `${path}.br` : path).length, 0);
  assert.ok(brotli < 24 * 1024, `${brotli} bytes`);
});

test("the client's page takes up front only the messages of its first screens", () => {
  // Every other message comes with the code after consent (i18n.completeCatalogues): the
  // page's first code must not name one, or it would show the key instead of the words.
  const closure = staticClosure().join("\n");
  const first = (key) => FIRST_SCREENS.some((prefix) => key.startsWith(prefix));
  const later = Object.keys(CATALOGUES.en).filter((key) => !first(key));
  assert.ok(later.length > 100);
  assert.deepEqual(later.filter((key) => closure.includes(`"${key}"`)), []);
  // The catalogue in it is the first screens' part: no later message's words are there.
  const words = (key) => JSON.stringify(CATALOGUES.en[key]).slice(1, -1);
  const firstText = Object.keys(CATALOGUES.en).filter(first).map(words).join("\n");
  const distinct = later.filter((key) => words(key).length > 40 && !firstText.includes(words(key)));
  assert.deepEqual(distinct.filter((key) => closure.includes(words(key))), []);
  assert.ok(closure.includes(words("consent.remember")));
});

test("the worker's app and the code after consent hold whole catalogues", () => {
  const worker = refs(readFileSync(pages["index.html"], "utf8")).filter((n) => n.endsWith(".js"));
  const text = worker.map((name) => readFileSync(join(assets, name), "utf8")).join("\n");
  for (const key of ["group.renew.agree", "consent.remember", "admin.setting.inactivity_lock_seconds"]) {
    if (CATALOGUES.en[key] === undefined) continue;
    assert.ok(text.includes(JSON.stringify(CATALOGUES.en[key]).slice(1, -1)), key);
  }
  // Some chunk of the build holds every English message (complete.js's import of en.json).
  const chunks = files.filter((name) => name.endsWith(".js")).map((name) => readFileSync(join(assets, name), "utf8"));
  // (esbuild writes non-ASCII characters as escapes: the ASCII-only messages are compared.)
  const ascii = Object.values(CATALOGUES.en).filter((m) => /^[\x20-\x7e]*$/.test(m));
  assert.ok(ascii.length > 400);
  const missing = (chunk) => ascii.filter((m) => !chunk.includes(JSON.stringify(m).slice(1, -1)));
  assert.deepEqual(chunks.map(missing).sort((a, b) => a.length - b.length)[0], []);
});
