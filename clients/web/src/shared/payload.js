// What travels inside the end-to-end channel: one JSON object per envelope, the same format
// as the Python SDK's (confide_client.messages), so web and SDK devices talk to each other:
//   {"v": 1, "seq": n, "id": "...", "type": "text", "text": "..."}
//   {"v": 1, "seq": n, "id": "...", "type": "attachment", "blob", "pointer", "name", "mime"}
//   {"v": 1, "seq": n, "id": "...", "type": "hello", "mailbox", "capability", "device",
//    "receipt", "signature", "invite_proof"}   (docs/protocol.md E2E §18)
//   {"v": 1, "seq": n, "id": "...", "type": "revoke", "revocation", "signature"}
// `seq` counts from 1 per conversation and direction. Two web-only kinds carry no `seq`, so a
// receiver that does not know them (the SDK) drops them without leaving a gap in its order:
//   {"v": 1, "id": "...", "type": "delivered", "ids": [...]}   a delivery receipt
//   {"v": 1, "id": "...", "type": "timer", "ttl": seconds}      the disappearing timer
//   {"v": 1, "id": "...", "type": "policy", "version": n}       worker: please review version n
export const PAYLOAD_VERSION = 1;

// A message that takes the conversation's next sequence number.
export function sequenced(conv, type, id, fields) {
  const seq = conv.sendSeq ?? 1;
  conv.sendSeq = seq + 1;
  return { v: PAYLOAD_VERSION, seq, id, type, ...fields };
}

export function unsequenced(type, id, fields) {
  return { v: PAYLOAD_VERSION, id, type, ...fields };
}

export function isPayload(p) {
  return p !== null && typeof p === "object" && p.v === PAYLOAD_VERSION && typeof p.type === "string" && typeof p.id === "string";
}
