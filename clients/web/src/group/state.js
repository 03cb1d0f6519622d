// Small facts about a group both apps ask.
import { fromB64u } from "../shared/b64.js";
import { SIGNAL_TTL_SECONDS } from "../call/calls.js";

// Messages go out only while this device is a member of an open group.
export const canSendGroup = (group) => Boolean(group.roster) && !group.gone;

// What a group call needs to know about this group (call/group_calls.js): members by their
// member id, and a way to reach each. Call signalling never waits for a session that does
// not exist yet: a late offer is of no use to anyone.
export function callContext(book, group, identityKey) {
  const byId = (id) => group.roster?.members.find((m) => m.member === id && m.key !== book.ownKey) ?? null;
  const self = group.roster?.members.find((m) => m.key === book.ownKey);
  return {
    name: group.name,
    self: { key: self?.member, worker: self?.role === "worker", identityKey },
    member: (id) => {
      const m = byId(id);
      return m && !group.left.includes(m.key) ? { name: m.name, worker: m.role === "worker", identityKey: fromB64u(m.key) } : null;
    },
    members: () => book.recipients(group).map((m) => m.member),
    send: (id, payload) => {
      const m = byId(id);
      if (!m || !book.device.session(fromB64u(m.key))) return Promise.resolve();
      return book.messenger().send(book.peer(group, m), payload, SIGNAL_TTL_SECONDS);
    },
  };
}
