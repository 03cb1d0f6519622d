import { test } from "node:test";
import assert from "node:assert/strict";
import { decryptAttachment, encryptAttachment } from "../src/crypto/attachments.js";
import { Identity } from "../src/crypto/keys.js";
import { signReceipt, signRevocation, verifyReceipt, verifyRevocation } from "../src/crypto/consent.js";

test("attachments round-trip across chunk boundaries and refuse a swapped blob", () => {
  for (const size of [0, 5, 65536, 70000]) {
    const data = new Uint8Array(size).map((_, i) => i % 251);
    const { blob, pointer } = encryptAttachment(data);
    assert.deepEqual(decryptAttachment(blob, pointer), data);
  }
  const { blob, pointer } = encryptAttachment(new Uint8Array(10));
  const other = blob.slice();
  other[other.length - 1] ^= 1;
  assert.throws(() => decryptAttachment(other, pointer));
});

test("consent receipts verify and revocations must match their receipt", () => {
  const client = Identity.generate();
  const worker = Identity.generate();
  const { receipt, signature } = signReceipt(client, {
    workerIdentityKey: worker.public, policyVersion: 3, policySha256: new Uint8Array(32),
    signedAt: 1000, expiresAt: 2000, discloser: "d", recipient: "r", purpose: "p", information: "i",
  });
  const expect = { clientIdentityKey: client.public, workerIdentityKey: worker.public, policyVersion: 3, now: 1500 };
  assert.equal(verifyReceipt(receipt, signature, expect).policyVersion, 3);
  assert.throws(() => verifyReceipt(receipt, signature, { ...expect, workerIdentityKey: client.public }));
  assert.throws(() => verifyReceipt(receipt, signature, { ...expect, now: 2000 }));
  const revoked = signRevocation(client, receipt, 1600);
  assert.equal(verifyRevocation(revoked.revocation, revoked.signature, { receipt, clientIdentityKey: client.public }).revokedAt, 1600);
});
