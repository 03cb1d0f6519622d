// Safety numbers (confide_crypto.safety_number, docs/protocol.md E2E §8): iterated SHA-512
// fingerprints of both identity keys, 30 digits each, sorted and joined to 60 digits; the QR
// payload is the version byte and both fingerprints in the same order.
import { concatBytes, equalBytes, utf8 } from "../shared/b64.js";
import { expectLength } from "./keys.js";
import { sodium } from "./sodium.js";
import { u16 } from "./wire.js";

const VERSION = 1;
const ITERATIONS = 5200;
const LABEL = utf8("Confide safety number");

export function keyFingerprint(identityKey) {
  expectLength(identityKey, 32, "identity key");
  let digest = concatBytes(u16(VERSION), LABEL, identityKey);
  for (let i = 0; i < ITERATIONS; i += 1) digest = sodium.crypto_hash_sha512(concatBytes(digest, identityKey));
  return digest.slice(0, 32);
}

function digits(fp) {
  let out = "";
  for (let i = 0; i < 30; i += 5) {
    let n = 0n;
    for (const b of fp.slice(i, i + 5)) n = (n << 8n) | BigInt(b);
    out += String(n % 100000n).padStart(5, "0");
  }
  return out;
}

function sortedFingerprints(a, b) {
  return [keyFingerprint(a), keyFingerprint(b)].sort((x, y) => (digits(x) < digits(y) ? -1 : digits(x) > digits(y) ? 1 : 0));
}

export const safetyNumber = (a, b) => sortedFingerprints(a, b).map(digits).join("");

export const qrPayload = (a, b) => concatBytes(Uint8Array.of(VERSION), ...sortedFingerprints(a, b));

export function verifyQrPayload(scanned, ownKey, peerKey) {
  if (!equalBytes(scanned, qrPayload(ownKey, peerKey))) {
    throw new Error("safety numbers differ: the keys may have been replaced");
  }
}

export const grouped = (number) => number.match(/.{1,5}/g).join(" ");
