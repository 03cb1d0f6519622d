// A conversation as both apps keep it: plain data, so it can be sealed into the vault as
// JSON. Nothing here is ever sent to the relay; aliases and message text live only here.

export const TIMER_CHOICES = [
  { seconds: 0, label: "Off" },
  { seconds: 5 * 60, label: "5 minutes" },
  { seconds: 3600, label: "1 hour" },
  { seconds: 86400, label: "1 day" },
  { seconds: 7 * 86400, label: "1 week" },
];

// The disappearing-timer choices that fit the organisation's maximum retention and its
// allowed timers (settings disappearing_min_seconds and disappearing_max_seconds).
export function timerChoices(maxRetentionSeconds, timers = {}) {
  const fits = (s) => (!maxRetentionSeconds || s <= maxRetentionSeconds)
    && (!timers.min || s >= timers.min) && (!timers.max || s <= timers.max);
  return TIMER_CHOICES.filter((c) => c.seconds === 0 || fits(c.seconds));
}

// The timer a conversation really uses: its own, moved into the organisation's limits. A
// timer chosen before an admin narrowed them, or set by a peer whose app did not know them
// yet, is shortened to the longest allowed (or lengthened to the shortest); off stays off.
export function fitTimer(seconds, maxRetentionSeconds, timers = {}) {
  if (!seconds) return 0;
  const longest = Math.min(timers?.max || Infinity, maxRetentionSeconds || Infinity);
  return Math.min(Math.max(seconds, timers?.min || 0), longest);
}

// A label for a timer that is not one of the usual choices (the organisation's own bound).
export function timerLabel(seconds) {
  const known = TIMER_CHOICES.find((c) => c.seconds === seconds);
  if (known) return known.label;
  for (const [unit, name] of [[86400, "day"], [3600, "hour"], [60, "minute"]]) {
    if (seconds % unit === 0) return `${seconds / unit} ${name}${seconds === unit ? "" : "s"}`;
  }
  return `${seconds} seconds`;
}

export function newConversation(fields) {
  return {
    alias: "", peer: null, consent: { state: "none" }, verified: false, verifiedKey: null,
    keyChange: null, ttl: 0, messages: [], unread: 0, ...fields,
  };
}

export function addMessage(conv, message) {
  if (conv.messages.some((m) => m.id === message.id)) return false;
  const at = message.at ?? Date.now();
  const expiresAt = message.ttl ? at + message.ttl * 1000 : null;
  conv.messages.push({ ...message, at, expiresAt });
  return true;
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

export const STATE_LABEL = { sending: "Sending…", sent: "Sent", delivered: "Delivered", failed: "Not sent" };

// Whether a conversation's invite can no longer be redeemed: it expired, or it predates the
// secret being kept (such an invite can never be proved, docs/protocol.md E2E §18).
export function inviteExpired(conv, nowSeconds = Math.floor(Date.now() / 1000)) {
  if (!conv.invite?.secret) return !conv.peer;
  return Number.isInteger(conv.invite.expiresAt) && conv.invite.expiresAt <= nowSeconds;
}
