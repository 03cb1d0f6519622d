// What a group's worker does (docs/protocol.md G3, G4, G7, G8): create the group, make
// single-use expiring invite links, admit a client whose group-accept proves an invite and
// carries a valid group receipt, remove a member, close the group. Every change is a new
// roster signed by this device and sent to every member (and to a removed one).
import { fromB64u, fromHex, toB64u, toHex } from "../shared/b64.js";
import { provesInvite } from "../shared/invite.js";
import * as relay from "../shared/relay.js";
import { signedPrekeyMessage, verifySignature } from "../crypto/keys.js";
import { policyDigest } from "../crypto/consent.js";
import { decodeGroupReceipt, verifyGroupReceipt } from "../crypto/group_consent.js";
import { sodium } from "../crypto/sodium.js";
import { GROUP_PREKEY_BASE, newGroup } from "./book.js";
import { MAX_MEMBERS, findMember, memberById, signRoster } from "./roster.js";
import * as workers from "./workers.js";

export const GROUP_INVITE_PREFIX = "g1.";
const MAX_NAME = 64;

const isB64 = (s, bytes) => {
  try {
    return typeof s === "string" && fromB64u(s).length === bytes;
  } catch {
    return false;
  }
};

function validPrekey(clientKey, prekey) {
  if (!prekey || !Number.isSafeInteger(prekey.key_id) || !isB64(prekey.public_key, 32) || !isB64(prekey.signature, 64)) return false;
  try {
    verifySignature(clientKey, signedPrekeyMessage(prekey.key_id, fromB64u(prekey.public_key)), fromB64u(prekey.signature));
    return true;
  } catch {
    return false;
  }
}

// The terms version a kept receipt names (receipts kept before versions were noted are read).
function receiptVersion(kept) {
  if (!kept) return 0;
  if (Number.isSafeInteger(kept.version)) return kept.version;
  try {
    return decodeGroupReceipt(fromB64u(kept.receipt)).termsVersion;
  } catch {
    return 0;
  }
}

const prekeyOut = (spk) => ({ key_id: spk.keyId, public_key: toB64u(spk.pair.public), signature: toB64u(spk.signature) });

export class GroupAdmin {
  // `state` is the worker's saved state (nextGroupPrekey lives there); `terms()` the
  // organisation's current group terms ({version, text, sha256}) or null; `staff` the
  // staff channel to colleagues' devices (worker/consult.js Consultations) and `workerName()`
  // the name this device answers a colleague's group worker invite with.
  constructor(book, { device, state, terms, staff = null, workerName = () => "", now = () => Math.floor(Date.now() / 1000) }) {
    Object.assign(this, { book, device, state, terms, staff, workerName, now });
    book.onAccept = (key, p) => this.accept(key, p);
    book.onStaff = (key, p) => this.#fromColleague(key, p);
    book.acceptGroup = (key, p) => this.acceptGroup(key, p);
    book.onMemberPayload = (group, m, p) => this.#renewal(group, m, p);
    book.onLostTie = (group, lost, redo) => this.#signAgain(group, lost, redo);
    book.onLeft = (group, m) => this.#publish(group, { op: "left", member: m.member }, group.roster.members.filter((x) => x.key !== m.key));
  }

