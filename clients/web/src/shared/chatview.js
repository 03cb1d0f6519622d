// The message list and composer, shared by the worker app and the client's page.
import { fitTimer, stateLabel, timerChoices, timerLabel } from "./conversation.js";
import { formatTime, h } from "./dom.js";
import { closePreviews, fileItem } from "./files.js";
import { formatSize } from "./filesize.js";
import { formatDate, formatRelative, t } from "./i18n.js";

function describe(message) {
  if (message.kind === "file") return t("chat.file.describe", { name: message.name, size: formatSize(message.size) });
  return message.body;
}

// A system line's text, in the language shown now: catalogue messages ([key, values] pairs),
// an event (a timer change says what the conversation's messages now do), or the words an
// older version of the app stored.
export function systemText(message, limits = {}) {
  if (Array.isArray(message.i18n)) return message.i18n.map(([key, vars]) => t(key, vars)).join(" ");
  if (message.event !== "timer") return message.body;
  const ttl = fitTimer(message.ttl, limits.maxRetention, limits.timers);
  return ttl ? t("chat.timer.changed", { duration: timerLabel(ttl) }) : t("chat.timer.changedOff");
}

// A relative time ("in 5 minutes") that refreshTimes() keeps current without a redraw.
export function relativeTime(ms, template) {
  const when = formatRelative(ms);
  return h("time", { datetime: new Date(ms).toISOString(), title: formatDate(ms), "data-relative": ms, "data-template": template },
    template ? t(template, { when }) : when);
}

export function refreshTimes(root = document) {
  for (const el of root.querySelectorAll("time[data-relative]")) {
    const when = formatRelative(Number(el.dataset.relative));
    el.textContent = el.dataset.template ? t(el.dataset.template, { when }) : when;
  }
}

function messageItem(message, { files, peerName, limits }) {
  // A plain list item: a list holds only list items, so no role may replace the item's.
  if (message.kind === "system") return h("li", { class: "message system" }, systemText(message, limits));
  // In a group each message names its sender (the display name they chose).
  const who = message.mine ? t("chat.you") : (message.sender ?? peerName);
  const meta = [who, " · ", formatTime(message.at)];
  if (message.mine && message.state) meta.push(" · ", stateLabel(message.state));
  if (message.expiresAt) meta.push(" · ", relativeTime(message.expiresAt, "chat.message.disappears"));
  const body = message.kind === "file"
    ? fileItem(message, files)
    : h("span", { class: "text" }, message.body);
  return h(
    "li",
    { class: `message${message.mine ? " mine" : ""}`, "data-state": message.state ?? "received", "data-message": message.id, "aria-label": `${who}: ${describe(message)}` },
    body,
    h("span", { class: "meta" }, meta),
  );
}

// `files` is {fetch(message, onProgress) -> decrypted bytes, warnOnSave, announce}.
export function chatView(conv, { peerName, disabledReason, maxRetention, timers, onSend, onAttach, onTimer, files }) {
  // Previews of another conversation's files (or of messages that expired) are let go.
  closePreviews(conv.messages.map((m) => m.id));
  const limits = { maxRetention, timers };
  const list = h("ol", { class: "messages", "aria-label": t("chat.messagesLabel"), "aria-live": "polite" },
    conv.messages.map((m) => messageItem(m, { files, peerName, limits })));
  if (!conv.messages.length) list.append(h("li", { class: "muted" }, t("chat.noMessages")));
  const disabled = Boolean(disabledReason);
  const text = h("textarea", { id: "compose-text", rows: 2, disabled, "aria-describedby": "compose-help" });
  // The button is the control people use; the file input behind it is hidden from everyone
  // and named by the button for any tool that still finds it.
  const file = h("input", { id: "compose-file", type: "file", hidden: true, disabled, "aria-labelledby": "compose-attach" });
  const attach = h("button", { type: "button", class: "secondary", id: "compose-attach", disabled, onclick: () => file.click() }, t("chat.attach"));
  file.addEventListener("change", () => {
    if (file.files.length) onAttach(file.files[0]);
    file.value = "";
  });
  // The select shows the timer messages really go out with (engine/channel.js fits it too).
  const current = fitTimer(conv.ttl, maxRetention, timers);
  const choices = timerChoices(maxRetention, timers);
  if (!choices.some((c) => c.seconds === current)) choices.push({ seconds: current, label: timerLabel(current) });
  const timer = h("select", { id: "compose-timer", disabled },
    choices.map((c) => h("option", { value: c.seconds, selected: c.seconds === current }, c.label)));
  timer.addEventListener("change", () => onTimer(Number(timer.value)));
  const form = h("form", {
    class: "compose",
    onsubmit: (event) => {
      event.preventDefault();
      const value = text.value.trim();
      if (!value) return;
      text.value = "";
      onSend(value);
    },
  },
  h("label", { for: "compose-text", class: "sr-only" }, t("chat.messageLabel")),
  text,
  h("button", { type: "submit", disabled }, t("chat.send")),
  attach, file,
  h("label", { for: "compose-timer" }, t("chat.timerLabel")), timer);
  text.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey) {
      event.preventDefault();
      form.requestSubmit();
    }
  });
  const help = h("p", { id: "compose-help", class: disabled ? "alert" : "muted" },
    disabled ? disabledReason : t("chat.composeHelp"));
  queueMicrotask(() => {
    list.scrollTop = list.scrollHeight;
  });
  return h("section", { class: "chat", "aria-label": t("chat.conversationLabel") }, list, help, form);
}
