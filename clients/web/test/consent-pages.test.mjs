// The worker's consent list follows GET /v1/consent's pages ({records, next}) to the end:
// a worker with more records than one page holds must see all of them (issue 19 item 5).
import { test } from "node:test";
import assert from "node:assert/strict";
import { listConsentRecords } from "../src/shared/relay.js";

const record = (n) => ({ receipt_id: `r${n}`, client_device_id: "c", kind: "receipt", receipt: "", signature: "", created_day: 0 });

// A relay holding `total` records, answering pages of at most `limit` with a cursor.
function fakeRelay(total) {
  const asked = [];
  globalThis.fetch = async (path, init) => {
    const url = new URL(path, "http://relay");
    asked.push({ path: url.pathname, after: url.searchParams.get("after"), auth: init.headers.authorization });
    const limit = Number(url.searchParams.get("limit") ?? 50);
    const start = url.searchParams.has("after") ? Number(url.searchParams.get("after").slice(4)) : 0;
    const records = Array.from({ length: Math.max(0, Math.min(limit, total - start)) }, (_, i) => record(start + i));
    const next = start + records.length < total ? `page${start + records.length}` : null;
    return new Response(JSON.stringify({ records, next }), { headers: { "content-type": "application/json" } });
  };
  return asked;
}

test("every page is fetched, in order, until next is null", async () => {
  const asked = fakeRelay(455);
  const records = await listConsentRecords(new Uint8Array([1, 2, 3]));
  assert.equal(records.length, 455);
  assert.deepEqual(records.map((r) => r.receipt_id), Array.from({ length: 455 }, (_, i) => `r${i}`));
  assert.deepEqual(asked.map((a) => a.after), [null, "page200", "page400"]);
  assert.ok(asked.every((a) => a.path === "/v1/consent" && a.auth === "Bearer AQID"));
});

test("an empty list is one request", async () => {
  const asked = fakeRelay(0);
  assert.deepEqual(await listConsentRecords(new Uint8Array([1])), []);
  assert.equal(asked.length, 1);
});

test("a relay that repeats a cursor is refused rather than followed forever", async () => {
  globalThis.fetch = async () => new Response(JSON.stringify({ records: [record(0)], next: "same" }), {
    headers: { "content-type": "application/json" },
  });
  await assert.rejects(listConsentRecords(new Uint8Array([1])), /repeated/);
});
