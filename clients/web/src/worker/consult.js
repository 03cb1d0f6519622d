// Consultation with a supervisor: a de-identified draft under a random case label, sent to a
// colleague's device through the relay's colleague capability. The payloads are the Python
// SDK's (confide_client/consultations.py):
//   {"type": "consult", "case", "text", "device", "worker"}   asking worker -> supervisor
//   {"type": "consult-reply", "case", "text"}                 supervisor -> asking worker
//   {"type": "consult-close", "case"}                         either way
// None of them carries the client's contact, device id, identity key, alias, invite or
// consent. Only the asking device's thread names the conversation (`contactKey`).
import { fromB64u, toB64u } from "../shared/b64.js";
import { sequenced } from "../shared/payload.js";
import * as relay from "../shared/relay.js";
import { applyRedactions, findIdentifiers } from "./deidentify.js";
import { t } from "../shared/i18n.js";
import { Explained } from "../shared/explained.js";

export const CONSULT_KINDS = new Set(["consult", "consult-reply", "consult-close"]);
export const DEFAULT_RETENTION_SECONDS = 30 * 86400;
const TEXT_LIMIT = 20000;
const SUPERVISOR = "supervisor";
const BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

// "K7Q2-M9XD-4HTB": 60 random bits, for people to read out, never derived from the client.
export function caseLabel(bytes) {
  let bits = "";
  for (const b of bytes) bits += b.toString(2).padStart(8, "0");
  const letters = Array.from({ length: 12 }, (_, i) => BASE32[parseInt(bits.slice(i * 5, i * 5 + 5), 2)]).join("");
  return `${letters.slice(0, 4)}-${letters.slice(4, 8)}-${letters.slice(8)}`;
}

// The draft's original text: the question, then the chosen messages in conversation order.
export function draftText(question, conv, ids) {
  const chosen = conv.messages.filter((m) => ids.includes(m.id) && m.kind === "text");
  const lines = [question.trim()];
  if (chosen.length) lines.push("", t("consult.excerpt"), ...chosen.map((m) => `${m.mine ? t("consult.me") : t("consult.them")}: ${m.body}`));
  return lines.join("\n");
}

// The worker's list of names: every other conversation's alias and noted names, so a client
// who mentions another client by name does not give them away either.
export function otherNames(conversations, conv) {
  return Object.values(conversations).filter((c) => c !== conv).flatMap((c) => [c.alias, ...(c.names ?? [])]).filter(Boolean);
}

export function prepareDraft(question, conv, ids, others = []) {
  const original = draftText(question, conv, ids);
  return { original, redactions: findIdentifiers(original, { alias: conv.alias, names: conv.names ?? [], others }) };
}

// The token that stands in for a redaction, in the worker's language ("[client]", "[cliente]").
// The draft around it is in that language already (its "Excerpt:" and "Me:" lines), and the
// worker reviews exactly the text that is sent, so the tokens sent are these too; the English
// ones are the rules' labels, the Python SDK's (deid_rules.json).
export const redactionToken = (r) => t(`consult.token.${r.kind}`);

// The reviewed draft as it goes to the supervisor.
export const draftToSend = (draft) => applyRedactions(draft.original, draft.redactions, redactionToken).text;

// Drops threads whose last message is older than the organisation's retention.
export function purge(state, nowSeconds, retention) {
  let gone = 0;
  for (const [label, t] of Object.entries(state.consultations ?? {})) {
    if (t.updatedAt + retention <= nowSeconds) {
      delete state.consultations[label];
      gone += 1;
    }
  }
  return gone;
}

// The other device drops a longer message, so it is refused before it leaves.
function checkText(text) {
  if (!text.trim() || text.length > TEXT_LIMIT) throw new Explained("consult.error.length", { max: TEXT_LIMIT }, `a consultation message has 1 to ${TEXT_LIMIT} characters`);
}

function field(payload, name, limit = 64) {
  const v = payload[name];
  if (typeof v !== "string" || !v || v.length > limit) throw new Error(`consultation field ${name} is malformed`);
  return v;
}

