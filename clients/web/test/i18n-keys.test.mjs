// Every catalogue key the apps' source names exists in English (and so, by i18n.test.mjs, in
// every language): a typo would otherwise show the raw key on screen.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import en from "../src/locales/en.json" with { type: "json" };

const SRC = new URL("../src/", import.meta.url).pathname;
const STATIC = new URL("../static/", import.meta.url).pathname;

function files(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : [path];
  });
}

// A quoted string shaped like a key of one of the areas: "join.tabTitle", "chat.send".
const KEY = /["'`]((?:app|common|join|consent|chat|call|safety|records|worker|consentRecords|consult|admin|privacy|checklist|problem|neutral)\.[A-Za-z][A-Za-z0-9.]*)["'`]/g;

test("every key named in the source and the static pages is in the catalogue", () => {
  const missing = [];
  for (const path of [...files(SRC), ...files(STATIC)].filter((p) => /\.(js|html)$/.test(p))) {
    for (const [, key] of readFileSync(path, "utf8").matchAll(KEY)) {
      // A file name shaped like a key ("neutral.html") is not one.
      if (/\.(html|js|json|css|svg)$/.test(key)) continue;
      if (!Object.hasOwn(en, key) && !key.endsWith(".")) missing.push(`${path.slice(SRC.length - 4)}: ${key}`);
    }
  }
  assert.deepEqual(missing, []);
});
