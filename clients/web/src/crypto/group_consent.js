// The group kind of consent receipt (docs/protocol.md G9): what a client's device signs when
// it joins a peer support group, binding the organisation's group terms (their version and
// SHA-256) and, once the client knows it, the group. The relay never stores it: the group's
// workers keep it in their sealed state, so the relay cannot list who belongs to a group.
import { concatBytes, equalBytes, utf8 } from "../shared/b64.js";
import { fingerprint, verifySignature } from "./keys.js";
import { hmacSha256 } from "./kdf.js";
import { ConsentError } from "./consent.js";
import { MalformedInput, Reader, text16, u32, u64, u8 } from "./wire.js";

const VERSION = 1;
const TAG = utf8("Confide group consent receipt\0");
const BINDING_TAG = utf8("Confide group binding v1\0");
const MAX_CLOCK_SKEW = 300;

// Before joining, the client does not know the group id: its first receipt carries zeros,
// and the worker records which group the invite was for.
export const UNBOUND = new Uint8Array(32);

export const groupBinding = (groupId, clientIdentityKey) => hmacSha256(groupId, concatBytes(BINDING_TAG, clientIdentityKey));

export function encodeGroupReceipt(r) {
  if (r.expiresAt <= r.signedAt) throw new ConsentError("a consent receipt must expire after it is signed");
  return concatBytes(
    u8(VERSION), TAG, r.clientIdentityKey, r.workerKeyFingerprint, u32(r.termsVersion), r.termsSha256,
    u64(r.signedAt), u64(r.expiresAt), u8(1), r.groupBinding,
    text16(r.discloser), text16(r.recipient), text16(r.purpose), text16(r.information),
  );
}

export function decodeGroupReceipt(data) {
  const reader = new Reader(data);
  if (reader.u8() !== VERSION) throw new MalformedInput("group receipt version");
  if (!equalBytes(reader.take(TAG.length), TAG)) throw new MalformedInput("wrong domain tag");
  const r = {
    clientIdentityKey: reader.take(32), workerKeyFingerprint: reader.take(32), termsVersion: reader.u32(),
    termsSha256: reader.take(32), signedAt: reader.u64(), expiresAt: reader.u64(), revocable: reader.flag(),
    groupBinding: reader.take(32),
  };
  [r.discloser, r.recipient, r.purpose, r.information] = [0, 1, 2, 3].map(() => reader.text16());
  reader.done();
  if (!r.revocable || !equalBytes(encodeGroupReceipt(r), data)) throw new MalformedInput("receipt is not in canonical form");
  return r;
}

export function signGroupReceipt(identity, fields) {
  const receipt = encodeGroupReceipt({
    groupBinding: UNBOUND, ...fields, clientIdentityKey: identity.public,
    workerKeyFingerprint: fingerprint(fields.workerIdentityKey),
  });
  return { receipt, signature: identity.sign(receipt) };
}

// Checks a client's group receipt as a worker's device does before admitting them: signed by
// the sender's key, for this worker, for the current terms, unexpired, and either unbound
// (a first join) or bound to `groupId`.
export function verifyGroupReceipt(data, signature, { clientIdentityKey, workerIdentityKey, termsVersion, termsSha256, groupId, now }) {
  verifySignature(clientIdentityKey, data, signature);
  const r = decodeGroupReceipt(data);
  if (!equalBytes(r.clientIdentityKey, clientIdentityKey)) throw new ConsentError("receipt names a different signer");
  if (!equalBytes(r.workerKeyFingerprint, fingerprint(workerIdentityKey))) throw new ConsentError("receipt names a different worker key");
  if (r.termsVersion !== termsVersion || !equalBytes(r.termsSha256, termsSha256)) throw new ConsentError("receipt names other group terms");
  if (!equalBytes(r.groupBinding, UNBOUND) && !equalBytes(r.groupBinding, groupBinding(groupId, clientIdentityKey))) {
    throw new ConsentError("receipt is for another group");
  }
  if (r.signedAt > now + MAX_CLOCK_SKEW) throw new ConsentError("receipt is signed in the future");
  if (now >= r.expiresAt) throw new ConsentError("receipt has expired");
  return r;
}
