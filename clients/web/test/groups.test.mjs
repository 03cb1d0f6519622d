// Groups in memory (STYLE.md: Alice <-> relay <-> Bob in memory first): a worker's device
// and two client devices with real keys, sessions and sealed envelopes, a relay reduced to
// mailboxes and capabilities, and the web app's group engine on each. Create, join with a
// group receipt, messages from every member, removal (the removed device receives nothing
// more and can write to nobody), leaving, and forged or stale rosters refused.
import { test } from "node:test";
import assert from "node:assert/strict";
import { sodium } from "../src/crypto/sodium.js";
import { Device } from "../src/crypto/device.js";
import { toB64u, fromB64u, fromUtf8, utf8 } from "../src/shared/b64.js";
import { inviteProof } from "../src/shared/invite.js";
import { offer } from "../src/shared/window.js";
import { policyDigest } from "../src/crypto/consent.js";
import { signGroupReceipt, verifyGroupReceipt, decodeGroupReceipt, groupBinding, UNBOUND } from "../src/crypto/group_consent.js";
import { GroupBook, GROUP_PREKEY_BASE, RETIRE_GRACE_MS } from "../src/group/book.js";
import { GroupAdmin } from "../src/group/admin.js";
import { canonicalJson, openRoster, signRoster } from "../src/group/roster.js";
import { acceptedWorker, confirmInvite, inviteFields, readInvite } from "../src/group/workers.js";
import { verifySignature } from "../src/crypto/keys.js";

const TERMS = { version: 1, text: "What others in the group read.", sha256: Buffer.from(policyDigest("What others in the group read.")).toString("hex") };
const newId = () => toB64u(sodium.randombytes_buf(16));

// The relay, as far as groups need it: mailboxes that accept an envelope only with a live
// capability, and the HTTP calls the engine makes (mint, revoke, invites).
class MemoryRelay {
  constructor() {
    this.mailboxes = new Map();
    this.capabilities = new Map();
    this.invites = new Map();
    globalThis.fetch = (path, init) => this.#http(path, init);
  }

  mailbox() {
    const id = toB64u(sodium.randombytes_buf(16));
    this.mailboxes.set(id, []);
    return id;
  }

  mint(mailbox) {
    const id = newId();
    const secret = toB64u(sodium.randombytes_buf(32));
    this.capabilities.set(id, { mailbox, secret, revoked: false });
    return { id, secret };
  }

  accepts(mailbox, capability) {
    return [...this.capabilities.values()].some((c) => c.mailbox === mailbox && c.secret === capability && !c.revoked);
  }

  async #http(path, init) {
    const json = (status, body) => ({ ok: status < 300, status, headers: { get: () => "application/json" }, json: async () => body });
    let m = /^\/v1\/mailboxes\/([^/]+)\/capabilities$/.exec(path);
    if (m && init.method === "POST") {
      const c = this.mint(m[1]);
      return json(201, { capability_id: c.id, capability: c.secret });
    }
    m = /^\/v1\/mailboxes\/([^/]+)\/capabilities\/([^/]+)$/.exec(path);
    if (m && init.method === "DELETE") {
      this.capabilities.get(m[2]).revoked = true;
      return { ok: true, status: 204, headers: { get: () => "" } };
    }
    if (path === "/v1/invites") {
      const token = toB64u(sodium.randombytes_buf(32));
      return json(201, { token, expires_at: 2_000_000_000, capability_id: newId() });
    }
    throw new Error(`unexpected request ${init.method} ${path}`);
  }
}

// One device with its group engine; `send` seals for the peer and queues at its mailbox.
class Member {
  constructor(relay, name, role, device = Device.create()) {
    Object.assign(this, { relay, name, role, device });
    this.key = toB64u(device.identity.public);
    this.mailbox = relay.mailbox();
    this.windows = {};
    this.state = {};
    this.book = new GroupBook({
      device, messenger: () => this, token: () => new Uint8Array(32), ownKey: this.key, ownMailbox: this.mailbox,
      groups: {}, save: async () => {}, changed: async () => {}, newId,
    });
  }

  async send(peer, payload) {
    const mailbox = toB64u(peer.mailboxId);
    if (!this.relay.accepts(mailbox, toB64u(peer.capability))) throw new Error("the relay refuses this capability");
    const body = this.device.encryptTo(peer.identityKey, utf8(JSON.stringify(payload)));
    this.relay.mailboxes.get(mailbox).push(body);
  }

