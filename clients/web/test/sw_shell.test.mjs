// The service worker's shell: which built files it precaches, and that nothing else (the
// relay's API, the client's page, pre-compressed copies) may enter its cache.
import assert from "node:assert/strict";
import { test } from "node:test";
import { inShell, shellFiles } from "../src/sw/shell.js";

const BUILT = [
  "index.html", "join.html", "manifest.webmanifest", "sw.js",
  "assets/worker-3F2A.js", "assets/worker-3F2A.js.br", "assets/worker-3F2A.js.gz",
  "assets/join-9B1C.js", "assets/join.js", "assets/chunk-ZBFJBTO6.js", "assets/app-77.css",
  "assets/icon.svg", "assets/neutral-icon.svg", "assets/neutral.html", "assets/chunk-X.js.LEGAL.txt",
];

test("the shell is the worker app's page, scripts, styles, icon and manifest", () => {
  assert.deepEqual(shellFiles(BUILT), [
    "/", "/assets/app-77.css", "/assets/chunk-ZBFJBTO6.js", "/assets/icon.svg", "/assets/worker-3F2A.js",
    "/manifest.webmanifest",
  ]);
});

test("only shell paths of this origin, without a query, may be cached", () => {
  const shell = shellFiles(BUILT);
  const origin = "https://relay.test";
  assert.equal(inShell(shell, "https://relay.test/", origin), true);
  assert.equal(inShell(shell, "https://relay.test/assets/worker-3F2A.js", origin), true);
  for (const url of [
    "https://relay.test/v1/mailboxes/abc/messages",
    "https://relay.test/v1/attachments/abc",
    "https://relay.test/v1/devices/me/records",
    "https://relay.test/join",
    "https://relay.test/assets/join-9B1C.js",
    "https://relay.test/assets/neutral.html",
    "https://relay.test/sw.js",
    "https://relay.test/?token=x",
    "https://elsewhere.test/",
  ]) {
    assert.equal(inShell(shell, url, origin), false, url);
  }
});
