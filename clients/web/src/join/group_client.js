// A client joining a peer support group from a group invite (/join#g1.<token>,
// docs/protocol.md G3-G4): a new device for this membership, the organisation's group terms,
// a signed receipt of the group kind, a display name of the client's choosing (not a real
// name by default), then the group's conversation and calls. Everything lives in memory
// unless the client chose "remember this device": then the whole membership is sealed under
// their passphrase in IndexedDB (its own slot, beside a one-to-one vault) after every change,
// and /join opens it again. Quick exit forgets it either way; leaving the group deletes it.
import { fromB64u, toB64u, toHex, utf8 } from "../shared/b64.js";
import { addMessage, expire, fitTimer } from "../shared/conversation.js";
import { announce, field, h, show } from "../shared/dom.js";
import { inviteProof } from "../shared/invite.js";
import { notifyIfHidden } from "../shared/notify.js";
import { onLanguageChange, t } from "../shared/i18n.js";
import { idbForget, idbPut } from "../shared/idb.js";
import * as relay from "../shared/relay.js";
import * as engine from "../engine/index.js";
import { GroupCalls } from "../call/group_calls.js";
import { GROUP_PREKEY_BASE, GroupBook } from "../group/book.js";
import { callContext } from "../group/state.js";
import { callButtons, groupChat, memberSafety, membersList } from "../group/view.js";
import { CLIENT_DB, GROUP_VAULT, onQuickExit } from "./quickexit.js";
import { rememberChoice } from "./consentview.js";
import { unlockView } from "./unlockview.js";
import { errorText } from "../shared/problems.js";

const CONSENT_DAYS = 365;

let me = null;
let view = { name: "group" };

onQuickExit(() => {
  const leaving = me;
  me = null;
  const hungUp = leaving?.calls?.wipe() ?? Promise.resolve();
  Promise.race([hungUp, new Promise((r) => setTimeout(r, 300))]).then(() => leaving?.messenger?.stop());
});

// Unless remembered, nothing is kept once the tab closes, so leaving by accident asks first.
addEventListener("beforeunload", (event) => {
  if (!me?.messenger || me.left || me.remember) return;
  event.preventDefault();
  event.returnValue = "";
});

// --- remembering (opt-in) ----------------------------------------------------------------
//
// Saves run one after another, so a slow one never overwrites a newer one and forgetting
// comes after any save already under way. A save whose page has quick-exited (`me` gone) or
// chose not to be remembered writes nothing at all.
let saving = Promise.resolve();

function queued(step) {
  const run = saving.then(step);
  saving = run.catch(() => {});
  return run;
}

// Live objects (the socket, the book, calls, a token) are rebuilt on unlock; the invite's
// leftovers (the worker's bundle, the proof) were only needed to join.
const save = () => queued(async () => {
  const state = me;
  if (!state?.remember) return;
  for (const group of Object.values(state.groups)) expire(group);
  const { device, remember, messenger, book, calls, token, renewal, bundle, worker, proof, ...rest } = state;
  const doc = { ...rest, device: toB64u(device.toBytes()), pendingJoin: book?.pendingJoin ?? null };
  await idbPut(CLIENT_DB, GROUP_VAULT, engine.keystore.seal(remember, utf8(JSON.stringify(doc))));
});

function forgetDevice() {
  if (me) me.remember = null;
  return queued(() => idbForget(CLIENT_DB, GROUP_VAULT));
}

let unlockShown = null;
onLanguageChange(() => {
  if (unlockShown) showGroupUnlock(unlockShown);
});

// /join with no invite, when this device remembers a group: the passphrase opens it, the
// socket delivers what the group sent meanwhile, and the group is shown as it now stands.
export function showGroupUnlock(sealed) {
  unlockShown = sealed;
  show(unlockView({
    title: t("group.unlock.title"), intro: t("group.unlock.intro"), sealed,
    onOpen: async ({ pendingJoin, ...doc }, storeKey) => {
      const device = engine.Device.fromBytes(fromB64u(doc.device));
      const token = await relay.authenticate(device.identity, fromB64u(doc.deviceId));
      const org = await relay.getOrganisation().catch(() => null);
      unlockShown = null;
      me = { ...doc, device, token, remember: storeKey };
      if (org) {
        me.maxRetention = org.max_retention_seconds;
        me.timers = { min: org.settings?.disappearing_min_seconds, max: org.settings?.disappearing_max_seconds };
      }
      for (const group of Object.values(me.groups)) expire(group);
      me.book = newBook(pendingJoin);
      startMessenger();
      me.calls = newCalls();
      render();
    },
  }));
}

