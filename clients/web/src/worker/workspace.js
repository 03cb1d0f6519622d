// The unlocked worker app: conversations with local aliases, invites, consent state, safety
// numbers. It re-renders from `session.state` after every change; nothing here leaves the
// device except ciphertext.
import { fromB64u, toB64u } from "../shared/b64.js";
import { chatView, refreshTimes } from "../shared/chatview.js";
import { addMessage, canSend, expire, fitTimer, inviteExpired, newConversation } from "../shared/conversation.js";
import { announce, field, h, show } from "../shared/dom.js";
import { formatDate, language, onLanguageChange, t } from "../shared/i18n.js";
import { applyCommon } from "../shared/inbox.js";
import { callChecklist } from "../shared/guides.js";
import { qrSvg } from "../shared/qr.js";
import * as relay from "../shared/relay.js";
import { keyChangedAlert, safetyView } from "../shared/safetyview.js";
import { confirmKeyChange, handleConsent, handleHello, handleRevoke, staleConsent } from "./consent.js";
import { Calls, SIGNAL_TTL_SECONDS } from "../call/calls.js";
import { CONSULT_KINDS, Consultations } from "./consult.js";
import { askView, inboxView, threadsFor } from "./consult_views.js";
import { conversationList } from "./conversation_list.js";
import { allowNotificationsButton, notifyIfHidden } from "../shared/notify.js";
import { enablePush, renewPush } from "./push.js";
import { WorkerGroups } from "./groups.js";
import { errorText } from "../shared/problems.js";

const DEFAULT_IDLE_MINUTES = 5;
// The width below which app.css stacks the list above the view (keep the two in step).
const NARROW = "(max-width: 40rem)";

const expiryText = (invite) => (Number.isInteger(invite?.expiresAt) ? formatDate(invite.expiresAt * 1000) : t("worker.inviteUsed"));
const day = (seconds) => formatDate(seconds * 1000, { dateStyle: "medium" });
const languageName = (tag) => new Intl.DisplayNames([language()], { type: "language" }).of(tag) ?? tag;

export function openWorkspace(session, lockNow) {
  const ws = new Workspace(session, lockNow);
  ws.start();
  return ws;
}

class Workspace {
  constructor(session, lockNow) {
    this.session = session;
    this.state = session.state;
    this.lockNow = lockNow;
    this.view = { name: "home" };
    this.online = false;
  }

  get engine() {
    return this.session.engine;
  }

  start() {
    const lock = document.getElementById("lock");
    lock.hidden = false;
    lock.onclick = () => this.lockNow("manual");
    this.#watchIdle();
    this.groups = new WorkerGroups(this);
    this.messenger = new this.engine.Messenger({
      device: this.session.device,
      token: this.session.token,
      windows: (this.state.windows ??= {}),
      windowKey: (sender, payload) => this.groups.windowKey(sender, payload),
      renewToken: () => this.session.signIn(),
      save: () => this.session.save(),
      onMessage: (sender, payload) => this.#receive(sender, payload),
      onNotice: (frame) => this.#notice(frame),
      onUnreadable: () => announce(t("worker.unreadable")),
      onState: (s) => {
        this.online = s === "online";
        this.render();
      },
    });
    this.calls = this.#calls();
    this.consult = new Consultations(this);
    this.messenger.start();
    renewPush(this.session.token);
    this.groups.startTimers();
    setInterval(() => this.#expireAll(), 15000);
    matchMedia(NARROW).addEventListener("change", () => this.render());
    onLanguageChange(() => this.render());
    this.render();
  }

  #watchIdle() {
    const minutes = this.state.settings?.idleMinutes ?? DEFAULT_IDLE_MINUTES;
    let last = Date.now();
    for (const type of ["pointerdown", "keydown", "wheel", "touchstart"]) {
      addEventListener(type, () => {
        last = Date.now();
      }, { passive: true });
    }
    setInterval(() => {
      // A call is not idleness: locking would reload the page and cut the call off.
      if (this.calls?.busy || this.groups?.calls.busy) last = Date.now();
      if (Date.now() - last > minutes * 60000) this.lockNow("idle");
    }, 5000);
  }

