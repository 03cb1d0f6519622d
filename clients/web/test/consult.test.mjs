// The consultation logic without a browser: drafts, case labels, what a received payload
// may do, and expiry. The payloads are the SDK's (confide_client/consultations.py).
import { test } from "node:test";
import assert from "node:assert/strict";
import { caseLabel, draftText, draftToSend, isClientKey, otherNames, prepareDraft, purge, receiveConsult, redactionToken } from "../src/worker/consult.js";
import { applyRedactions, toggle } from "../src/worker/deidentify.js";
import { CATALOGUES, loadLanguage, setLanguage } from "../src/shared/i18n.js";
import RULES from "../../python/src/confide_client/deid_rules.json" with { type: "json" };

await loadLanguage("es");

const conv = {
  alias: "Maria Lopez", names: ["Marisol"],
  messages: [
    { id: "a", kind: "text", mine: false, body: "It's Maria, new number 555-201-7788" },
    { id: "b", kind: "file", mine: false, name: "scan.pdf" },
    { id: "c", kind: "text", mine: true, body: "Thanks Marisol, noted." },
    { id: "d", kind: "text", mine: false, body: "Not this one" },
  ],
};
const never = () => false;

test("the draft holds the question and the chosen text messages, in order, de-identified", () => {
  assert.equal(draftText("Is this OK?", conv, ["c", "a", "b"]), "Is this OK?\n\nExcerpt:\nThem: It's Maria, new number 555-201-7788\nMe: Thanks Marisol, noted.");
  const draft = prepareDraft("Maria asked me something", conv, ["a", "c"]);
  assert.equal(applyRedactions(draft.original, draft.redactions).text,
    "[client] asked me something\n\nExcerpt:\nThem: It's [client], new number [phone]\nMe: Thanks [client], noted.");
});

test("the draft sent uses the worker's language for its tokens, and undone ones as written", () => {
  const draft = prepareDraft("Maria asked me something", conv, ["a"]);
  draft.redactions = toggle(draft.redactions, draft.redactions.length - 1);
  setLanguage("es");
  try {
    // The draft was written in English; only the tokens follow the language now shown.
    assert.equal(draftToSend(draft), "[cliente] asked me something\n\nExcerpt:\nThem: It's [cliente], new number 555-201-7788");
    assert.ok(!draftToSend(draft).includes("[client]"));
  } finally {
    setLanguage("en");
  }
  assert.equal(draftToSend(draft), "[client] asked me something\n\nExcerpt:\nThem: It's [client], new number 555-201-7788");
});

test("the English tokens are the rules' labels, which the Python SDK writes too", () => {
  const labels = { ...RULES.labels };
  for (const rule of RULES.rules) labels[rule.kind] = rule.label ?? labels[rule.kind];
  for (const [kind, label] of Object.entries(labels)) {
    assert.equal(redactionToken({ kind }), label, kind);
    assert.ok(Object.hasOwn(CATALOGUES.es, `consult.token.${kind}`), kind);
  }
});

test("another client's alias and names, from the worker's list, are masked as names", () => {
  const conversations = { a: conv, b: { alias: "Jess R.", names: ["Jessica"] }, c: { alias: "" } };
  const others = otherNames(conversations, conv);
  assert.deepEqual(others, ["Jess R.", "Jessica"]);
  const draft = prepareDraft("Maria met Jessica at group", conv, [], others);
  assert.equal(applyRedactions(draft.original, draft.redactions).text, "[client] met [name] at group");
});

test("case labels are twelve base32 letters in three groups", () => {
  assert.equal(caseLabel(new Uint8Array(8)), "AAAA-AAAA-AAAA");
  assert.match(caseLabel(Uint8Array.from([255, 1, 2, 3, 4, 5, 6, 7])), /^[A-Z2-7]{4}-[A-Z2-7]{4}-[A-Z2-7]{4}$/);
});

test("a question opens a thread on the supervisor's device with no client in it", () => {
  const state = { conversations: {} };
  const event = receiveConsult(state, "W", { type: "consult", case: "K", text: "[client] is scared", device: "dev", worker: "wid" }, 100, never);
  assert.deepEqual(event, { type: "question", label: "K", contactKey: null });
  assert.deepEqual(state.staff.W, { deviceId: "dev", workerId: "wid", sendSeq: 1 });
  assert.equal(state.consultations.K.notes[0].text, "[client] is scared");
  assert.equal(state.consultations.K.asking, false);
});

test("a client's device cannot start a consultation, nor answer one", () => {
  const state = { conversations: {} };
  assert.throws(() => receiveConsult(state, "C", { type: "consult", case: "K", text: "t", device: "d", worker: "w" }, 1, () => true));
  assert.throws(() => receiveConsult(state, "C", { type: "consult-reply", case: "K", text: "t" }, 1, never));
  assert.equal(state.staff.C, undefined);
});

test("a reply lands only in a case this device asked of that colleague", () => {
  const state = {
    conversations: {}, staff: { S: { deviceId: "s", workerId: "sup" }, O: { deviceId: "o", workerId: "other" } },
    consultations: { K: { colleague: "S", asking: true, contactKey: "conv-1", notes: [], closed: false, updatedAt: 1 } },
  };
  assert.throws(() => receiveConsult(state, "O", { type: "consult-reply", case: "K", text: "t" }, 2, never));
  assert.throws(() => receiveConsult(state, "S", { type: "consult-reply", case: "X", text: "t" }, 2, never));
  assert.throws(() => receiveConsult(state, "S", { type: "consult", case: "K", text: "t", device: "s", worker: "sup" }, 2, never));
  assert.deepEqual(receiveConsult(state, "S", { type: "consult-reply", case: "K", text: "Call me" }, 3, never), { type: "reply", label: "K", contactKey: "conv-1" });
  assert.deepEqual(receiveConsult(state, "S", { type: "consult-close", case: "K" }, 4, never), { type: "closed", label: "K" });
  assert.equal(state.consultations.K.closed, true);
});

test("threads go once their last message is older than the retention", () => {
  const state = { consultations: { A: { updatedAt: 100 }, B: { updatedAt: 50 } } };
  assert.equal(purge(state, 149, 50), 1);
  assert.deepEqual(Object.keys(state.consultations), ["A"]);
});

test("a client's new key, still waiting for confirmation, is a client's and cannot consult", () => {
  const conversations = { a: { peer: { identityKey: "old" }, keyChange: { identityKey: "new" } }, b: { peer: null } };
  assert.equal(isClientKey(conversations, "old"), true);
  assert.equal(isClientKey(conversations, "new"), true);
  assert.equal(isClientKey(conversations, "colleague"), false);
  const state = { conversations };
  const consult = { type: "consult", case: "K7Q2-M9XD-4HTB", text: "hi", device: "d", worker: "w" };
  assert.throws(() => receiveConsult(state, "new", consult, 1, (k) => isClientKey(conversations, k)));
});
