// The client's side of a worker key change: confirming moves the worker contact to the new
// key and starts the client's send sequence again at 1, as a new device's window expects.
import { test } from "node:test";
import assert from "node:assert/strict";
import { newConversation } from "../src/shared/conversation.js";
import { confirmWorkerKey } from "../src/join/keychange.js";

test("confirming a worker's new key restarts the client's send sequence at 1", () => {
  const conv = newConversation({ alias: "worker" });
  const client = { worker: { identityKey: "old", mailboxId: "m", capability: "c" }, conv };
  conv.peer = client.worker;
  conv.sendSeq = 7;
  const held = [{ v: 1, seq: 1, id: "a", type: "text", text: "from the new device" }];
  conv.keyChange = { identityKey: "new", at: 0, held };
  const released = confirmWorkerKey(client, conv);
  assert.deepEqual(released, held);
  assert.equal(conv.sendSeq, 1);
  assert.equal(client.worker.identityKey, "new");
  assert.equal(client.worker.mailboxId, "m");
  assert.equal(conv.peer.identityKey, "new");
  assert.equal(conv.keyChange, null);
  assert.ok(conv.messages.some((m) => m.id === "key-confirmed-new"));
});
