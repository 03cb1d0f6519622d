// The client's side: keys made in this browser, the organisation's policy, consent signed by
// this device, then the conversation. Everything lives in memory unless the client chose
// "remember this device", in which case it is sealed under their passphrase in IndexedDB.
import { fromB64u, toB64u, toHex, utf8 } from "../shared/b64.js";
import { chatView, refreshTimes } from "../shared/chatview.js";
import { addMessage, canSend, expire, fitTimer, newConversation } from "../shared/conversation.js";
import { announce, h, show } from "../shared/dom.js";
import { language, onLanguageChange, t } from "../shared/i18n.js";
import { idbPut } from "../shared/idb.js";
import { closePreviews } from "../shared/files.js";
import { applyCommon } from "../shared/inbox.js";
import { inviteProof } from "../shared/invite.js";
import { policyText } from "../shared/policytext.js";
import * as relay from "../shared/relay.js";
import { keyChangedAlert, safetyView } from "../shared/safetyview.js";
import * as engine from "../engine/index.js";
import { CLIENT_DB, CLIENT_VAULT, onQuickExit } from "./quickexit.js";
import { confirmWorkerKey } from "./keychange.js";
import { CONSENT_DAYS, consentView, reviewView } from "./consentview.js";
import { unlockView } from "./unlockview.js";
import { showRecords } from "../shared/records.js";
import { privacyButton as guideButton } from "../shared/guides.js";
import { Calls, SIGNAL_TTL_SECONDS } from "../call/calls.js";
import { allowNotificationsButton, notifyIfHidden } from "../shared/notify.js";
import { errorText } from "../shared/problems.js";

// How the page names the worker, at the start of a sentence and (on the call screen) inside
// one; in the language being shown.
const WORKER = () => t("join.worker");
const WORKER_IN_CALL = () => t("join.workerInCall");

let client = null;

onQuickExit(() => {
  const leaving = client;
  client = null;
  closePreviews();
  // The call's screen goes at once; the socket stays just long enough to say goodbye.
  const hungUp = leaving?.calls?.wipe() ?? Promise.resolve();
  Promise.race([hungUp, new Promise((r) => setTimeout(r, 300))]).then(() => leaving?.messenger?.stop());
});

// Makes this browser's keys and redeems the invite, keeping what the page needs in memory.
// Returns false when the link cannot be used, after showing why. `org`, when the page has
// already fetched GET /v1/organisation, saves asking for it again.
export async function prepare(token, org = undefined) {
  const device = engine.Device.create();
  const spk = device.addSignedPrekey(1);
  let redeemed;
  try {
    redeemed = await relay.redeemInvite(token, device.identity, spk);
  } catch (err) {
    show(h("section", { "aria-labelledby": "used-title" },
      h("h1", { id: "used-title" }, t("join.linkUnusableTitle")),
      h("p", {}, err.status === 404 || err.status === 409 || err.status === 410
        ? t("join.linkUsed")
        : t("common.somethingWrong", { error: errorText(err) }))));
    return false;
  }
  client = {
    device, deviceId: toB64u(redeemed.deviceId),
    inviteProof: inviteProof(engine.sodium, token, device.identity.public, redeemed.workerBundle.identityKey),
    mailboxId: toB64u(redeemed.mailboxId), policy: redeemed.policy,
    worker: {
      identityKey: toB64u(redeemed.workerBundle.identityKey), mailboxId: toB64u(redeemed.workerMailboxId),
      capability: toB64u(redeemed.workerCapability),
    },
    bundle: redeemed.workerBundle, remember: null,
  };
  client.conv = newConversation({ alias: "", peer: client.worker });
  const organisation = org ?? await relay.getOrganisation().catch(() => null);
  client.maxRetention = organisation?.max_retention_seconds;
  client.timers = { min: organisation?.settings?.disappearing_min_seconds, max: organisation?.settings?.disappearing_max_seconds };
  client.texts = organisation?.texts ?? {};
  return true;
}

export async function join(token) {
  if (await prepare(token)) showConsent();
}

// "I agree" on the consent screen firstconsent.js showed before this module arrived, with
// the text it showed ({version, language, text, sha256}). The receipt covers that text when
// the policy the redemption returned has it; should the organisation have published another
// version in between, that one is shown to agree to instead.
export async function agreeTo(shown, remember) {
  const same = client.policy?.version === shown.version ? policyText(client.policy, shown.language) : null;
  if (!same || same.language !== shown.language || same.sha256 !== shown.sha256) {
    showConsent();
    return;
  }
  client.shownPolicy = same;
  await agree(remember);
}

// "Keeping this conversation private", in the organisation's words when it has them.
const privacyButton = () => guideButton(() => client?.texts);

// The consent screen being shown, so that a change of language draws it again (with the
// policy's text in the new language, when the organisation published one).
let consentShown = null;

