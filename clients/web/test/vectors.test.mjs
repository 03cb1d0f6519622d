// The known-answer vectors of tests/vectors/*.json, shared with confide_crypto: the browser's
// crypto must produce and accept exactly the same bytes.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { fromHex, toHex, utf8 } from "../src/shared/b64.js";
import { decryptAttachment, decodePointer, encodePointer } from "../src/crypto/attachments.js";
import * as consent from "../src/crypto/consent.js";
import { Device } from "../src/crypto/device.js";
import { decodeMessage, encodeMessage } from "../src/crypto/header.js";
import { hkdfSha256 } from "../src/crypto/kdf.js";
import { Identity, checkX25519Public, createSignedPrekey, fingerprint, x25519FromPrivate } from "../src/crypto/keys.js";
import * as keystore from "../src/crypto/keystore.js";
import { bucketFor, pad, unpad } from "../src/crypto/padding.js";
import { RatchetState } from "../src/crypto/ratchet.js";
import * as sealed from "../src/crypto/sealed.js";
import * as safety from "../src/crypto/safety.js";
import { sodium } from "../src/crypto/sodium.js";
import { initiate, respond } from "../src/crypto/x3dh.js";

const load = (name) => JSON.parse(readFileSync(new URL(`../../../tests/vectors/${name}.json`, import.meta.url), "utf8"));
const hex = toHex;
const content = (n) => Uint8Array.from({ length: n }, (_, i) => i % 251);
// The generator's pinned bytes: SHA-512 in counter mode over "<label>/<counter>".
function pinned(label, n) {
  const parts = [];
  for (let counter = 0, have = 0; have < n; counter += 1, have += 64) parts.push(sodium.crypto_hash_sha512(utf8(`${label}/${counter}`)));
  const out = new Uint8Array(parts.length * 64);
  parts.forEach((p, i) => out.set(p, i * 64));
  return out.slice(0, n);
}
const rngPairs = (list) => {
  const queue = list.map(fromHex);
  return () => x25519FromPrivate(queue.shift());
};

function checkIdentity(v) {
  const id = new Identity(fromHex(v.seed));
  assert.equal(hex(id.public), v.ed25519_public);
  assert.equal(hex(id.dh.private), v.x25519_private);
  assert.equal(hex(id.dh.public), v.x25519_public);
  return id;
}

test("keys: identity forms, contract signatures, low-order keys refused", () => {
  const v = load("keys");
  const id = checkIdentity(v.identity);
  const challenge = fromHex(v.challenge);
  assert.equal(hex(id.signRegistration(challenge)), v.registration_signature);
  assert.equal(hex(id.signAuth(challenge)), v.auth_signature);
  const spk = createSignedPrekey(id, v.signed_prekey.key_id, fromHex(v.signed_prekey.private));
  assert.equal(hex(spk.pair.public), v.signed_prekey.public);
  assert.equal(hex(spk.signature), v.signed_prekey.signature);
  for (const bad of v.low_order_x25519_public_keys_rejected) assert.throws(() => checkX25519Public(fromHex(bad)));
});

test("x3dh: both sides derive the vector's shared key and AD", () => {
  for (const c of load("x3dh").cases) {
    const alice = checkIdentity(c.alice_identity);
    const bob = checkIdentity(c.bob_identity);
    const spk = createSignedPrekey(bob, c.bob_signed_prekey.key_id, fromHex(c.bob_signed_prekey.private));
    assert.equal(hex(spk.signature), c.bob_signed_prekey.signature);
    const opk = c.bob_one_time_prekey ? { keyId: c.bob_one_time_prekey.key_id, pair: x25519FromPrivate(fromHex(c.bob_one_time_prekey.private)) } : null;
    const bundle = {
      identityKey: bob.public, signedPrekeyId: spk.keyId, signedPrekey: spk.pair.public, signedPrekeySignature: spk.signature,
      oneTimePrekeyId: opk?.keyId ?? null, oneTimePrekey: opk?.pair.public ?? null,
    };
    const [result, initial] = initiate(alice, bundle, x25519FromPrivate(fromHex(c.alice_ephemeral.private)));
    assert.equal(hex(result.sharedKey), c.shared_key, c.name);
    assert.equal(hex(result.associatedData), c.associated_data);
    assert.equal(hex(respond(bob, alice.public, initial, spk, opk).sharedKey), c.shared_key);
  }
});

test("padding: buckets, the small example and invalid paddings", () => {
  const v = load("padding");
  assert.equal(hex(pad(fromHex(v.small_example.content), v.small_example.target)), v.small_example.padded);
  for (const bad of v.invalid_padded) assert.throws(() => unpad(fromHex(bad)));
  for (const c of v.cases) {
    const target = bucketFor(c.content_length, v.envelope_overhead);
    assert.equal(target, c.envelope_bucket);
    const padded = pad(pinned(`padding/${c.content_length}`, c.content_length), target - v.envelope_overhead);
    assert.equal(padded.length, c.padded_length);
    assert.equal(hex(sodium.crypto_hash_sha256(padded)), c.padded_sha256);
  }
});

