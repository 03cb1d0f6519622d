// The worker app's groups (issue 18): create a group, make single-use invite links, see who
// joined, remove members, close the group, talk and call in it. The group engine is
// group/book.js and group/admin.js; this module is the worker's screens and wiring.
import { toB64u } from "../shared/b64.js";
import { addMessage, fitTimer } from "../shared/conversation.js";
import { announce, field, h } from "../shared/dom.js";
import { formatDate, t } from "../shared/i18n.js";
import { notifyIfHidden } from "../shared/notify.js";
import { qrSvg } from "../shared/qr.js";
import { getOrganisation } from "../shared/relay.js";
import { GroupCalls } from "../call/group_calls.js";
import { callChecklist } from "../shared/guides.js";
import { GroupBook } from "../group/book.js";
import { GroupAdmin, GROUP_INVITE_PREFIX } from "../group/admin.js";
import { MAX_MEMBERS } from "../group/roster.js";
import { callContext } from "../group/state.js";
import { callButtons, groupChat, memberSafety, membersList } from "../group/view.js";
import { errorText } from "../shared/problems.js";

export class WorkerGroups {
  constructor(ws) {
    this.ws = ws;
    const state = ws.state;
    state.groups ??= {};
    const device = ws.session.device;
    this.book = new GroupBook({
      device, messenger: () => ws.messenger, token: () => ws.session.token,
      ownKey: toB64u(device.identity.public), ownMailbox: state.mailboxId, groups: state.groups,
      newId: () => ws.engine.Messenger.newId(),
      save: () => ws.session.save(),
      changed: async () => {
        await ws.session.save();
        ws.render();
      },
      fit: (s) => fitTimer(s, state.settings?.maxRetention, state.settings?.timers),
      onCall: (group, m, p) => this.calls.receive(group.id, m.member, p),
      onForget: (group, member) => this.calls?.forget(group.id, member),
      // Like one-to-one messages: no name and no text, so a shared screen learns nothing.
      notify: (group) => {
        if (ws.view.name === "group" && ws.view.id === group.id && !document.hidden) group.unread = 0;
        announce(t("group.newMessage"));
        notifyIfHidden("worker", t("group.newMessage"));
      },
    });
    this.admin = new GroupAdmin(this.book, {
      device, state,
      terms: async () => (await getOrganisation().catch(() => null))?.group_terms ?? null,
      // The staff channel is the consultations' (made after this, in Workspace.start).
      staff: {
        ownListing: () => ws.consult.ownListing(),
        reachColleague: (deviceId, workerId) => ws.consult.reachColleague(deviceId, workerId),
        checkColleague: (deviceId, key) => ws.consult.checkColleague(deviceId, key),
        sendStaff: (key, type, fields) => ws.consult.sendStaff(key, type, fields),
        isClient: (key) => ws.consult.isClient(key),
      },
      workerName: () => t("group.new.defaultWorkerName"),
    });
    this.calls = new GroupCalls({
      sodium: ws.engine.sodium, newId: () => ws.engine.Messenger.newId(), token: () => ws.session.token,
      context: (id) => (state.groups[id] ? callContext(this.book, state.groups[id], device.identity.public) : null),
      otherBusy: () => Boolean(ws.calls?.busy),
      // The same checklist as before a one-to-one call: a private room, headphones, no names.
      beforeEnter: (media) => callChecklist(ws.state.settings?.texts, media),
      onEnded: async (id, call, text) => {
        const group = state.groups[id];
        if (!group) return;
        addMessage(group, { id: `call-${call.id}`, kind: "system", body: t("call.group.record", { media: call.media, text }) });
        await ws.session.save();
        ws.render();
      },
      onState: () => ws.render(),
    });
  }

  // Capabilities retired after a removal are revoked once their grace is over (G8).
  // New group terms are noticed here too: at start and then every minute (and on opening a
  // group), this device signs a roster naming them for each group it is a worker of.
  startTimers() {
    const now = () => {
      this.book.retireDue().catch(() => {});
      this.refreshTerms();
    };
    now();
    setInterval(now, 60_000);
  }

  async refreshTerms(groups = Object.values(this.ws.state.groups)) {
    for (const group of groups) await this.admin.refreshTerms(group).catch(() => {});
  }

  windowKey(sender, payload) {
    return this.book.windowKey(sender, payload);
  }

  // True when the payload was a group one (handled or dropped here).
  async receive(sender, payload) {
    const handled = await this.book.receive(sender, payload);
    // Each joining client used up one of this device's one-time prekeys.
    if (handled && payload.type === "group-accept") await this.ws.session.topUpPrekeys().catch(() => {});
    return handled;
  }

  // --- navigation ---------------------------------------------------------------------------

