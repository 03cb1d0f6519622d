// The worker's side of consent: a client's first message carries its signed receipt and a
// capability for its mailbox; a later message may carry a signed revocation. Both are
// verified against the client's identity key before anything changes.
import { fromB64u, toB64u } from "../shared/b64.js";
import { addMessage } from "../shared/conversation.js";
import { announce } from "../shared/dom.js";
import { t } from "../shared/i18n.js";
import { provesInvite } from "../shared/invite.js";
import { errorText } from "../shared/problems.js";

// A hello is bound only to the pending invite whose secret it proves (shared/invite.js): a
// contact's identity is fixed when the contact is made, so nothing a hello names (an invite
// tag, a device id) can file it onto another conversation. A hello that proves no pending
// invite of this device is refused. A hello that proves a rejoin invite of an existing
// contact brings a new key, which never silently replaces the old one: it waits, with a
// marker in the conversation, until the worker compared the new safety number and confirmed.
export function handleHello(ws, sender, message) {
  const conv = invitedBy(ws, sender, message.invite_proof);
  if (!conv) {
    announce(t("worker.helloRefused"));
    return null;
  }
  const receipt = verifiedReceipt(ws, sender, message);
  if (!receipt) return null;
  // The relay's id for the capability this device was handed with the invite, so that the
  // worker can revoke it once the contact moves to another key.
  const { capabilityId } = conv.invite;
  conv.invite = null;
  const peer = { identityKey: toB64u(sender), mailboxId: message.mailbox, capability: message.capability };
  if (!conv.peer) {
    conv.peer = peer;
    conv.peerCapabilityId = capabilityId;
    recordConsent(conv, receipt, message);
    return conv;
  }
  conv.keyChange = { ...peer, capabilityId, receipt: message.receipt, signature: message.signature, at: Date.now(), held: [] };
  conv.verified = false;
  addMessage(conv, {
    id: `key-change-${peer.identityKey}`, kind: "system", mine: false,
    i18n: [conv.alias ? ["worker.sysRejoined", { name: conv.alias }] : ["worker.sysRejoinedNoName"]],
  });
  announce(t("common.keyChangedAnnounce"));
  return conv;
}

// The conversation whose pending invite this hello's proof answers. An expired invite still
// counts until the worker removes it: the relay refuses redemptions after the expiry, but a
// client who opened the link in time may agree to the policy (and say hello) later.
function invitedBy(ws, sender, proof) {
  const own = ws.session.device.identity.public;
  const senderB64 = toB64u(sender);
  return Object.values(ws.state.conversations).find((conv) => conv.invite?.secret
    && conv.peer?.identityKey !== senderB64
    && provesInvite(ws.engine.sodium, proof, conv.invite.secret, sender, own)) ?? null;
}

// The worker compared the new safety number and confirmed: the conversation moves to the new
// key, whose own receipt is the consent from now on. Returns what the new key sent meanwhile
// and the id of the old device's capability for this worker's mailbox (to revoke), if known.
export function confirmKeyChange(ws, conv) {
  const change = conv.keyChange;
  const receipt = verifiedReceipt(ws, fromB64u(change.identityKey), change);
  const retired = conv.peerCapabilityId ?? null;
  conv.peer = { identityKey: change.identityKey, mailboxId: change.mailboxId, capability: change.capability };
  conv.peerCapabilityId = change.capabilityId;
  conv.keyChange = null;
  conv.verified = true;
  conv.verifiedKey = change.identityKey;
  // The new device counts the worker's messages from 1, like any new conversation.
  conv.sendSeq = 1;
  addMessage(conv, { id: `key-confirmed-${change.identityKey}`, kind: "system", mine: false, i18n: [["join.sysKeyConfirmed"]] });
  if (receipt) recordConsent(conv, receipt, change);
  else conv.consent = { state: "none" };
  return { held: change.held, retired };
}

// A fresh receipt in an existing conversation, typically for a new policy version.
export function handleConsent(ws, conv, sender, message) {
  if (conv.consent.state === "revoked") return;
  const receipt = verifiedReceipt(ws, sender, message);
  if (receipt) recordConsent(conv, receipt, message);
}

function verifiedReceipt(ws, sender, message) {
  try {
    return ws.engine.consent.verifyReceipt(fromB64u(message.receipt), fromB64u(message.signature), {
      clientIdentityKey: sender,
      workerIdentityKey: ws.session.device.identity.public,
      now: Math.floor(Date.now() / 1000),
    });
  } catch (err) {
    announce(t("worker.receiptBad", { error: errorText(err) }));
    return null;
  }
}

function recordConsent(conv, receipt, message) {
  conv.consent = {
    state: "given", receipt: message.receipt, signature: message.signature,
    policyVersion: receipt.policyVersion, policyLanguage: receipt.policyLanguage ?? null,
    signedAt: receipt.signedAt, expiresAt: receipt.expiresAt,
  };
  addMessage(conv, {
    id: `consent-${message.signature.slice(0, 16)}-${receipt.policyVersion}`, kind: "system", mine: false,
    i18n: [["worker.sysConsent", { version: receipt.policyVersion }]],
  });
}

// Consent for an older policy version than the organisation's current one no longer covers
// new messages: the client has to agree to the new text first.
export function staleConsent(conv, currentPolicyVersion) {
  return conv.consent.state === "given" && Number.isInteger(currentPolicyVersion)
    && conv.consent.policyVersion < currentPolicyVersion;
}

export function handleRevoke(ws, conv, sender, message) {
  try {
    ws.engine.consent.verifyRevocation(fromB64u(message.revocation), fromB64u(message.signature), {
      receipt: fromB64u(conv.consent.receipt), clientIdentityKey: sender,
    });
  } catch (err) {
    announce(t("worker.revocationBad", { error: errorText(err) }));
    return;
  }
  conv.consent = { ...conv.consent, state: "revoked", revokedAt: Math.floor(Date.now() / 1000) };
  conv.peer.capability = null;
  addMessage(conv, { id: `revoked-${message.id}`, kind: "system", mine: false, i18n: [["worker.sysRevoked"]] });
  announce(t("worker.consentRevokedAnnounce"));
}