  // Reads this device's mailbox as the Messenger does: decrypt, window, hand to the engine.
  async drain() {
    const queue = this.relay.mailboxes.get(this.mailbox);
    let n = 0;
    while (queue.length) {
      const received = this.device.decryptEnvelope(queue.shift());
      const payload = JSON.parse(fromUtf8(received.plaintext));
      const sender = toB64u(received.senderIdentityKey);
      for (const ready of offer(this.windows, this.book.windowKey(sender, payload), payload)) {
        await this.book.receive(received.senderIdentityKey, ready);
      }
      n += 1;
    }
    return n;
  }

  group() {
    return Object.values(this.book.groups)[0];
  }

  texts() {
    return this.group().messages.filter((m) => m.kind === "text").map((m) => `${m.mine ? "me" : m.sender}: ${m.body}`);
  }
}

async function settle(members) {
  for (let round = 0; round < 20; round += 1) {
    let moved = 0;
    for (const m of members) moved += await m.drain();
    if (!moved) return;
  }
  throw new Error("the members never went quiet");
}

// A client's join as group_client.js does it, against a worker's invite.
async function join(relay, worker, invite, name) {
  const client = new Member(relay, name, "client");
  const workerSpk = worker.device.addSignedPrekey(7);
  const bundle = { identityKey: worker.device.identity.public, signedPrekeyId: 7, signedPrekey: workerSpk.pair.public,
    signedPrekeySignature: workerSpk.signature, oneTimePrekeyId: null, oneTimePrekey: null };
  const now = Math.floor(Date.now() / 1000);
  const { receipt, signature } = signGroupReceipt(client.device.identity, {
    workerIdentityKey: worker.device.identity.public, termsVersion: TERMS.version, termsSha256: policyDigest(TERMS.text),
    signedAt: now, expiresAt: now + 86400, discloser: "me", recipient: "the group", purpose: "peer support", information: "messages",
  });
  const capability = relay.mint(client.mailbox);
  const gspk = client.device.addSignedPrekey(GROUP_PREKEY_BASE + 1);
  client.device.startSession(bundle);
  client.book.pendingJoin = { workerKey: worker.key, fields: { role: "client", capabilityId: capability.id, capability: capability.secret, sendSeq: { [worker.key]: 2 } } };
  const workerCapability = relay.mint(worker.mailbox);
  await client.send({ identityKey: worker.device.identity.public, mailboxId: fromB64u(worker.mailbox), capability: fromB64u(workerCapability.secret) }, {
    v: 1, seq: 1, id: newId(), type: "group-accept", mailbox: client.mailbox, capability: capability.secret,
    prekey: { key_id: gspk.keyId, public_key: toB64u(gspk.pair.public), signature: toB64u(gspk.signature) },
    name, receipt: toB64u(receipt), signature: toB64u(signature), invite_proof: inviteProof(sodium, invite.secret, client.device.identity.public, worker.device.identity.public),
  });
  return client;
}

async function threeMembers() {
  const relay = new MemoryRelay();
  const worker = new Member(relay, "Facilitator", "worker");
  const admin = new GroupAdmin(worker.book, { device: worker.device, state: worker.state, terms: async () => TERMS });
  const group = await admin.create("Tuesday evening group", "Facilitator");
  const ana = await join(relay, worker, await admin.invite(group), "Member 101");
  await settle([worker, ana]);
  const ben = await join(relay, worker, await admin.invite(group), "Member 202");
  await settle([worker, ana, ben]);
  return { relay, worker, admin, group, ana, ben };
}

test("a worker creates a group, two clients join with group receipts, and every member reaches every other", async () => {
  const { worker, group, ana, ben } = await threeMembers();
  assert.deepEqual(group.roster.members.map((m) => m.name), ["Facilitator", "Member 101", "Member 202"]);
  assert.equal(ana.group().id, group.id);
  assert.equal(ben.group().roster.epoch, 3);
  assert.equal(Object.keys(group.receipts).length, 2);
  // Group and members' names never appear outside the envelopes' plaintext.
  await ana.book.sendText(ana.group(), "hello from Ana");
  await ben.book.sendText(ben.group(), "hello from Ben");
  await worker.book.sendText(group, "welcome both");
  await settle([worker, ana, ben]);
  assert.deepEqual(ana.texts(), ["me: hello from Ana", "Member 202: hello from Ben", "Facilitator: welcome both"]);
  assert.deepEqual(ben.texts().sort(), ["Facilitator: welcome both", "Member 101: hello from Ana", "me: hello from Ben"].sort());
  assert.deepEqual(worker.texts().sort(), ["Member 101: hello from Ana", "Member 202: hello from Ben", "me: welcome both"].sort());
  // Delivery receipts come back from every member before a message shows as delivered.
  await settle([worker, ana, ben]);
  assert.equal(ana.group().messages.find((m) => m.body === "hello from Ana").state, "delivered");
});

