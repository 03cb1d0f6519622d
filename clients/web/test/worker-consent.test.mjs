// The worker's consent handling: a verified hello opens a conversation, a second hello for
// the same invite from a different key is flagged loudly, and a revocation freezes sending.
import { test } from "node:test";
import assert from "node:assert/strict";
import { toB64u } from "../src/shared/b64.js";
import { canSend } from "../src/shared/conversation.js";
import * as engine from "../src/engine/index.js";
import { handleHello, handleRevoke } from "../src/worker/consent.js";
import { Identity } from "../src/crypto/keys.js";

const TAG = "0123456789abcdef0123456789abcdef";

// The handlers announce outcomes to screen readers through a live region; a stand-in
// region is all they need outside a browser.
globalThis.document = { getElementById: () => ({ set textContent(_) {} }) };

function hello(client, worker, now) {
  const { receipt, signature } = engine.consent.signReceipt(client, {
    workerIdentityKey: worker.public, policyVersion: 1, policySha256: new Uint8Array(32),
    signedAt: now, expiresAt: now + 3600, discloser: "d", recipient: "r", purpose: "p", information: "i",
  });
  return {
    v: 1, seq: 1, id: "h", type: "hello", invite: TAG, mailbox: toB64u(new Uint8Array(16)),
    capability: toB64u(new Uint8Array(32).fill(7)), receipt: toB64u(receipt), signature: toB64u(signature),
  };
}

test("hello, key change and revocation", () => {
  const worker = Identity.generate();
  const ws = { engine, state: { conversations: {} }, session: { device: { identity: worker } } };
  const now = Math.floor(Date.now() / 1000);
  const first = Identity.generate();
  const message = hello(first, worker, now);
  const conv = handleHello(ws, first.public, message);
  assert.equal(conv.consent.state, "given");
  assert.ok(canSend(conv));
  conv.verified = true;

  const second = Identity.generate();
  handleHello(ws, second.public, hello(second, worker, now));
  assert.equal(conv.keyChanged, true);
  assert.equal(conv.verified, false);

  const { revocation, signature } = engine.consent.signRevocation(second, Buffer.from(conv.consent.receipt, "base64url"), now);
  handleRevoke(ws, conv, second.public, { id: "r", revocation: toB64u(revocation), signature: toB64u(signature) });
  assert.equal(conv.consent.state, "revoked");
  assert.equal(canSend(conv), false);
});

test("a hello whose receipt was signed by someone else is ignored", () => {
  const worker = Identity.generate();
  const ws = { engine, state: { conversations: {} }, session: { device: { identity: worker } } };
  const now = Math.floor(Date.now() / 1000);
  const signer = Identity.generate();
  const other = Identity.generate();
  assert.equal(handleHello(ws, other.public, hello(signer, worker, now)), null);
  assert.deepEqual(ws.state.conversations, {});
});
