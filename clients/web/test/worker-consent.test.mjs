// The worker's consent handling: a hello is bound only to the pending invite whose secret it
// proves (never to a tag it names), an invite binds once, and a revocation freezes sending.
import { test } from "node:test";
import assert from "node:assert/strict";
import { toB64u } from "../src/shared/b64.js";
import { canSend, newConversation } from "../src/shared/conversation.js";
import { inviteProof } from "../src/shared/invite.js";
import * as engine from "../src/engine/index.js";
import { confirmKeyChange, handleHello, handleRevoke } from "../src/worker/consent.js";
import { Identity } from "../src/crypto/keys.js";
import { systemText } from "../src/shared/chatview.js";

// The handlers announce outcomes to screen readers through a live region; a stand-in
// region is all they need outside a browser.
globalThis.document = { getElementById: () => ({ set textContent(_) {} }) };

const secret = () => toB64u(engine.sodium.randombytes_buf(32));

function hello(client, worker, now, fields = {}) {
  const { receipt, signature } = engine.consent.signReceipt(client, {
    workerIdentityKey: worker.public, policyVersion: 1, policySha256: new Uint8Array(32),
    signedAt: now, expiresAt: now + 3600, discloser: "d", recipient: "r", purpose: "p", information: "i",
  });
  return {
    v: 1, seq: 1, id: "h", type: "hello", mailbox: toB64u(new Uint8Array(16)),
    capability: toB64u(new Uint8Array(32).fill(7)), receipt: toB64u(receipt), signature: toB64u(signature), ...fields,
  };
}

function workspace(worker, invites) {
  const conversations = {};
  for (const [key, token] of Object.entries(invites)) {
    conversations[key] = newConversation({ alias: key, consent: { state: "invited" }, invite: { secret: token, expiresAt: null, capabilityId: "first-capability" } });
  }
  return { engine, state: { conversations }, session: { device: { identity: worker } } };
}

const proof = (token, client, worker) => ({ invite_proof: inviteProof(engine.sodium, token, client.public, worker.public) });

test("a hello opens the conversation of the invite it proves, once", () => {
  const worker = Identity.generate();
  const [samToken, spareToken] = [secret(), secret()];
  const ws = workspace(worker, { sam: samToken, spare: spareToken });
  const now = Math.floor(Date.now() / 1000);
  const sam = Identity.generate();
  const conv = handleHello(ws, sam.public, hello(sam, worker, now, proof(samToken, sam, worker)));
  assert.equal(conv, ws.state.conversations.sam);
  assert.equal(conv.consent.state, "given");
  assert.ok(canSend(conv));
  assert.equal(conv.invite, null, "a used invite's secret is forgotten");

  // Another device proving Sam's (used) invite, or naming it, takes nothing over.
  const other = Identity.generate();
  assert.equal(handleHello(ws, other.public, hello(other, worker, now, proof(samToken, other, worker))), null);
  assert.equal(conv.peer.identityKey, toB64u(sam.public));
  assert.equal(conv.keyChange ?? null, null);
  const spare = handleHello(ws, other.public, hello(other, worker, now, { invite: "sam", ...proof(spareToken, other, worker) }));
  assert.equal(spare, ws.state.conversations.spare);
  assert.equal(conv.peer.identityKey, toB64u(sam.public));

  const { revocation, signature } = engine.consent.signRevocation(sam, Buffer.from(conv.consent.receipt, "base64url"), now);
  handleRevoke(ws, conv, sam.public, { id: "r", revocation: toB64u(revocation), signature: toB64u(signature) });
  assert.equal(conv.consent.state, "revoked");
  assert.equal(canSend(conv), false);
});

test("a hello without a valid proof is refused", () => {
  const worker = Identity.generate();
  const token = secret();
  const ws = workspace(worker, { sam: token });
  const now = Math.floor(Date.now() / 1000);
  const device = Identity.generate();
  const stranger = Identity.generate();
  assert.equal(handleHello(ws, device.public, hello(device, worker, now)), null);
  assert.equal(handleHello(ws, device.public, hello(device, worker, now, { invite_proof: "AAAA" })), null);
  // A proof made for another device's key does not transfer.
  assert.equal(handleHello(ws, device.public, hello(device, worker, now, proof(token, stranger, worker))), null);
  assert.equal(ws.state.conversations.sam.peer, null);
});

test("an expired invite still binds a client who opened it in time and agreed later", () => {
  const worker = Identity.generate();
  const token = secret();
  const ws = workspace(worker, { sam: token });
  ws.state.conversations.sam.invite.expiresAt = Math.floor(Date.now() / 1000) - 1;
  const now = Math.floor(Date.now() / 1000);
  const device = Identity.generate();
  assert.equal(handleHello(ws, device.public, hello(device, worker, now, proof(token, device, worker))), ws.state.conversations.sam);
});

test("a hello whose receipt was signed by someone else is ignored", () => {
  const worker = Identity.generate();
  const token = secret();
  const ws = workspace(worker, { sam: token });
  const now = Math.floor(Date.now() / 1000);
  const signer = Identity.generate();
  const other = Identity.generate();
  assert.equal(handleHello(ws, other.public, hello(signer, worker, now, proof(token, other, worker))), null);
  assert.equal(ws.state.conversations.sam.peer, null);
});

test("a rejoin brings a new key that waits for confirmation, then needs its own consent", () => {
  const worker = Identity.generate();
  const token = secret();
  const ws = workspace(worker, { kim: token });
  const now = Math.floor(Date.now() / 1000);
  const old = Identity.generate();
  const conv = handleHello(ws, old.public, hello(old, worker, now, proof(token, old, worker)));
  conv.verified = true;

  // The old key cannot prove the rejoin invite for itself; the new device can.
  const rejoin = secret();
  conv.invite = { secret: rejoin, expiresAt: null };
  assert.equal(handleHello(ws, old.public, hello(old, worker, now, proof(rejoin, old, worker))), null);
  const fresh = Identity.generate();
  assert.equal(handleHello(ws, fresh.public, hello(fresh, worker, now, proof(rejoin, fresh, worker))), conv);
  assert.equal(conv.peer.identityKey, toB64u(old.public), "the old key stays until confirmed");
  assert.equal(conv.keyChange.identityKey, toB64u(fresh.public));
  assert.equal(canSend(conv), false);
  assert.equal(conv.verified, false);
  assert.ok(conv.messages.some((m) => m.kind === "system" && systemText(m).includes("new security key")));

  conv.keyChange.held.push({ v: 1, seq: 2, id: "t", type: "text", text: "hi" });
  conv.sendSeq = 9;
  const { held, retired } = confirmKeyChange(ws, conv);
  assert.deepEqual(held.map((p) => p.id), ["t"]);
  assert.equal(retired, "first-capability", "the old device's capability is named for revocation");
  assert.equal(conv.peer.identityKey, toB64u(fresh.public));
  assert.equal(conv.keyChange, null);
  assert.equal(conv.sendSeq, 1);
  assert.ok(canSend(conv));
  assert.equal(conv.messages.filter((m) => m.kind === "system" && systemText(m).startsWith("Consent given")).length, 2);
});