  // This device's reach in a group it is joining: a group prekey (G2) and a group capability.
  async #ownReach() {
    const n = (this.state.nextGroupPrekey ??= 1);
    this.state.nextGroupPrekey = n + 1;
    const spk = this.device.addSignedPrekey(GROUP_PREKEY_BASE + n);
    const capability = await relay.mintCapability(this.book.token(), fromB64u(this.book.ownMailbox));
    return { capabilityId: capability.id, capability: toB64u(capability.secret), prekey: prekeyOut(spk) };
  }

  async create(name, displayName) {
    const terms = await this.terms();
    if (!terms) throw new Error("no-terms");
    const group = newGroup({
      id: this.book.newId(), name, role: "worker", self: this.book.newId(), terms: { version: terms.version, sha256: terms.sha256 },
      ...(await this.#ownReach()), invites: [], receipts: {},
    });
    this.book.groups[group.id] = group;
    const me = {
      member: group.self, name: displayName, role: "worker", key: this.book.ownKey, prekey: group.prekey,
      mailbox: this.book.ownMailbox, capability: group.capability, since: 1,
    };
    await this.#publish(group, { op: "created", member: group.self }, [me]);
    return group;
  }

  // A relay invite like a one-to-one one; only this device knows it is for this group.
  async invite(group) {
    if (group.roster.members.length + group.invites.length >= MAX_MEMBERS) throw new Error("full");
    const invite = await relay.createInvite(this.book.token());
    const entry = { secret: invite.secret, expiresAt: invite.expiresAt, capabilityId: invite.capabilityId };
    group.invites.push(entry);
    await this.book.changed();
    return entry;
  }

  async cancelInvite(group, entry) {
    await relay.cancelInvite(this.book.token(), entry.capabilityId).catch((err) => {
      if (err.status !== 404) throw err;
    });
    group.invites = group.invites.filter((i) => i !== entry);
    await this.book.changed();
  }

  // The group whose pending invite the join proves, if any (a join is never bound by
  // anything it merely names).
  acceptGroup(key, p) {
    for (const group of Object.values(this.book.groups)) {
      if (group.role !== "worker" || group.gone) continue;
      const invite = (group.invites ?? []).find((i) => provesInvite(sodium, p.invite_proof, i.secret, fromB64u(key), this.device.identity.public));
      if (invite) return group;
    }
    return null;
  }

  async accept(key, p) {
    const group = this.acceptGroup(key, p);
    if (!group || group.roster.members.length >= MAX_MEMBERS) return;
    if (p.group !== undefined && p.group !== group.id) return;
    const clientKey = fromB64u(key);
    const name = typeof p.name === "string" ? p.name.trim() : "";
    if (!name || name.length > MAX_NAME || !isB64(p.mailbox, 16) || !isB64(p.capability, 32) || !validPrekey(clientKey, p.prekey)) return;
    const terms = await this.terms();
    try {
      verifyGroupReceipt(fromB64u(p.receipt), fromB64u(p.signature), {
        clientIdentityKey: clientKey, workerIdentityKey: this.device.identity.public, termsVersion: terms?.version,
        termsSha256: terms ? fromHex(terms.sha256) : null, groupId: fromB64u(group.id), now: this.now(),
      });
    } catch {
      return;
    }
    group.invites = group.invites.filter((i) => !provesInvite(sodium, p.invite_proof, i.secret, clientKey, this.device.identity.public));
    const member = this.book.newId();
    group.receipts[member] = { receipt: p.receipt, signature: p.signature, version: terms.version };
    group.terms = { version: terms.version, sha256: terms.sha256 };
    const entry = {
      member, name, role: "client", key, prekey: p.prekey, mailbox: p.mailbox, capability: p.capability,
      since: group.roster.epoch + 1,
    };
    await this.#publish(group, { op: "added", member }, [...group.roster.members, entry]);
  }

  // New group terms (G6 `group-consent`): the organisation published a version the roster
  // does not name yet, so this device signs a roster naming it (change `terms`). Each client
  // member is then shown the new terms and asked to consent again; the roster's worker
  // signature on the terms' SHA-256 is what a client checks the text it fetches against.
  async refreshTerms(group) {
    if (group.role !== "worker" || group.gone || !group.roster) return false;
    const terms = await this.terms();
    if (!terms || terms.version <= (group.terms?.version ?? 0) || toHex(policyDigest(terms.text)) !== terms.sha256) return false;
    group.terms = { version: terms.version, sha256: terms.sha256 };
    await this.#publish(group, { op: "terms", member: null }, group.roster.members);
    return true;
  }

  // A client's fresh group receipt: kept when it checks out against the terms the held
  // roster names (as the SDK checks it) and is bound to this group.
  async #renewal(group, m, p) {
    if (p.type !== "group-consent" || m.role !== "client" || typeof p.receipt !== "string" || typeof p.signature !== "string") return;
    const terms = group.roster?.terms;
    if (!terms) return;
    try {
      const r = verifyGroupReceipt(fromB64u(p.receipt), fromB64u(p.signature), {
        clientIdentityKey: fromB64u(m.key), workerIdentityKey: this.device.identity.public, termsVersion: terms.version,
        termsSha256: fromHex(terms.sha256), groupId: fromB64u(group.id), now: this.now(),
      });
      if (r.groupBinding.every((b) => b === 0)) return;
    } catch {
      return;
    }
    (group.receipts ??= {})[m.member] = { receipt: p.receipt, signature: p.signature, version: terms.version };
    await this.book.changed();
  }

  // The client members whose newest receipt this device holds is for older terms than the
  // roster's (or who sent it none: a member who joined through another worker renews to
  // every worker, but its first receipt went to that worker only).
  awaitingConsent(group) {
    const version = group.roster?.terms?.version ?? 0;
    return (group.roster?.members ?? []).filter((m) => m.role === "client" && !group.left.includes(m.key)
      && receiptVersion(group.receipts?.[m.member]) < version);
  }

  // --- a second group worker (G7a) -------------------------------------------------------

  // Invites a colleague's device (an entry of GET /v1/workers) to be a worker of the group,
  // in the staff channel; the roster that adds it is signed when its answer arrives.
  async inviteWorker(group, colleague) {
    const own = await this.staff.ownListing();
    if (colleague.device_id === own.device_id) throw new Error("self");
    if (group.roster.members.length + group.invites.length >= MAX_MEMBERS) throw new Error("full");
    const key = await this.staff.reachColleague(colleague.device_id, colleague.worker_id);
    if (findMember(group.roster, key)) throw new Error("member");
    group.workerInvites = [...(group.workerInvites ?? []).filter((k) => k !== key), key];
    const me = findMember(group.roster, this.book.ownKey);
    await this.staff.sendStaff(key, "group-worker-invite", workers.inviteFields(group, me, own.device_id, own.worker_id));
    await this.book.changed();
  }

  // The colleagues whose invite to be a group worker is unanswered, by device id.
  invitedWorkers(group) {
    const staff = this.state.staff ?? {};
    return (group.workerInvites ?? []).map((k) => staff[k]?.deviceId).filter(Boolean);
  }

  async #fromColleague(key, p) {
    try {
      if (p.type === "group-worker-invite") await this.#answerInvite(key, p);
      else await this.#acceptWorker(key, p);
    } catch {
      // A payload that fails its checks (or that the relay does not vouch for) is dropped,
      // and nothing is sent (G7a step 2).
    }
  }

  // (Colleague) checks the invite with the relay, then answers it and waits for the
  // inviting worker's roster, which makes this device a worker of the group.
  async #answerInvite(key, p) {
    if (!this.staff) return;
    const invite = workers.readInvite(p, key, { groups: this.book.groups, isClient: (k) => this.staff.isClient(k) });
    const checked = await this.staff.checkColleague(invite.device, key);
    workers.confirmInvite(invite, { ...checked, current: await this.terms() });
    const reach = await this.#ownReach();
    this.book.groups[invite.group] = newGroup({
      id: invite.group, name: invite.name, role: "worker", self: null, terms: invite.terms, ...reach,
      invites: [], receipts: {}, inviter: key,
    });
    await this.book.save();
    const name = workers.displayName(this.workerName(), "Group worker");
    await this.staff.sendStaff(key, "group-worker-accept", workers.answerFields(invite.group, {
      mailbox: this.book.ownMailbox, capability: reach.capability, prekey: reach.prekey, name,
    }));
  }

  // (Inviting worker) signs the roster that adds the colleague as a worker.
  async #acceptWorker(key, p) {
    const group = typeof p.group === "string" ? this.book.groups[p.group] : null;
    const entry = workers.acceptedWorker(group, key, p, { memberId: this.book.newId(), ownKey: this.book.ownKey });
    await this.#publish(group, { op: "added", member: entry.member }, [...group.roster.members, entry]);
  }

  async remove(group, memberId) {
    const m = memberById(group.roster, memberId);
    if (!m || m.key === this.book.ownKey) return;
    await this.#publish(group, { op: "removed", member: memberId }, group.roster.members.filter((x) => x !== m), [m]);
  }

  async close(group) {
    await this.#publish(group, { op: "closed", member: null }, group.roster.members, [], true);
  }

  // This device's roster of the held epoch lost the tie to a colleague's (G7 "Two workers"):
  // its change is signed again on top of the winner, as the SDK does. An addition keeps
  // the member's entry (member id, and the pair state this device kept by key); a removal
  // is sent to the removed member again; a change the winner already made is not repeated.
  async #signAgain(group, lost, redo) {
    const roster = group.roster;
    const me = findMember(roster, this.book.ownKey);
    if (!me || me.role !== "worker" || group.gone) return;
    if (redo && !findMember(roster, redo.key)) {
      if (roster.members.length < MAX_MEMBERS) await this.#publish(group, { op: "added", member: redo.member }, [...roster.members, redo]);
      return;
    }
    const target = memberById(roster, lost.member);
    const others = roster.members.filter((m) => m !== target);
    if (lost.op === "removed" && target && target !== me) await this.#publish(group, { op: "removed", member: target.member }, others, [target]);
    else if (lost.op === "left" && target && target !== me) await this.#publish(group, { op: "left", member: target.member }, others);
    else if (lost.op === "closed" && !roster.closed) await this.close(group);
  }

  // Signs the next roster, takes it here first, then sends it to every member in it and to
  // `extra` (a removed member learns of its removal).
  async #publish(group, change, members, extra = [], closed = false) {
    const current = members.map((m) => ({
      ...m, capability: m.key === this.book.ownKey ? group.capability : (group.capabilities[m.key] ?? m.capability),
    }));
    const roster = {
      v: 1, group: group.id, epoch: (group.roster?.epoch ?? 0) + 1, name: group.name, terms: group.terms,
      timer: group.ttl ?? 0, closed, signed_at: this.now(), signer: this.book.ownKey, change, members: current,
    };
    const signed = signRoster(this.device.identity, roster);
    await this.book.applyRoster(group, roster);
    const to = [...current, ...extra].filter((m) => m.key !== this.book.ownKey);
    await Promise.allSettled(to.map((m) => this.book.sendTo(group, m, "group-roster", { roster: signed.roster, signature: signed.signature })));
    await this.book.changed();
  }
}