const defaultName = () => t("group.join.defaultName", { n: 100 + (crypto.getRandomValues(new Uint16Array(1))[0] % 900) });

// `fragment` is what follows "g1.": the invite token and the group id ("<token>.<group>");
// the group id binds the receipt to the group (G9). A bare token is taken too.
export async function joinGroup(fragment) {
  const [token, groupId = null] = fragment.split(".");
  const device = engine.Device.create();
  const spk = device.addSignedPrekey(1);
  let redeemed;
  try {
    redeemed = await relay.redeemInvite(token, device.identity, spk);
  } catch (err) {
    show(h("section", { "aria-labelledby": "used-title" },
      h("h1", { id: "used-title" }, t("group.join.unusable")),
      h("p", {}, [404, 409, 410].includes(err.status) ? t("group.join.usedOrExpired") : t("group.join.error", { reason: errorText(err) }))));
    return;
  }
  const org = await relay.getOrganisation().catch(() => null);
  me = {
    device, token: null, deviceId: toB64u(redeemed.deviceId), mailboxId: toB64u(redeemed.mailboxId),
    bundle: redeemed.workerBundle, workerKey: toB64u(redeemed.workerBundle.identityKey),
    worker: { mailboxId: redeemed.workerMailboxId, capability: redeemed.workerCapability },
    proof: inviteProof(engine.sodium, token, device.identity.public, redeemed.workerBundle.identityKey),
    terms: org?.group_terms ?? null, groups: {}, windows: {}, groupId,
    maxRetention: org?.max_retention_seconds,
    timers: { min: org?.settings?.disappearing_min_seconds, max: org?.settings?.disappearing_max_seconds },
  };
  showTerms();
}

function showTerms() {
  const terms = me.terms;
  if (!terms) {
    show(h("section", { "aria-labelledby": "noterms-title" },
      h("h1", { id: "noterms-title" }, t("group.join.notReady")), h("p", {}, t("group.join.noTerms"))));
    return;
  }
  const intact = toHex(engine.consent.policyDigest(terms.text)) === terms.sha256;
  const name = h("input", { required: true, maxlength: 64, autocomplete: "off", value: defaultName(), "aria-describedby": "display-name-help" });
  const error = h("p", { class: "error", role: "alert" });
  const agree = h("button", { type: "submit", id: "agree", disabled: !intact }, t("group.join.agree"));
  const remember = rememberChoice();
  show(h("section", { "aria-labelledby": "terms-title" },
    h("h1", { id: "terms-title" }, t("group.join.title")),
    h("p", {}, t("group.join.intro")),
    h("div", { class: "card policy", id: "group-terms-text", tabindex: 0, role: "document", "aria-label": t("group.join.termsLabel", { version: terms.version }) }, terms.text),
    h("p", { class: "muted" }, t("group.join.version", { version: terms.version })),
    intact ? null : h("p", { class: "alert", role: "alert" }, t("group.join.tampered")),
    h("div", { class: "card" }, h("h2", {}, t("group.join.youAgree")), h("ul", {},
      h("li", {}, t("group.join.agreeRead")), h("li", {}, t("group.join.agreeLimits")),
      h("li", {}, t("group.join.agreeDays", { days: CONSENT_DAYS })), h("li", {}, t("group.join.agreeLeave")))),
    h("form", {
      onsubmit: async (event) => {
        event.preventDefault();
        agree.disabled = true;
        error.textContent = "";
        try {
          await accept(name.value.trim() || defaultName(), remember.passphrase());
        } catch (err) {
          error.textContent = t("group.join.error", { reason: errorText(err) });
          agree.disabled = false;
        }
      },
    },
    ...field("display-name", t("group.join.displayName"), name),
    h("p", { class: "muted", id: "display-name-help" }, t("group.join.displayNameHelp")),
    remember.nodes,
    h("div", { class: "row" }, agree), error)));
}