// Whether a key (base64url) is a client's: a conversation's peer, or its new key still
// waiting for the worker's confirmation (a client who rejoined).
export function isClientKey(conversations, key) {
  return Object.values(conversations).some((c) => c.peer?.identityKey === key || c.keyChange?.identityKey === key);
}

// Applies one consultation payload from `sender` (base64url identity key) to the state.
// Returns what happened, or throws for a payload that must be dropped. Pure, like the SDK's.
export function receiveConsult(state, sender, payload, nowSeconds, isClient) {
  const staff = (state.staff ??= {});
  const threads = (state.consultations ??= {});
  const label = field(payload, "case");
  let colleague = staff[sender];
  if (!colleague) {
    if (payload.type !== "consult" || isClient(sender)) throw new Error("a consultation from a device that is not a colleague");
    colleague = staff[sender] = { deviceId: field(payload, "device"), workerId: field(payload, "worker"), sendSeq: 1 };
  }
  let thread = threads[label];
  if (thread && thread.colleague !== sender) throw new Error("a consultation message for another colleague's case");
  if (payload.type === "consult-close") {
    if (!thread) return null;
    Object.assign(thread, { closed: true, updatedAt: nowSeconds });
    return { type: "closed", label };
  }
  const text = field(payload, "text", TEXT_LIMIT);
  if (payload.type === "consult") {
    thread ??= threads[label] = { colleague: sender, asking: false, workerId: colleague.workerId, notes: [], closed: false };
    if (thread.asking) throw new Error("a question under a case this device asked");
  } else if (!thread || !thread.asking) {
    throw new Error("a reply to a consultation this device did not ask");
  }
  thread.notes.push({ mine: false, text, at: nowSeconds });
  thread.updatedAt = nowSeconds;
  return { type: payload.type === "consult" ? "question" : "reply", label, contactKey: thread.contactKey ?? null };
}

// The relay side of consultations for one unlocked worker app (`ws` is the Workspace).
export class Consultations {
  constructor(ws) {
    this.ws = ws;
  }

  get state() {
    return this.ws.state;
  }