test("a removed member receives nothing after its removal and can write to nobody", async () => {
  const { relay, worker, admin, group, ana, ben } = await threeMembers();
  const benMember = group.roster.members.find((m) => m.name === "Member 202").member;
  await admin.remove(group, benMember);
  await settle([worker, ana, ben]);
  assert.equal(ben.group().gone, "removed");
  assert.deepEqual(ana.group().roster.members.map((m) => m.name), ["Facilitator", "Member 101"]);
  await ana.book.sendText(ana.group(), "after the removal");
  await settle([worker, ana, ben]);
  assert.ok(worker.texts().includes("Member 101: after the removal"));
  assert.ok(!ben.texts().some((line) => line.includes("after the removal")));
  // Every remaining member minted a new group capability; what Ben sends with his old copy
  // during the day's grace is dropped (he is no member), and after it the relay refuses it.
  const anaEntry = ben.group().roster.members.find((m) => m.name === "Member 101");
  assert.notEqual(ana.group().capability, anaEntry.capability);
  await ben.send(ben.book.peer(ben.group(), anaEntry), ben.book.payload(ben.group(), anaEntry.key, "group-text", { text: "sneaky" }));
  await settle([worker, ana, ben]);
  assert.ok(!ana.texts().some((line) => line.includes("sneaky")));
  await ana.book.retireDue(Date.now());
  assert.equal(relay.accepts(anaEntry.mailbox, anaEntry.capability), true);
  await ana.book.retireDue(Date.now() + RETIRE_GRACE_MS);
  assert.equal(relay.accepts(anaEntry.mailbox, anaEntry.capability), false);
  await assert.rejects(ben.send(ben.book.peer(ben.group(), anaEntry), { v: 1, id: "y", type: "group-text", group: group.id, text: "sneaky" }));
});

test("a member who leaves is dropped by everyone and the worker signs the change", async () => {
  const { worker, group, ana, ben } = await threeMembers();
  await ana.book.leave(ana.group());
  await settle([worker, ana, ben]);
  assert.equal(ana.group().gone, "left");
  assert.equal(group.roster.change.op, "left");
  assert.deepEqual(ben.group().roster.members.map((m) => m.name), ["Facilitator", "Member 202"]);
  await ben.book.sendText(ben.group(), "still here");
  await settle([worker, ana, ben]);
  assert.ok(!ana.texts().some((line) => line.includes("still here")));
});

test("rosters: canonical bytes, a signature only a group worker can make, epochs that only go up", async () => {
  assert.equal(canonicalJson({ b: 1, a: [{ d: "é\n", c: null }] }), '{"a":[{"c":null,"d":"é\\n"}],"b":1}');
  const { group, worker, ana } = await threeMembers();
  const held = group.roster;
  const next = { ...held, epoch: held.epoch + 1, name: "Renamed", change: { op: "renamed", member: null } };
  const opts = { held, groupId: group.id, verify: verifySignature };
  const byWorker = signRoster(worker.device.identity, { ...next, signer: worker.key });
  assert.equal(openRoster({ ...byWorker, group: group.id }, opts).roster.name, "Renamed");
  // A client signing a roster is not a worker of the group.
  const byClient = signRoster(ana.device.identity, { ...next, signer: ana.key });
  assert.throws(() => openRoster(byClient, opts), /not a worker/);
  // A worker's signature over other bytes, and an old epoch, are refused.
  assert.throws(() => openRoster({ roster: signRoster(worker.device.identity, { ...next, signer: worker.key, name: "Other" }).roster, signature: byWorker.signature }, opts), /bad signature/);
  assert.throws(() => openRoster(signRoster(worker.device.identity, { ...held }), opts), /old roster/);
});

// `by` signs the next roster of its group (its held one with `changes`) and sends it to
// each of `to`, as a group worker's device does; returns the signed roster.
async function signAndSend(by, changes, to) {
  const group = by.group();
  const roster = { ...group.roster, epoch: group.roster.epoch + 1, signer: by.key, signed_at: 1, ...changes };
  const signed = signRoster(by.device.identity, roster);
  for (const peer of to) {
    await by.book.sendTo(group, group.roster.members.find((m) => m.key === peer.key), "group-roster", signed);
  }
  return signed;
}

// The first worker signs a roster in which Ben's device is a second group worker.
async function withSecondWorker() {
  const members = await threeMembers();
  const { worker, ana, ben } = members;
  const promoted = worker.group().roster.members.map((m) => (m.key === ben.key ? { ...m, role: "worker" } : m));
  const signed = await signAndSend(worker, { members: promoted, change: { op: "added", member: null } }, [ana, ben]);
  await worker.book.applyRoster(worker.group(), JSON.parse(fromUtf8(fromB64u(signed.roster))));
  await settle([worker, ana, ben]);
  return members;
}

