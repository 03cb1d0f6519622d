// Device keys, as in confide_crypto.keys: an Ed25519 identity key (kept as its 32-byte seed)
// whose X25519 form takes part in X3DH and sealed sender; signed and one-time prekeys.
// The bytes each signature covers are fixed by the cross-team contract
// (docs/protocol.md E2E §2).
import { concatBytes, equalBytes, utf8 } from "../shared/b64.js";
import { sodium } from "./sodium.js";

export const KEY_LEN = 32;
const REGISTRATION_TAG = utf8("Confide device registration v1\0");
const AUTH_TAG = utf8("Confide auth v1\0");
const SIGNED_PREKEY_TAG = utf8("Confide signed prekey v1\0");

const P = 2n ** 255n - 19n;
// Small-order X25519 points and their aliases below 2^255, compared with the top bit cleared
// (RFC 7748 §5); the same list confide_crypto and libsodium refuse.
const LOW_ORDER = [
  0n,
  1n,
  325606250916557431795983626356110631294008115727848805560023387167927233504n,
  39382357235489614581723060781553021112529911719440698176882885853963445705823n,
  P - 1n,
  P,
  P + 1n,
].map((n) => {
  const out = new Uint8Array(32);
  for (let i = 0; i < 32; i += 1) out[i] = Number((n >> BigInt(8 * i)) & 0xffn);
  return out;
});

export function randomBytes(n) {
  return sodium.randombytes_buf(n);
}

export function expectLength(bytes, n, what) {
  if (!(bytes instanceof Uint8Array) || bytes.length !== n) {
    throw new TypeError(`${what} must be ${n} bytes`);
  }
  return bytes;
}

export function checkX25519Public(publicKey) {
  expectLength(publicKey, KEY_LEN, "X25519 public key");
  const masked = publicKey.slice();
  masked[31] &= 0x7f;
  if (LOW_ORDER.some((bad) => equalBytes(bad, masked))) throw new Error("low-order X25519 public key");
  return publicKey;
}

export function x25519(privateKey, publicKey) {
  checkX25519Public(publicKey);
  const shared = sodium.crypto_scalarmult(privateKey, publicKey);
  if (shared.every((b) => b === 0)) throw new Error("all-zero X25519 shared secret");
  return shared;
}

export function edPublicToX25519(identityKey) {
  expectLength(identityKey, KEY_LEN, "identity key");
  return checkX25519Public(sodium.crypto_sign_ed25519_pk_to_curve25519(identityKey));
}

export function verifySignature(identityKey, message, signature) {
  expectLength(identityKey, KEY_LEN, "identity key");
  expectLength(signature, 64, "signature");
  if (!sodium.crypto_sign_verify_detached(signature, message, identityKey)) {
    throw new Error("bad signature");
  }
}

export function fingerprint(identityKey) {
  return sodium.crypto_hash_sha256(expectLength(identityKey, KEY_LEN, "identity key"));
}

export function u32(value) {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, value, false);
  return out;
}

export function signedPrekeyMessage(keyId, publicKey) {
  return concatBytes(SIGNED_PREKEY_TAG, u32(keyId), expectLength(publicKey, KEY_LEN, "prekey"));
}

export function x25519FromPrivate(privateKey) {
  expectLength(privateKey, KEY_LEN, "X25519 private key");
  return { private: privateKey, public: sodium.crypto_scalarmult_base(privateKey) };
}

export const newX25519 = () => x25519FromPrivate(randomBytes(KEY_LEN));

// An identity key pair from its seed; the secret key is rebuilt on demand, like the Python.
export class Identity {
  constructor(seed) {
    this.seed = expectLength(seed, KEY_LEN, "identity seed");
    const pair = sodium.crypto_sign_seed_keypair(seed);
    this.public = pair.publicKey;
    this.secretKey = pair.privateKey;
    this.dh = x25519FromPrivate(sodium.crypto_sign_ed25519_sk_to_curve25519(pair.privateKey));
  }

  static generate() {
    return new Identity(randomBytes(KEY_LEN));
  }

  sign(message) {
    return sodium.crypto_sign_detached(message, this.secretKey);
  }

  signRegistration(challenge) {
    return this.sign(concatBytes(REGISTRATION_TAG, challenge));
  }

  signAuth(challenge) {
    return this.sign(concatBytes(AUTH_TAG, challenge));
  }
}

export function createSignedPrekey(identity, keyId, privateKey = randomBytes(KEY_LEN)) {
  const pair = x25519FromPrivate(privateKey);
  return { keyId, pair, signature: identity.sign(signedPrekeyMessage(keyId, pair.public)) };
}

export function createOneTimePrekeys(firstId, count) {
  return Array.from({ length: count }, (_, i) => ({ keyId: firstId + i, pair: newX25519() }));
}

// Checks a prekey bundle's signature and key shapes (X3DH §3.2), raising on any fault.
export function verifyBundle(bundle) {
  verifySignature(
    bundle.identityKey,
    signedPrekeyMessage(bundle.signedPrekeyId, bundle.signedPrekey),
    bundle.signedPrekeySignature,
  );
  checkX25519Public(bundle.signedPrekey);
  edPublicToX25519(bundle.identityKey);
  if ((bundle.oneTimePrekey == null) !== (bundle.oneTimePrekeyId == null)) {
    throw new Error("one-time prekey id and key must come together");
  }
  if (bundle.oneTimePrekey != null) checkX25519Public(bundle.oneTimePrekey);
}
