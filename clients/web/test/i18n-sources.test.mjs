// Source checks for text that would otherwise escape the catalogue (issue 17): a notification
// made outside shared/notify.js (or the service worker) picks its own title, and a literal one
// stays English whatever the language chosen.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, readdirSync, statSync } from "node:fs";
import { join, relative } from "node:path";

const SRC = new URL("../src/", import.meta.url).pathname;

function files(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : [path];
  });
}

const sources = files(SRC).filter((p) => p.endsWith(".js")).map((p) => [relative(SRC, p), readFileSync(p, "utf8")]);

test("notifications are made only by shared/notify.js and the service worker", () => {
  const allowed = new Set(["shared/notify.js", "sw/sw.js"]);
  const found = sources.filter(([path, text]) => !allowed.has(path) && /new Notification\(|showNotification\(/.test(text)).map(([path]) => path);
  assert.deepEqual(found, []);
});

test("no notification title is a literal string", () => {
  const found = [];
  for (const [path, text] of sources) {
    for (const m of text.matchAll(/(?:new Notification|showNotification)\(\s*["'`]/g)) found.push(`${path}@${m.index}`);
  }
  assert.deepEqual(found, []);
});
