// A client joining a peer support group from a group invite (/join#g1.<token>,
// docs/protocol.md G3-G4): a new device for this membership, the organisation's group terms,
// a signed receipt of the group kind, a display name of the client's choosing (not a real
// name by default), then the group's conversation and calls. Everything lives in memory:
// closing the tab or quick exit forgets the group.
import { fromB64u, toB64u, toHex } from "../shared/b64.js";
import { addMessage, expire, fitTimer } from "../shared/conversation.js";
import { announce, field, h, show } from "../shared/dom.js";
import { inviteProof } from "../shared/invite.js";
import { notifyIfHidden } from "../shared/notify.js";
import { t } from "../shared/i18n.js";
import * as relay from "../shared/relay.js";
import * as engine from "../engine/index.js";
import { GroupCalls } from "../call/group_calls.js";
import { GROUP_PREKEY_BASE, GroupBook } from "../group/book.js";
import { callContext } from "../group/state.js";
import { callButtons, groupChat, memberSafety, membersList } from "../group/view.js";
import { onQuickExit } from "./quickexit.js";
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

// Nothing is kept once the tab closes, so leaving by accident asks first.
addEventListener("beforeunload", (event) => {
  if (!me?.messenger || me.left) return;
  event.preventDefault();
  event.returnValue = "";
});

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
          await accept(name.value.trim() || defaultName());
        } catch (err) {
          error.textContent = t("group.join.error", { reason: errorText(err) });
          agree.disabled = false;
        }
      },
    },
    ...field("display-name", t("group.join.displayName"), name),
    h("p", { class: "muted", id: "display-name-help" }, t("group.join.displayNameHelp")),
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
async function accept(displayName) {
  const { device, terms } = me;
  me.consented = terms.version;
  me.token = await relay.authenticate(device.identity, fromB64u(me.deviceId));
  const { receipt, signature } = groupReceipt(me.bundle.identityKey, terms.version, engine.consent.policyDigest(terms.text), me.groupId);
  const capability = await relay.mintCapability(me.token, fromB64u(me.mailboxId));
  const gspk = device.addSignedPrekey(GROUP_PREKEY_BASE + 1);
  device.startSession(me.bundle);
  me.book = new GroupBook({
    device, messenger: () => me.messenger, token: () => me.token, ownKey: toB64u(device.identity.public),
    ownMailbox: me.mailboxId, groups: me.groups, newId: () => engine.Messenger.newId(), save: async () => {},
    changed: async () => render(), fit: (s) => fitTimer(s, me.maxRetention, me.timers),
    onCall: (group, m, p) => me.calls.receive(group.id, m.member, p),
    onForget: (group, member) => me.calls?.forget(group.id, member),
    notify: () => notifyNeutral(),
    pendingJoin: {
      workerKey: me.workerKey,
      fields: { role: "client", capabilityId: capability.id, capability: toB64u(capability.secret), sendSeq: { [me.workerKey]: 2 } },
    },
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

function startMessenger() {
  me.messenger = new engine.Messenger({
    device: me.device, token: me.token, windows: me.windows, save: async () => {},
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

async function leave(group) {
  await me.book.leave(group);
  await me.calls.wipe();
  me.left = true;
  me.messenger.stop();
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
    return me.book.sendTo(group, m, "group-consent", { receipt: toB64u(receipt), signature: toB64u(signature) });
  }));
  me.consented = renewal.version;
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
    group.gone ? null : leaveControl(group),
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
