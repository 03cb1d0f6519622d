// The message list and composer, shared by the worker app and the client's page.
import { STATE_LABEL, fitTimer, timerChoices, timerLabel } from "./conversation.js";
import { formatTime, h } from "./dom.js";

function describe(message) {
  if (message.kind === "file") return `Attachment: ${message.name} (${Math.ceil(message.size / 1024)} KiB)`;
  return message.body;
}

function messageItem(message, { onOpenFile, peerName }) {
  // A plain list item: a list holds only list items, so no role may replace the item's.
  if (message.kind === "system") return h("li", { class: "message system" }, message.body);
  const who = message.mine ? "You" : peerName;
  const meta = [who, formatTime(message.at)];
  if (message.mine && message.state) meta.push(STATE_LABEL[message.state]);
  if (message.expiresAt) meta.push("disappears");
  const body = message.kind === "file"
    ? h("button", { type: "button", class: "secondary", onclick: () => onOpenFile(message) }, `Open ${message.name}`)
    : h("span", { class: "text" }, message.body);
  return h(
    "li",
    { class: `message${message.mine ? " mine" : ""}`, "data-state": message.state ?? "received", "aria-label": `${who}: ${describe(message)}` },
    body,
    h("span", { class: "meta" }, meta.join(" · ")),
  );
}

export function chatView(conv, { peerName, disabledReason, maxRetention, timers, onSend, onAttach, onTimer, onOpenFile }) {
  const list = h("ol", { class: "messages", "aria-label": "Messages", "aria-live": "polite" },
    conv.messages.map((m) => messageItem(m, { onOpenFile, peerName })));
  if (!conv.messages.length) list.append(h("li", { class: "muted" }, "No messages yet."));
  const disabled = Boolean(disabledReason);
  const text = h("textarea", { id: "compose-text", rows: 2, disabled, "aria-describedby": "compose-help" });
  // The button is the control people use; the file input behind it is hidden from everyone
  // and named by the button for any tool that still finds it.
  const file = h("input", { id: "compose-file", type: "file", hidden: true, disabled, "aria-labelledby": "compose-attach" });
  const attach = h("button", { type: "button", class: "secondary", id: "compose-attach", disabled, onclick: () => file.click() }, "Attach file");
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
  h("label", { for: "compose-text", class: "sr-only" }, "Message"),
  text,
  h("button", { type: "submit", disabled }, "Send"),
  attach, file,
  h("label", { for: "compose-timer" }, "Disappearing messages"), timer);
  text.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey) {
      event.preventDefault();
      form.requestSubmit();
    }
  });
  const help = h("p", { id: "compose-help", class: disabled ? "alert" : "muted" },
    disabled ? disabledReason : "Enter sends; Shift+Enter starts a new line.");
  queueMicrotask(() => {
    list.scrollTop = list.scrollHeight;
  });
  return h("section", { class: "chat", "aria-label": "Conversation" }, list, help, form);
}

export function downloadFile(name, type, bytes) {
  const url = URL.createObjectURL(new Blob([bytes], { type: type || "application/octet-stream" }));
  const link = h("a", { href: url, download: name }, name);
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60000);
}
