import { test } from "node:test";
import assert from "node:assert/strict";
import { offer } from "../src/shared/window.js";

const p = (seq, type = "text") => ({ v: 1, seq, id: `m${seq}`, type });

test("early payloads wait for the gap, replays are dropped, unsequenced ones pass", () => {
  const windows = {};
  assert.deepEqual(offer(windows, "a", p(2)), []);
  assert.deepEqual(offer(windows, "a", { v: 1, id: "d", type: "delivered" }).map((x) => x.id), ["d"]);
  assert.deepEqual(offer(windows, "a", p(1, "hello")).map((x) => x.seq), [1, 2]);
  assert.deepEqual(offer(windows, "a", p(2)), []);
  assert.deepEqual(offer(windows, "b", p(1)).map((x) => x.seq), [1]);
  assert.deepEqual(JSON.parse(JSON.stringify(windows)), { a: { next: 3, held: {} }, b: { next: 2, held: {} } });
});