function showConsent(options = {}) {
  const { renewal = false, previous = null, onAgree = agree, onDecline = null } = options;
  consentShown = options;
  if (!client.policy) {
    show(h("section", { "aria-labelledby": "nopolicy-title" },
      h("h1", { id: "nopolicy-title" }, t("join.notReadyTitle")),
      h("p", {}, t("join.notReadyBody"))));
    return;
  }
  // What is signed is the text shown, in the language shown: the receipt names both.
  client.shownPolicy = policyText(client.policy, language());
  const digest = toHex(engine.consent.policyDigest(client.shownPolicy.text));
  const before = previous ? policyText(previous, client.shownPolicy.language) : null;
  show(consentView({
    policy: client.shownPolicy, policyIntact: digest === client.shownPolicy.sha256, days: CONSENT_DAYS, renewal, privacyButton: privacyButton(),
    previous: before, onDecline, onAgree: (...args) => {
      consentShown = null;
      return onAgree(...args);
    },
  }));
}

// Signs a receipt for the policy text shown (`client.shownPolicy`), stores it on the relay and
// records it.
async function signConsent() {
  const shown = client.shownPolicy;
  const now = Math.floor(Date.now() / 1000);
  const expiresAt = now + CONSENT_DAYS * 86400;
  const { receipt, signature } = engine.consent.signReceipt(client.device.identity, {
    workerIdentityKey: fromB64u(client.worker.identityKey), policyVersion: shown.version,
    policySha256: engine.consent.policyDigest(shown.text), policyLanguage: shown.language, signedAt: now, expiresAt,
    // The receipt's own words are in the language the client read the policy in.
    discloser: t("join.receiptDiscloser"), recipient: t("join.receiptRecipient"),
    purpose: t("join.receiptPurpose"), information: t("join.receiptInformation"),
  });
  await relay.submitConsent(client.token, fromB64u(client.workerDeviceId), "receipt", receipt, signature);
  client.conv.consent = {
    state: "given", receipt: toB64u(receipt), signature: toB64u(signature),
    policyVersion: shown.version, policyLanguage: shown.language, signedAt: now, expiresAt,
  };
}

async function agree(remember) {
  client.token = await relay.authenticate(client.device.identity, fromB64u(client.deviceId));
  client.workerDeviceId = toB64u(client.bundle.deviceId);
  await signConsent();
  const capability = await relay.mintCapability(client.token, fromB64u(client.mailboxId));
  client.capabilityForWorker = toB64u(capability.secret);
  client.capabilityId = capability.id;
  if (remember) client.remember = engine.keystore.newStoreKey(remember);
  client.device.startSession(client.bundle);
  startMessenger();
  await channel().sendControl("hello", {
    mailbox: client.mailboxId, capability: client.capabilityForWorker, device: client.deviceId,
    receipt: client.conv.consent.receipt, signature: client.conv.consent.signature, invite_proof: client.inviteProof,
  });
  addMessage(client.conv, { id: "consent", kind: "system", i18n: [["join.sysAgreed"]] });
  await save();
  render();
}

// A device whose consent names an older policy asks again: when a remembered device opens,
// when the relay announces a new version, or when the worker asks for a review. The client
// sees the new text and what changed since the version agreed to, and agrees or declines;
// the fresh receipt travels to the worker inside the channel, as confide_client does.
async function renewConsentIfNeeded() {
  const org = await relay.getOrganisation().catch(() => null);
  client.maxRetention = org?.max_retention_seconds;
  client.timers = { min: org?.settings?.disappearing_min_seconds, max: org?.settings?.disappearing_max_seconds };
  client.texts = org?.texts ?? {};
  const current = org?.policy;
  if (!current || client.conv.consent.state !== "given" || current.version === client.conv.consent.policyVersion) {
    render();
    return;
  }
  // The text agreed to, for the diff: kept from before (the remembered device's policy).
  if (client.policy && client.policy.version === client.conv.consent.policyVersion) client.agreedPolicy = client.policy;
  client.policy = current;
  view = "renewal";
  showConsent({
    renewal: true,
    previous: client.agreedPolicy ?? null,
    onDecline: () => {
      view = "chat";
      render();
    },
    onAgree: async () => {
      view = "chat";
      await signConsent();
      await channel().sendControl("consent", { receipt: client.conv.consent.receipt, signature: client.conv.consent.signature });
      addMessage(client.conv, { id: `consent-${client.policy.version}`, kind: "system", i18n: [["join.sysAgreedVersion", { version: client.policy.version }]] });
      await save();
      render();
    },
  });
}

function workerPeer() {
  return {
    identityKey: fromB64u(client.worker.identityKey), mailboxId: fromB64u(client.worker.mailboxId),
    capability: fromB64u(client.worker.capability),
  };
}

