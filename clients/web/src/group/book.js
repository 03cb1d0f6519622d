// A device's groups (docs/protocol.md Part 3): pairwise fan-out over one-to-one sessions
// with every other member, a roster signed by a group worker, per-pair sequence numbers,
// and what waits: payloads for a member whose session does not exist yet (the newer member
// opens it with `group-hello`), and payloads from a key no roster has named yet. Both apps
// use it; the worker's own actions (create, invite, admit, remove, close) are admin.js.
//
// A group, as kept in the app's state (plain JSON): {id, name, role, self (member id),
// roster, sendSeq {key: n}, outbox {key: [{payload, ttl}]}, held [{sender, payload}],
// capabilities {key: newest capability}, left [keys], messages, ttl, unread, gone,
// baseWorkers [keys of the previous roster's workers]}.
import { fromB64u, toB64u } from "../shared/b64.js";
import { addMessage, markState } from "../shared/conversation.js";
import { announce } from "../shared/dom.js";
import { t } from "../shared/i18n.js";
import * as relay from "../shared/relay.js";
import { Channel, pointerLength } from "../engine/channel.js";
import * as attachments from "../crypto/attachments.js";
import { verifySignature } from "../crypto/keys.js";
import { sodium } from "../crypto/sodium.js";
import { findMember, memberById, openRoster, workerKeys } from "./roster.js";
import { STAFF_GROUP_KINDS } from "./workers.js";
import { errorText } from "../shared/problems.js";

// Signed prekeys reserved for groups (G2): never uploaded, never rotated away.
export const GROUP_PREKEY_BASE = 0x8000_0000;
const MAX_HELD = 256;
// After a removal the old group capability lives this long, so that envelopes other members
// sealed before the new one reached them are not refused (G8).
export const RETIRE_GRACE_MS = 24 * 3600 * 1000;
const MAX_TEXT = 64 * 1024;

export function newGroup(fields) {
  return {
    id: null, name: "", role: "client", self: null, roster: null, sendSeq: {}, outbox: {}, held: [],
    capabilities: {}, left: [], messages: [], ttl: 0, unread: 0, gone: null, ...fields,
  };
}

const isB64 = (s, bytes) => {
  try {
    return typeof s === "string" && fromB64u(s).length === bytes;
  } catch {
    return false;
  }
};

export const bundleOf = (m) => ({
  identityKey: fromB64u(m.key), signedPrekeyId: m.prekey.key_id, signedPrekey: fromB64u(m.prekey.public_key),
  signedPrekeySignature: fromB64u(m.prekey.signature), oneTimePrekeyId: null, oneTimePrekey: null,
});

