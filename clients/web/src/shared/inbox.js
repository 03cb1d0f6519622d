// Applies the payloads both apps understand (text, attachment, delivered, timer) to a
// conversation. Consent payloads (hello, revoke) are each app's own business.
import { addMessage, markState, setTimer } from "./conversation.js";

const ttlOf = (p) => (Number.isInteger(p.ttl) && p.ttl > 0 ? p.ttl : undefined);

// Returns true when the payload was a new message that deserves a delivery receipt.
export function applyCommon(conv, p, pointerLength) {
  switch (p.type) {
    case "text":
      return addMessage(conv, { id: p.id, mine: false, kind: "text", body: String(p.text ?? ""), ttl: ttlOf(p) });
    case "attachment":
      return addMessage(conv, {
        id: p.id, mine: false, kind: "file", name: String(p.name ?? "file"), type: String(p.mime ?? ""),
        size: pointerLength(p.pointer), blobId: String(p.blob), pointer: p.pointer, ttl: ttlOf(p),
      });
    case "delivered":
      markState(conv, Array.isArray(p.ids) ? p.ids.map(String) : [], "delivered");
      return false;
    case "timer":
      // Announced in the conversation when it changes anything.
      setTimer(conv, ttlOf(p) ?? 0, p.id);
      return false;
    default:
      return false;
  }
}
