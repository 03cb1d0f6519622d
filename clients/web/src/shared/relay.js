// The relay's HTTP API (/v1) and its WebSocket, as described in docs/protocol.md. Only
// ciphertext, public keys and opaque ids pass through here; every bytes field is base64url.
import { fromB64u, toB64u } from "./b64.js";

export class RelayError extends Error {
  constructor(status, problem) {
    super(problem?.detail || problem?.title || `relay answered ${status}`);
    this.status = status;
    this.problem = problem;
  }
}

async function call(method, path, { body, token } = {}) {
  const headers = { accept: "application/json" };
  if (body !== undefined) headers["content-type"] = "application/json";
  if (token) headers.authorization = `Bearer ${toB64u(token)}`;
  const response = await fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: "omit",
    cache: "no-store",
    referrerPolicy: "no-referrer",
  });
  const text = await response.text();
  const data = text ? JSON.parse(text) : null;
  if (!response.ok) throw new RelayError(response.status, data);
  return data;
}

export const getChallenge = async () => fromB64u((await call("POST", "/v1/challenges")).challenge);

// Registers a worker's device with its one-time enrolment code (flow 1-2).
export async function enrolDevice(identity, enrolmentCode) {
  const challenge = await getChallenge();
  const data = await call("POST", "/v1/devices/enrol", {
    body: {
      enrolment_code: enrolmentCode.trim(),
      identity_key: toB64u(identity.public),
      challenge: toB64u(challenge),
      signature: toB64u(identity.signRegistration(challenge)),
    },
  });
  return { deviceId: fromB64u(data.device_id), mailboxId: fromB64u(data.mailbox_id) };
}

export async function authenticate(identity, deviceId) {
  const challenge = await getChallenge();
  const data = await call("POST", "/v1/sessions", {
    body: {
      device_id: toB64u(deviceId),
      challenge: toB64u(challenge),
      signature: toB64u(identity.signAuth(challenge)),
    },
  });
  return fromB64u(data.token);
}

export async function uploadPrekeys(token, signedPrekey, oneTimePrekeys) {
  await call("PUT", "/v1/prekeys", {
    token,
    body: {
      signed_prekey: {
        key_id: signedPrekey.keyId,
        public_key: toB64u(signedPrekey.pair.public),
        signature: toB64u(signedPrekey.signature),
      },
      one_time_prekeys: oneTimePrekeys.map((k) => ({ key_id: k.keyId, public_key: toB64u(k.pair.public) })),
    },
  });
}

export async function createInvite(token) {
  const data = await call("POST", "/v1/invites", { token, body: {} });
  return { secret: data.token, expiresAt: data.expires_at };
}

export function parseBundle(b) {
  return {
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
export async function redeemInvite(inviteToken, identity) {
  const challenge = await getChallenge();
  const data = await call("POST", "/v1/invites/redeem", {
    body: {
      token: inviteToken,
      identity_key: toB64u(identity.public),
      challenge: toB64u(challenge),
      signature: toB64u(identity.signRegistration(challenge)),
    },
  });
  return {
    deviceId: fromB64u(data.device_id),
    mailboxId: fromB64u(data.mailbox_id),
    workerBundle: parseBundle(data.worker_bundle),
    workerMailboxId: fromB64u(data.worker_mailbox_id),
    workerCapability: fromB64u(data.capability),
    policy: data.policy,
  };
}

export async function mintCapability(token) {
  return fromB64u((await call("POST", "/v1/capabilities", { token, body: {} })).capability);
}

export async function revokeCapability(token, capability) {
  await call("POST", "/v1/capabilities/revoke", { token, body: { capability: toB64u(capability) } });
}

export async function submitConsent(token, kind, receipt, signature) {
  await call("POST", "/v1/consent", {
    token,
    body: { kind, receipt: toB64u(receipt), signature: toB64u(signature) },
  });
}

export async function uploadBlob(token, body) {
  const data = await call("POST", "/v1/blobs", { token, body: { body: toB64u(body) } });
  return data.id;
}

export async function downloadBlob(token, id) {
  return fromB64u((await call("GET", `/v1/blobs/${encodeURIComponent(id)}`, { token })).body);
}

export const getPolicy = () => call("GET", "/v1/policy");
