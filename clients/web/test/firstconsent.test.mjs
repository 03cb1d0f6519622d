// The consent screen shown before the crypto checks the policy with WebCrypto's SHA-256; the
// receipt the crypto signs later names libsodium's digest of the same text. Both must agree
// on every text, or a client would be shown "does not match its fingerprint" for a good
// policy (or the other way round).
import { test } from "node:test";
import assert from "node:assert/strict";
import { sha256Hex } from "../src/join/firstconsent.js";
import { policyDigest } from "../src/crypto/consent.js";
import { toHex } from "../src/shared/b64.js";

const TEXTS = [
  "",
  "Limits of confidentiality: we must act if you plan to seriously harm yourself.",
  "Límites de la confidencialidad: año, niño, señal \u2014 y un emoji \u{1F512}.\n\nSegunda línea.\r\n",
];

test("WebCrypto's SHA-256 of a policy equals the digest its receipt carries", async () => {
  for (const text of TEXTS) assert.equal(await sha256Hex(text), toHex(policyDigest(text)));
  assert.equal(await sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
});