  nav() {
    const ws = this.ws;
    // A group this device answered a colleague's invite to shows once its roster arrives.
    const items = Object.values(ws.state.groups).filter((g) => g.roster).map((g) => h("li", {}, h("button", {
      type: "button", "data-group": g.name, "aria-current": ws.view.name === "group" && ws.view.id === g.id ? "true" : "false",
      onclick: () => this.open(g.id),
    }, g.name, " ", h("span", { class: "badge" }, g.gone ? t(`group.badge.${g.gone}`) : t("group.badge.members", { count: g.roster?.members.length ?? 0 })),
    g.unread ? h("span", { class: "badge warn" }, t("group.badge.unread", { count: g.unread })) : null)));
    return [
      h("h3", { id: "groups-title" }, t("group.nav.title")),
      h("div", { class: "row" }, h("button", { type: "button", class: "secondary", id: "new-group", onclick: () => ws.go({ name: "new-group" }) }, t("group.nav.new"))),
      items.length ? h("ul", { class: "conversations", "aria-labelledby": "groups-title" }, items) : null,
    ];
  }

  open(id) {
    const group = this.ws.state.groups[id];
    group.unread = 0;
    this.ws.go({ name: "group", id });
    this.refreshTerms([group]);
  }

  detail() {
    const { name, id } = this.ws.view;
    if (name === "new-group") return this.#newGroupView();
    const group = this.ws.state.groups[id];
    if (!group?.roster) return null;
    if (name === "group") return this.#groupView(group);
    if (name === "group-invite") return this.#inviteView(group);
    if (name === "group-safety") return this.#safetyView(group);
    return null;
  }

  // --- screens ------------------------------------------------------------------------------