test("a second group worker's rosters are taken by every member; a client naming itself one is not", async () => {
  const { worker, ana, ben } = await withSecondWorker();
  assert.deepEqual(ana.group().roster.members.map((m) => m.role), ["worker", "client", "worker"]);
  // Ana's device signs a roster that makes her a worker and drops the others: refused.
  const epoch = ben.group().roster.epoch;
  const self = ana.group().roster.members.find((m) => m.key === ana.key);
  await signAndSend(ana, { members: [{ ...self, role: "worker" }], change: { op: "removed", member: null } }, [ben]);
  await settle([worker, ana, ben]);
  assert.equal(ben.group().roster.epoch, epoch);
  assert.equal(ben.group().roster.members.length, 3);
  // The second worker removes Ana: the first worker and Ana herself take its roster.
  const kept = ben.group().roster.members.filter((m) => m.key !== ana.key);
  await signAndSend(ben, { members: kept, change: { op: "removed", member: self.member } }, [worker, ana]);
  await settle([worker, ana, ben]);
  assert.equal(ana.group().gone, "removed");
  assert.deepEqual(worker.group().roster.members.map((m) => m.name), ["Facilitator", "Member 202"]);
  assert.equal(worker.group().roster.signer, ben.key);
});

test("two workers' rosters of one epoch: every member keeps the one with the smaller hash", async () => {
  const { worker, ana, ben } = await withSecondWorker();
  const held = ana.group().roster;
  const [first, second] = [
    await signAndSend(worker, { name: "Renamed by the first", change: { op: "renamed", member: null } }, []),
    await signAndSend(ben, { name: "Renamed by the second", change: { op: "renamed", member: null } }, []),
  ];
  const hash = (r) => Buffer.from(sodium.crypto_hash_sha256(fromB64u(r.roster))).toString("hex");
  const [low, high] = hash(first) < hash(second) ? [first, second] : [second, first];
  const opts = { groupId: held.group, verify: verifySignature, digest: sodium.crypto_hash_sha256 };
  const parsed = (r) => JSON.parse(fromUtf8(fromB64u(r.roster)));
  assert.equal(openRoster(low, { ...opts, held: parsed(high) }).roster.name, parsed(low).name);
  assert.throws(() => openRoster(high, { ...opts, held: parsed(low) }), /loses the tie/);
  // Without a digest to compare, a rival is refused as before.
  assert.throws(() => openRoster(low, { held: parsed(high), verify: verifySignature }), /old roster/);
  // Ana's device takes the larger first, then the smaller, and ends on the smaller.
  const signerOf = (r) => (parsed(r).signer === worker.key ? worker : ben);
  for (const r of [high, low]) {
    const by = signerOf(r);
    await by.book.sendTo(by.group(), by.group().roster.members.find((m) => m.key === ana.key), "group-roster", r);
    await settle([worker, ana, ben]);
  }
  assert.equal(ana.group().roster.name, parsed(low).name);
  assert.equal(ana.group().roster.epoch, held.epoch + 1);
});

test("an invite to be a group worker stays in the staff channel's order; a malformed one changes nothing", async () => {
  const { worker, group } = await threeMembers();
  const invite = { v: 1, seq: 4, id: "i", type: "group-worker-invite", group: "another group id" };
  assert.equal(worker.book.windowKey("colleague", invite), "colleague");
  assert.equal(worker.book.windowKey("colleague", { ...invite, type: "group-text", group: group.id }), `colleague/${group.id}`);
  assert.equal(await worker.book.receive(sodium.randombytes_buf(32), { ...invite, group: group.id }), true);
  assert.deepEqual(worker.group().held, []);
});

test("group receipts round-trip, bind the terms and the worker, and a binding names one group", () => {
  const client = Device.create();
  const worker = Device.create();
  const groupId = sodium.randombytes_buf(16);
  const fields = { workerIdentityKey: worker.identity.public, termsVersion: 3, termsSha256: policyDigest("terms"),
    signedAt: 1000, expiresAt: 2000, discloser: "d", recipient: "r", purpose: "p", information: "i" };
  const { receipt, signature } = signGroupReceipt(client.identity, fields);
  assert.deepEqual(decodeGroupReceipt(receipt).groupBinding, UNBOUND);
  const check = { clientIdentityKey: client.identity.public, workerIdentityKey: worker.identity.public, termsVersion: 3, termsSha256: policyDigest("terms"), groupId, now: 1500 };
  assert.equal(verifyGroupReceipt(receipt, signature, check).termsVersion, 3);
  assert.throws(() => verifyGroupReceipt(receipt, signature, { ...check, termsVersion: 4 }), /other group terms/);
  assert.throws(() => verifyGroupReceipt(receipt, signature, { ...check, workerIdentityKey: client.identity.public }), /different worker/);
  assert.throws(() => verifyGroupReceipt(receipt, signature, { ...check, now: 2000 }), /expired/);
  const bound = signGroupReceipt(client.identity, { ...fields, groupBinding: groupBinding(groupId, client.identity.public) });
  assert.ok(verifyGroupReceipt(bound.receipt, bound.signature, check));
  assert.throws(() => verifyGroupReceipt(bound.receipt, bound.signature, { ...check, groupId: sodium.randombytes_buf(16) }), /another group/);
});

