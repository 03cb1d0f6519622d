// The worker's list (newest first, archived apart, search by alias ignoring case and
// accents), timer changes as conversation lines, and the bytes a preview accepts.
import { test } from "node:test";
import assert from "node:assert/strict";
import { addMessage, lastActivity, listConversations, newConversation, setTimer, timerLabel } from "../src/shared/conversation.js";
import { sniff } from "../src/shared/files.js";
import { setLanguage, switchLanguage } from "../src/shared/i18n.js";

const peer = { identityKey: "k" };
const conversations = () => ({
  a: newConversation({ alias: "Ana", peer, activeAt: 1000 }),
  j: newConversation({ alias: "José", peer, activeAt: 2000 }),
  r: newConversation({ alias: "Ruth", peer, activeAt: 3000, archived: true }),
  i: newConversation({ alias: "Invited", activeAt: 9000 }),
});
const keys = (entries) => entries.map(([key]) => key);

test("newest activity first; archived and unredeemed invites apart", () => {
  const convs = conversations();
  assert.deepEqual(keys(listConversations(convs)), ["j", "a"]);
  addMessage(convs.a, { id: "m1", kind: "text", body: "hi", at: 5000 });
  assert.equal(lastActivity(convs.a), 5000);
  assert.deepEqual(keys(listConversations(convs)), ["a", "j"]);
  assert.deepEqual(keys(listConversations(convs, { archived: true })), ["r"]);
});

test("activity outlives the messages that made it", () => {
  const conv = newConversation({ alias: "Ana", peer, activeAt: 0 });
  addMessage(conv, { id: "m1", kind: "text", body: "hi", at: 7000 });
  conv.messages = [];
  assert.equal(lastActivity(conv), 7000);
});

test("the search ignores case and accents", () => {
  const convs = conversations();
  assert.deepEqual(keys(listConversations(convs, { query: "jose" })), ["j"]);
  assert.deepEqual(keys(listConversations(convs, { query: "  JOS " })), ["j"]);
  assert.deepEqual(keys(listConversations(convs, { query: "ruth", archived: true })), ["r"]);
  assert.deepEqual(keys(listConversations(convs, { query: "nobody" })), []);
});

test("a timer change is a line in the conversation, once", () => {
  const conv = newConversation({ peer });
  assert.equal(setTimer(conv, 86400, "x1"), true);
  assert.equal(setTimer(conv, 86400, "x2"), false);
  assert.equal(conv.ttl, 86400);
  assert.deepEqual(conv.messages.map((m) => [m.kind, m.event, m.ttl]), [["system", "timer", 86400]]);
});

test("timer labels in both languages", async () => {
  setLanguage("en");
  assert.deepEqual([0, 300, 3600, 86400, 604800, 2 * 86400, 90].map(timerLabel),
    ["Off", "5 minutes", "1 hour", "1 day", "1 week", "2 days", "90 seconds"]);
  // Spanish is a chunk of its own, loaded when chosen.
  await switchLanguage("es");
  assert.deepEqual([0, 3600, 2 * 86400].map(timerLabel), ["Desactivado", "1 hora", "2 días"]);
  setLanguage("en");
});

test("only real image and PDF bytes are previewed, typed by their bytes", () => {
  const bytes = (...b) => new Uint8Array(b);
  const ascii = (s) => new TextEncoder().encode(s);
  assert.equal(sniff(bytes(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0)), "image/png");
  assert.equal(sniff(bytes(0xff, 0xd8, 0xff, 0xe0)), "image/jpeg");
  assert.equal(sniff(ascii("GIF89a")), "image/gif");
  assert.equal(sniff(ascii("RIFF\0\0\0\0WEBPVP8 ")), "image/webp");
  assert.equal(sniff(ascii("%PDF-1.7\n")), "application/pdf");
  assert.equal(sniff(ascii("<svg xmlns='http://www.w3.org/2000/svg'>")), null);
  assert.equal(sniff(ascii("<!doctype html><script>")), null);
  assert.equal(sniff(bytes()), null);
});
