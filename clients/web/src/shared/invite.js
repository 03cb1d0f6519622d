// An invite's proof (docs/protocol.md E2E §18): a client's hello proves which invite it
// answers by an HMAC keyed with that invite's secret over both identity keys. Only the two
// ends know the secret, and the proof is bound to the sender's key, so no other device can
// present it; a hello is never bound by anything it merely names.
import { concatBytes, fromB64u, toB64u, utf8 } from "./b64.js";

const PROOF_LABEL = utf8("Confide invite proof v1\u0000");

export function inviteProof(sodium, token, clientKey, workerKey) {
  return toB64u(sodium.crypto_auth_hmacsha256(concatBytes(PROOF_LABEL, clientKey, workerKey), fromB64u(token)));
}

// Whether `proof` (base64url from a hello) proves `token` for this sender and this worker.
export function provesInvite(sodium, proof, token, clientKey, workerKey) {
  if (typeof proof !== "string") return false;
  let given;
  try {
    given = fromB64u(proof);
  } catch {
    return false;
  }
  return given.length === 32 && sodium.memcmp(given, fromB64u(inviteProof(sodium, token, clientKey, workerKey)));
}