test("a client's fresh group receipt is kept only when it is bound to the group", async () => {
  const { worker, group, ana } = await threeMembers();
  const member = group.roster.members.find((m) => m.name === "Member 101").member;
  const before = group.receipts[member];
  const now = Math.floor(Date.now() / 1000);
  const fields = { workerIdentityKey: worker.device.identity.public, termsVersion: TERMS.version, termsSha256: policyDigest(TERMS.text),
    signedAt: now, expiresAt: now + 86400, discloser: "me", recipient: "the group", purpose: "peer support", information: "messages" };
  const unbound = signGroupReceipt(ana.device.identity, fields);
  await ana.book.fanOut(ana.group(), "group-consent", { receipt: toB64u(unbound.receipt), signature: toB64u(unbound.signature) });
  await settle([worker, ana]);
  assert.deepEqual(group.receipts[member], before);
  const bound = signGroupReceipt(ana.device.identity, { ...fields, groupBinding: groupBinding(fromB64u(group.id), ana.device.identity.public) });
  await ana.book.fanOut(ana.group(), "group-consent", { receipt: toB64u(bound.receipt), signature: toB64u(bound.signature) });
  await settle([worker, ana]);
  assert.equal(group.receipts[member].receipt, toB64u(bound.receipt));
});

test("new group terms: a terms roster every member takes, and renewals kept only for those terms", async () => {
  const { worker, admin, group, ana, ben } = await threeMembers();
  assert.deepEqual(admin.awaitingConsent(group), []);
  assert.equal(await admin.refreshTerms(group), false);
  const text = `${TERMS.text} Version two.`;
  // A text that does not match its published hash is never named in a roster.
  admin.terms = async () => ({ version: 2, text, sha256: TERMS.sha256 });
  assert.equal(await admin.refreshTerms(group), false);
  const v2 = { version: 2, text, sha256: Buffer.from(policyDigest(text)).toString("hex") };
  admin.terms = async () => v2;
  assert.equal(await admin.refreshTerms(group), true);
  await settle([worker, ana, ben]);
  for (const m of [worker, ana, ben]) {
    assert.deepEqual(m.group().roster.terms, { version: 2, sha256: v2.sha256 });
    assert.equal(m.group().roster.change.op, "terms");
  }
  assert.deepEqual(admin.awaitingConsent(group).map((m) => m.name), ["Member 101", "Member 202"]);
  const now = Math.floor(Date.now() / 1000);
  const renew = (client, terms) => signGroupReceipt(client.device.identity, {
    workerIdentityKey: worker.device.identity.public, termsVersion: terms.version, termsSha256: policyDigest(terms.text),
    signedAt: now, expiresAt: now + 86400, groupBinding: groupBinding(fromB64u(group.id), client.device.identity.public),
    discloser: "me", recipient: "the group", purpose: "peer support", information: "messages",
  });
  for (const [client, terms] of [[ana, TERMS], [ben, v2]]) {
    const r = renew(client, terms);
    await client.book.sendTo(client.group(), client.group().roster.members.find((m) => m.role === "worker"), "group-consent",
      { receipt: toB64u(r.receipt), signature: toB64u(r.signature) });
  }
  await settle([worker, ana, ben]);
  // Ana renewed for the old terms (refused), Ben for the new ones (kept).
  assert.deepEqual(admin.awaitingConsent(group).map((m) => m.name), ["Member 101"]);
  const kept = group.receipts[group.roster.members.find((m) => m.name === "Member 202").member];
  assert.equal(decodeGroupReceipt(fromB64u(kept.receipt)).termsVersion, 2);
});

