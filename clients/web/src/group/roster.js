// The group's membership list (docs/protocol.md G7): canonical JSON bytes signed by a group
// worker's identity key. Every member checks each new roster against the one it holds
// before it believes a join, a removal or a closing.
import { concatBytes, fromB64u, fromUtf8, toB64u, utf8 } from "../shared/b64.js";

export const MAX_MEMBERS = 32;
const SIGNING_TAG = utf8("Confide group roster v1\0");

export class RosterError extends Error {
  name = "RosterError"; // read by shared/problems.js (class names do not survive minifying)
}

// Python's json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False): keys
// sorted at every level, no spaces; JSON.stringify escapes strings the same way.
export function canonicalJson(value) {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const keys = Object.keys(value).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(value[k])}`).join(",")}}`;
  }
  if (typeof value === "number" && !Number.isSafeInteger(value)) throw new RosterError("rosters hold integers only");
  return JSON.stringify(value);
}

export const rosterBytes = (roster) => utf8(canonicalJson(roster));

export function signRoster(identity, roster) {
  const bytes = rosterBytes(roster);
  return { roster: toB64u(bytes), signature: toB64u(identity.sign(concatBytes(SIGNING_TAG, bytes))) };
}

const isStr = (s, max) => typeof s === "string" && s.length > 0 && s.length <= max;

function checkShape(r) {
  const ok = r && r.v === 1 && isStr(r.group, 32) && Number.isSafeInteger(r.epoch) && r.epoch >= 1
    && isStr(r.name, 80) && typeof r.closed === "boolean" && Number.isSafeInteger(r.timer) && r.timer >= 0
    && isStr(r.signer, 64) && Array.isArray(r.members) && r.members.length <= MAX_MEMBERS
    && r.terms && Number.isSafeInteger(r.terms.version) && typeof r.terms.sha256 === "string"
    && r.change && typeof r.change.op === "string"
    && r.members.every((m) => m && isStr(m.member, 32) && isStr(m.name, 64) && ["worker", "client"].includes(m.role)
      && isStr(m.key, 64) && isStr(m.mailbox, 32) && isStr(m.capability, 64) && Number.isSafeInteger(m.since)
      && m.prekey && Number.isSafeInteger(m.prekey.key_id) && isStr(m.prekey.public_key, 64) && isStr(m.prekey.signature, 128));
  if (!ok) throw new RosterError("malformed roster");
  if (new Set(r.members.map((m) => m.member)).size !== r.members.length) throw new RosterError("a member is listed twice");
}

const hex = (bytes) => Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");

// Verifies a received roster against the held one (or, for a device's first roster, the
// key of the worker it joined through) and returns it parsed. `verify(key, message, sig)`
// throws when the signature is bad (crypto/keys.js verifySignature). A roster of the held
// epoch (two workers signed at once, G7 "Two workers") replaces the held one only if
// `digest` (SHA-256) of its bytes is smaller, and may be signed by a worker of the held
// roster or of `baseWorkers`, those of the roster before it.
export function openRoster(payload, { held, firstSigner, groupId, verify, digest, baseWorkers = [] }) {
  let bytes;
  let roster;
  try {
    bytes = fromB64u(payload.roster);
    roster = JSON.parse(fromUtf8(bytes));
  } catch {
    throw new RosterError("malformed roster");
  }
  checkShape(roster);
  if (canonicalJson(roster) !== fromUtf8(bytes)) throw new RosterError("roster is not in canonical form");
  if (groupId && roster.group !== groupId) throw new RosterError("roster is for another group");
  if (payload.group !== undefined && payload.group !== roster.group) throw new RosterError("roster is for another group");
  const rival = held && roster.epoch === held.epoch;
  const signers = held ? workerKeys(held) : [firstSigner];
  if (!signers.includes(roster.signer) && !(rival && baseWorkers.includes(roster.signer))) {
    throw new RosterError("roster signed by someone who is not a worker of the group");
  }
  verify(fromB64u(roster.signer), concatBytes(SIGNING_TAG, bytes), fromB64u(payload.signature));
  if (held && roster.epoch < held.epoch) throw new RosterError("an old roster");
  if (rival && !(digest && hex(digest(bytes)) < hex(digest(rosterBytes(held))))) {
    throw new RosterError("an old roster (it loses the tie of equal epochs)");
  }
  return { roster, bytes };
}

export const workerKeys = (roster) => roster.members.filter((m) => m.role === "worker").map((m) => m.key);
export const findMember = (roster, key) => roster?.members.find((m) => m.key === key) ?? null;
export const memberById = (roster, id) => roster?.members.find((m) => m.member === id) ?? null;