// A group consent receipt (G9) for one worker's key, bound to the group once its id is known.
function groupReceipt(workerIdentityKey, termsVersion, termsSha256, groupId) {
  const now = Math.floor(Date.now() / 1000);
  return engine.groupConsent.signGroupReceipt(me.device.identity, {
    workerIdentityKey, termsVersion, termsSha256, signedAt: now, expiresAt: now + CONSENT_DAYS * 86400,
    groupBinding: groupId ? engine.groupConsent.groupBinding(fromB64u(groupId), me.device.identity.public) : engine.groupConsent.UNBOUND,
    discloser: "Me, through this device", recipient: "The members of this peer support group and its workers",
    purpose: "Peer support group conversations and calls", information: "The messages, files and calls I choose to share in this group",
  });
}

// Signs the group receipt, mints this device's group capability, makes its group prekey and
// sends all of it to the worker in `group-accept`; membership starts with the worker's roster.
// A passphrase means "remember this device": from here on every change is sealed under it.
async function accept(displayName, passphrase) {
  const { device, terms } = me;
  me.remember = passphrase ? engine.keystore.newStoreKey(passphrase) : null;
  me.consented = terms.version;
  me.displayName = displayName;
  me.token = await relay.authenticate(device.identity, fromB64u(me.deviceId));
  const { receipt, signature } = groupReceipt(me.bundle.identityKey, terms.version, engine.consent.policyDigest(terms.text), me.groupId);
  me.receipts = [{ worker: me.workerKey, version: terms.version, receipt: toB64u(receipt), signature: toB64u(signature) }];
  const capability = await relay.mintCapability(me.token, fromB64u(me.mailboxId));
  const gspk = device.addSignedPrekey(GROUP_PREKEY_BASE + 1);
  device.startSession(me.bundle);
  me.book = newBook({
    workerKey: me.workerKey,
    fields: { role: "client", capabilityId: capability.id, capability: toB64u(capability.secret), sendSeq: { [me.workerKey]: 2 } },
  });
  startMessenger();
  me.calls = newCalls();
  const prekey = { key_id: gspk.keyId, public_key: toB64u(gspk.pair.public), signature: toB64u(gspk.signature) };
  await me.messenger.send({ identityKey: me.bundle.identityKey, mailboxId: me.worker.mailboxId, capability: me.worker.capability }, {
    v: 1, seq: 1, id: engine.Messenger.newId(), type: "group-accept", ...(me.groupId ? { group: me.groupId } : {}), mailbox: me.mailboxId, capability: toB64u(capability.secret),
    prekey, name: displayName, receipt: toB64u(receipt), signature: toB64u(signature), invite_proof: me.proof,
  });
  render();
}

function newBook(pendingJoin) {
  const { device } = me;
  return new GroupBook({
    device, messenger: () => me.messenger, token: () => me.token, ownKey: toB64u(device.identity.public),
    ownMailbox: me.mailboxId, groups: me.groups, newId: () => engine.Messenger.newId(), save,
    changed: async () => {
      await save();
      render();
    },
    fit: (s) => fitTimer(s, me.maxRetention, me.timers),
    onCall: (group, m, p) => me.calls.receive(group.id, m.member, p),
    onForget: (group, member) => me.calls?.forget(group.id, member),
    notify: () => notifyNeutral(),
    pendingJoin,
  });
}

function startMessenger() {
  me.messenger = new engine.Messenger({
    device: me.device, token: me.token, windows: me.windows, save,
    windowKey: (sender, payload) => me.book.windowKey(sender, payload),
    renewToken: async () => {
      me.token = await relay.authenticate(me.device.identity, fromB64u(me.deviceId));
      return me.token;
    },
    onMessage: async (sender, payload) => {
      await me.book.receive(sender, payload);
      render();
    },
  });
  me.messenger.start();
  setInterval(() => {
    if (me && Object.values(me.groups).some((g) => expire(g))) render();
  }, 15000);
  setInterval(() => me?.book.retireDue().catch(() => {}), 60_000);
}