// tests/vectors/groups.json, made by confide_crypto's generator: the browser must produce the
// same receipt, binding, roster bytes and signatures byte for byte.
test("the group vectors: receipt, binding, canonical roster bytes and signatures", async () => {
  const { readFileSync } = await import("node:fs");
  const { Identity } = await import("../src/crypto/keys.js");
  const { fromHex, toHex } = await import("../src/shared/b64.js");
  const { encodeGroupReceipt } = await import("../src/crypto/group_consent.js");
  const { rosterBytes } = await import("../src/group/roster.js");
  const v = JSON.parse(readFileSync(new URL("../../../tests/vectors/groups.json", import.meta.url), "utf8"));
  const client = new Identity(fromHex(v.client_identity.seed));
  const worker = new Identity(fromHex(v.worker_identity.seed));
  assert.equal(toHex(groupBinding(fromHex(v.group_id), client.public)), v.group_binding);
  const r = decodeGroupReceipt(fromHex(v.receipt));
  assert.equal(toHex(encodeGroupReceipt(r)), v.receipt);
  const signed = signGroupReceipt(client, { ...r, workerIdentityKey: worker.public });
  // The worker key enters as its fingerprint, which the vector's receipt already holds.
  assert.equal(toHex(r.workerKeyFingerprint), toHex((await import("../src/crypto/keys.js")).fingerprint(worker.public)));
  assert.equal(toHex(signed.receipt), v.receipt);
  assert.equal(toHex(signed.signature), v.signature);
  assert.ok(verifyGroupReceipt(fromHex(v.receipt), fromHex(v.signature), {
    clientIdentityKey: client.public, workerIdentityKey: worker.public, termsVersion: r.termsVersion,
    termsSha256: policyDigest(v.terms_text), groupId: fromHex(v.group_id), now: r.signedAt,
  }));
  assert.equal(toHex(rosterBytes(v.roster)), v.roster_bytes);
  const roster = signRoster(worker, v.roster);
  assert.equal(toHex(fromB64u(roster.signature)), v.roster_signature);
  assert.equal(openRoster(roster, { firstSigner: toB64u(worker.public), verify: verifySignature }).roster.name, "Círculo de los martes");
});

// --- a second group worker over the staff channel (docs/protocol.md G7a) ------------------

// The staff channel as worker/consult.js gives it to GroupAdmin: `directory` is what the
// relay's GET /v1/workers and device bundles say, here for worker devices in memory.
function staffOf(me, directory, clients = []) {
  const peers = {};
  const open = (deviceId) => {
    const other = directory[deviceId].member;
    if (!me.device.session(other.device.identity.public)) {
      const spk = other.device.addSignedPrekey(9);
      me.device.startSession({ identityKey: other.device.identity.public, signedPrekeyId: 9, signedPrekey: spk.pair.public,
        signedPrekeySignature: spk.signature, oneTimePrekeyId: null, oneTimePrekey: null });
    }
    const capability = me.relay.mint(other.mailbox);
    peers[other.key] = { sendSeq: 1, ...peers[other.key], mailbox: other.mailbox, capability: capability.secret };
    return other.key;
  };
  return {
    ownListing: async () => directory[me.deviceId].listing,
    reachColleague: async (deviceId) => open(deviceId),
    checkColleague: async (deviceId, key) => {
      const entry = directory[deviceId];
      if (!entry) return { listed: null, bundleKey: null };
      open(deviceId);
      return { listed: entry.listing, bundleKey: entry.member.key === key ? key : entry.member.key };
    },
    sendStaff: async (key, type, fields) => {
      const peer = peers[key];
      const seq = peer.sendSeq;
      peer.sendSeq += 1;
      await me.send({ identityKey: fromB64u(key), mailboxId: fromB64u(peer.mailbox), capability: fromB64u(peer.capability) },
        { v: 1, seq, id: newId(), type, ...fields });
    },
    isClient: (key) => clients.includes(key),
  };
}

function withWorker(relay, directory, name, workerId, extra = {}) {
  const worker = new Member(relay, name, "worker");
  worker.deviceId = newId();
  directory[worker.deviceId] = { member: worker, listing: { device_id: worker.deviceId, worker_id: workerId, role: "worker" } };
  worker.admin = new GroupAdmin(worker.book, {
    device: worker.device, state: worker.state, terms: async () => TERMS,
    staff: staffOf(worker, directory, extra.clients), workerName: () => name,
  });
  return worker;
}

