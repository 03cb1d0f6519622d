// The relay's HTTP API (/v1, docs/protocol.md). Only ciphertext, public keys and opaque ids
// pass through here; every bytes field is base64url without padding.
import { fromB64u, toB64u } from "./b64.js";

// The base of every problem type the relay sends (docs/protocol.md, "Errors").
export const PROBLEM_BASE = "https://confide.invalid/problems/";

// `message` is the relay's English detail, for logs and the console; what a person reads comes
// from shared/problems.js (errorText), by the problem's type.
export class RelayError extends Error {
  constructor(status, problem) {
    super(problem?.detail || problem?.title || `relay answered ${status}`);
    this.status = status;
    this.problem = problem;
  }

  // The problem's slug ("expired", "rate-limited"), or null for another kind of type.
  get slug() {
    const type = this.problem?.type;
    return typeof type === "string" && type.startsWith(PROBLEM_BASE) ? type.slice(PROBLEM_BASE.length) : null;
  }
}

export async function call(method, path, { body, token, raw } = {}) {
  const headers = { accept: "application/json" };
  if (token) headers.authorization = `Bearer ${toB64u(token)}`;
  let payload;
  if (raw) {
    headers["content-type"] = "application/octet-stream";
    payload = raw;
  } else if (body !== undefined) {
    headers["content-type"] = "application/json";
    payload = JSON.stringify(body);
  }
  const response = await fetch(path, {
    method, headers, body: payload, credentials: "omit", cache: "no-store", referrerPolicy: "no-referrer",
  });
  if (!response.ok) {
    const problem = await response.json().catch(() => null);
    throw new RelayError(response.status, problem);
  }
  if (response.status === 204) return null;
  const type = response.headers.get("content-type") ?? "";
  return type.includes("json") ? response.json() : new Uint8Array(await response.arrayBuffer());
}

const getChallenge = async () => fromB64u((await call("POST", "/v1/challenges")).challenge);

function prekeysOut(signedPrekey, oneTimePrekeys) {
  return {
    signed_prekey: {
      key_id: signedPrekey.keyId, public_key: toB64u(signedPrekey.pair.public), signature: toB64u(signedPrekey.signature),
    },
    one_time_prekeys: oneTimePrekeys.map((k) => ({ key_id: k.keyId, public_key: toB64u(k.pair.public) })),
  };
}

// Proof of possession for a new device: a fresh challenge signed under the registration tag.
async function registration(identity, signedPrekey, oneTimePrekeys) {
  const challenge = await getChallenge();
  return {
    identity_key: toB64u(identity.public),
    challenge: toB64u(challenge),
    signature: toB64u(identity.signRegistration(challenge)),
    ...prekeysOut(signedPrekey, oneTimePrekeys),
  };
}

// Registers a worker's device with its one-time enrolment code (flows 1-2).
export async function enrolDevice(identity, enrolmentCode, signedPrekey, oneTimePrekeys) {
  const data = await call("POST", "/v1/devices/enrol", {
    body: { enrolment_code: enrolmentCode.trim(), ...(await registration(identity, signedPrekey, oneTimePrekeys)) },
  });
  return { deviceId: fromB64u(data.device_id), mailboxId: fromB64u(data.mailbox_id) };
}

export async function authenticate(identity, deviceId) {
  const challenge = await getChallenge();
  const data = await call("POST", "/v1/auth/token", {
    body: { device_id: toB64u(deviceId), challenge: toB64u(challenge), signature: toB64u(identity.signAuth(challenge)) },
  });
  return fromB64u(data.token);
}

export async function uploadOneTimePrekeys(token, oneTimePrekeys) {
  await call("POST", "/v1/prekeys/one-time", {
    token, body: { prekeys: oneTimePrekeys.map((k) => ({ key_id: k.keyId, public_key: toB64u(k.pair.public) })) },
  });
}

export async function createInvite(token) {
  const data = await call("POST", "/v1/invites", { token, body: {} });
  return { secret: data.token, expiresAt: data.expires_at, capabilityId: data.capability_id };
}

// Withdraws a pending invite, named by the capability id it came with (docs/protocol.md).
export async function cancelInvite(token, capabilityId) {
  await call("DELETE", `/v1/invites/${capabilityId}`, { token });
}

export function parseBundle(b) {
  return {
    deviceId: fromB64u(b.device_id),
    identityKey: fromB64u(b.identity_key),
    signedPrekeyId: b.signed_prekey.key_id,
    signedPrekey: fromB64u(b.signed_prekey.public_key),
    signedPrekeySignature: fromB64u(b.signed_prekey.signature),
    oneTimePrekeyId: b.one_time_prekey ? b.one_time_prekey.key_id : null,
    oneTimePrekey: b.one_time_prekey ? fromB64u(b.one_time_prekey.public_key) : null,
  };
}

