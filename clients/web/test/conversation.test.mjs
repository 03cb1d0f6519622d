// The timer choices both apps offer follow the organisation's limits; invites expire.
import { test } from "node:test";
import assert from "node:assert/strict";
import { addMessage, inviteExpired, markState, newConversation, timerChoices } from "../src/shared/conversation.js";

const offered = (...args) => timerChoices(...args).map((c) => c.seconds);

test("without limits every timer is offered", () => {
  assert.deepEqual(offered(undefined), [0, 300, 3600, 86400, 604800]);
});

test("the retention limit and the allowed timers narrow the choices", () => {
  assert.deepEqual(offered(2 * 86400), [0, 300, 3600, 86400]);
  assert.deepEqual(offered(30 * 86400, { min: 3600, max: 86400 }), [0, 3600, 86400]);
  assert.deepEqual(offered(30 * 86400, { min: 600 }), [0, 3600, 86400, 604800]);
});

// A timer set before the organisation narrowed its limits, or by a peer whose app did not
// know them yet, must not go on being used (issue 15: enforced by both apps).
test("a timer outside the organisation's limits is fitted into them", async () => {
  const { fitTimer } = await import("../src/shared/conversation.js");
  const limits = { min: 3600, max: 86400 };
  assert.equal(fitTimer(0, 30 * 86400, limits), 0); // off stays off
  assert.equal(fitTimer(3600, 30 * 86400, limits), 3600);
  assert.equal(fitTimer(7 * 86400, 30 * 86400, limits), 86400);
  assert.equal(fitTimer(300, 30 * 86400, limits), 3600);
  assert.equal(fitTimer(7 * 86400, 2 * 86400, {}), 2 * 86400); // the retention limit too
  assert.equal(fitTimer(7 * 86400, undefined, undefined), 7 * 86400);
});

test("messages go out with the fitted timer, not the stored one", async () => {
  const { Channel } = await import("../src/engine/channel.js");
  const { fitTimer, newConversation } = await import("../src/shared/conversation.js");
  globalThis.document ??= { getElementById: () => ({ set textContent(_) {} }) };
  const sent = [];
  const messenger = { send: async (_peer, payload, ttl) => { sent.push({ payload, ttl }); } };
  const conv = newConversation({ ttl: 7 * 86400 });
  const channel = new Channel({
    messenger, conv, peer: () => ({}), token: () => null, changed: async () => {},
    fit: (seconds) => fitTimer(seconds, 30 * 86400, { max: 86400 }),
  });
  await channel.sendText("hi");
  assert.equal(sent[0].ttl, 86400);
  assert.equal(sent[0].payload.ttl, 86400);
  assert.equal(conv.messages[0].ttl, 86400);
});

test("an invite expires visibly, and one without its secret can never be redeemed", () => {
  const pending = newConversation({ invite: { secret: "s", expiresAt: 1000 } });
  assert.equal(inviteExpired(pending, 999), false);
  assert.equal(inviteExpired(pending, 1000), true);
  assert.equal(inviteExpired(newConversation({}), 0), true, "an invite from before secrets were kept");
  assert.equal(inviteExpired(newConversation({ peer: { identityKey: "k" } }), 0), false);
});

test("a refused send shows as not sent; a held one never goes back", () => {
  const conv = newConversation({});
  addMessage(conv, { id: "a", mine: true, state: "sending" });
  addMessage(conv, { id: "b", mine: true, state: "sending" });
  markState(conv, ["a"], "failed");
  markState(conv, ["b"], "sent");
  markState(conv, ["b"], "failed");
  assert.deepEqual(conv.messages.map((m) => m.state), ["failed", "sent"]);
});