function newCalls() {
  return new GroupCalls({
    sodium: engine.sodium, newId: () => engine.Messenger.newId(), token: () => me.token,
    context: (id) => (me?.groups[id] ? callContext(me.book, me.groups[id], me.device.identity.public) : null),
    // New group terms waiting for an answer pause calls as they pause writing.
    beforeEnter: async () => {
      const group = Object.values(me?.groups ?? {})[0];
      if (!group || !newTerms(group)) return true;
      announce(t("group.renew.callPaused"));
      return false;
    },
    onState: () => render(),
    notify: () => notifyNeutral(),
    onEnded: (id, call, text) => {
      const group = me?.groups[id];
      if (group) addMessage(group, { id: `call-${call.id}`, kind: "system", body: t("call.group.record", { media: call.media, text }) });
      render();
    },
  });
}

// Neutral wording only, as for one-to-one messages: a shared screen learns nothing.
function notifyNeutral() {
  announce(t("group.join.somethingNew"));
  notifyIfHidden("client", t("group.join.somethingNew"));
}

// Leaving ends the membership, so a remembered device forgets it too: there is nothing left
// to come back to, and a left group kept on a shared device would only be a trace.
async function leave(group) {
  const remembered = Boolean(me.remember);
  me.remember = null;
  await me.book.leave(group);
  await me.calls.wipe();
  me.left = true;
  me.messenger.stop();
  if (remembered) await forgetDevice();
  show(h("section", { "aria-labelledby": "left-title" },
    h("h1", { id: "left-title" }, t("group.join.leftTitle")), h("p", {}, t("group.join.leftText"))));
}

// --- new group terms (G6 `group-consent`) ------------------------------------------------
//
// A worker's roster names the group terms in force (their version and SHA-256). When it
// names a newer version than the one this device consented to, the client fetches that
// version's text, checks it against the hash the worker signed, and is asked again. Until
// it answers it can read the group but not write to it. Agreeing sends each of the group's
// workers a fresh receipt naming that worker's key; declining is leaving the group.
function newTerms(group) {
  const named = group.roster?.terms;
  if (!named || group.gone || named.version <= me.consented) return null;
  if (me.renewal?.version !== named.version) {
    me.renewal = { version: named.version, sha256: named.sha256, text: null, intact: false, failed: false };
    const renewal = me.renewal;
    relay.call("GET", `/v1/group-terms/${named.version}`).then((terms) => {
      renewal.text = String(terms.text);
      renewal.intact = toHex(engine.consent.policyDigest(renewal.text)) === named.sha256;
    }, () => {
      renewal.failed = true;
    }).finally(() => render());
  }
  return me.renewal;
}

async function consentAgain(group, renewal) {
  const workers = group.roster.members.filter((m) => m.role === "worker" && !group.left.includes(m.key));
  const digest = engine.consent.policyDigest(renewal.text);
  await Promise.all(workers.map((m) => {
    const { receipt, signature } = groupReceipt(fromB64u(m.key), renewal.version, digest, group.id);
    (me.receipts ??= []).push({ worker: m.key, version: renewal.version, receipt: toB64u(receipt), signature: toB64u(signature) });
    return me.book.sendTo(group, m, "group-consent", { receipt: toB64u(receipt), signature: toB64u(signature) });
  }));
  me.consented = renewal.version;
  await save();
  view = { name: "group" };
  announce(t("group.renew.thanks", { version: renewal.version }));
  render();
}

function renewalNotice(renewal) {
  return h("div", { class: "card alert", id: "group-new-terms", role: "status" },
    h("p", {}, t("group.renew.notice", { version: renewal.version })),
    h("div", { class: "row" }, h("button", { type: "button", id: "review-group-terms", onclick: () => { view = { name: "renewal" }; render(); } },
      t("group.renew.read"))));
}

