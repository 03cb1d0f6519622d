// Applies the application messages both apps understand (text, file, ack, timer) to a
// conversation. The consent messages are the apps' own business.
import { addMessage, markState } from "./conversation.js";

// Returns true when the message was new and should be acknowledged to its sender.
export function applyCommon(conv, message) {
  switch (message.t) {
    case "text":
      return addMessage(conv, { id: message.id, mine: false, kind: "text", body: String(message.body ?? ""), ttl: message.ttl });
    case "file":
      return addMessage(conv, {
        id: message.id, mine: false, kind: "file", name: String(message.name ?? "file"),
        type: String(message.type ?? ""), size: Number(message.size ?? 0), blobId: message.blob,
        pointer: message.pointer, ttl: message.ttl,
      });
    case "ack":
      markState(conv, Array.isArray(message.ids) ? message.ids : [], "delivered");
      return false;
    case "timer":
      conv.ttl = Number(message.ttl) || 0;
      return false;
    default:
      return false;
  }
}

export const isCountable = (message) => message.t === "text" || message.t === "file";
