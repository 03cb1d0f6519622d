// Two devices talk through sealed envelopes, and a device survives serialisation.
import { test } from "node:test";
import assert from "node:assert/strict";
import { fromUtf8, utf8 } from "../src/shared/b64.js";
import { Device } from "../src/crypto/device.js";
import { safetyNumber } from "../src/crypto/safety.js";
import { BUCKETS } from "../src/crypto/padding.js";

function bundleOf(device) {
  const spk = device.addSignedPrekey(1);
  const [opk] = device.addOneTimePrekeys(10, 1);
  return {
    identityKey: device.identity.public, signedPrekeyId: 1, signedPrekey: spk.pair.public,
    signedPrekeySignature: spk.signature, oneTimePrekeyId: opk.keyId, oneTimePrekey: opk.pair.public,
  };
}

test("devices exchange sealed, padded envelopes both ways", () => {
  const client = Device.create();
  let worker = Device.create();
  const bundle = bundleOf(worker);
  client.startSession(bundle);
  const first = client.encryptTo(worker.identity.public, utf8("hello"));
  assert.ok(BUCKETS.includes(first.length));
  worker = Device.fromBytes(worker.toBytes());
  const got = worker.decryptEnvelope(first);
  assert.equal(fromUtf8(got.plaintext), "hello");
  assert.equal(got.newSession, true);
  assert.equal(worker.oneTimePrekeys.size, 0);
  assert.throws(() => worker.decryptEnvelope(first));
  const reply = worker.encryptTo(client.identity.public, utf8("hi back"));
  assert.equal(fromUtf8(client.decryptEnvelope(reply).plaintext), "hi back");
  const again = Device.fromBytes(client.toBytes());
  assert.deepEqual(again.toBytes(), client.toBytes());
});

test("safety numbers agree from both sides", () => {
  const a = Device.create().identity.public;
  const b = Device.create().identity.public;
  assert.equal(safetyNumber(a, b), safetyNumber(b, a));
  assert.match(safetyNumber(a, b), /^\d{60}$/);
});