test("sealed sender: exact envelopes, and they open to the sender and content", () => {
  const v = load("sealed_sender");
  const sender = checkIdentity(v.sender_identity);
  const recipient = checkIdentity(v.recipient_identity);
  for (const c of v.cases) {
    const envelope = sealed.seal(sender, recipient.public, content(c.content_length), x25519FromPrivate(fromHex(c.ephemeral_private)));
    assert.equal(envelope.length, c.envelope_length);
    assert.equal(hex(sodium.crypto_hash_sha256(envelope)), c.envelope_sha256);
    if (c.envelope) assert.equal(hex(envelope), c.envelope);
    const opened = sealed.open(recipient, envelope);
    assert.equal(hex(opened.senderIdentityKey), hex(sender.public));
    assert.deepEqual(opened.content, content(c.content_length));
  }
});

test("ratchet: the vector conversation, out of order, with replays and tampering refused", () => {
  const v = load("ratchet");
  const alice = new Identity(fromHex(v.alice_identity_seed));
  const bob = new Identity(fromHex(v.bob_identity_seed));
  const spk = createSignedPrekey(bob, v.bob_signed_prekey.key_id, fromHex(v.bob_signed_prekey.private));
  const opk = { keyId: v.bob_one_time_prekey.key_id, pair: x25519FromPrivate(fromHex(v.bob_one_time_prekey.private)) };
  const bundle = {
    identityKey: bob.public, signedPrekeyId: spk.keyId, signedPrekey: spk.pair.public, signedPrekeySignature: spk.signature,
    oneTimePrekeyId: opk.keyId, oneTimePrekey: opk.pair.public,
  };
  const setup = v.alice_setup_rng.map((k) => x25519FromPrivate(fromHex(k)));
  const [x, initial] = initiate(alice, bundle, setup[0]);
  const states = { alice: RatchetState.initInitiator(x.sharedKey, bundle.signedPrekey, setup[1]), bob: null };
  let pending = initial;
  const messages = [];
  for (const step of v.steps) {
    if (step.action === "encrypt") {
      const message = states[step.party].encrypt(fromHex(step.plaintext), x.associatedData, step.party === "alice" ? pending : null);
      messages[step.message_index] = encodeMessage(message);
      assert.equal(hex(messages[step.message_index]), step.message);
      continue;
    }
    const data = step.message ? fromHex(step.message) : messages[step.message_index];
    const message = decodeMessage(data);
    if (step.party === "bob" && states.bob === null) {
      states.bob = RatchetState.initResponder(respond(bob, alice.public, message.initial, spk, opk).sharedKey, spk.pair);
    }
    const run = () => states[step.party].decrypt(message, x.associatedData, { now: step.now, newKeyPair: rngPairs(step.rng) });
    if (step.error) {
      assert.throws(run, undefined, `${step.error} expected`);
    } else {
      assert.equal(hex(run()), step.plaintext);
      if (step.party === "alice" && message.initial == null) pending = null;
    }
  }
});

test("device: sealed envelopes between two devices, byte for byte", () => {
  const v = load("device");
  const devices = { alice: new Device(new Identity(fromHex(v.alice_identity_seed))), bob: new Device(new Identity(fromHex(v.bob_identity_seed))) };
  const b = v.bob_bundle;
  const [spkPriv, opkPriv] = v.bob_setup_rng.map(fromHex);
  const spk = createSignedPrekey(devices.bob.identity, b.signed_prekey_id, spkPriv);
  assert.equal(hex(spk.signature), b.signed_prekey_signature);
  devices.bob.signedPrekeys.set(spk.keyId, spk);
  devices.bob.oneTimePrekeys.set(b.one_time_prekey_id, { keyId: b.one_time_prekey_id, pair: x25519FromPrivate(opkPriv) });
  const bundle = {
    identityKey: fromHex(b.identity_key), signedPrekeyId: b.signed_prekey_id, signedPrekey: fromHex(b.signed_prekey),
    signedPrekeySignature: fromHex(b.signed_prekey_signature), oneTimePrekeyId: b.one_time_prekey_id, oneTimePrekey: fromHex(b.one_time_prekey),
  };
  const peer = { alice: devices.bob.identity.public, bob: devices.alice.identity.public };
  for (const step of v.steps) {
    const rng = step.rng.map((k) => x25519FromPrivate(fromHex(k)));
    const device = devices[step.party];
    if (step.action === "encrypt") {
      if (step.start_session) device.startSession(bundle, rng.shift(), rng.shift());
      assert.equal(hex(device.encryptTo(peer[step.party], fromHex(step.plaintext), rng.shift())), step.envelope);
    } else {
      const got = device.decryptEnvelope(fromHex(step.envelope), { now: step.now, newKeyPair: () => rng.shift() });
      assert.equal(hex(got.senderIdentityKey), step.sender_identity_key);
      assert.equal(hex(got.plaintext), step.plaintext);
      assert.equal(got.newSession, step.new_session);
    }
  }
});

