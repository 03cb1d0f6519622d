// HKDF against RFC 5869's published test case 1, so the port is checked before any vectors.
import { test } from "node:test";
import assert from "node:assert/strict";
import { fromHex, toHex } from "../src/shared/b64.js";
import { hkdfSha256 } from "../src/crypto/kdf.js";

test("HKDF-SHA256 matches RFC 5869 test case 1", () => {
  const okm = hkdfSha256(fromHex("0b".repeat(22)), {
    salt: fromHex("000102030405060708090a0b0c"),
    info: fromHex("f0f1f2f3f4f5f6f7f8f9"),
    length: 42,
  });
  assert.equal(
    toHex(okm),
    "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865",
  );
});

test("HKDF refuses lengths it cannot produce", () => {
  assert.throws(() => hkdfSha256(new Uint8Array(1), { salt: null, info: new Uint8Array(0), length: 0 }));
});