  #newGroupView() {
    const name = h("input", { required: true, maxlength: 80, autocomplete: "off" });
    const me = h("input", { required: true, maxlength: 64, autocomplete: "off", value: t("group.new.defaultWorkerName") });
    const error = h("p", { class: "error", role: "alert" });
    return h("section", { "aria-labelledby": "new-group-title" },
      h("h1", { id: "new-group-title" }, t("group.new.title")),
      h("p", {}, t("group.new.intro", { max: MAX_MEMBERS })),
      h("form", {
        onsubmit: async (event) => {
          event.preventDefault();
          try {
            const group = await this.admin.create(name.value.trim(), me.value.trim());
            this.open(group.id);
          } catch (err) {
            error.textContent = err.message === "no-terms" ? t("group.new.noTerms") : t("group.new.failed", { reason: errorText(err) });
          }
        },
      },
      ...field("group-name", t("group.new.name"), name),
      ...field("group-my-name", t("group.new.myName"), me),
      h("p", { class: "muted" }, t("group.new.private")),
      h("div", { class: "row" }, h("button", { type: "submit" }, t("group.new.create"))),
      error));
  }

  #groupView(group) {
    const ws = this.ws;
    const pending = (group.invites ?? []).map((inv) => h("li", {},
      t("group.invites.until", { date: formatDate(inv.expiresAt * 1000) }), " ",
      h("button", { type: "button", class: "secondary", onclick: () => ws.go({ name: "group-invite", id: group.id, invite: inv }) }, t("group.invites.show")),
      h("button", { type: "button", class: "danger", onclick: () => this.admin.cancelInvite(group, inv).catch((err) => announce(errorText(err))) }, t("group.invites.cancel"))));
    return h("section", { "aria-labelledby": "group-title", "data-group": group.id },
      h("h1", { id: "group-title" }, group.name),
      group.gone ? h("p", { class: "alert", id: "group-gone" }, t(`group.gone.${group.gone}`)) : null,
      h("div", { class: "row" },
        ...callButtons(group, { calls: this.calls, otherBusy: () => Boolean(ws.calls?.busy) }),
        group.gone ? null : h("button", { type: "button", id: "new-group-invite", onclick: () => this.#invite(group) }, t("group.invites.create"))),
      pending.length ? h("div", { class: "card" }, h("h2", {}, t("group.invites.pending")), h("ul", { id: "group-pending-invites" }, pending)) : null,
      membersList(group, {
        ownKey: this.book.ownKey,
        onSafety: (m) => ws.go({ name: "group-safety", id: group.id, member: m.member }),
        onRemove: (m) => this.admin.remove(group, m.member).then(() => announce(t("group.members.removed", { name: m.name }))),
      }),
      this.#consentStatus(group),
      group.gone ? null : this.#workerControl(group),
      group.gone ? null : this.#closeControl(group),
      groupChat(group, { book: this.book, maxRetention: ws.state.settings?.maxRetention, timers: ws.state.settings?.timers, announce }));
  }

  async #invite(group) {
    try {
      const invite = await this.admin.invite(group);
      this.ws.go({ name: "group-invite", id: group.id, invite });
    } catch (err) {
      announce(err.message === "full" ? t("group.invites.full", { max: MAX_MEMBERS }) : t("group.invites.failed", { reason: errorText(err) }));
    }
  }

  #inviteView(group) {
    const { invite } = this.ws.view;
    // The fragment (never sent to the relay) names the group too, as the SDK's links do.
    const link = `${location.origin}/join#${GROUP_INVITE_PREFIX}${invite.secret}.${group.id}`;
    return h("section", { "aria-labelledby": "group-link-title" },
      h("h1", { id: "group-link-title" }, t("group.invites.title", { group: group.name })),
      h("p", {}, t("group.invites.once", { date: formatDate(invite.expiresAt * 1000) })),
      h("p", { class: "link", id: "group-invite-link" }, link),
      qrSvg(link, t("group.invites.qr")),
      h("p", { class: "muted" }, t("group.invites.fragment")),
      h("div", { class: "row" }, h("button", { type: "button", class: "secondary", onclick: () => this.open(group.id) }, t("group.back"))));
  }

  // Which client members have not yet consented to the terms the roster names (G9): their
  // newest receipt on this device is for older terms. A member who declines leaves.
  #consentStatus(group) {
    const version = group.roster?.terms?.version;
    if (!version || group.gone) return null;
    const waiting = this.admin.awaitingConsent(group);
    return h("div", { class: "card", id: "group-consent-status" },
      h("h2", {}, t("group.consent.title", { version })),
      waiting.length
        ? [h("p", {}, t("group.consent.waiting", { count: waiting.length })),
          h("ul", { id: "group-consent-waiting" }, waiting.map((m) => h("li", { "data-member-name": m.name }, m.name)))]
        : h("p", { id: "group-consent-all" }, t("group.consent.all")));
  }

  // Add a colleague as a group worker (G7a): the other worker devices the relay lists, each
  // invited over the staff channel; the roster adds it when its device answers.
  #workerControl(group) {
    const view = this.ws.view;
    const invited = this.admin.invitedWorkers(group);
    const status = h("p", { id: "group-worker-status", role: "status" }, view.workerStatus ?? "");
    const list = view.colleagues
      ? (view.colleagues.length
        ? h("ul", { id: "group-colleagues" }, view.colleagues.map((c) => {
          const id = c.worker_id.slice(0, 8);
          const device = c.device_id.slice(0, 8);
          const waiting = invited.includes(c.device_id);
          return h("li", { "data-device": c.device_id },
            t("group.workers.option", { id, device }), " ",
            waiting ? h("span", { class: "badge" }, t("group.workers.waiting")) : null,
            h("button", { type: "button", class: "secondary", onclick: () => this.#addWorker(group, c) },
              t(waiting ? "group.workers.again" : "group.workers.add", { id, device })));
        }))
        : h("p", { id: "group-colleagues-none" }, t("group.workers.none")))
      : h("p", {}, t("group.workers.loading"));
    const details = h("details", { class: "rename", id: "group-add-worker", open: Boolean(view.workersOpen) },
      h("summary", {}, t("group.workers.summary")),
      h("p", {}, t("group.workers.explain")),
      list, status);
    details.addEventListener("toggle", () => {
      view.workersOpen = details.open;
      if (details.open && !view.colleagues) this.#loadColleagues(view);
    });
    if (view.workersOpen && !view.colleagues) this.#loadColleagues(view);
    return details;
  }

  #loadColleagues(view) {
    if (view.loadingColleagues) return;
    view.loadingColleagues = true;
    this.ws.consult.colleagues().then((list) => {
      view.colleagues = list;
      this.ws.render();
    }, (err) => {
      view.loadingColleagues = false;
      view.workerStatus = t("group.workers.failed", { reason: errorText(err) });
      this.ws.render();
    });
  }

  async #addWorker(group, colleague) {
    const view = this.ws.view;
    const id = colleague.worker_id.slice(0, 8);
    try {
      await this.admin.inviteWorker(group, colleague);
      view.workerStatus = t("group.workers.sent", { id });
    } catch (err) {
      const known = { full: t("group.invites.full", { max: MAX_MEMBERS }), member: t("group.workers.member"), self: t("group.workers.member") };
      view.workerStatus = known[err.message] ?? t("group.workers.failed", { reason: errorText(err) });
    }
    announce(view.workerStatus);
    this.ws.render();
  }

  #closeControl(group) {
    const confirm = h("input", { type: "checkbox", id: "confirm-close-group" });
    const close = h("button", {
      type: "button", class: "danger", id: "close-group", disabled: true,
      onclick: () => this.admin.close(group).then(() => announce(t("group.closed"))),
    }, t("group.close.button"));
    confirm.addEventListener("change", () => {
      close.disabled = !confirm.checked;
    });
    return h("details", { class: "rename" }, h("summary", {}, t("group.close.summary")),
      h("p", {}, t("group.close.explain")),
      h("label", { class: "check", for: "confirm-close-group" }, confirm, t("group.close.confirm", { group: group.name })),
      h("div", { class: "row" }, close));
  }

  #safetyView(group) {
    return memberSafety(this.ws.engine, this.ws.session.device.identity.public, group, this.ws.view.member, {
      changed: this.book.changed, onBack: () => this.open(group.id),
    });
  }
}