// Redeems an invite: registers this browser's device and returns what it needs to write to
// the worker, plus the organisation's current policy (flow 4).
export async function redeemInvite(inviteToken, identity, signedPrekey) {
  const data = await call("POST", "/v1/invites/redeem", {
    body: { token: inviteToken, ...(await registration(identity, signedPrekey, [])) },
  });
  return {
    deviceId: fromB64u(data.device_id),
    mailboxId: fromB64u(data.mailbox_id),
    workerBundle: parseBundle(data.worker_bundle),
    workerMailboxId: fromB64u(data.worker_mailbox_id),
    workerCapability: fromB64u(data.worker_capability),
    policy: data.policy,
  };
}

export async function mintCapability(token, mailboxId) {
  const data = await call("POST", `/v1/mailboxes/${toB64u(mailboxId)}/capabilities`, { token });
  return { id: data.capability_id, secret: fromB64u(data.capability) };
}

export async function revokeCapability(token, mailboxId, capabilityId) {
  await call("DELETE", `/v1/mailboxes/${toB64u(mailboxId)}/capabilities/${capabilityId}`, { token });
}

export async function submitConsent(token, workerDeviceId, kind, receipt, signature) {
  await call("POST", "/v1/consent", {
    token,
    body: { worker_device_id: toB64u(workerDeviceId), kind, receipt: toB64u(receipt), signature: toB64u(signature) },
  });
}

// Every consent record clients addressed to this worker device, following the list's pages
// (`{records, next}`, docs/protocol.md) to the end, the largest page at a time.
export async function listConsentRecords(token) {
  const records = [];
  const seen = new Set();
  let after = null;
  do {
    const query = new URLSearchParams({ limit: "200" });
    if (after !== null) query.set("after", after);
    const page = await call("GET", `/v1/consent?${query}`, { token });
    records.push(...page.records);
    after = page.next ?? null;
    if (after !== null && seen.has(after)) throw new Error("the relay repeated a page of the consent list");
    if (after !== null) seen.add(after);
  } while (after !== null);
  return records;
}

// Attachments report their progress as `onProgress(done, total)` in bytes. fetch cannot
// tell how much of a request body went out, so the upload goes through XMLHttpRequest
// (same origin, no credentials, the same problem+json errors); the download reads the
// response stream against its Content-Length.
export function uploadBlob(token, blob, onProgress = () => {}) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", "/v1/attachments");
    xhr.withCredentials = false;
    xhr.setRequestHeader("accept", "application/json");
    xhr.setRequestHeader("authorization", `Bearer ${toB64u(token)}`);
    xhr.setRequestHeader("content-type", "application/octet-stream");
    xhr.upload.onprogress = (event) => onProgress(event.loaded, event.lengthComputable ? event.total : blob.length);
    xhr.onerror = () => reject(new TypeError("the connection to the relay failed"));
    xhr.onload = () => {
      let answer = null;
      try {
        answer = JSON.parse(xhr.responseText);
      } catch {
        // an answer that is not JSON is reported by its status alone
      }
      if (xhr.status >= 200 && xhr.status < 300 && answer?.attachment_id) resolve(answer.attachment_id);
      else reject(new RelayError(xhr.status, answer));
    };
    xhr.send(blob);
  });
}

export async function downloadBlob(token, id, onProgress = () => {}) {
  const response = await fetch(`/v1/attachments/${encodeURIComponent(id)}`, {
    headers: { authorization: `Bearer ${toB64u(token)}` }, credentials: "omit", cache: "no-store", referrerPolicy: "no-referrer",
  });
  if (!response.ok) throw new RelayError(response.status, await response.json().catch(() => null));
  const total = Number(response.headers.get("content-length")) || 0;
  const reader = response.body.getReader();
  const pieces = [];
  let done = 0;
  for (;;) {
    const { value, done: finished } = await reader.read();
    if (finished) break;
    pieces.push(value);
    done += value.length;
    onProgress(done, Math.max(total, done));
  }
  const bytes = new Uint8Array(done);
  let at = 0;
  for (const piece of pieces) {
    bytes.set(piece, at);
    at += piece.length;
  }
  return bytes;
}

export const getOrganisation = () => call("GET", "/v1/organisation");

// Every row the relay holds about this device (docs/operations.md section 13.7).
export const getMyRecords = (token) => call("GET", "/v1/devices/me/records", { token });

// Short-lived TURN credentials for one call, and whether media must go through TURN only.
export const getTurn = (token) => call("GET", "/v1/turn", { token });
