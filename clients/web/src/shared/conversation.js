// A conversation as both apps keep it: plain data, so it can be sealed into the vault as
// JSON. Nothing here is ever sent to the relay; aliases and message text live only here.
import { t } from "./i18n.js";

export const TIMER_SECONDS = [0, 5 * 60, 3600, 86400, 7 * 86400];

// The disappearing-timer choices that fit the organisation's maximum retention and its
// allowed timers (settings disappearing_min_seconds and disappearing_max_seconds).
export function timerChoices(maxRetentionSeconds, timers = {}) {
  const fits = (s) => (!maxRetentionSeconds || s <= maxRetentionSeconds)
    && (!timers.min || s >= timers.min) && (!timers.max || s <= timers.max);
  return TIMER_SECONDS.filter((s) => s === 0 || fits(s)).map((seconds) => ({ seconds, label: timerLabel(seconds) }));
}

// The timer a conversation really uses: its own, moved into the organisation's limits. A
// timer chosen before an admin narrowed them, or set by a peer whose app did not know them
// yet, is shortened to the longest allowed (or lengthened to the shortest); off stays off.
export function fitTimer(seconds, maxRetentionSeconds, timers = {}) {
  if (!seconds) return 0;
  const longest = Math.min(timers?.max || Infinity, maxRetentionSeconds || Infinity);
  return Math.min(Math.max(seconds, timers?.min || 0), longest);
}

// A timer in words, in the active language: "Off", "5 minutes", "1 day", "2 weeks", or the
// organisation's own bound in the largest unit that divides it.
export function timerLabel(seconds) {
  if (!seconds) return t("chat.timer.off");
  for (const [unit, key] of [[7 * 86400, "chat.duration.weeks"], [86400, "chat.duration.days"], [3600, "chat.duration.hours"], [60, "chat.duration.minutes"]]) {
    if (seconds % unit === 0) return t(key, { n: seconds / unit });
  }
  return t("chat.duration.seconds", { n: seconds });
}

export function newConversation(fields) {
  return {
    alias: "", peer: null, consent: { state: "none" }, verified: false, verifiedKey: null,
    keyChange: null, ttl: 0, messages: [], unread: 0, archived: false, activeAt: Date.now(), ...fields,
  };
}

export function addMessage(conv, message) {
  if (conv.messages.some((m) => m.id === message.id)) return false;
  const at = message.at ?? Date.now();
  const expiresAt = message.ttl ? at + message.ttl * 1000 : null;
  conv.messages.push({ ...message, at, expiresAt });
  conv.activeAt = Math.max(lastActivity(conv), at);
  return true;
}

// When anything last happened in a conversation (a message either way, a system line), for
// the worker's list. Kept on the conversation, so it survives the messages' own expiry.
export function lastActivity(conv) {
  const newest = conv.messages.reduce((latest, m) => Math.max(latest, m.at ?? 0), 0);
  return Math.max(conv.activeAt ?? 0, newest, conv.invitedAt ?? 0);
}

// A change of the disappearing timer, as a line in the conversation; its text is written
// when shown (chatview.js), so it follows the reader's language.
export function setTimer(conv, ttl, id) {
  if ((conv.ttl ?? 0) === ttl) return false;
  conv.ttl = ttl;
  return addMessage(conv, { id: `timer-${id}`, kind: "system", event: "timer", ttl });
}

// States only move forward (sending, sent, delivered); "failed" replaces only "sending",
// since a message the relay already holds cannot fail any more.
export function markState(conv, ids, state) {
  const rank = { sending: 1, sent: 2, delivered: 3 };
  for (const m of conv.messages) {
    if (!m.mine || !ids.includes(m.id)) continue;
    if (state === "failed" ? m.state === "sending" : rank[state] > (rank[m.state] ?? 0)) m.state = state;
  }
}

// Deletes messages whose disappearing timer ran out; returns whether anything went.
export function expire(conv, now = Date.now()) {
  const before = conv.messages.length;
  conv.messages = conv.messages.filter((m) => !m.expiresAt || m.expiresAt > now);
  return conv.messages.length !== before;
}

// A pending key change stops sending until the user has compared and confirmed the new key.
export function canSend(conv) {
  return Boolean(conv.peer?.capability) && conv.consent.state === "given" && !conv.keyChange;
}

const STATE_KEY = { sending: "chat.stateSending", sent: "chat.stateSent", delivered: "chat.stateDelivered", failed: "chat.stateFailed" };

// A sent message's state in words.
export const stateLabel = (state) => (STATE_KEY[state] ? t(STATE_KEY[state]) : state);

// Aliases as the worker types them: case and accents ignored ("jose" finds "José").
export function fold(text) {
  return String(text ?? "").normalize("NFD").replace(/\p{M}/gu, "").toLocaleLowerCase();
}

// The worker's list: newest activity first, archived conversations apart, filtered by a
// search over the local aliases (which never leave the device).
export function listConversations(conversations, { query = "", archived = false } = {}) {
  const wanted = fold(query.trim());
  return Object.entries(conversations)
    .filter(([, conv]) => conv.peer && Boolean(conv.archived) === archived)
    .filter(([, conv]) => !wanted || fold(conv.alias).includes(wanted))
    .sort(([, a], [, b]) => lastActivity(b) - lastActivity(a));
}

// Whether a conversation's invite can no longer be redeemed: it expired, or it predates the
// secret being kept (such an invite can never be proved, docs/protocol.md E2E §18).
export function inviteExpired(conv, nowSeconds = Math.floor(Date.now() / 1000)) {
  if (!conv.invite?.secret) return !conv.peer;
  return Number.isInteger(conv.invite.expiresAt) && conv.invite.expiresAt <= nowSeconds;
}