  async #expireAll() {
    let changed = false;
    for (const conv of Object.values(this.state.conversations)) changed = expire(conv) || changed;
    // An invite that has just expired says so in the list without waiting for another change.
    const expiredInvites = Object.values(this.state.conversations).filter((c) => c.invite && inviteExpired(c)).length;
    if (expiredInvites !== this.expiredInvites) {
      this.expiredInvites = expiredInvites;
      this.render();
    }
    if (changed) {
      await this.session.save();
      this.render();
    } else {
      refreshTimes();
    }
  }

  // --- incoming -----------------------------------------------------------------------

  async #receive(sender, payload) {
    if (await this.groups.receive(sender, payload)) {
      this.render();
      return;
    }
    if (CONSULT_KINDS.has(payload.type)) {
      await this.#receiveConsult(sender, payload);
    } else if (payload.type === "hello") {
      if (handleHello(this, sender, payload)) this.#notify();
      // Each new client used up a one-time prekey; refill the relay's stock when it runs low.
      await this.session.topUpPrekeys().catch(() => announce(t("worker.prekeysFailed")));
    } else {
      const entry = this.#conversationOf(sender);
      if (!entry) return;
      const [key, conv, unconfirmed] = entry;
      if (unconfirmed) {
        // A new key's messages are not shown until the worker confirmed the key.
        if (payload.type !== "call") conv.keyChange.held.push(payload);
      } else if (payload.type === "revoke") {
        handleRevoke(this, conv, sender, payload);
        if (!canSend(conv)) this.calls.stopFor(conv);
      } else if (payload.type === "call") {
        // Calls need the same consent as messages; a ring from anyone else never shows.
        if (this.#mayCall(conv)) await this.calls.receive(conv, payload);
      } else if (payload.type === "consent") {
        handleConsent(this, conv, sender, payload);
      } else if (conv.consent.state !== "given") {
        // Nothing from a client shows without its valid consent (docs/protocol.md, Consent
        // in the channel): after a revocation, later payloads are dropped.
      } else if (applyCommon(conv, payload, this.engine.pointerLength)) {
        // A client who writes again is never left unseen in the archive.
        conv.archived = false;
        if (!(this.view.name === "conversation" && this.view.key === key && !document.hidden)) conv.unread += 1;
        this.#notify();
        if (canSend(conv)) this.#channel(conv).sendDelivered([payload.id]);
      }
    }
    this.render();
  }

  // A new policy version: conversations whose consent names an older one wait for the
  // client to agree again, and the worker can ask them to review it.
  async #notice(frame) {
    if (frame.kind !== "policy") return;
    const before = this.state.settings?.policyVersion;
    await this.session.loadSettings();
    if (this.state.settings?.policyVersion === before) return;
    await this.session.save();
    announce(t("worker.policyPublished", { version: this.state.settings.policyVersion }));
    this.render();
  }

  async #askReview(conv) {
    const version = this.state.settings?.policyVersion;
    await this.#channel(conv).sendReviewRequest(version);
    addMessage(conv, { id: `ask-review-${version}-${Date.now()}`, kind: "system", mine: true, i18n: [["worker.sysAskedReview", { version }]] });
    await this.session.save();
    this.render();
  }

  // [key, conversation, whether `sender` is the conversation's new, unconfirmed key].
  async #receiveConsult(sender, payload) {
    try {
      const event = this.consult.receive(sender, payload);
      if (event?.contactKey && this.state.conversations[event.contactKey]) this.state.conversations[event.contactKey].unread += 1;
      if (event) this.#notify();
    } catch {
      announce(t("worker.consultUnusable"));
    }
  }

  #conversationOf(sender) {
    const id = toB64u(sender);
    for (const [key, conv] of Object.entries(this.state.conversations)) {
      if (conv.peer?.identityKey === id) return [key, conv, false];
      if (conv.keyChange?.identityKey === id) return [key, conv, true];
    }
    return null;
  }

  #notify() {
    // Notifications never carry message text or a name: a shared screen shows nothing.
    notifyIfHidden("worker");
    announce(t("notify.worker.body"));
  }

  #mayCall(conv) {
    return canSend(conv) && !staleConsent(conv, this.state.settings?.policyVersion);
  }

  #calls() {
    return new Calls({
      role: "worker",
      elsewhereBusy: () => Boolean(this.groups?.calls.busy),
      sodium: this.engine.sodium,
      identityKey: this.session.device.identity.public,
      newId: () => this.engine.Messenger.newId(),
      token: () => this.session.token,
      contact: (conv) => ({
        name: conv.alias || t("worker.unnamed"),
        identityKey: fromB64u(conv.peer.identityKey),
        send: (payload) => this.#channel(conv).sendCall(payload, SIGNAL_TTL_SECONDS),
      }),
      onEnded: async (conv, call, ended) => {
        const log = call.ended.seconds === null
          ? ["call.log", { media: call.media }]
          : ["call.logMinutes", { media: call.media, minutes: Math.max(1, Math.round(call.ended.seconds / 60)) }];
        addMessage(conv, { id: `call-${call.id}`, kind: "system", i18n: [log, ended] });
        await this.session.save();
        this.render();
      },
      onState: () => this.render(),
      // A one-screen checklist before every call: a private room, headphones, no names.
      beforeCall: (media, incoming) => callChecklist(this.state.settings?.texts, media, incoming),
      // Like message notifications: no name, so a shared screen learns nothing.
      notify: (text) => notifyIfHidden("worker", text),
    });
  }

  #callButtons(conv) {
    const allowed = this.#mayCall(conv) && !this.calls.busy;
    return [
      h("button", { type: "button", class: "secondary", id: "start-voice-call", disabled: !allowed, onclick: () => this.calls.start(conv, "audio") }, t("call.voiceButton")),
      h("button", { type: "button", class: "secondary", id: "start-video-call", disabled: !allowed, onclick: () => this.calls.start(conv, "video") }, t("call.videoButton")),
    ];
  }

  #channel(conv) {
    return new this.engine.Channel({
      messenger: this.messenger,
      conv,
      peer: () => ({
        identityKey: fromB64u(conv.peer.identityKey),
        mailboxId: fromB64u(conv.peer.mailboxId),
        capability: fromB64u(conv.peer.capability),
      }),
      token: () => this.session.token,
      changed: async () => {
        await this.session.save();
        this.render();
      },
      fit: (seconds) => fitTimer(seconds, this.state.settings?.maxRetention, this.state.settings?.timers),
    });
  }

  async createInvite(alias) {
    const key = `invite-${this.engine.Messenger.newId()}`;
    await this.#invite(key, () => newConversation({ alias, consent: { state: "invited" }, invitedAt: Date.now() }));
  }

  // A rejoin invite for an existing contact: whoever proves it continues this conversation
  // under a new key, which the worker confirms (consent.js handleHello).
  async createRejoinInvite(key) {
    await this.#invite(key, () => this.state.conversations[key]);
  }

  // The secret stays in the vault: the hello's proof is checked against it, and the link
  // can be shown again until it is used or expires.
  async #invite(key, conversation) {
    const invite = await relay.createInvite(this.session.token);
    const conv = conversation();
    conv.invite = { secret: invite.secret, expiresAt: invite.expiresAt, capabilityId: invite.capabilityId };
    this.state.conversations[key] = conv;
    await this.session.save();
    this.view = { name: "invite", key, link: `${location.origin}/join#${invite.secret}`, expiresAt: invite.expiresAt };
    this.render();
  }

  // --- views --------------------------------------------------------------------------

  render() {
    const active = document.activeElement;
    const keep = active?.id === "compose-text" ? active.value : null;
    const searching = active?.id === "conversation-search" ? [active.selectionStart, active.selectionEnd] : null;
    // On a phone the list and a view do not fit side by side: an open view takes the whole
    // screen (so opening a conversation visibly opens it) and leads back to the list.
    const narrow = matchMedia(NARROW).matches && this.view.name !== "home";
    const detail = this.#detail();
    show(narrow
      ? h("div", { class: "layout single" }, h("div", { class: "detail" }, this.#backToList(), detail))
      : h("div", { class: "layout" }, this.#nav(), h("div", { class: "detail" }, detail)));
    // A newly opened view starts at its top; a redraw of the same view keeps its place.
    const shown = `${this.view.name}:${this.view.key ?? ""}`;
    if (narrow && shown !== this.shown) scrollTo(0, 0);
    this.shown = shown;
    // The tab says how many messages wait, never from whom.
    const unread = Object.values(this.state.conversations).reduce((n, conv) => n + (conv.unread || 0), 0);
    document.title = t("worker.title", { count: unread });
    if (keep !== null) {
      const text = document.getElementById("compose-text");
      if (text && !text.disabled) {
        text.value = keep;
        text.focus();
      }
    }
    const search = searching && document.getElementById("conversation-search");
    if (search) {
      search.focus();
      search.setSelectionRange(...searching);
    }
  }

  #backToList() {
    return h("div", { class: "row" }, h("button", {
      type: "button", class: "secondary", id: "back-to-list", onclick: () => this.#go({ name: "home" }),
    }, t("worker.list.back")));
  }

  go(view) {
    this.#go(view);
  }

  #go(view) {
    this.view = view;
    if (view.name === "conversation") this.state.conversations[view.key].unread = 0;
    this.render();
  }

  #nav() {
    const entries = Object.entries(this.state.conversations);
    // An invite nobody has redeemed is not a conversation yet: it waits in its own list.
    const item = (key, conv, when) => {
      const current = this.view.key === key && this.view.name !== "invite";
      const badge = staleConsent(conv, this.state.settings?.policyVersion)
        ? t("worker.badgeStale", { version: this.state.settings.policyVersion })
        : t({ invited: "worker.badgeInvited", none: "worker.badgeNone", given: "worker.badgeGiven", revoked: "worker.badgeRevoked" }[conv.consent.state]);
      return h("button", {
        type: "button", "aria-current": current ? "true" : "false", "data-alias": conv.alias,
        onclick: () => this.#go({ name: "conversation", key }),
      }, conv.alias || t("worker.unnamed"), " ", h("span", { class: "badge" }, badge),
      conv.unread ? h("span", { class: "badge warn" }, t("worker.badgeNew", { count: conv.unread })) : null,
      conv.keyChange ? h("span", { class: "badge warn" }, t("worker.badgeKeyChanged")) : null,
      h("span", { class: "when muted" }, when));
    };
    const invites = entries.filter(([, conv]) => !conv.peer).map(([key, conv]) => {
      const expired = inviteExpired(conv);
      return h("li", {}, h("button", {
        type: "button", "data-invite": conv.alias, onclick: () => this.#showInvite(key),
      }, conv.alias || t("worker.unnamed"), " ", h("span", { class: expired ? "badge warn" : "badge" },
        expired ? t("worker.inviteExpired") : t("worker.invitedUntil", { time: expiryText(conv.invite) }))));
    });
    const pending = invites.length
      ? [h("h3", { id: "pending-title" }, t("worker.pendingInvites")), h("ul", { class: "conversations pending", "aria-labelledby": "pending-title" }, invites)]
      : [];
    return h("nav", { "aria-label": t("worker.conversations") },
      h("h2", {}, t("worker.conversations")),
      h("p", { class: "muted" }, this.online ? t("worker.connected") : t("worker.connecting")),
      this.#notificationButton(),
      h("div", { class: "row" }, h("button", { type: "button", id: "new-invite", onclick: () => this.#go({ name: "new-invite" }) }, t("worker.inviteSomeone"))),
      h("div", { class: "row" }, h("button", { type: "button", class: "secondary", id: "open-consultations", onclick: () => this.#go({ name: "consultations" }) }, t("worker.consultations"))),
      ...conversationList(this.state.conversations, {
        item, query: this.query ?? "", onQuery: (query) => {
          this.query = query;
        },
      }),
      ...pending,
      ...this.groups.nav());
  }

  // Allowing notifications also subscribes this device to wake-ups (push.js); if the browser
  // cannot, notifications still show while the app is open.
  #notificationButton() {
    return allowNotificationsButton("worker",
      () => enablePush(this.session.token).catch(() => announce(t("notify.worker.push_failed"))),
      () => this.render());
  }

  #detail() {
    const { name, key } = this.view;
    const group = this.groups.detail();
    if (group) return group;
    if (name === "new-invite") return this.#newInviteView();
    if (name === "invite") return this.#inviteView();
    if (name === "conversation") return this.#conversationView(key);
    if (name === "safety") return this.#safetyView(key);
    if (name === "consult") return askView(this, key);
    if (name === "consultations") return inboxView(this);
    return h("section", {}, h("h1", {}, t("worker.welcome")), h("p", {}, t("worker.welcomeBody")));
  }

  #newInviteView() {
    const alias = h("input", { required: true, maxlength: 80, autocomplete: "off" });
    const error = h("p", { class: "error", role: "alert" });
    return h("section", { "aria-labelledby": "invite-title" },
      h("h1", { id: "invite-title" }, t("worker.inviteSomeone")),
      h("form", {
        onsubmit: async (event) => {
          event.preventDefault();
          try {
            await this.createInvite(alias.value.trim());
          } catch (err) {
            error.textContent = t("worker.couldNotInvite", { error: errorText(err) });
          }
        },
      },
      ...field("invite-alias", t("worker.inviteAlias"), alias),
      h("p", { class: "muted" }, t("worker.inviteAliasHelp")),
      h("div", { class: "row" }, h("button", { type: "submit" }, t("worker.createInvite"))),
      error));
  }

  #showInvite(key) {
    const conv = this.state.conversations[key];
    const link = conv.invite?.secret ? `${location.origin}/join#${conv.invite.secret}` : null;
    this.#go({ name: "invite", key, link, expiresAt: conv.invite?.expiresAt });
  }

  // Withdraws the invite at the relay (its link stops working), then forgets it here: an
  // invite nobody redeemed leaves the list, a rejoin invite leaves its conversation as it was.
  async #cancelInvite(key) {
    const conv = this.state.conversations[key];
    if (conv.invite?.capabilityId) {
      try {
        await relay.cancelInvite(this.session.token, conv.invite.capabilityId);
      } catch (err) {
        // 404: the relay no longer knows it (it expired); anything else keeps the invite.
        if (err.status !== 404) {
          announce(err.status === 410 ? t("worker.inviteAlreadyUsed") : t("worker.couldNotCancelInvite", { error: errorText(err) }));
          return;
        }
      }
    }
    if (conv.peer) conv.invite = null;
    else delete this.state.conversations[key];
    await this.session.save();
    announce(t("worker.inviteCancelled"));
    this.#go(conv.peer ? { name: "conversation", key } : { name: "home" });
  }

  #inviteView() {
    const { link, key, expiresAt } = this.view;
    const conv = this.state.conversations[key];
    const cancel = h("button", { type: "button", class: "danger", id: "cancel-invite", onclick: () => this.#cancelInvite(key) },
      inviteExpired(conv) ? t("worker.removeInvite") : t("worker.cancelInvite"));
    if (!link || inviteExpired(conv)) {
      return h("section", { "aria-labelledby": "link-title" },
        h("h1", { id: "link-title" }, t("worker.inviteFor", { name: conv.alias })),
        h("p", { id: "invite-expired" }, t("worker.inviteExpiredBody")),
        h("div", { class: "row" }, cancel));
    }
    const copy = h("button", {
      type: "button", class: "secondary",
      onclick: async () => {
        await navigator.clipboard.writeText(link).then(() => announce(t("worker.linkCopied")), () => announce(t("worker.copyFailed")));
      },
    }, t("worker.copyLink"));
    return h("section", { "aria-labelledby": "link-title" },
      h("h1", { id: "link-title" }, t(conv.peer ? "worker.rejoinInviteFor" : "worker.inviteFor", { name: conv.alias })),
      h("p", {}, expiresAt ? t("worker.giveLink", { time: formatDate(expiresAt * 1000) }) : t("worker.giveLinkNoExpiry")),
      h("p", { class: "link", id: "invite-link" }, link),
      h("div", { class: "row" }, copy),
      qrSvg(link, t("worker.inviteQr")),
      h("p", { class: "muted" }, t("worker.fragmentNote")),
      h("div", { class: "row" },
        h("button", { type: "button", class: "secondary", onclick: () => this.#go({ name: "conversation", key }) }, t("worker.openConversation")),
        cancel));
  }

  #conversationView(key) {
    const conv = this.state.conversations[key];
    const name = conv.alias || t("worker.unnamed");
    const reasonKey = { invited: "worker.reasonInvited", none: "worker.reasonNone", revoked: "worker.reasonRevoked" }[conv.consent.state];
    const reason = reasonKey ? t(reasonKey) : undefined;
    const heading = h("h1", { id: "conv-title" }, name);
    const rename = h("input", { value: conv.alias, maxlength: 80 });
    const stale = staleConsent(conv, this.state.settings?.policyVersion);
    const consentLine = h("p", { id: "consent-state", class: conv.consent.state === "given" && !stale ? "ok" : "muted" },
      stale
        ? t("worker.consentStale", { had: conv.consent.policyVersion, now: this.state.settings.policyVersion })
        : conv.consent.state === "given"
        ? (conv.consent.policyLanguage
          ? t("worker.consentGivenLanguage", { version: conv.consent.policyVersion, language: languageName(conv.consent.policyLanguage), day: day(conv.consent.expiresAt) })
          : t("worker.consentGiven", { version: conv.consent.policyVersion, day: day(conv.consent.expiresAt) }))
        : conv.consent.state === "revoked" ? t("worker.consentRevoked") : t("worker.noConsent"));
    const rejoin = conv.peer && conv.invite
      ? h("p", { class: "muted", id: "rejoin-pending" }, inviteExpired(conv) ? t("worker.rejoinExpired") : t("worker.rejoinWaits", { time: expiryText(conv.invite) }),
        h("button", { type: "button", class: "secondary", onclick: () => this.#showInvite(key) }, t("worker.showRejoin")))
      : null;
    return h("section", { "aria-labelledby": "conv-title" },
      heading,
      conv.keyChange ? keyChangedAlert(name) : null,
      rejoin,
      consentLine,
      stale && conv.peer?.capability ? h("div", { class: "row" }, h("button", {
        type: "button", class: "secondary", id: "ask-review", onclick: () => this.#askReview(conv),
      }, t("worker.askReview", { version: this.state.settings.policyVersion }))) : null,
      h("div", { class: "row" },
        ...this.#callButtons(conv),
        conv.peer ? h("button", { type: "button", class: "secondary", id: "open-safety", onclick: () => this.#go({ name: "safety", key }) },
          conv.verified && !conv.keyChange ? t("worker.verifiedSafety") : t("worker.compareSafety")) : null,
        conv.peer ? h("button", { type: "button", class: "secondary", id: "rejoin-invite", onclick: () => this.createRejoinInvite(key) },
          t("worker.inviteRejoin", { name })) : null,
        conv.peer ? h("button", {
          type: "button", class: "secondary", id: "archive-conversation",
          onclick: () => this.#archive(key, !conv.archived),
        }, conv.archived ? t("worker.conversation.unarchive") : t("worker.conversation.archive")) : null,
        h("details", { class: "rename" }, h("summary", {}, t("worker.rename")), h("form", {
          onsubmit: async (event) => {
            event.preventDefault();
            conv.alias = rename.value.trim();
            await this.session.save();
            this.render();
          },
        }, ...field("rename", t("worker.localName"), rename), h("button", { type: "submit", class: "secondary" }, t("worker.saveName"))))),
      this.#deleteControl(key, name),
      h("div", { class: "row" }, h("button", { type: "button", class: "secondary", id: "ask-supervisor", onclick: () => this.#go({ name: "consult", key }) }, t("worker.askSupervisor"))),
      threadsFor(this, key),
      chatView(conv, {
        peerName: name,
        disabledReason: conv.keyChange
          ? t("worker.disabledKeyChange", { name })
          : staleConsent(conv, this.state.settings?.policyVersion)
          ? t("worker.disabledStale", { had: conv.consent.policyVersion, now: this.state.settings.policyVersion })
          : canSend(conv) ? null : reason,
        maxRetention: this.state.settings?.maxRetention,
        timers: this.state.settings?.timers,
        onSend: (text) => this.#channel(conv).sendText(text),
        onAttach: (file) => this.#channel(conv).sendFile(file),
        onTimer: (ttl) => this.#channel(conv).setTimer(ttl),
        files: { fetch: (message, onProgress) => this.#channel(conv).fetchFile(message, onProgress), warnOnSave: false, announce },
      }));
  }

  // Archiving only moves the conversation out of the main list, on this device; archiving
  // goes back to the list (the conversation is out of the way), unarchiving stays in it.
  async #archive(key, archived) {
    this.state.conversations[key].archived = archived;
    await this.session.save();
    announce(t(archived ? "worker.conversation.archived" : "worker.conversation.unarchived", { name: this.state.conversations[key].alias || t("worker.unnamed") }));
    this.#go(archived ? { name: "home" } : { name: "conversation", key });
  }

  // Destroying a record: the conversation leaves the vault, which is sealed again without it.
  #deleteControl(key, name) {
    const confirm = h("input", { type: "checkbox", id: "confirm-delete" });
    const remove = h("button", {
      type: "button", class: "danger", id: "delete-conversation", disabled: true,
      onclick: async () => {
        delete this.state.conversations[key];
        await this.session.save();
        announce(t("worker.deleted", { name }));
        this.#go({ name: "home" });
      },
    }, t("worker.deleteFromDevice"));
    confirm.addEventListener("change", () => {
      remove.disabled = !confirm.checked;
    });
    return h("details", { class: "rename" }, h("summary", {}, t("worker.deleteConversation")),
      h("p", {}, t("worker.deleteExplain")),
      h("label", { class: "check", for: "confirm-delete" }, confirm, t("worker.deleteConfirm", { name })),
      h("div", { class: "row" }, remove));
  }

  #safetyView(key) {
    const conv = this.state.conversations[key];
    const change = conv.keyChange;
    const peerKey = fromB64u(change ? change.identityKey : conv.peer.identityKey);
    return safetyView(this.engine, this.session.device.identity.public, peerKey, {
      peerName: conv.alias || t("worker.them"),
      verified: conv.verified,
      onVerified: async () => {
        conv.verified = true;
        conv.verifiedKey = conv.peer.identityKey;
        await this.session.save();
        this.render();
      },
      onConfirm: change ? () => this.#confirmKeyChange(key, conv) : null,
      onBack: () => this.#go({ name: "conversation", key }),
    });
  }

  async #confirmKeyChange(key, conv) {
    const sender = fromB64u(conv.keyChange.identityKey);
    const { held, retired } = confirmKeyChange(this, conv);
    await this.session.save();
    // The old device may no longer write to this worker: its capability is revoked.
    if (retired) {
      await relay.revokeCapability(this.session.token, fromB64u(this.state.mailboxId), retired)
        .catch((err) => announce(t("worker.oldDeviceNotRevoked", { error: errorText(err) })));
    }
    for (const payload of held) await this.#receive(sender, payload);
    // Redraw wherever the worker is now: the work above is asynchronous, and a worker who
    // went back to the conversation meanwhile must not be pulled back to the safety number.
    this.render();
  }
}
