// The group screens both apps share: the member list (display names and roles only, never
// contact details, devices or keys), the conversation, and a safety comparison with one
// member. The worker app adds its own controls (worker/groups.js).
import { fromB64u } from "../shared/b64.js";
import { chatView } from "../shared/chatview.js";
import { safetyView } from "../shared/safetyview.js";
import { canSendGroup } from "./state.js";
import { h } from "../shared/dom.js";
import { t } from "../shared/i18n.js";

export function membersList(group, { ownKey, onSafety, onRemove = null }) {
  const members = group.roster?.members ?? [];
  return h("section", { class: "card", "aria-labelledby": "members-title" },
    h("h2", { id: "members-title" }, t("group.members.title", { count: members.length })),
    h("ul", { class: "members", id: "group-members" }, members.map((m) => {
      const me = m.key === ownKey;
      const left = group.left.includes(m.key);
      return h("li", { "data-member-name": m.name, "data-role": m.role },
        h("span", {}, me ? t("group.members.you", { name: m.name }) : m.name), " ",
        h("span", { class: "badge" }, t("group.members.role", { role: m.role })),
        left ? h("span", { class: "badge warn" }, t("group.members.leaving")) : null,
        me || group.gone ? null : h("button", { type: "button", class: "secondary", onclick: () => onSafety(m) },
          t("group.members.safety", { name: m.name })),
        onRemove && !me && !group.gone ? h("button", { type: "button", class: "danger", onclick: () => onRemove(m) },
          t("group.members.remove", { name: m.name })) : null);
    })));
}

export function groupChat(group, { book, maxRetention, timers, disabledReason = null, warnOnSave = false, announce }) {
  const reason = disabledReason ?? (canSendGroup(group) ? null : t(`group.gone.${group.gone ?? "waiting"}`));
  return chatView(group, {
    peerName: "",
    disabledReason: reason,
    maxRetention,
    timers,
    onSend: (text) => book.sendText(group, text),
    onAttach: (file) => book.sendFile(group, file),
    onTimer: (ttl) => book.setTimer(group, ttl),
    // Previews from memory and saving on request, as in one-to-one conversations (files.js);
    // on the client's side a save is warned about, since it outlives quick exit.
    files: { fetch: (message, onProgress) => book.fetchFile(message, onProgress), warnOnSave, announce },
  });
}

export function callButtons(group, { calls, otherBusy }) {
  const call = calls.callFor(group.id);
  const allowed = canSendGroup(group) && !otherBusy() && !(calls.busy && !call);
  return [
    h("button", { type: "button", class: "secondary", id: "start-group-voice-call", disabled: !allowed || Boolean(call?.live),
      onclick: () => calls.enter(group.id, "audio") }, t("group.call.voice")),
    h("button", { type: "button", class: "secondary", id: "start-group-video-call", disabled: !allowed || Boolean(call?.live),
      onclick: () => calls.enter(group.id, "video") }, t("group.call.video")),
  ];
}

// The safety number with one member: the only place a member's key is used on screen,
// as the digits both compare (docs/protocol.md E2E §8).
export function memberSafety(engine, ownIdentityKey, group, memberId, { changed, onBack }) {
  const m = group.roster?.members.find((x) => x.member === memberId);
  if (!m) return null;
  return safetyView(engine, ownIdentityKey, fromB64u(m.key), {
    peerName: m.name,
    verified: group.verified?.[m.member] === m.key,
    onVerified: async () => {
      (group.verified ??= {})[m.member] = m.key;
      await changed();
    },
    onConfirm: null,
    onBack,
  });
}