  #now() {
    return Math.floor(Date.now() / 1000);
  }

  #retention() {
    return this.state.settings?.consultationRetention ?? DEFAULT_RETENTION_SECONDS;
  }

  purge() {
    return purge(this.state, this.#now(), this.#retention());
  }

  async #roster() {
    return relay.call("GET", "/v1/workers", { token: this.ws.session.token });
  }

  // The staff channel for group workers (docs/protocol.md G7a) ------------------------------

  // The other worker devices the relay lists: the colleagues a group worker may add.
  async colleagues() {
    const own = this.state.deviceId;
    return (await this.#roster()).filter((w) => w.device_id !== own);
  }

  async ownListing() {
    const me = (await this.#roster()).find((w) => w.device_id === this.state.deviceId);
    if (!me) throw new Explained("consult.error.notActive", {}, "the relay does not list this device as active");
    return me;
  }

  reachColleague(deviceId, workerId) {
    return this.#reach(deviceId, workerId);
  }

  isClient(key) {
    return isClientKey(this.state.conversations, key);
  }

  // What the relay says of a device another worker's payload names: its listing and the
  // identity key of its bundle. With a capability to answer it, kept as a staff contact.
  async checkColleague(deviceId, key) {
    const listed = (await this.#roster()).find((w) => w.device_id === deviceId) ?? null;
    if (!listed) return { listed, bundleKey: null };
    try {
      await this.#reach(deviceId, listed.worker_id, key);
    } catch {
      return { listed, bundleKey: null };
    }
    return { listed, bundleKey: key };
  }

  sendStaff(key, type, fields) {
    return this.#send(key, type, fields);
  }

  async supervisors() {
    const own = this.state.deviceId;
    return (await this.#roster()).filter((w) => w.role === SUPERVISOR && w.device_id !== own);
  }

  // A colleague's device: a session (from its bundle, once) and a fresh send capability.
  async #reach(deviceId, workerId, expectedKey = null) {
    const device = this.ws.session.device;
    const staff = (this.state.staff ??= {});
    let key = Object.keys(staff).find((k) => staff[k].deviceId === deviceId && device.session(fromB64u(k)));
    if (!key || expectedKey) {
      const bundle = relay.parseBundle(await relay.call("GET", `/v1/devices/${deviceId}/bundle`, { token: this.ws.session.token }));
      key = toB64u(bundle.identityKey);
      if (expectedKey && key !== expectedKey) throw new Explained("consult.error.otherKey", {}, "that colleague's device has another key than the one that asked");
      if (isClientKey(this.state.conversations, key)) throw new Explained("consult.error.isClient", {}, "that device is one of your clients");
      if (!device.session(bundle.identityKey)) device.startSession(bundle);
    }
    const minted = await relay.call("POST", `/v1/workers/${deviceId}/capabilities`, { token: this.ws.session.token });
    staff[key] = { sendSeq: 1, ...staff[key], deviceId, workerId, mailboxId: minted.mailbox_id, capability: minted.capability };
    return key;
  }

  async #send(key, type, fields) {
    const colleague = this.state.staff[key];
    const payload = sequenced(colleague, type, this.ws.engine.Messenger.newId(), fields);
    await this.ws.session.save();
    await this.ws.messenger.send({
      identityKey: fromB64u(key), mailboxId: fromB64u(colleague.mailboxId), capability: fromB64u(colleague.capability),
    }, payload);
  }

  // Sends a reviewed draft; returns the new case label.
  async ask(supervisorDeviceId, text, contactKey) {
    checkText(text);
    const roster = await this.#roster();
    const target = roster.find((w) => w.device_id === supervisorDeviceId);
    if (!target || target.role !== SUPERVISOR) throw new Explained("consult.error.notSupervisor", {}, "that device is not a supervisor's");
    const me = roster.find((w) => w.device_id === this.state.deviceId);
    if (!me) throw new Explained("consult.error.notActive", {}, "the relay does not list this device as active");
    const key = await this.#reach(target.device_id, target.worker_id);
    const label = caseLabel(this.ws.engine.sodium.randombytes_buf(8));
    const now = this.#now();
    (this.state.consultations ??= {})[label] = {
      colleague: key, asking: true, workerId: me.worker_id, contactKey, supervisorId: target.worker_id,
      notes: [{ mine: true, text, at: now }], updatedAt: now, closed: false,
    };
    await this.#send(key, "consult", { case: label, text, device: this.state.deviceId, worker: me.worker_id });
    return label;
  }

  async #ensureReachable(thread) {
    const colleague = this.state.staff[thread.colleague];
    if (colleague.capability) return;
    // The asker named its own ids inside the consultation: the relay's roster and the
    // device's bundle must agree with them and with the key that sealed the messages.
    const listed = (await this.#roster()).find((w) => w.device_id === colleague.deviceId);
    if (!listed || listed.worker_id !== colleague.workerId) throw new Explained("consult.error.colleagueUnlisted", {}, "the relay does not list that colleague's device");
    await this.#reach(colleague.deviceId, colleague.workerId, thread.colleague);
  }

  async reply(label, text) {
    checkText(text);
    this.purge();
    const thread = this.state.consultations?.[label];
    if (!thread || thread.closed) throw new Explained("consult.error.closed", {}, "this consultation is closed or has expired");
    await this.#ensureReachable(thread);
    const now = this.#now();
    thread.notes.push({ mine: true, text, at: now });
    thread.updatedAt = now;
    const fields = thread.asking
      ? { case: label, text, device: this.state.deviceId, worker: thread.workerId }
      : { case: label, text };
    await this.#send(thread.colleague, thread.asking ? "consult" : "consult-reply", fields);
  }

  async close(label) {
    const thread = this.state.consultations?.[label];
    if (!thread) return;
    await this.#ensureReachable(thread);
    Object.assign(thread, { closed: true, updatedAt: this.#now() });
    await this.#send(thread.colleague, "consult-close", { case: label });
  }

  receive(sender, payload) {
    this.purge();
    const key = toB64u(sender);
    return receiveConsult(this.state, key, payload, this.#now(), (k) => isClientKey(this.state.conversations, k));
  }

  threads(filter = () => true) {
    this.purge();
    return Object.entries(this.state.consultations ?? {}).filter(([, t]) => filter(t)).sort(([, a], [, b]) => b.updatedAt - a.updatedAt);
  }
}
