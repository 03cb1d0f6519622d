// Call signalling inside the end-to-end channel (docs/calls.md). Each step is one `call`
// payload without `seq` (like `delivered`), so a receiver that does not know calls (the
// Python SDK) drops it, and a lost or tampered one never holds back the conversation's text:
//   {"v": 1, "id", "type": "call", "call": <call id>, "op": <op>, "at": <sender's ms clock>, ...}
// The ops, in the order a call uses them:
//   ring {media: "audio"|"video"}  the caller asks; the callee rings (a worker sees a waiting room)
//   accept | decline {reason?}     the callee's answer to the ring
//   offer {sdp} | answer {sdp}     WebRTC session descriptions: the caller offers after accept
//   candidate {candidate}          trickled ICE candidates ({candidate, sdpMid, sdpMLineIndex})
//   media {audio, video}           the sender muted or unmuted, turned the camera off or on
//   end {reason}                   hang-up, cancel, a closed tab, a lost connection
// The SDP carries each side's DTLS fingerprint, so the media keys are bound to the session.
import { unsequenced } from "../shared/payload.js";

export const OPS = ["ring", "accept", "decline", "offer", "answer", "candidate", "media", "end"];
export const MEDIA = ["audio", "video"];
export const END_REASONS = ["hangup", "cancel", "closed", "failed", "timeout", "busy", "declined", "consent"];

// A session description is a few kilobytes; anything far larger is not one.
const MAX_SDP = 32 * 1024;
const MAX_CANDIDATE = 1024;
const MAX_CALL_ID = 64;

const isShortString = (s, max) => typeof s === "string" && s.length > 0 && s.length <= max;

export function callPayload(id, call, op, fields = {}) {
  return unsequenced("call", id, { call, op, at: Date.now(), ...fields });
}

function validCandidate(c) {
  if (c === null) return true;
  return c !== null && typeof c === "object" && typeof c.candidate === "string" && c.candidate.length <= MAX_CANDIDATE
    && (c.sdpMid === null || c.sdpMid === undefined || isShortString(c.sdpMid, 32))
    && (c.sdpMLineIndex === null || c.sdpMLineIndex === undefined || (Number.isInteger(c.sdpMLineIndex) && c.sdpMLineIndex >= 0 && c.sdpMLineIndex < 16));
}

// Returns the payload's call fields when they are well formed, or null: everything a peer
// sends is checked before it reaches the WebRTC stack.
export function parseCall(p) {
  if (!p || p.type !== "call" || !isShortString(p.call, MAX_CALL_ID) || !OPS.includes(p.op)) return null;
  if (!Number.isFinite(p.at)) return null;
  const base = { call: p.call, op: p.op, at: p.at };
  switch (p.op) {
    case "ring":
      return MEDIA.includes(p.media) ? { ...base, media: p.media } : null;
    case "offer":
    case "answer":
      return isShortString(p.sdp, MAX_SDP) && p.sdp.startsWith("v=0") ? { ...base, sdp: p.sdp } : null;
    case "candidate":
      return validCandidate(p.candidate) ? { ...base, candidate: p.candidate } : null;
    case "media":
      return typeof p.audio === "boolean" && typeof p.video === "boolean" ? { ...base, audio: p.audio, video: p.video } : null;
    case "decline":
    case "end":
      return { ...base, reason: END_REASONS.includes(p.reason) ? p.reason : "hangup" };
    default:
      return base;
  }
}

// The SHA-256 DTLS certificate fingerprint a session description announces, as bytes.
export function dtlsFingerprint(sdp) {
  const match = /^a=fingerprint:sha-256 ([0-9A-Fa-f]{2}(?::[0-9A-Fa-f]{2}){31})\r?$/m.exec(sdp ?? "");
  if (!match) return null;
  return Uint8Array.from(match[1].split(":").map((byte) => parseInt(byte, 16)));
}