test("a worker adds a colleague as a group worker, who then removes a client; every member ends on one roster", async () => {
  const { relay, worker, admin, group, ana, ben } = await threeMembers();
  const directory = {};
  worker.deviceId = newId();
  directory[worker.deviceId] = { member: worker, listing: { device_id: worker.deviceId, worker_id: "w-one", role: "worker" } };
  admin.staff = staffOf(worker, directory, [ana.key, ben.key]);
  const colleague = withWorker(relay, directory, "Second worker", "w-two");
  await admin.inviteWorker(group, directory[colleague.deviceId].listing);
  assert.deepEqual(group.workerInvites, [colleague.key]);
  // The colleague checks the invite, answers, and is a worker of the group once the inviting
  // worker's roster reaches it; the group is shown only from then.
  await colleague.drain();
  const joining = colleague.book.groups[group.id];
  assert.equal(joining.roster, null);
  assert.equal(joining.inviter, worker.key);
  await settle([worker, ana, ben, colleague]);
  assert.deepEqual(group.workerInvites, []);
  const names = (m) => m.group().roster.members.map((x) => `${x.name}/${x.role}`);
  const all = ["Facilitator/worker", "Member 101/client", "Member 202/client", "Second worker/worker"];
  for (const m of [worker, ana, ben, colleague]) assert.deepEqual(names(m), all);
  // The added worker signs rosters every member takes: it removes a client.
  const benId = colleague.group().roster.members.find((m) => m.name === "Member 202").member;
  await colleague.admin.remove(colleague.group(), benId);
  await settle([worker, ana, ben, colleague]);
  assert.equal(ben.group().gone, "removed");
  const after = all.filter((n) => n !== "Member 202/client");
  for (const m of [worker, ana, colleague]) assert.deepEqual(names(m), after);
  await colleague.book.sendText(colleague.group(), "hello from the second worker");
  await settle([worker, ana, ben, colleague]);
  assert.ok(ana.texts().includes("Second worker: hello from the second worker"));
  assert.ok(worker.texts().includes("Second worker: hello from the second worker"));
  // An answer nobody asked for (a second one from the same key) signs nothing.
  const epoch = group.roster.epoch;
  const p = { ...inviteFields(colleague.group(), colleague.group().roster.members.at(-1), "d", "w"), name: "again" };
  assert.throws(() => acceptedWorker(group, colleague.key, p, { memberId: newId(), ownKey: worker.key }), /no pending invite/);
  assert.equal(group.roster.epoch, epoch);
});

test("an invite to be a group worker is dropped unless the relay vouches for its sender and its terms are current", async () => {
  const relay = new MemoryRelay();
  const directory = {};
  const inviter = withWorker(relay, directory, "Facilitator", "w-one");
  const group = await inviter.admin.create("Tuesday evening group", "Facilitator");
  const me = group.roster.members[0];
  const p = inviteFields(group, me, inviter.deviceId, "w-one");
  const options = { groups: {}, isClient: () => false };
  const invite = readInvite(p, inviter.key, options);
  assert.equal(invite.inviter.key, inviter.key);
  const listed = directory[inviter.deviceId].listing;
  confirmInvite(invite, { listed, bundleKey: inviter.key, current: TERMS });
  const refused = [
    [() => readInvite(p, inviter.key, { ...options, isClient: () => true }), /client/],
    [() => readInvite(p, inviter.key, { ...options, groups: { [group.id]: {} } }), /knows/],
    [() => readInvite({ ...p, group: "short" }, inviter.key, options), /malformed group/],
    // The prekey is the inviting device's: another key did not sign it.
    [() => readInvite(p, toB64u(Device.create().identity.public), options), /did not sign/],
    [() => readInvite({ ...p, capability: toB64u(new Uint8Array(8)) }, inviter.key, options), /capability/],
    [() => readInvite({ ...p, terms: { version: 1 } }, inviter.key, options), /terms/],
    [() => confirmInvite(invite, { listed: null, bundleKey: inviter.key, current: TERMS }), /does not list/],
    [() => confirmInvite(invite, { listed: { ...listed, worker_id: "w-other" }, bundleKey: inviter.key, current: TERMS }), /does not list/],
    [() => confirmInvite(invite, { listed, bundleKey: toB64u(Device.create().identity.public), current: TERMS }), /another key/],
    [() => confirmInvite(invite, { listed, bundleKey: inviter.key, current: { ...TERMS, version: 2 } }), /other group terms/],
    [() => confirmInvite(invite, { listed, bundleKey: inviter.key, current: null }), /other group terms/],
  ];
  for (const [attempt, why] of refused) assert.throws(attempt, why);
  // Through the device: an invite that names a device the relay lists under another key
  // (the inviter's) than the one that sealed it makes no group and sends nothing back.
  const colleague = withWorker(relay, directory, "Second worker", "w-two");
  const stranger = withWorker(relay, directory, "Stranger", "w-three");
  const strangerStaff = staffOf(stranger, directory);
  const key = await strangerStaff.reachColleague(colleague.deviceId);
  await strangerStaff.sendStaff(key, "group-worker-invite", {
    ...inviteFields(group, me, inviter.deviceId, "w-one"), prekey: await strangerPrekey(stranger),
  });
  await colleague.drain();
  assert.deepEqual(colleague.book.groups, {});
  assert.equal(relay.mailboxes.get(stranger.mailbox).length, 0);
});

