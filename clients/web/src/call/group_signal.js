// Group call signalling (docs/calls.md, "Group calls"). A group call is a full mesh of
// one-to-one links between at most MAX_PARTICIPANTS members; every step is one unsequenced
// `group-call` payload sent pairwise inside the group's end-to-end channels, so the relay
// sees ordinary sealed envelopes and never a call, a group or a participant list:
//   {"v": 1, "id", "type": "group-call", "group": <group id>, "call": <call id>, "op": <op>,
//    "at": <sender's ms clock>, ...}
// The ops:
//   join {media}                I am in this call (to every member); participants offer to me
//   knock {media}               a client asks to be let in (to the group's workers)
//   admit {participants}        a worker lets the client in; `participants` are the members it
//                               may take offers from (the worker's view of the call)
//   admitted {member}           a worker tells the participants that `member` was let in
//   refuse {reason}             declined | full: to a knocking client, or to a joiner when full
//   offer {sdp} | answer {sdp}  one link's session descriptions (the participant offers)
//   candidate {candidate}       one link's trickled ICE candidates
//   media {audio, video}        the sender muted or turned the camera off or on
//   leave {reason}              the sender left the call or the waiting room
import { unsequenced } from "../shared/payload.js";
import { MEDIA, parseCall } from "./signal.js";

export const KIND = "group-call";
export const MAX_PARTICIPANTS = 4;
export const GROUP_OPS = ["join", "knock", "admit", "admitted", "refuse", "offer", "answer", "candidate", "media", "leave"];
export const REFUSALS = ["declined", "full"];
export const LEAVE_REASONS = ["hangup", "closed", "failed", "timeout", "removed"];

const MAX_ID = 64;
const isId = (s) => typeof s === "string" && s.length > 0 && s.length <= MAX_ID;

export function groupCallPayload(id, group, call, op, fields = {}) {
  return unsequenced(KIND, id, { group, call, op, at: Date.now(), ...fields });
}

// The payload's call fields when well formed, or null. The per-link ops (offer, answer,
// candidate, media) are checked by the one-to-one parser, so both kinds of call refuse the
// same malformed descriptions before they reach WebRTC.
export function parseGroupCall(p) {
  if (!p || p.type !== KIND || !isId(p.group) || !isId(p.call) || !GROUP_OPS.includes(p.op)) return null;
  if (!Number.isFinite(p.at)) return null;
  const base = { group: p.group, call: p.call, op: p.op, at: p.at };
  switch (p.op) {
    case "join":
    case "knock":
      return MEDIA.includes(p.media) ? { ...base, media: p.media } : null;
    case "admit":
      return Array.isArray(p.participants) && p.participants.length < MAX_PARTICIPANTS && p.participants.every(isId)
        ? { ...base, participants: [...new Set(p.participants)] } : null;
    case "admitted":
      return isId(p.member) ? { ...base, member: p.member } : null;
    case "refuse":
      return { ...base, reason: REFUSALS.includes(p.reason) ? p.reason : "declined" };
    case "leave":
      return { ...base, reason: LEAVE_REASONS.includes(p.reason) ? p.reason : "hangup" };
    default: {
      const link = parseCall({ ...p, type: "call" });
      return link ? { ...link, ...base } : null;
    }
  }
}