// Seals the whole client state when "remember this device" was chosen; otherwise a no-op,
// so nothing at all reaches storage.
async function save() {
  if (!client?.remember) return;
  // Live objects (keys, the socket, a call) are not state: they are rebuilt on unlock.
  const { device, remember, messenger, bundle, calls, ...rest } = client;
  const doc = { ...rest, device: toB64u(device.toBytes()), bundle: null };
  await idbPut(CLIENT_DB, CLIENT_VAULT, engine.keystore.seal(remember, utf8(JSON.stringify(doc))));
}

function startMessenger() {
  client.messenger = new engine.Messenger({
    device: client.device, token: client.token, save, windows: (client.windows ??= {}),
    renewToken: async () => {
      client.token = await relay.authenticate(client.device.identity, fromB64u(client.deviceId));
      return client.token;
    },
    onMessage: (sender, message) => receive(sender, message),
    onNotice: (frame) => {
      if (frame.kind === "policy") renewConsentIfNeeded();
    },
    onState: () => {},
  });
  client.calls = newCalls();
  client.messenger.start();
  setInterval(() => {
    if (client && expire(client.conv)) render();
    else refreshTimes();
  }, 15000);
}

function newCalls() {
  return new Calls({
    role: "client",
    sodium: engine.sodium,
    identityKey: client.device.identity.public,
    newId: () => engine.Messenger.newId(),
    token: () => client.token,
    contact: () => ({
      name: WORKER_IN_CALL(),
      identityKey: fromB64u(client.worker.identityKey),
      send: (payload) => channel().sendCall(payload, SIGNAL_TTL_SECONDS),
    }),
    onEnded: async (conv, call, ended) => {
      addMessage(conv, { id: `call-${call.id}`, kind: "system", i18n: [["call.log", { media: call.media }], ended] });
      await save();
      render();
    },
    onState: () => render(),
    // Neutral wording only, as for messages.
    notify: () => notifyIfHidden("client"),
  });
}

function channel() {
  return new engine.Channel({
    messenger: client.messenger, conv: client.conv, peer: workerPeer, token: () => client.token,
    fit: (seconds) => fitTimer(seconds, client.maxRetention, client.timers),
    changed: async () => {
      await save();
      render();
    },
  });
}

async function receive(sender, payload) {
  const id = toB64u(sender);
  if (id !== client.worker.identityKey) {
    keyChangeSeen(id, payload);
    await save();
    render();
    return;
  }
  if (payload.type === "call") {
    if (client.conv.consent.state === "given") await client.calls.receive(client.conv, payload);
    render();
    return;
  }
  if (payload.type === "policy") {
    // The worker asks for a review of the organisation's current version.
    await renewConsentIfNeeded();
    return;
  }
  if (applyCommon(client.conv, payload, engine.pointerLength)) {
    // Neutral wording only: no sender, no text; the tab's title stays "Notes".
    notifyIfHidden("client");
    announce(t("join.newMessage"));
    if (canSend(client.conv)) channel().sendDelivered([payload.id]);
  }
  render();
}

// A different key for the worker never silently replaces the known one: the conversation
// shows where it happened, sending stops, and what the new key sends is kept unshown until
// the client compared the new safety number and confirmed it. The known key keeps talking.
function keyChangeSeen(id, payload) {
  const conv = client.conv;
  if (conv.keyChange?.identityKey !== id) {
    conv.keyChange = { identityKey: id, at: Date.now(), held: [] };
    conv.verified = false;
    addMessage(conv, { id: `key-change-${id}`, kind: "system", i18n: [["join.sysKeyChanged"]] });
    announce(t("common.keyChangedAnnounce"));
  }
  if (payload.type !== "call") conv.keyChange.held.push(payload);
}

async function confirmKeyChange() {
  const sender = fromB64u(client.conv.keyChange.identityKey);
  const held = confirmWorkerKey(client, client.conv);
  await save();
  for (const payload of held) await receive(sender, payload);
  render();
}

// Someone who chose not to be remembered loses the conversation with the page, so leaving it
// by accident (a reload, a closed tab) asks first. Quick exit clears `client` before it
// leaves, so it is never held up by this question.
addEventListener("beforeunload", (event) => {
  if (!client?.messenger || client.remember) return;
  event.preventDefault();
  event.returnValue = "";
});

async function revoke() {
  const conv = client.conv;
  client.calls?.stopFor(conv);
  const { revocation, signature } = engine.consent.signRevocation(client.device.identity, fromB64u(conv.consent.receipt), Math.floor(Date.now() / 1000));
  // Tell the worker first (inside the E2E channel), then withdraw the capability so the
  // relay refuses anything more from them.
  await channel().sendControl("revoke", { revocation: toB64u(revocation), signature: toB64u(signature) }).catch(() => {});
  await relay.submitConsent(client.token, fromB64u(client.workerDeviceId), "revocation", revocation, signature).catch(() => {});
  await relay.revokeCapability(client.token, fromB64u(client.mailboxId), client.capabilityId);
  conv.consent = { ...conv.consent, state: "revoked" };
  addMessage(conv, { id: "revoked", kind: "system", i18n: [["join.sysRevoked"]] });
  await save();
  view = "chat";
  render();
}