async function strangerPrekey(stranger) {
  const spk = stranger.device.addSignedPrekey(GROUP_PREKEY_BASE + 50);
  return { key_id: spk.keyId, public_key: toB64u(spk.pair.public), signature: toB64u(spk.signature) };
}

// Two group workers over the staff channel (G7a) and three clients: the first worker's
// device, a colleague's device it added as a worker, and the clients Ana, Ben and Cara.
async function twoWorkersThreeClients() {
  // What the engine announces to the person (a failed capability renewal) goes nowhere.
  globalThis.document ??= { getElementById: () => ({ set textContent(_) {} }) };
  const members = await threeMembers();
  const { relay, worker, admin, group } = members;
  const cara = await join(relay, worker, await admin.invite(group), "Member 303");
  await settle([worker, members.ana, members.ben, cara]);
  const directory = {};
  worker.deviceId = newId();
  directory[worker.deviceId] = { member: worker, listing: { device_id: worker.deviceId, worker_id: "w-one", role: "worker" } };
  admin.staff = staffOf(worker, directory, [members.ana.key, members.ben.key, cara.key]);
  const colleague = withWorker(relay, directory, "Second worker", "w-two");
  await admin.inviteWorker(group, directory[colleague.deviceId].listing);
  await settle([worker, members.ana, members.ben, cara, colleague]);
  return { ...members, cara, colleague };
}

const rosterNames = (m) => m.group().roster.members.map((x) => x.name).sort();

test("two workers remove different members at one epoch: the one whose roster lost signs its removal again", async () => {
  const { worker, admin, group, ana, ben, cara, colleague } = await twoWorkersThreeClients();
  const epoch = group.roster.epoch;
  const idOf = (name) => group.roster.members.find((m) => m.name === name).member;
  // Both sign epoch + 1 before either hears of the other.
  await admin.remove(group, idOf("Member 101"));
  await colleague.admin.remove(colleague.group(), idOf("Member 202"));
  assert.equal(group.roster.epoch, epoch + 1);
  assert.equal(colleague.group().roster.epoch, epoch + 1);
  const signers = { [worker.key]: group.roster, [colleague.key]: colleague.group().roster };
  const hash = (r) => Buffer.from(sodium.crypto_hash_sha256(utf8(canonicalJson(r)))).toString("hex");
  const [winner, loser] = hash(signers[worker.key]) < hash(signers[colleague.key]) ? [worker, colleague] : [colleague, worker];
  await settle([worker, ana, ben, cara, colleague]);
  const after = ["Facilitator", "Member 303", "Second worker"];
  for (const m of [worker, colleague, cara]) {
    assert.equal(m.group().roster.epoch, epoch + 2);
    assert.deepEqual(rosterNames(m), after);
    // The worker whose roster lost signed its change again on top of the winner's.
    assert.equal(m.group().roster.signer, loser.key);
    assert.equal(m.group().gone, null);
  }
  assert.notEqual(winner.key, loser.key);
  assert.equal(ana.group().gone, "removed");
  assert.equal(ben.group().gone, "removed");
  // The group carries on: what the remaining members send reaches the others only.
  await cara.book.sendText(cara.group(), "still here");
  await settle([worker, ana, ben, cara, colleague]);
  for (const m of [worker, colleague]) assert.ok(m.texts().includes("Member 303: still here"));
  for (const m of [ana, ben]) assert.ok(!m.texts().includes("Member 303: still here"));
});

test("an addition racing a colleague's removal: both end in the roster every member holds", async () => {
  const { relay, worker, admin, group, ana, ben, cara, colleague } = await twoWorkersThreeClients();
  const epoch = group.roster.epoch;
  const benId = group.roster.members.find((m) => m.name === "Member 202").member;
  // Dan's join reaches the first worker, which admits him, while the colleague removes Ben.
  const dan = await join(relay, worker, await admin.invite(group), "Member 404");
  await colleague.admin.remove(colleague.group(), benId);
  await worker.drain();
  assert.equal(group.roster.epoch >= epoch + 1, true);
  await settle([worker, ana, ben, cara, colleague, dan]);
  const after = ["Facilitator", "Member 101", "Member 303", "Member 404", "Second worker"];
  for (const m of [worker, colleague, ana, cara, dan]) {
    assert.equal(m.group().roster.epoch, epoch + 2);
    assert.deepEqual(rosterNames(m), after);
    assert.equal(m.group().gone, null);
  }
  assert.equal(ben.group().gone, "removed");
  await dan.book.sendText(dan.group(), "hello, I am new");
  await settle([worker, ana, ben, cara, colleague, dan]);
  for (const m of [worker, colleague, ana, cara]) assert.ok(m.texts().includes("Member 404: hello, I am new"));
});