test("safety numbers: digits, grouping and QR payload", () => {
  const v = load("safety_number");
  const a = fromHex(v.identity_key_a);
  const b = fromHex(v.identity_key_b);
  assert.equal(hex(safety.keyFingerprint(a)), v.fingerprint_a);
  assert.equal(hex(safety.keyFingerprint(b)), v.fingerprint_b);
  assert.equal(safety.safetyNumber(a, b), v.safety_number);
  assert.equal(safety.safetyNumber(b, a), v.safety_number);
  assert.equal(safety.grouped(v.safety_number), v.grouped);
  assert.equal(hex(safety.qrPayload(b, a)), v.qr_payload);
});

test("attachments: vector blobs decrypt, pointers encode, a swapped blob is refused", () => {
  for (const c of load("attachments").cases) {
    const pointer = decodePointer(fromHex(c.pointer));
    assert.equal(hex(encodePointer(pointer)), c.pointer);
    assert.equal(hex(pointer.digest), c.digest);
    assert.deepEqual(decryptAttachment(fromHex(c.blob), pointer), content(c.plaintext_length));
    const swapped = fromHex(c.blob);
    swapped[swapped.length - 1] ^= 1;
    assert.throws(() => decryptAttachment(swapped, pointer));
  }
});

test("consent: the vector receipt and revocation, byte for byte", () => {
  const v = load("consent");
  const client = checkIdentity(v.client_identity);
  const f = v.fields;
  assert.equal(hex(consent.policyDigest(v.policy_text)), v.policy_sha256);
  assert.equal(hex(fingerprint(fromHex(v.worker_identity_key))), v.worker_key_fingerprint);
  const { receipt, signature } = consent.signReceipt(client, {
    workerIdentityKey: fromHex(v.worker_identity_key), policyVersion: f.policy_version, policySha256: fromHex(v.policy_sha256),
    signedAt: f.signed_at, expiresAt: f.expires_at, discloser: f.discloser, recipient: f.recipient, purpose: f.purpose, information: f.information,
  });
  assert.equal(hex(receipt), v.receipt);
  assert.equal(hex(signature), v.signature);
  consent.verifyReceipt(receipt, signature, {
    clientIdentityKey: client.public, workerIdentityKey: fromHex(v.worker_identity_key), policyVersion: f.policy_version,
    policySha256: fromHex(v.policy_sha256), now: f.signed_at + 10,
  });
  const revoked = consent.signRevocation(client, receipt, v.revocation.revoked_at);
  assert.equal(hex(revoked.revocation), v.revocation.bytes);
  assert.equal(hex(revoked.signature), v.revocation_signature);
});

test("consent: a receipt of format 2 names the language of the policy text read", () => {
  const v = load("consent");
  const es = v.receipt_with_language;
  const client = checkIdentity(v.client_identity);
  const f = v.fields;
  assert.equal(hex(consent.policyDigest(es.policy_text)), es.policy_sha256);
  const { receipt, signature } = consent.signReceipt(client, {
    workerIdentityKey: fromHex(v.worker_identity_key), policyVersion: f.policy_version, policySha256: fromHex(es.policy_sha256),
    policyLanguage: es.policy_language,
    signedAt: f.signed_at, expiresAt: f.expires_at, discloser: f.discloser, recipient: f.recipient, purpose: f.purpose, information: f.information,
  });
  assert.equal(hex(receipt), es.receipt);
  assert.equal(hex(signature), es.signature);
  const expect = {
    clientIdentityKey: client.public, workerIdentityKey: fromHex(v.worker_identity_key), policyVersion: f.policy_version,
    policySha256: fromHex(es.policy_sha256), now: f.signed_at + 10,
  };
  assert.equal(consent.verifyReceipt(receipt, signature, { ...expect, policyLanguage: "es" }).policyLanguage, "es");
  assert.throws(() => consent.verifyReceipt(receipt, signature, { ...expect, policyLanguage: "en" }), /policy language/);
  // The format 1 vector still decodes, naming no language.
  assert.equal(consent.decodeReceipt(fromHex(v.receipt)).policyLanguage, null);
});

test("key store: the vector store opens, and sealing with its salt and nonce reproduces it", () => {
  const v = load("keystore");
  const cost = { opslimit: v.opslimit, memlimit: v.memlimit };
  const key = keystore.newStoreKey(v.passphrase, cost, fromHex(v.salt));
  assert.equal(hex(keystore.seal(key, fromHex(v.contents), fromHex(v.nonce))), v.store);
  assert.equal(hex(keystore.open(v.passphrase, fromHex(v.store)).plaintext), v.contents);
  assert.throws(() => keystore.open("wrong", fromHex(v.store)));
});

test("HKDF info strings are the ones in the vectors", () => {
  assert.equal(load("x3dh").hkdf.info, "Confide X3DH v1");
  assert.equal(hkdfSha256(utf8("x"), { salt: null, info: utf8(""), length: 32 }).length, 32);
});
