// Device identity and the signatures the relay checks, byte-exact to the cross-team contract:
// one Ed25519 key per device; its X25519 form (for X3DH) comes from libsodium's conversion.
import { concatBytes, utf8 } from "../shared/b64.js";
import { sodium } from "./sodium.js";

const REGISTRATION = utf8("Confide device registration v1\0");
const AUTH = utf8("Confide auth v1\0");
const SIGNED_PREKEY = utf8("Confide signed prekey v1\0");

export function newIdentity(seed) {
  const pair = seed ? sodium.crypto_sign_seed_keypair(seed) : sodium.crypto_sign_keypair();
  return { publicKey: pair.publicKey, privateKey: pair.privateKey };
}

export function identityDh(identity) {
  return {
    publicKey: sodium.crypto_sign_ed25519_pk_to_curve25519(identity.publicKey),
    privateKey: sodium.crypto_sign_ed25519_sk_to_curve25519(identity.privateKey),
  };
}

export const dhPublicOf = (edPublic) => sodium.crypto_sign_ed25519_pk_to_curve25519(edPublic);

export function signRegistration(identity, challenge) {
  return sodium.crypto_sign_detached(concatBytes(REGISTRATION, challenge), identity.privateKey);
}

export function signAuth(identity, challenge) {
  return sodium.crypto_sign_detached(concatBytes(AUTH, challenge), identity.privateKey);
}

function signedPrekeyMessage(keyId, spkPublic) {
  const id = new Uint8Array(4);
  new DataView(id.buffer).setUint32(0, keyId, false);
  return concatBytes(SIGNED_PREKEY, id, spkPublic);
}

export function newSignedPrekey(identity, keyId, seed) {
  const pair = seed ? sodium.crypto_box_seed_keypair(seed) : sodium.crypto_box_keypair();
  const signature = sodium.crypto_sign_detached(
    signedPrekeyMessage(keyId, pair.publicKey),
    identity.privateKey,
  );
  return { keyId, publicKey: pair.publicKey, privateKey: pair.privateKey, signature };
}

export function verifySignedPrekey(identityPublic, keyId, spkPublic, signature) {
  const ok = sodium.crypto_sign_verify_detached(
    signature,
    signedPrekeyMessage(keyId, spkPublic),
    identityPublic,
  );
  if (!ok) throw new Error("signed prekey signature does not verify");
}

export function newOneTimePrekeys(firstId, count) {
  const keys = [];
  for (let i = 0; i < count; i += 1) {
    const pair = sodium.crypto_box_keypair();
    keys.push({ keyId: firstId + i, publicKey: pair.publicKey, privateKey: pair.privateKey });
  }
  return keys;
}
