import { test } from "node:test";
import assert from "node:assert/strict";
import { fromB64u, toB64u } from "../src/shared/b64.js";

test("base64url has no padding and round-trips", () => {
  const bytes = Uint8Array.from([251, 255, 0, 1]);
  assert.equal(toB64u(bytes), "-_8AAQ");
  assert.deepEqual(fromB64u("-_8AAQ"), bytes);
});

test("padding and foreign alphabets are refused", () => {
  assert.throws(() => fromB64u("-_8AAQ=="));
  assert.throws(() => fromB64u("+/8A"));
  assert.throws(() => fromB64u("a"));
});
