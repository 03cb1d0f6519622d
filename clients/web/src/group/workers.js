// A group worker adding a colleague as a second group worker (docs/protocol.md G7a), with no
// I/O: the payloads are the SDK's (confide_client/groups/workers.py). The invite and its
// answer travel in the staff channel between the two worker devices (the one consultations
// use), never in a group's windows: the colleague is not a member yet.
//   group-worker-invite  {group, name, terms {version, sha256}, mailbox, capability, prekey, device, worker}
//   group-worker-accept  {group, mailbox, capability, prekey, name}
import { fromB64u } from "../shared/b64.js";
import { signedPrekeyMessage, verifySignature } from "../crypto/keys.js";
import { MAX_MEMBERS, findMember } from "./roster.js";

export const STAFF_GROUP_KINDS = new Set(["group-worker-invite", "group-worker-accept"]);
const NAME_LIMIT = 64;
const GROUP_NAME_LIMIT = 80;
const ID_LIMIT = 64;

export class WorkerInviteError extends Error {
  name = "WorkerInviteError";
}

const fail = (why) => {
  throw new WorkerInviteError(why);
};

const bytesOf = (s, n) => {
  try {
    return typeof s === "string" && fromB64u(s).length === n;
  } catch {
    return false;
  }
};

// The SDK's display_name: trimmed, cut to the limit, the fallback when empty.
export function displayName(value, fallback, limit = NAME_LIMIT) {
  const name = typeof value === "string" ? value.trim() : "";
  return name ? name.slice(0, limit) : fallback;
}

// A group prekey signed by the sender's identity key (b64url), as a roster entry carries it.
export function checkPrekey(key, prekey) {
  if (!prekey || !Number.isSafeInteger(prekey.key_id) || !bytesOf(prekey.public_key, 32) || !bytesOf(prekey.signature, 64)) {
    fail("a malformed group prekey");
  }
  try {
    verifySignature(fromB64u(key), signedPrekeyMessage(prekey.key_id, fromB64u(prekey.public_key)), fromB64u(prekey.signature));
  } catch {
    fail("a group prekey its sender did not sign");
  }
  return { key_id: prekey.key_id, public_key: prekey.public_key, signature: prekey.signature };
}

function reach(p) {
  if (!bytesOf(p.mailbox, 16) || !bytesOf(p.capability, 32)) fail("a malformed mailbox or capability");
  return { mailbox: p.mailbox, capability: p.capability };
}

function terms(value) {
  if (!value || !Number.isSafeInteger(value.version) || typeof value.sha256 !== "string" || !/^[0-9a-f]{64}$/.test(value.sha256)) {
    fail("a group worker invite names no group terms");
  }
  return { version: value.version, sha256: value.sha256 };
}

const idField = (p, name) => (typeof p[name] === "string" && p[name] && p[name].length <= ID_LIMIT ? p[name] : fail(`no ${name} id`));

// (Inviting worker) what goes to the colleague: this device's own roster entry's reach.
export function inviteFields(group, me, deviceId, workerId) {
  return {
    group: group.id, name: group.name, terms: group.terms, mailbox: me.mailbox, capability: group.capability,
    prekey: group.prekey, device: deviceId, worker: workerId,
  };
}

// (Colleague) the invite's checked fields, before anything is asked of the relay: from a
// sender that is not one of this device's clients, for a group this device does not know.
// `sender` is the b64url identity key that sealed it.
export function readInvite(p, sender, { groups, isClient }) {
  if (isClient(sender)) fail("a group worker invite from a client's device");
  if (!bytesOf(p.group, 16)) fail("a group worker invite names a malformed group");
  if (groups[p.group]) fail("a group worker invite for a group this device knows");
  const inviter = { key: sender, role: "worker", ...reach(p), prekey: checkPrekey(sender, p.prekey) };
  return {
    group: p.group, name: displayName(p.name, "Group", GROUP_NAME_LIMIT), terms: terms(p.terms),
    device: idField(p, "device"), worker: idField(p, "worker"), inviter,
  };
}

// (Colleague) whether the relay's word agrees with the invite: `listed` is the relay's entry
// for the named device (GET /v1/workers), `bundleKey` the identity key of its bundle, and
// `current` the organisation's group terms.
export function confirmInvite(invite, { listed, bundleKey, current }) {
  if (!listed || listed.worker_id !== invite.worker) fail("the relay does not list the inviting device as that worker's");
  if (bundleKey !== invite.inviter.key) fail("the inviting device has another key than the one that sealed the invite");
  if (!current || current.version !== invite.terms.version || current.sha256 !== invite.terms.sha256) {
    fail("the invite names other group terms than the current");
  }
}

// (Colleague) the answer, once it has its own group capability and prekey.
export function answerFields(groupId, { mailbox, capability, prekey, name }) {
  return { group: groupId, mailbox, capability, prekey, name };
}

// (Inviting worker) the colleague's roster entry, when its answer matches an invite this
// device made and this device may still sign the group's rosters.
export function acceptedWorker(group, sender, p, { memberId, ownKey }) {
  const roster = group?.roster;
  if (!roster || group.gone || group.role !== "worker" || findMember(roster, ownKey)?.role !== "worker") {
    fail("a group worker accept for a group this device cannot sign");
  }
  if (!(group.workerInvites ?? []).includes(sender) || findMember(roster, sender)) fail("a group worker accept that answers no pending invite");
  if (roster.members.length >= MAX_MEMBERS) fail("the group is full");
  const entry = {
    member: memberId, name: displayName(p.name, "Group worker"), role: "worker", key: sender,
    prekey: checkPrekey(sender, p.prekey), ...reach(p), since: roster.epoch + 1,
  };
  group.workerInvites = group.workerInvites.filter((k) => k !== sender);
  return entry;
}