function renewalView(group, renewal) {
  const error = h("p", { class: "error", role: "alert" });
  const agree = h("button", { type: "button", id: "agree-group-terms", disabled: !renewal.intact, onclick: async () => {
    agree.disabled = true;
    try {
      await consentAgain(group, renewal);
    } catch (err) {
      error.textContent = t("group.join.error", { reason: errorText(err) });
      agree.disabled = false;
    }
  } }, t("group.renew.agree"));
  const decline = h("button", { type: "button", class: "danger", id: "decline-group-terms", onclick: () => leave(group) }, t("group.renew.decline"));
  const retry = h("button", { type: "button", class: "secondary", id: "retry-group-terms", onclick: () => { me.renewal = null; render(); } }, t("group.renew.retry"));
  const body = renewal.text === null
    ? h("div", {}, h("p", { class: "muted" }, renewal.failed ? t("group.renew.unavailable") : t("group.renew.loading")), renewal.failed ? retry : null)
    : h("div", { class: "card policy", id: "group-terms-text", tabindex: 0, role: "document", "aria-label": t("group.join.termsLabel", { version: renewal.version }) }, renewal.text);
  return h("section", { "aria-labelledby": "renew-title" },
    h("h1", { id: "renew-title" }, t("group.renew.title", { group: group.name })),
    h("p", {}, t("group.renew.intro", { version: renewal.version })),
    body,
    renewal.text !== null && !renewal.intact ? h("p", { class: "alert", role: "alert" }, t("group.join.tampered")) : null,
    h("p", {}, t("group.renew.declineExplain")),
    h("div", { class: "row" }, agree, decline),
    h("div", { class: "row" }, h("button", { type: "button", class: "secondary", id: "renew-later", onclick: () => { view = { name: "group" }; render(); } }, t("group.renew.later"))),
    error);
}

function leaveControl(group) {
  const confirm = h("input", { type: "checkbox", id: "confirm-leave" });
  const button = h("button", { type: "button", class: "danger", id: "leave-group", disabled: true, onclick: () => leave(group) }, t("group.leave.button"));
  confirm.addEventListener("change", () => {
    button.disabled = !confirm.checked;
  });
  return h("details", { class: "rename" }, h("summary", {}, t("group.leave.summary")),
    h("p", {}, t("group.leave.explain")),
    h("label", { class: "check", for: "confirm-leave" }, confirm, t("group.leave.confirm")),
    h("div", { class: "row" }, button));
}

// A removed member, or one whose group closed, may still be remembered: the group can be
// read, not written to, until this device forgets it (or quick exit does).
function forgetControl() {
  return h("div", { class: "row" }, h("button", { type: "button", class: "secondary", id: "forget-group", onclick: async () => {
    me.left = true;
    me.messenger.stop();
    await me.calls.wipe();
    await forgetDevice();
    show(h("section", { "aria-labelledby": "left-title" },
      h("h1", { id: "left-title" }, t("group.forget.title")), h("p", {}, t("group.join.leftText"))));
  } }, t("group.forget.button")));
}

function render() {
  if (!me || me.left) return;
  const group = Object.values(me.groups)[0];
  if (!group) {
    show(h("section", { "aria-labelledby": "waiting-title" },
      h("h1", { id: "waiting-title" }, t("group.join.waitingTitle")), h("p", {}, t("group.join.waitingText"))));
    return;
  }
  if (view.name === "safety") {
    const screen = memberSafety(engine, me.device.identity.public, group, view.member, {
      changed: async () => render(), onBack: () => { view = { name: "group" }; render(); },
    });
    if (screen) {
      show(screen);
      return;
    }
    view = { name: "group" };
  }
  const renewal = newTerms(group);
  if (view.name === "renewal") {
    if (renewal) {
      show(renewalView(group, renewal));
      return;
    }
    view = { name: "group" };
  }
  const active = document.activeElement;
  const keep = active?.id === "compose-text" ? active.value : null;
  group.unread = 0;
  show(h("section", { "aria-labelledby": "group-title" },
    h("h1", { id: "group-title" }, group.name),
    group.gone ? h("p", { class: "alert", id: "group-gone" }, t(`group.gone.${group.gone}`)) : null,
    renewal ? renewalNotice(renewal) : null,
    h("div", { class: "row" }, ...callButtons(group, { calls: me.calls, otherBusy: () => Boolean(renewal) })),
    membersList(group, { ownKey: me.book.ownKey, onSafety: (m) => { view = { name: "safety", member: m.member }; render(); } }),
    group.gone ? (me.remember ? forgetControl() : null) : leaveControl(group),
    groupChat(group, {
      book: me.book, maxRetention: me.maxRetention, timers: me.timers, warnOnSave: true, announce,
      disabledReason: renewal ? t("group.renew.chatPaused") : null,
    })));
  if (keep !== null) {
    const text = document.getElementById("compose-text");
    if (text && !text.disabled) {
      text.value = keep;
      text.focus();
    }
  }
}
