// Consent receipts and revocations (confide_crypto.consent, docs/protocol.md E2E §10): the
// canonical bytes the client device signs with its identity key.
import { concatBytes, equalBytes, utf8 } from "../shared/b64.js";
import { fingerprint, verifySignature } from "./keys.js";
import { sodium } from "./sodium.js";
import { MalformedInput, Reader, text16, u32, u64, u8 } from "./wire.js";

const VERSION = 1;
// Format 2 names the language of the policy text read (docs/protocol.md E2E §10); a receipt
// without one is written as format 1, so older receipts keep their bytes and verify.
const VERSION_LANGUAGE = 2;
const LANGUAGE_TAG = /^[A-Za-z0-9-]{2,35}$/;
const RECEIPT_TAG = utf8("Confide consent receipt\0");
const REVOCATION_TAG = utf8("Confide consent revocation\0");
const MAX_CLOCK_SKEW = 300;

export class ConsentError extends Error {
  name = "ConsentError"; // read by shared/problems.js (class names do not survive minifying)
}

export const policyDigest = (text) => sodium.crypto_hash_sha256(utf8(text));

export function encodeReceipt(r) {
  if (r.expiresAt <= r.signedAt) throw new ConsentError("a consent receipt must expire after it is signed");
  const language = r.policyLanguage ?? null;
  if (language !== null && !LANGUAGE_TAG.test(language)) throw new ConsentError("policyLanguage must be a language tag");
  return concatBytes(
    u8(language === null ? VERSION : VERSION_LANGUAGE), RECEIPT_TAG, r.clientIdentityKey, r.workerKeyFingerprint,
    u32(r.policyVersion), r.policySha256, ...(language === null ? [] : [text16(language)]), u64(r.signedAt), u64(r.expiresAt), u8(1),
    text16(r.discloser), text16(r.recipient), text16(r.purpose), text16(r.information),
  );
}

function readTag(reader, tag, versions = [VERSION]) {
  const version = reader.u8();
  if (!versions.includes(version)) throw new MalformedInput(`consent format version ${version}`);
  if (!equalBytes(reader.take(tag.length), tag)) throw new MalformedInput("wrong domain tag");
  return version;
}

export function decodeReceipt(data) {
  const reader = new Reader(data);
  const form = readTag(reader, RECEIPT_TAG, [VERSION, VERSION_LANGUAGE]);
  const r = {
    clientIdentityKey: reader.take(32), workerKeyFingerprint: reader.take(32),
    policyVersion: reader.u32(), policySha256: reader.take(32),
  };
  r.policyLanguage = form === VERSION_LANGUAGE ? reader.text16() : null;
  Object.assign(r, { signedAt: reader.u64(), expiresAt: reader.u64(), revocable: reader.flag() });
  [r.discloser, r.recipient, r.purpose, r.information] = [0, 1, 2, 3].map(() => reader.text16());
  reader.done();
  if (!r.revocable || !equalBytes(encodeReceipt(r), data)) throw new MalformedInput("receipt is not in canonical form");
  return r;
}

// Builds and signs a receipt for this client device: returns {receipt, signature}.
export function signReceipt(identity, fields) {
  const receipt = encodeReceipt({
    ...fields, clientIdentityKey: identity.public, workerKeyFingerprint: fingerprint(fields.workerIdentityKey),
  });
  return { receipt, signature: identity.sign(receipt) };
}

export function verifyReceipt(data, signature, { clientIdentityKey, workerIdentityKey, policyVersion, policySha256, policyLanguage, now }) {
  verifySignature(clientIdentityKey, data, signature);
  const r = decodeReceipt(data);
  if (!equalBytes(r.clientIdentityKey, clientIdentityKey)) throw new ConsentError("receipt names a different signer");
  if (!equalBytes(r.workerKeyFingerprint, fingerprint(workerIdentityKey))) throw new ConsentError("receipt names a different worker key");
  if (policyVersion != null && r.policyVersion !== policyVersion) throw new ConsentError("receipt names a different policy version");
  if (policySha256 != null && !equalBytes(r.policySha256, policySha256)) throw new ConsentError("receipt names a different policy hash");
  if (policyLanguage != null && r.policyLanguage !== policyLanguage) throw new ConsentError("receipt names a different policy language");
  if (r.signedAt > now + MAX_CLOCK_SKEW) throw new ConsentError("receipt is signed in the future");
  if (now >= r.expiresAt) throw new ConsentError("receipt has expired");
  return r;
}

export function encodeRevocation(clientIdentityKey, receipt, revokedAt) {
  return concatBytes(u8(VERSION), REVOCATION_TAG, clientIdentityKey, sodium.crypto_hash_sha256(receipt), u64(revokedAt));
}

export function signRevocation(identity, receipt, revokedAt) {
  const revocation = encodeRevocation(identity.public, receipt, revokedAt);
  return { revocation, signature: identity.sign(revocation) };
}

export function verifyRevocation(data, signature, { receipt, clientIdentityKey }) {
  verifySignature(clientIdentityKey, data, signature);
  const reader = new Reader(data);
  readTag(reader, REVOCATION_TAG);
  const signer = reader.take(32);
  const receiptSha = reader.take(32);
  const revokedAt = reader.u64();
  reader.done();
  if (!equalBytes(signer, clientIdentityKey)) throw new ConsentError("revocation names a different signer");
  if (!equalBytes(receiptSha, sodium.crypto_hash_sha256(receipt))) throw new ConsentError("revocation is for a different receipt");
  if (revokedAt < decodeReceipt(receipt).signedAt) throw new ConsentError("revocation predates the receipt");
  return { revokedAt };
}
