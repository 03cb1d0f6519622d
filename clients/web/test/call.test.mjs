import { test } from "node:test";
import assert from "node:assert/strict";
import { sodium } from "../src/crypto/sodium.js";
import { callCode } from "../src/call/code.js";
import { callPayload, dtlsFingerprint, parseCall } from "../src/call/signal.js";

const FINGERPRINT = Array.from({ length: 32 }, (_, i) => i.toString(16).padStart(2, "0").toUpperCase()).join(":");
const SDP = `v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\na=fingerprint:sha-256 ${FINGERPRINT}\r\n`;

test("call payloads are unsequenced and round-trip through the parser", () => {
  const ring = callPayload("id1", "call1", "ring", { media: "video" });
  assert.equal(ring.type, "call");
  assert.equal(ring.seq, undefined);
  assert.deepEqual(parseCall(ring), { call: "call1", op: "ring", at: ring.at, media: "video" });
  const offer = parseCall(callPayload("id2", "call1", "offer", { sdp: SDP }));
  assert.equal(offer.sdp, SDP);
  const candidate = { candidate: "candidate:1 1 udp 1 127.0.0.1 5000 typ host", sdpMid: "0", sdpMLineIndex: 0 };
  assert.deepEqual(parseCall(callPayload("id3", "call1", "candidate", { candidate })).candidate, candidate);
  assert.equal(parseCall(callPayload("id4", "call1", "end", { reason: "nonsense" })).reason, "hangup");
});

test("malformed call payloads are refused before they reach WebRTC", () => {
  const bad = [
    callPayload("a", "c", "ring", { media: "screen" }),
    callPayload("b", "c", "offer", { sdp: "not an sdp" }),
    callPayload("c", "c", "offer", { sdp: `v=0${"x".repeat(40 * 1024)}` }),
    callPayload("d", "c", "candidate", { candidate: { candidate: 5 } }),
    callPayload("e", "c", "candidate", { candidate: { candidate: "x", sdpMLineIndex: 99 } }),
    callPayload("f", "c", "media", { audio: "yes", video: false }),
    callPayload("g", "c", "teleport"),
    callPayload("h", "", "accept"),
    { ...callPayload("i", "c", "accept"), at: "now" },
    { v: 1, id: "j", type: "text", text: "hi" },
  ];
  for (const p of bad) assert.equal(parseCall(p), null, JSON.stringify(p).slice(0, 80));
});

test("the DTLS fingerprint is read from the session description", () => {
  assert.deepEqual(Array.from(dtlsFingerprint(SDP)), Array.from({ length: 32 }, (_, i) => i));
  assert.equal(dtlsFingerprint("v=0\r\na=fingerprint:sha-1 00:11\r\n"), null);
});

test("both sides compute the same short code, and any other key or fingerprint changes it", () => {
  const key = (n) => new Uint8Array(32).fill(n);
  const a = { identityKey: key(1), fingerprint: key(2) };
  const b = { identityKey: key(3), fingerprint: key(4) };
  const code = callCode(sodium, a, b);
  // Worked out independently with Python's hashlib: BLAKE2b-256 of the label, a zero byte
  // and the two (identity key, fingerprint) pairs in order, first 8 bytes big-endian mod 10^6.
  assert.equal(code, "945 970");
  assert.equal(callCode(sodium, b, a), code);
  assert.notEqual(callCode(sodium, a, { ...b, fingerprint: key(5) }), code);
  assert.notEqual(callCode(sodium, { ...a, identityKey: key(6) }, b), code);
});

test("group call payloads name their group and call, and every field is checked", async () => {
  const { groupCallPayload, parseGroupCall, MAX_PARTICIPANTS } = await import("../src/call/group_signal.js");
  const join = groupCallPayload("id1", "g1", "c1", "join", { media: "video" });
  assert.equal(join.type, "group-call");
  assert.equal(join.seq, undefined);
  assert.deepEqual(parseGroupCall(join), { group: "g1", call: "c1", op: "join", at: join.at, media: "video" });
  assert.deepEqual(parseGroupCall(groupCallPayload("id2", "g1", "c1", "admit", { participants: ["a", "b", "a"] })).participants, ["a", "b"]);
  assert.equal(parseGroupCall(groupCallPayload("id3", "g1", "c1", "offer", { sdp: SDP })).sdp, SDP);
  assert.equal(parseGroupCall(groupCallPayload("id4", "g1", "c1", "refuse", { reason: "nonsense" })).reason, "declined");
  const bad = [
    groupCallPayload("a", "", "c", "join", { media: "video" }),
    groupCallPayload("b", "g", "c", "join", { media: "screen" }),
    groupCallPayload("c", "g", "c", "admit", { participants: Array.from({ length: MAX_PARTICIPANTS }, (_, i) => `m${i}`) }),
    groupCallPayload("d", "g", "c", "admit", { participants: [5] }),
    groupCallPayload("e", "g", "c", "admitted", {}),
    groupCallPayload("f", "g", "c", "offer", { sdp: "not an sdp" }),
    groupCallPayload("g", "g", "c", "ring", { media: "video" }),
    callPayload("h", "c", "join", { media: "video" }),
  ];
  for (const p of bad) assert.equal(parseGroupCall(p), null, JSON.stringify(p).slice(0, 80));
});

test("one code covers the whole group call, the same whatever order the participants come in", async () => {
  const { groupCallCode } = await import("../src/call/code.js");
  const key = (n) => new Uint8Array(32).fill(n);
  const people = [1, 3, 5].map((n) => ({ identityKey: key(n), fingerprint: key(n + 1) }));
  const code = groupCallCode(sodium, people);
  assert.match(code, /^\d{3} \d{3}$/);
  assert.equal(groupCallCode(sodium, [people[2], people[0], people[1]]), code);
  assert.notEqual(groupCallCode(sodium, [people[0], people[1], { ...people[2], fingerprint: key(9) }]), code);
  assert.notEqual(groupCallCode(sodium, people.slice(0, 2)), code);
  // A group code is never the one-to-one code of the same two people.
  assert.notEqual(groupCallCode(sodium, people.slice(0, 2)), callCode(sodium, people[0], people[1]));
});
