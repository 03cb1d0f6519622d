// A round trip through X3DH and the Double Ratchet, in memory, before the shared vectors.
import { test } from "node:test";
import assert from "node:assert/strict";
import { fromUtf8, utf8 } from "../src/shared/b64.js";
import { Identity, createOneTimePrekeys, createSignedPrekey, newX25519 } from "../src/crypto/keys.js";
import { initiate, respond } from "../src/crypto/x3dh.js";
import { RatchetState } from "../src/crypto/ratchet.js";
import { decodeMessage, encodeMessage } from "../src/crypto/header.js";

function pair() {
  const alice = Identity.generate();
  const bob = Identity.generate();
  const spk = createSignedPrekey(bob, 7);
  const [opk] = createOneTimePrekeys(100, 1);
  const bundle = {
    identityKey: bob.public, signedPrekeyId: 7, signedPrekey: spk.pair.public,
    signedPrekeySignature: spk.signature, oneTimePrekeyId: 100, oneTimePrekey: opk.pair.public,
  };
  const [ra, initial] = initiate(alice, bundle, newX25519());
  const a = RatchetState.initInitiator(ra.sharedKey, bundle.signedPrekey);
  const rb = respond(bob, alice.public, initial, spk, opk);
  const b = RatchetState.initResponder(rb.sharedKey, spk.pair);
  return { a, b, ad: ra.associatedData, initial };
}

test("messages flow both ways, out of order, and replays raise", () => {
  const { a, b, ad, initial } = pair();
  const m1 = decodeMessage(encodeMessage(a.encrypt(utf8("one"), ad, initial)));
  const m2 = a.encrypt(utf8("two"), ad);
  const m3 = a.encrypt(utf8("three"), ad);
  assert.equal(fromUtf8(b.decrypt(m1, ad, { now: 0 })), "one");
  assert.equal(fromUtf8(b.decrypt(m3, ad, { now: 0 })), "three");
  assert.equal(fromUtf8(b.decrypt(m2, ad, { now: 0 })), "two");
  assert.throws(() => b.decrypt(m2, ad, { now: 0 }));
  const reply = b.encrypt(utf8("reply"), ad);
  assert.equal(fromUtf8(a.decrypt(reply, ad, { now: 0 })), "reply");
  const restored = RatchetState.fromBytes(b.toBytes());
  assert.deepEqual(restored.toBytes(), b.toBytes());
});

test("a tampered message raises and leaves the state as it was", () => {
  const { a, b, ad, initial } = pair();
  const m1 = a.encrypt(utf8("one"), ad, initial);
  const before = b.toBytes();
  const bad = { ...m1, ciphertext: m1.ciphertext.slice() };
  bad.ciphertext[0] ^= 1;
  assert.throws(() => b.decrypt(bad, ad, { now: 0 }));
  assert.deepEqual(b.toBytes(), before);
});