let view = "chat";

// A client's call waits in the worker's waiting room until the worker admits it.
function callButtons(conv) {
  const allowed = conv.consent.state === "given" && client.calls && !client.calls.busy;
  return [
    h("button", { type: "button", class: "secondary", id: "start-voice-call", disabled: !allowed, onclick: () => client.calls.start(conv, "audio") }, t("call.voiceButton")),
    h("button", { type: "button", class: "secondary", id: "start-video-call", disabled: !allowed, onclick: () => client.calls.start(conv, "video") }, t("call.videoButton")),
  ];
}

function render() {
  if (!client || view === "renewal") return;
  const conv = client.conv;
  const active = document.activeElement;
  const keep = active?.id === "compose-text" ? active.value : null;
  // A receipt for an older version than the organisation's current one covers nothing new.
  const outdated = conv.consent.state === "given" && client.policy && client.policy.version > conv.consent.policyVersion;
  if (view === "review") {
    show(reviewView({
      consent: conv.consent, policy: policyText(client.policy, conv.consent.policyLanguage ?? language()), onRevoke: revoke, onBack: () => { view = "chat"; render(); },
      onRecords: () => showRecords(() => relay.getMyRecords(client.token)),
    }));
    return;
  }
  if (view === "safety") {
    const pending = conv.keyChange?.identityKey;
    show(safetyView(engine, client.device.identity.public, fromB64u(pending ?? client.worker.identityKey), {
      peerName: WORKER(), verified: conv.verified,
      onVerified: () => { conv.verified = true; save(); render(); },
      onConfirm: pending ? confirmKeyChange : null,
      onBack: () => { view = "chat"; render(); },
    }));
    return;
  }
  show(h("section", { "aria-labelledby": "chat-title" },
    h("h1", { id: "chat-title" }, t("join.chatTitle")),
    conv.keyChange ? keyChangedAlert(WORKER()) : null,
    outdated ? h("div", { class: "card alert", role: "status", id: "policy-outdated" },
      h("p", {}, t("join.policyOutdated", { version: client.policy.version })),
      h("div", { class: "row" }, h("button", { type: "button", id: "review-policy", onclick: () => renewConsentIfNeeded() }, t("join.readNewPolicy")))) : null,
    h("div", { class: "row" },
      h("button", { type: "button", class: "secondary", id: "review-consent", onclick: () => { view = "review"; render(); } }, t("join.yourConsent")),
      h("button", { type: "button", class: "secondary", id: "open-safety", onclick: () => { view = "safety"; render(); } }, conv.verified ? t("join.verified") : t("join.safetyNumber")),
      privacyButton(),
      ...callButtons(conv),
      allowNotificationsButton("client", undefined, render)),
    chatView(conv, {
      peerName: WORKER(),
      disabledReason: conv.consent.state === "revoked" ? t("join.disabledRevoked")
        : conv.keyChange ? t("join.disabledKeyChange")
        : outdated ? t("join.disabledOutdated", { version: client.policy.version }) : null,
      maxRetention: client.maxRetention,
      timers: client.timers,
      onSend: (text) => channel().sendText(text),
      onAttach: (file) => channel().sendFile(file),
      onTimer: (ttl) => channel().setTimer(ttl),
      // A saved file stays in the downloads after quick exit: the client is told first.
      files: { fetch: (message, onProgress) => channel().fetchFile(message, onProgress), warnOnSave: true, announce },
    })));
  if (keep !== null) {
    const text = document.getElementById("compose-text");
    if (text && !text.disabled) {
      text.value = keep;
      text.focus();
    }
  }
}

let unlockShown = null;

// A new language redraws whichever screen is up, in it.
onLanguageChange(() => {
  if (unlockShown) showUnlock(unlockShown);
  else if (consentShown && client) showConsent(consentShown);
  // Before the first agreement the consent screen is firstconsent.js's, which redraws itself.
  else if (client && client.conv.consent.state !== "none") render();
});

export function showUnlock(sealed) {
  unlockShown = sealed;
  show(unlockView({
    title: t("join.welcomeBack"), sealed,
    onOpen: async (doc, storeKey) => {
      unlockShown = null;
      client = { ...doc, device: engine.Device.fromBytes(fromB64u(doc.device)), remember: storeKey };
      client.token = await relay.authenticate(client.device.identity, fromB64u(client.deviceId));
      startMessenger();
      await renewConsentIfNeeded();
    },
  }));
}
