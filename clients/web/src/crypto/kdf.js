// Key derivation, as in confide_crypto.kdf: HKDF-SHA256 (RFC 5869) and the Double Ratchet's
// KDF_RK / KDF_CK (Signal Double Ratchet spec §5.2, recommended algorithms). HMAC comes from
// libsodium's streaming HMAC-SHA256, which accepts keys of any length and runs synchronously.
import { concatBytes, utf8 } from "../shared/b64.js";
import { sodium } from "./sodium.js";

const HASH_LEN = 32;

export const INFO_X3DH = utf8("Confide X3DH v1");
export const INFO_ROOT = utf8("Confide ratchet root v1");
export const INFO_MESSAGE_KEYS = utf8("Confide ratchet message keys v1");

export function hmacSha256(key, data) {
  const state = sodium.crypto_auth_hmacsha256_init(key);
  sodium.crypto_auth_hmacsha256_update(state, data);
  return sodium.crypto_auth_hmacsha256_final(state);
}

export function hkdfSha256(ikm, { salt, info, length }) {
  if (!(length > 0 && length <= 255 * HASH_LEN)) throw new RangeError("HKDF length out of range");
  const prk = hmacSha256(salt && salt.length ? salt : new Uint8Array(HASH_LEN), ikm);
  const output = new Uint8Array(Math.ceil(length / HASH_LEN) * HASH_LEN);
  let block = new Uint8Array(0);
  for (let counter = 1; (counter - 1) * HASH_LEN < length; counter += 1) {
    block = hmacSha256(prk, concatBytes(block, info, Uint8Array.of(counter)));
    output.set(block, (counter - 1) * HASH_LEN);
  }
  return output.slice(0, length);
}

export function kdfRk(rootKey, dhOutput) {
  const out = hkdfSha256(dhOutput, { salt: rootKey, info: INFO_ROOT, length: 64 });
  return [out.slice(0, 32), out.slice(32)];
}

export function kdfCk(chainKey) {
  return [hmacSha256(chainKey, Uint8Array.of(2)), hmacSha256(chainKey, Uint8Array.of(1))];
}

export function messageKeyMaterial(messageKey) {
  const out = hkdfSha256(messageKey, { salt: new Uint8Array(0), info: INFO_MESSAGE_KEYS, length: 56 });
  return [out.slice(0, 32), out.slice(32)];
}
