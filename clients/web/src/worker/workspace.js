// The unlocked worker app: conversations with local aliases, invites, consent state, safety
// numbers. It re-renders from `session.state` after every change; nothing here leaves the
// device except ciphertext.
import { fromB64u, toB64u } from "../shared/b64.js";
import { chatView, refreshTimes } from "../shared/chatview.js";
import { addMessage, canSend, expire, fitTimer, inviteExpired, newConversation } from "../shared/conversation.js";
import { announce, field, h, show } from "../shared/dom.js";
import { t } from "../shared/i18n.js";
import { applyCommon } from "../shared/inbox.js";
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

const DEFAULT_IDLE_MINUTES = 5;
// The width below which app.css stacks the list above the view (keep the two in step).
const NARROW = "(max-width: 40rem)";

const expiryText = (invite) => (Number.isInteger(invite?.expiresAt) ? new Date(invite.expiresAt * 1000).toLocaleString() : "used");

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
      onUnreadable: () => announce("A message could not be read."),
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
      await this.session.topUpPrekeys().catch(() => announce("Could not refill prekeys; will try with the next client."));
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
    announce(`The organisation published policy version ${this.state.settings.policyVersion}`);
    this.render();
  }

  async #askReview(conv) {
    const version = this.state.settings?.policyVersion;
    await this.#channel(conv).sendReviewRequest(version);
    addMessage(conv, { id: `ask-review-${version}-${Date.now()}`, kind: "system", mine: true, body: `You asked them to review policy version ${version}.` });
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
      announce("A consultation message could not be used.");
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
        name: conv.alias || "Unnamed",
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
      // Like message notifications: no name, so a shared screen learns nothing.
      notify: (text) => notifyIfHidden("worker", text),
    });
  }

  #callButtons(conv) {
    const allowed = this.#mayCall(conv) && !this.calls.busy;
    return [
      h("button", { type: "button", class: "secondary", id: "start-voice-call", disabled: !allowed, onclick: () => this.calls.start(conv, "audio") }, "Voice call"),
      h("button", { type: "button", class: "secondary", id: "start-video-call", disabled: !allowed, onclick: () => this.calls.start(conv, "video") }, "Video call"),
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
        ? `Waiting for consent to version ${this.state.settings.policyVersion}`
        : { invited: "Invited", none: "Waiting for consent", given: "Consent given", revoked: "Consent revoked" }[conv.consent.state];
      return h("button", {
        type: "button", "aria-current": current ? "true" : "false", "data-alias": conv.alias,
        onclick: () => this.#go({ name: "conversation", key }),
      }, conv.alias || "Unnamed", " ", h("span", { class: "badge" }, badge),
      conv.unread ? h("span", { class: "badge warn" }, `${conv.unread} new`) : null,
      conv.keyChange ? h("span", { class: "badge warn" }, "Key changed") : null,
      h("span", { class: "when muted" }, when));
    };
    const invites = entries.filter(([, conv]) => !conv.peer).map(([key, conv]) => {
      const expired = inviteExpired(conv);
      return h("li", {}, h("button", {
        type: "button", "data-invite": conv.alias, onclick: () => this.#showInvite(key),
      }, conv.alias || "Unnamed", " ", h("span", { class: expired ? "badge warn" : "badge" },
        expired ? "Invite expired" : `Invited, until ${expiryText(conv.invite)}`)));
    });
    const pending = invites.length
      ? [h("h3", { id: "pending-title" }, "Pending invites"), h("ul", { class: "conversations pending", "aria-labelledby": "pending-title" }, invites)]
      : [];
    return h("nav", { "aria-label": "Conversations" },
      h("h2", {}, "Conversations"),
      h("p", { class: "muted" }, this.online ? "Connected" : "Connecting…"),
      this.#notificationButton(),
      h("div", { class: "row" }, h("button", { type: "button", id: "new-invite", onclick: () => this.#go({ name: "new-invite" }) }, "Invite someone")),
      h("div", { class: "row" }, h("button", { type: "button", class: "secondary", id: "open-consultations", onclick: () => this.#go({ name: "consultations" }) }, "Consultations")),
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
    return h("section", {}, h("h1", {}, "Welcome"), h("p", {}, "Choose a conversation, or invite someone you support."));
  }

  #newInviteView() {
    const alias = h("input", { required: true, maxlength: 80, autocomplete: "off" });
    const error = h("p", { class: "error", role: "alert" });
    return h("section", { "aria-labelledby": "invite-title" },
      h("h1", { id: "invite-title" }, "Invite someone"),
      h("form", {
        onsubmit: async (event) => {
          event.preventDefault();
          try {
            await this.createInvite(alias.value.trim());
          } catch (err) {
            error.textContent = `Could not create the invite: ${err.message}`;
          }
        },
      },
      ...field("invite-alias", "A name for them, only on this device", alias),
      h("p", { class: "muted" }, "The name never leaves this device. The relay sees only an invite code."),
      h("div", { class: "row" }, h("button", { type: "submit" }, "Create invite link")),
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
          announce(err.status === 410 ? "That invite was already used." : `Could not cancel the invite: ${err.message}`);
          return;
        }
      }
    }
    if (conv.peer) conv.invite = null;
    else delete this.state.conversations[key];
    await this.session.save();
    announce("The invite was cancelled.");
    this.#go(conv.peer ? { name: "conversation", key } : { name: "home" });
  }

  #inviteView() {
    const { link, key, expiresAt } = this.view;
    const conv = this.state.conversations[key];
    const cancel = h("button", { type: "button", class: "danger", id: "cancel-invite", onclick: () => this.#cancelInvite(key) },
      inviteExpired(conv) ? "Remove this invite" : "Cancel this invite");
    if (!link || inviteExpired(conv)) {
      return h("section", { "aria-labelledby": "link-title" },
        h("h1", { id: "link-title" }, `Invite for ${conv.alias}`),
        h("p", { id: "invite-expired" }, "This invite expired without being used. Create a new one if they still need it."),
        h("div", { class: "row" }, cancel));
    }
    const copy = h("button", {
      type: "button", class: "secondary",
      onclick: async () => {
        await navigator.clipboard.writeText(link).then(() => announce("Link copied"), () => announce("Copy failed: select the link instead"));
      },
    }, "Copy link");
    return h("section", { "aria-labelledby": "link-title" },
      h("h1", { id: "link-title" }, conv.peer ? `Rejoin invite for ${conv.alias}` : `Invite for ${conv.alias}`),
      h("p", {}, "Give this link to them in person or by a channel you trust. It works once",
        expiresAt ? ` and expires ${new Date(expiresAt * 1000).toLocaleString()}` : "", "."),
      h("p", { class: "link", id: "invite-link" }, link),
      h("div", { class: "row" }, copy),
      qrSvg(link, "Invite link as a QR code"),
      h("p", { class: "muted" }, "The part after # stays in the browser: the relay never sees it."),
      h("div", { class: "row" },
        h("button", { type: "button", class: "secondary", onclick: () => this.#go({ name: "conversation", key }) }, "Open the conversation"),
        cancel));
  }

  #conversationView(key) {
    const conv = this.state.conversations[key];
    const name = conv.alias || "Unnamed";
    const reason = {
      invited: "They have not opened the invite yet. You can write once they agree to the policy.",
      none: "Waiting for their consent.",
      revoked: "They revoked their consent. This conversation is frozen: nothing more can be sent.",
    }[conv.consent.state];
    const heading = h("h1", { id: "conv-title" }, name);
    const rename = h("input", { value: conv.alias, maxlength: 80 });
    const stale = staleConsent(conv, this.state.settings?.policyVersion);
    const consentLine = h("p", { id: "consent-state", class: conv.consent.state === "given" && !stale ? "ok" : "muted" },
      stale
        ? `Their consent covers policy version ${conv.consent.policyVersion}: waiting for consent to version ${this.state.settings.policyVersion}`
        : conv.consent.state === "given"
        ? `Consent given (policy version ${conv.consent.policyVersion}, until ${new Date(conv.consent.expiresAt * 1000).toLocaleDateString()})`
        : conv.consent.state === "revoked" ? "Consent revoked" : "No consent yet");
    const rejoin = conv.peer && conv.invite
      ? h("p", { class: "muted", id: "rejoin-pending" }, inviteExpired(conv) ? "The rejoin invite expired. " : `A rejoin invite waits until ${expiryText(conv.invite)}. `,
        h("button", { type: "button", class: "secondary", onclick: () => this.#showInvite(key) }, "Show the rejoin invite"))
      : null;
    return h("section", { "aria-labelledby": "conv-title" },
      heading,
      conv.keyChange ? keyChangedAlert(name) : null,
      rejoin,
      consentLine,
      stale && conv.peer?.capability ? h("div", { class: "row" }, h("button", {
        type: "button", class: "secondary", id: "ask-review", onclick: () => this.#askReview(conv),
      }, `Ask them to review version ${this.state.settings.policyVersion}`)) : null,
      h("div", { class: "row" },
        ...this.#callButtons(conv),
        conv.peer ? h("button", { type: "button", class: "secondary", id: "open-safety", onclick: () => this.#go({ name: "safety", key }) },
          conv.verified && !conv.keyChange ? "Verified ✓ safety number" : "Compare safety number") : null,
        conv.peer ? h("button", { type: "button", class: "secondary", id: "rejoin-invite", onclick: () => this.createRejoinInvite(key) },
          `Invite ${name} to rejoin`) : null,
        conv.peer ? h("button", {
          type: "button", class: "secondary", id: "archive-conversation",
          onclick: () => this.#archive(key, !conv.archived),
        }, conv.archived ? t("worker.conversation.unarchive") : t("worker.conversation.archive")) : null,
        h("details", { class: "rename" }, h("summary", {}, "Rename"), h("form", {
          onsubmit: async (event) => {
            event.preventDefault();
            conv.alias = rename.value.trim();
            await this.session.save();
            this.render();
          },
        }, ...field("rename", "Local name (only on this device)", rename), h("button", { type: "submit", class: "secondary" }, "Save name")))),
      this.#deleteControl(key, name),
      h("div", { class: "row" }, h("button", { type: "button", class: "secondary", id: "ask-supervisor", onclick: () => this.#go({ name: "consult", key }) }, "Ask a supervisor")),
      threadsFor(this, key),
      chatView(conv, {
        peerName: name,
        disabledReason: conv.keyChange
          ? `${name}'s security key changed. Compare the new safety number and confirm it before you write.`
          : staleConsent(conv, this.state.settings?.policyVersion)
          ? `Their consent covers policy version ${conv.consent.policyVersion}; the organisation now has version ${this.state.settings.policyVersion}. They need to agree to it before you can write.`
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
    announce(t(archived ? "worker.conversation.archived" : "worker.conversation.unarchived", { name: this.state.conversations[key].alias || "Unnamed" }));
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
        announce(`The conversation with ${name} was deleted from this device.`);
        this.#go({ name: "home" });
      },
    }, "Delete from this device");
    confirm.addEventListener("change", () => {
      remove.disabled = !confirm.checked;
    });
    return h("details", { class: "rename" }, h("summary", {}, "Delete conversation"),
      h("p", {}, "This removes every message, attachment reference and the name from this device. It cannot be undone."),
      h("label", { class: "check", for: "confirm-delete" }, confirm, `Yes, delete the conversation with ${name}`),
      h("div", { class: "row" }, remove));
  }

  #safetyView(key) {
    const conv = this.state.conversations[key];
    const change = conv.keyChange;
    const peerKey = fromB64u(change ? change.identityKey : conv.peer.identityKey);
    return safetyView(this.engine, this.session.device.identity.public, peerKey, {
      peerName: conv.alias || "them",
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
        .catch((err) => announce(`The old device's access could not be revoked: ${err.message}`));
    }
    for (const payload of held) await this.#receive(sender, payload);
    // Redraw wherever the worker is now: the work above is asynchronous, and a worker who
    // went back to the conversation meanwhile must not be pulled back to the safety number.
    this.render();
  }
}
