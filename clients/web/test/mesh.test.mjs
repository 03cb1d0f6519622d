// The group call's rules without a browser: five members' GroupCalls wired together through
// the real payload builder and parser, over a stand-in RTCPeerConnection that only records
// descriptions. Shows the waiting room (no peer connection before a worker admits), that a
// member nobody admitted reaches nobody, and that a fifth participant is refused.
import { test } from "node:test";
import assert from "node:assert/strict";
import { sodium } from "../src/crypto/sodium.js";
import { groupCallPayload, parseGroupCall } from "../src/call/group_signal.js";
import { GroupCall } from "../src/call/mesh.js";

class FakePeerConnection {
  static made = [];

  constructor(config) {
    Object.assign(this, { config, signalingState: "stable", connectionState: "new", localDescription: null, remoteDescription: null });
    this.owner = FakePeerConnection.owner;
    FakePeerConnection.made.push(this);
  }

  static async generateCertificate() {
    return {};
  }

  addTrack() {}

  async createOffer() {
    return { type: "offer", sdp: "v=0\r\n" };
  }

  async createAnswer() {
    return { type: "answer", sdp: "v=0\r\n" };
  }

  async setLocalDescription(d) {
    this.localDescription = d;
    this.signalingState = d.type === "offer" ? "have-local-offer" : "stable";
  }

  async setRemoteDescription(d) {
    this.remoteDescription = d;
    this.signalingState = d.type === "offer" ? "have-remote-offer" : "stable";
  }

  async addIceCandidate() {}

  close() {
    this.connectionState = "closed";
  }
}

globalThis.RTCPeerConnection = FakePeerConnection;
const stream = { getTracks: () => [], getAudioTracks: () => [], getVideoTracks: () => [] };
Object.defineProperty(globalThis, "navigator", { value: { mediaDevices: { getUserMedia: async () => stream } }, configurable: true });

// Worker W and clients A-D; each envelope goes through the real builder and parser, and is
// delivered in order, one at a time, as the relay's mailboxes would.
function groupOfFive() {
  const people = { W: true, A: false, B: false, C: false, D: false };
  const calls = {};
  const queue = [];
  for (const [key, worker] of Object.entries(people)) {
    calls[key] = new GroupCall({
      id: `call-of-${key}`, media: "video", group: "g", sodium,
      self: { key, worker, identityKey: new Uint8Array(32).fill(key.charCodeAt(0)) },
      member: (k) => (k in people && k !== key ? { name: `name-${k}`, worker: people[k], identityKey: new Uint8Array(32).fill(k.charCodeAt(0)) } : null),
      members: () => Object.keys(people).filter((k) => k !== key),
      send: async (to, op, fields) => queue.push({ from: key, to, payload: groupCallPayload("id", "g", `call-of-${key}`, op, fields) }),
      iceConfig: async () => ({ iceServers: [] }),
      onChange: () => {},
    });
  }
  const deliver = async () => {
    while (queue.length) {
      const { from, to, payload } = queue.shift();
      FakePeerConnection.owner = to;
      await calls[to].receive(from, parseGroupCall(payload));
    }
  };
  const enter = async (key) => {
    FakePeerConnection.owner = key;
    await calls[key].enter();
    await deliver();
  };
  const admit = async (key) => {
    FakePeerConnection.owner = "W";
    await calls.W.admit(key);
    await deliver();
  };
  // Hanging everyone up clears the calls' timers, so the test process can end.
  const end = async () => {
    for (const call of Object.values(calls)) await call.hangUp();
    await deliver();
  };
  return { calls, queue, deliver, enter, admit, end };
}

const connectionsOf = (key) => FakePeerConnection.made.filter((pc) => pc.owner === key && pc.connectionState !== "closed");

test("a client waits in the waiting room with no peer connection until a worker admits it", async () => {
  FakePeerConnection.made = [];
  const g = groupOfFive();
  await g.enter("W");
  assert.equal(g.calls.W.state, "in-call");
  assert.equal(g.calls.A.state, "available");
  await g.enter("A");
  assert.equal(g.calls.A.state, "waiting");
  assert.deepEqual([...g.calls.W.knocks.keys()], ["A"]);
  assert.equal(connectionsOf("A").length, 0);
  await g.admit("A");
  assert.equal(g.calls.A.state, "in-call");
  assert.deepEqual([...g.calls.A.links.keys()], ["W"]);
  assert.deepEqual([...g.calls.W.links.keys()], ["A"]);
  assert.equal(connectionsOf("A").length, 1);
  await g.end();
});

test("a member nobody admitted reaches no participant, even by offering directly", async () => {
  FakePeerConnection.made = [];
  const g = groupOfFive();
  await g.enter("W");
  await g.enter("A");
  await g.admit("A");
  // B skips the waiting room: it says it joined, and offers A a link of its own making.
  g.queue.push({ from: "B", to: "A", payload: groupCallPayload("x", "g", "call-of-W", "join", { media: "video" }) });
  g.queue.push({ from: "B", to: "A", payload: groupCallPayload("y", "g", "call-of-W", "offer", { sdp: "v=0\r\n" }) });
  await g.deliver();
  assert.deepEqual([...g.calls.A.links.keys()], ["W"]);
  assert.equal(connectionsOf("A").length, 1);
  // Once a worker admits B, the join A held is taken up and the mesh completes.
  await g.enter("B");
  await g.admit("B");
  assert.deepEqual([...g.calls.A.links.keys()].sort(), ["B", "W"]);
  assert.deepEqual([...g.calls.B.links.keys()].sort(), ["A", "W"]);
  assert.equal(g.calls.W.participants, 3);
  await g.end();
});

test("a fifth participant is refused, and a leave shrinks everyone's mesh", async () => {
  FakePeerConnection.made = [];
  const g = groupOfFive();
  await g.enter("W");
  for (const key of ["A", "B", "C"]) {
    await g.enter(key);
    await g.admit(key);
  }
  for (const key of ["W", "A", "B", "C"]) assert.equal(g.calls[key].participants, 4, key);
  await g.enter("D");
  assert.equal(g.calls.W.full, true);
  await g.admit("D");
  assert.equal(g.calls.D.state, "ended");
  assert.equal(g.calls.D.ended.reason, "full");
  assert.equal(connectionsOf("D").length, 0);
  g.calls.B.hangUp();
  await g.deliver();
  for (const key of ["W", "A", "C"]) assert.equal(g.calls[key].participants, 3, key);
  assert.equal(g.calls.B.state, "ended");
  await g.end();
});
