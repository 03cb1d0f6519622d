// Attachments on their way up or down: a progress bar per message, updated in place so a
// long transfer does not redraw the page (which would move the reader's focus) on every
// chunk. A redraw during a transfer asks progressFor() and gets the bar back.
import { formatSize } from "./filesize.js";
import { h } from "./dom.js";
import { t } from "./i18n.js";

const active = new Map(); // message id -> { direction, name, done, total }

function label(entry) {
  return t(entry.direction === "up" ? "chat.file.uploading" : "chat.file.downloading", { name: entry.name });
}

function amount(entry) {
  return t("chat.file.progress", { done: formatSize(entry.done), total: formatSize(entry.total) });
}

export function progressFor(id) {
  const entry = active.get(id);
  if (!entry) return null;
  return h("div", { class: "transfer", "data-transfer": id },
    h("progress", { max: entry.total || 1, value: entry.done, "aria-label": label(entry) }),
    h("span", { class: "muted" }, amount(entry)));
}

// Starts showing a transfer; returns the `onProgress(done, total)` to hand to the relay call.
export function track(id, direction, name, total) {
  active.set(id, { direction, name, done: 0, total });
  return (done, newTotal) => {
    const entry = active.get(id);
    if (!entry) return;
    entry.done = done;
    entry.total = newTotal || entry.total;
    for (const bar of document.querySelectorAll(`[data-transfer="${CSS.escape(id)}"]`)) {
      const progress = bar.querySelector("progress");
      progress.max = entry.total || 1;
      progress.value = entry.done;
      bar.querySelector("span").textContent = amount(entry);
    }
  };
}

export function finished(id) {
  active.delete(id);
  for (const bar of document.querySelectorAll(`[data-transfer="${CSS.escape(id)}"]`)) bar.remove();
}

export function inProgress(id) {
  return active.has(id);
}
