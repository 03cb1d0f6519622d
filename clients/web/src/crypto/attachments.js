// Attachments (confide_crypto.attachments, docs/protocol.md E2E §9): libsodium secretstream
// chunks under a random key; the recipient checks the blob's SHA-256 before decrypting.
//   blob    = 0x01 || header(24) || chunk_1 .. chunk_n   (65536-byte plaintext chunks)
//   pointer = 0x01 || key(32) || SHA-256(blob)(32) || length(u64)
import { concatBytes, equalBytes } from "../shared/b64.js";
import { sodium } from "./sodium.js";
import { MalformedInput, Reader, u64, u8 } from "./wire.js";

const VERSION = 1;
const CHUNK_SIZE = 65536;
const CHUNK_OVERHEAD = 17;

export class AttachmentDigestError extends Error {
  name = "AttachmentDigestError"; // read by shared/problems.js (class names do not survive minifying)
}

export function encodePointer(p) {
  return concatBytes(u8(VERSION), p.key, p.digest, u64(p.length));
}

export function decodePointer(data) {
  const reader = new Reader(data);
  if (reader.u8() !== VERSION) throw new MalformedInput("attachment pointer version");
  const pointer = { key: reader.take(32), digest: reader.take(32), length: reader.u64() };
  reader.done();
  return pointer;
}

export function encryptAttachment(plaintext, key = sodium.crypto_secretstream_xchacha20poly1305_keygen()) {
  const { state, header } = sodium.crypto_secretstream_xchacha20poly1305_init_push(key);
  const parts = [u8(VERSION), header];
  const { TAG_FINAL, TAG_MESSAGE } = { TAG_FINAL: sodium.crypto_secretstream_xchacha20poly1305_TAG_FINAL, TAG_MESSAGE: sodium.crypto_secretstream_xchacha20poly1305_TAG_MESSAGE };
  for (let start = 0; start < Math.max(plaintext.length, 1); start += CHUNK_SIZE) {
    const tag = start + CHUNK_SIZE >= plaintext.length ? TAG_FINAL : TAG_MESSAGE;
    parts.push(sodium.crypto_secretstream_xchacha20poly1305_push(state, plaintext.subarray(start, start + CHUNK_SIZE), null, tag));
  }
  const blob = concatBytes(...parts);
  return { blob, pointer: { key, digest: sodium.crypto_hash_sha256(blob), length: plaintext.length } };
}

export function decryptAttachment(blob, pointer) {
  if (!equalBytes(sodium.crypto_hash_sha256(blob), pointer.digest)) {
    throw new AttachmentDigestError("attachment digest does not match");
  }
  const reader = new Reader(blob);
  if (reader.u8() !== VERSION) throw new MalformedInput("attachment version");
  const state = sodium.crypto_secretstream_xchacha20poly1305_init_pull(reader.take(24), pointer.key);
  const body = reader.rest();
  const out = [];
  let tag = sodium.crypto_secretstream_xchacha20poly1305_TAG_MESSAGE;
  for (let start = 0; start < body.length; start += CHUNK_SIZE + CHUNK_OVERHEAD) {
    if (tag === sodium.crypto_secretstream_xchacha20poly1305_TAG_FINAL) throw new Error("data after the final chunk");
    const result = sodium.crypto_secretstream_xchacha20poly1305_pull(state, body.subarray(start, start + CHUNK_SIZE + CHUNK_OVERHEAD), null);
    if (!result) throw new Error("attachment chunk does not authenticate");
    out.push(result.message);
    tag = result.tag;
  }
  const plaintext = concatBytes(...out);
  if (tag !== sodium.crypto_secretstream_xchacha20poly1305_TAG_FINAL || plaintext.length !== pointer.length) {
    throw new Error("attachment is truncated or has the wrong length");
  }
  return plaintext;
}
