// An invite's local tag: the first 16 bytes of SHA-256(token), hex. The client sends it inside
// the end-to-end channel so the worker can match the new conversation to the alias it chose;
// the relay never sees it.
import { toHex, utf8 } from "./b64.js";

export function inviteTag(sodium, token) {
  return toHex(sodium.crypto_hash_sha256(utf8(token)).slice(0, 16));
}
