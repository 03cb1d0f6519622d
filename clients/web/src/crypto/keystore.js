// Passphrase-protected storage of secrets: Argon2id (crypto_pwhash) derives a key that seals
// the data with XChaCha20-Poly1305. The header (version, cost parameters, salt, nonce) is the
// associated data, so a tampered header fails to open just like a wrong passphrase.
//   store = version(1)=0x01 || opslimit(u32) || memlimit(u32) || salt(16) || nonce(24) || ct
// The same layout as confide_crypto.keystore (docs/protocol.md E2E §11).
import { concatBytes, utf8 } from "../shared/b64.js";
import { sodium } from "./sodium.js";
import { Reader, u32, u8 } from "./wire.js";

const VERSION = 1;
// libsodium's "interactive" Argon2id cost, the same default as confide_crypto.
export const DEFAULT_COST = { opslimit: 2, memlimit: 64 * 1024 * 1024 };

export class WrongPassphrase extends Error {
  name = "WrongPassphrase";
}

export function deriveKey(passphrase, salt, cost) {
  return sodium.crypto_pwhash(
    32, utf8(passphrase), salt, cost.opslimit, cost.memlimit, sodium.crypto_pwhash_ALG_ARGON2ID13,
  );
}

// Makes a new key for a new store; the caller keeps {key, header} to re-seal without Argon2id.
export function newStoreKey(passphrase, cost = DEFAULT_COST, salt = sodium.randombytes_buf(16)) {
  return { key: deriveKey(passphrase, salt, cost), salt, cost };
}

export function seal(storeKey, plaintext, nonce = sodium.randombytes_buf(24)) {
  const header = concatBytes(
    u8(VERSION), u32(storeKey.cost.opslimit), u32(storeKey.cost.memlimit), storeKey.salt, nonce,
  );
  const ct = sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(plaintext, header, null, nonce, storeKey.key);
  return concatBytes(header, ct);
}

function parse(data) {
  const reader = new Reader(data);
  if (reader.u8() !== VERSION) throw new Error("unsupported key store version");
  const cost = { opslimit: reader.u32(), memlimit: reader.u32() };
  const salt = reader.take(16);
  const nonce = reader.take(24);
  return { cost, salt, nonce, header: data.slice(0, reader.pos), ct: reader.rest() };
}

// Opens a store with a passphrase; returns the plaintext and the key for later re-sealing.
export function open(passphrase, data) {
  const parsed = parse(data);
  const storeKey = { key: deriveKey(passphrase, parsed.salt, parsed.cost), salt: parsed.salt, cost: parsed.cost };
  return { plaintext: openWithKey(storeKey, data, parsed), storeKey };
}

export function openWithKey(storeKey, data, parsed = parse(data)) {
  try {
    return sodium.crypto_aead_xchacha20poly1305_ietf_decrypt(null, parsed.ct, parsed.header, parsed.nonce, storeKey.key);
  } catch {
    throw new WrongPassphrase("the passphrase does not open this store");
  }
}