function shuffled(items) {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i -= 1) {
    const j = crypto.getRandomValues(new Uint32Array(1))[0] % (i + 1);
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

export class GroupBook {
  // `groups` is the app's saved map of group id -> group; `pendingJoin` a client's join
  // waiting for its first roster ({workerKey, ...fields of the group to be}).
  constructor({ device, messenger, token, ownKey, ownMailbox, groups, save, changed, newId, fit = (s) => s,
    onCall = () => {}, onForget = () => {}, onAccept = null, onLeft = null, notify = () => {}, pendingJoin = null }) {
    Object.assign(this, { device, messenger, token, ownKey, ownMailbox, groups, save, changed, newId, fit,
      onCall, onForget, onAccept, onLeft, notify, pendingJoin });
  }

  // --- who is in it -----------------------------------------------------------------------

  // The members this device sends to: everyone in the roster but itself and those who left.
  recipients(group) {
    if (!group.roster || group.gone) return [];
    return group.roster.members.filter((m) => m.key !== this.ownKey && !group.left.includes(m.key));
  }

  peer(group, m) {
    return { identityKey: fromB64u(m.key), mailboxId: fromB64u(m.mailbox), capability: fromB64u(group.capabilities[m.key] ?? m.capability) };
  }

  // The window a payload counts in (docs/protocol.md G5): per sender and group.
  windowKey(sender, payload) {
    // A worker's invite to be a group worker, and its answer, travel in the staff
    // channel's own order (G7a): filed under a group they would leave a gap there.
    if (STAFF_GROUP_KINDS.has(payload.type)) return sender;
    // A join names no group (the client does not know it yet); its invite proof does.
    if (payload.type === "group-accept") return `${sender}/${this.acceptGroup?.(sender, payload)?.id ?? "?"}`;
    if (typeof payload.type === "string" && payload.type.startsWith("group-") && typeof payload.group === "string") {
      return `${sender}/${payload.group}`;
    }
    return sender;
  }

  // --- sending --------------------------------------------------------------------------

  payload(group, key, type, fields, { id = this.newId(), sequenced = true } = {}) {
    const p = { v: 1, id, type, group: group.id, ...fields };
    if (sequenced) {
      p.seq = group.sendSeq[key] ?? 1;
      group.sendSeq[key] = p.seq + 1;
    }
    return p;
  }

  // Sends now when the pair has a session; otherwise the payload waits for the newer
  // member's group-hello (G4 step 5), already numbered, so the pair's order holds.
  async deliver(group, m, payload, ttl) {
    if (!this.device.session(fromB64u(m.key))) {
      (group.outbox[m.key] ??= []).push({ payload, ttl });
      await this.save();
      return;
    }
    await this.messenger().send(this.peer(group, m), payload, ttl);
  }

  async sendTo(group, m, type, fields, options = {}) {
    await this.deliver(group, m, this.payload(group, m.key, type, fields, options), options.ttl);
  }

  // One payload to every other member, in a fresh random order each time (G11), with the
  // same id for all; resolves when every envelope is queued or held for its session.
  async fanOut(group, type, fields, { id = this.newId(), ttl, sequenced = true, to = this.recipients(group) } = {}) {
    const results = await Promise.allSettled(shuffled(to).map((m) => this.sendTo(group, m, type, fields, { id, ttl, sequenced })));
    const failed = results.filter((r) => r.status === "rejected");
    if (failed.length) throw failed[0].reason;
  }

  async #sendShown(group, type, fields, shown) {
    const id = this.newId();
    const ttl = this.fit(group.ttl) || undefined;
    const to = this.recipients(group);
    addMessage(group, { ...shown, id, mine: true, state: "sending", ttl, waiting: to.map((m) => m.key) });
    await this.changed();
    try {
      await this.fanOut(group, type, { ...fields, ttl }, { id, ttl, to });
      markState(group, [id], "sent");
    } catch (err) {
      markState(group, [id], "failed");
      announce(t("group.notSent", { reason: errorText(err) }));
    }
    await this.changed();
  }

  sendText(group, text) {
    return this.#sendShown(group, "group-text", { text }, { kind: "text", body: text });
  }

  // The attachment is encrypted once and uploaded once; only its pointer (the key) goes to
  // each member (G10).
  async sendFile(group, file) {
    const bytes = new Uint8Array(await file.arrayBuffer());
    const { blob, pointer } = attachments.encryptAttachment(bytes);
    let blobId;
    try {
      blobId = await relay.uploadBlob(this.token(), blob);
    } catch (err) {
      announce(t("group.uploadFailed", { reason: errorText(err) }));
      return;
    }
    const encoded = toB64u(attachments.encodePointer(pointer));
    const mime = file.type || "application/octet-stream";
    await this.#sendShown(group, "group-attachment", { blob: blobId, pointer: encoded, name: file.name, mime },
      { kind: "file", name: file.name, type: mime, size: bytes.length, blobId, pointer: encoded });
  }

  fetchFile(message, onProgress) {
    return new Channel({ token: this.token }).fetchFile(message, onProgress);
  }

  async setTimer(group, ttl) {
    group.ttl = ttl;
    await this.changed();
    await this.fanOut(group, "group-timer", { ttl }).catch(() => {});
  }

  // A member leaves: everyone is told, its own group capability is revoked (nobody can write
  // to it any more), and the group stays on screen as left.
  async leave(group) {
    await this.fanOut(group, "group-leave", {}).catch(() => {});
    await this.#revokeAll(group);
    group.gone = "left";
    addMessage(group, { id: `gone-${group.id}`, kind: "system", body: t("group.event.youLeft") });
    this.onForget(group, null);
    await this.changed();
  }

  // --- receiving --------------------------------------------------------------------------

  // Handles every `group-*` payload; returns false for anything else.
  async receive(sender, p) {
    if (typeof p.type !== "string" || !p.type.startsWith("group-")) return false;
    const key = toB64u(sender);
    // An invite to be a group worker, or a colleague's answer to one (G7a): the worker app's.
    if (STAFF_GROUP_KINDS.has(p.type)) {
      if (this.onStaff) await this.onStaff(key, p);
      return true;
    }
    if (p.type === "group-accept") {
      if (this.onAccept) await this.onAccept(key, p);
      return true;
    }
    if (p.type === "group-roster") {
      await this.#roster(key, p);
      return true;
    }
    const group = typeof p.group === "string" ? this.groups[p.group] : null;
    if (!group?.roster) return true;
    const member = findMember(group.roster, key);
    if (!member) {
      // Perhaps a member from a roster that has not reached this device yet (G4 step 5).
      if (!group.gone && group.held.length < MAX_HELD) group.held.push({ sender: key, payload: p });
      return true;
    }
    if (group.gone || group.left.includes(key) || key === this.ownKey) return true;
    await this.#fromMember(group, member, p);
    return true;
  }

  async #fromMember(group, m, p) {
    const ttl = Number.isInteger(p.ttl) && p.ttl > 0 ? p.ttl : undefined;
    switch (p.type) {
      case "group-hello":
        await this.#flush(group, m);
        break;
      case "group-text":
        if (typeof p.text !== "string" || p.text.length > MAX_TEXT) return;
        if (addMessage(group, { id: p.id, mine: false, kind: "text", body: p.text, ttl, sender: m.name, from: m.member })) this.#arrived(group, m, p);
        break;
      case "group-attachment":
        if (typeof p.blob !== "string" || typeof p.pointer !== "string") return;
        if (addMessage(group, {
          id: p.id, mine: false, kind: "file", name: String(p.name ?? "file").slice(0, 255), type: String(p.mime ?? "").slice(0, 255),
          size: pointerLength(p.pointer), blobId: p.blob, pointer: p.pointer, ttl, sender: m.name, from: m.member,
        })) this.#arrived(group, m, p);
        break;
      case "group-delivered":
        if (Array.isArray(p.ids)) this.#delivered(group, m, p.ids.map(String));
        break;
      case "group-timer":
        if (Number.isInteger(p.ttl) && p.ttl >= 0) group.ttl = this.fit(p.ttl);
        break;
      case "group-capability":
        if (isB64(p.capability, 32)) group.capabilities[m.key] = p.capability;
        break;
      case "group-leave":
        await this.#left(group, m);
        break;
      case "group-call":
        await this.onCall(group, m, p);
        break;
      default:
        if (this.onMemberPayload) await this.onMemberPayload(group, m, p);
    }
  }

  #arrived(group, m, p) {
    group.unread += 1;
    this.notify(group);
    this.sendTo(group, m, "group-delivered", { ids: [p.id] }, { sequenced: false }).catch(() => {});
  }

  #delivered(group, m, ids) {
    for (const message of group.messages) {
      if (!message.mine || !ids.includes(message.id) || !message.waiting) continue;
      message.waiting = message.waiting.filter((k) => k !== m.key);
      if (!message.waiting.length) markState(group, [message.id], "delivered");
    }
  }

  // What waited for this member's session leaves now, in the order it was numbered.
  async #flush(group, m) {
    const waiting = group.outbox[m.key] ?? [];
    delete group.outbox[m.key];
    for (const { payload, ttl } of waiting) await this.messenger().send(this.peer(group, m), payload, ttl).catch(() => {});
  }

  async #left(group, m) {
    if (!group.left.includes(m.key)) group.left.push(m.key);
    delete group.outbox[m.key];
    addMessage(group, { id: `left-${m.member}`, kind: "system", body: t("group.event.left", { name: m.name }) });
    this.onForget(group, m.member);
    if (this.onLeft) await this.onLeft(group, m);
  }

  async #roster(key, p) {
    let group = typeof p.group === "string" ? this.groups[p.group] : null;
    const first = !group && this.pendingJoin;
    if (!group && !first) return;
    // A worker this device answered as a colleague's group worker takes its first roster
    // from the inviting worker only (G7a step 3).
    const firstSigner = first ? this.pendingJoin.workerKey : (group.roster ? null : group.inviter ?? null);
    let opened;
    try {
      opened = openRoster(p, {
        held: group?.roster, firstSigner, groupId: group?.id,
        verify: verifySignature, digest: sodium.crypto_hash_sha256, baseWorkers: group?.baseWorkers,
      });
    } catch {
      // An old, forged or malformed roster changes nothing.
      return;
    }
    if (opened.roster.signer !== key) return;
    if (!group) {
      group = newGroup({ ...this.pendingJoin.fields, id: opened.roster.group, ttl: opened.roster.timer });
      this.groups[group.id] = group;
      this.pendingJoin = null;
    }
    await this.applyRoster(group, opened.roster);
  }

  // Takes a verified roster: shows its change, follows a removal or a closing, opens the
  // sessions this device owes (it is the newer member), and replays what waited for it.
  async applyRoster(group, roster) {
    const before = group.roster;
    const tie = before && roster.epoch === before.epoch;
    // This device's own roster of this epoch lost the tie: its change is signed again on
    // top of the winner (G7 "Two workers"), an addition with the same member entry.
    const lost = tie && before.signer === this.ownKey ? before.change : null;
    const redo = lost?.op === "added" ? memberById(before, lost.member) : null;
    // The workers who may sign a rival of this epoch: those of the roster before it (G7).
    if (!tie) group.baseWorkers = before ? workerKeys(before) : [];
    group.roster = roster;
    group.name = roster.name;
    // A worker signs its next roster with the terms the newest one names, whoever signed it.
    group.terms = roster.terms;
    if (!before || roster.change.op === "timer") group.ttl = this.fit(roster.timer);
    this.#event(group, roster, before);
    const me = findMember(roster, this.ownKey);
    const removed = before ? before.members.filter((m) => !findMember(roster, m.key)) : [];
    for (const m of removed) if (m !== redo) this.onForget(group, m.member);
    group.left = group.left.filter((k) => findMember(roster, k));
    if (!me && tie && !roster.closed && roster.change.member !== group.self) {
      // A rival of the same epoch that only left out this device's addition: the worker
      // who added it signs it in again on top, so it waits rather than leaves (G7).
      await this.changed();
      return;
    }
    if (!me || roster.closed) {
      group.gone = !me ? (roster.change.op === "removed" ? "removed" : "left") : "closed";
      this.onForget(group, null);
      await this.#revokeAll(group);
      await this.changed();
      return;
    }
    group.self = me.member;
    if (removed.length && roster.change.op === "removed") await this.#renew(group);
    for (const m of roster.members) {
      if (m.key === this.ownKey || m.since >= me.since || this.device.session(fromB64u(m.key))) continue;
      this.device.startSession(bundleOf(m));
      // A member the relay no longer takes envelopes for (its device took a rival roster
      // that removed it, G7 "Two workers") must not stop the rest of this roster.
      await this.sendTo(group, m, "group-hello", {}).catch(() => {});
    }
    const held = group.held.splice(0);
    for (const h of held) await this.receive(fromB64u(h.sender), h.payload);
    await this.changed();
    if (lost && this.onLostTie) await this.onLostTie(group, lost, redo);
  }

  #event(group, roster, before) {
    const { op, member } = roster.change;
    const subject = memberById(roster, member) ?? memberById(before, member);
    const name = subject?.name ?? "";
    const mine = subject?.key === this.ownKey;
    const body = {
      created: t("group.event.created", { group: roster.name }),
      added: mine ? t("group.event.youJoined", { group: roster.name }) : t("group.event.joined", { name }),
      removed: mine ? t("group.event.youRemoved") : t("group.event.removed", { name }),
      left: t("group.event.left", { name }),
      closed: t("group.event.closed"),
      renamed: t("group.event.renamed", { group: roster.name }),
      timer: t("group.event.timer"),
      terms: t("group.event.terms", { version: roster.terms.version }),
    }[op];
    // A member's own group-leave and the roster that follows it tell of the same event once.
    const id = op === "left" ? `left-${member}` : `roster-${roster.epoch}`;
    if (body) addMessage(group, { id, kind: "system", body });
  }

  // After a removal every remaining member mints a new group capability and sends it to the
  // others; the old one is revoked a day later (retireDue), after which the removed device
  // can write to nobody's mailbox (G8). Until then what it sends is dropped: it is no member.
  async #renew(group) {
    if (!group.capabilityId) return;
    try {
      const fresh = await relay.mintCapability(this.token(), fromB64u(this.ownMailbox));
      (group.retired ??= []).push({ id: group.capabilityId, at: Date.now() + RETIRE_GRACE_MS });
      group.capabilityId = fresh.id;
      group.capability = toB64u(fresh.secret);
      await this.save();
      await this.fanOut(group, "group-capability", { capability: group.capability });
    } catch (err) {
      announce(t("group.rotateFailed", { reason: errorText(err) }));
    }
  }

  // Revokes the group capabilities whose grace has run out; the apps call it now and then.
  async retireDue(now = Date.now()) {
    for (const group of Object.values(this.groups)) {
      const due = (group.retired ?? []).filter((r) => r.at <= now);
      for (const r of due) {
        try {
          await relay.revokeCapability(this.token(), fromB64u(this.ownMailbox), r.id);
          group.retired = group.retired.filter((x) => x !== r);
        } catch (err) {
          if (err.status === 404) group.retired = group.retired.filter((x) => x !== r);
        }
      }
      if (due.length) await this.save();
    }
  }

  // Leaving, removed or closed: this device's group capabilities, current and retiring, go.
  async #revokeAll(group) {
    const ids = [group.capabilityId, ...(group.retired ?? []).map((r) => r.id)].filter(Boolean);
    group.retired = [];
    for (const id of ids) await relay.revokeCapability(this.token(), fromB64u(this.ownMailbox), id).catch(() => {});
  }
}
