// An attachment in the conversation: its name and size, a preview inside the app for images
// and PDFs, and saving to the device only when the person asks for it.
//
// A preview is decrypted into memory and shown from an object URL that is revoked when the
// preview closes, when another conversation is shown, or with the page; nothing reaches the
// disk. Only bytes that really are PNG, JPEG, GIF, WebP or PDF are previewed, with the type
// read from the bytes (never the sender's claim), so an attachment cannot make the page
// render HTML or SVG from a blob: URL. Saving goes through the browser's downloads, which
// outlive quick exit: the client's page says so before the file is saved.
import { h } from "./dom.js";
import { formatSize } from "./filesize.js";
import { t } from "./i18n.js";
import { progressFor, track, finished } from "./transfers.js";
import { errorText } from "./problems.js";

const SIGNATURES = [
  ["image/png", [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]],
  ["image/jpeg", [0xff, 0xd8, 0xff]],
  ["image/gif", [0x47, 0x49, 0x46, 0x38]],
  ["application/pdf", [0x25, 0x50, 0x44, 0x46, 0x2d]],
];
const PREVIEWABLE = new Set(["image/png", "image/jpeg", "image/gif", "image/webp", "application/pdf"]);

// The type the bytes really have, when it is one the app previews; otherwise null.
export function sniff(bytes) {
  for (const [type, magic] of SIGNATURES) {
    if (magic.every((b, i) => bytes[i] === b)) return type;
  }
  const ascii = (from, to) => String.fromCharCode(...bytes.subarray(from, to));
  if (bytes.length >= 12 && ascii(0, 4) === "RIFF" && ascii(8, 12) === "WEBP") return "image/webp";
  return null;
}

export const mayPreview = (message) => PREVIEWABLE.has(message.type);

const opened = new Map(); // message id -> { url, blob, type }

function close(id) {
  const entry = opened.get(id);
  if (entry) URL.revokeObjectURL(entry.url);
  opened.delete(id);
}

// Revokes every preview but those of `keep` (the messages of the conversation on screen).
export function closePreviews(keep = []) {
  const wanted = new Set(keep);
  for (const id of [...opened.keys()]) if (!wanted.has(id)) close(id);
}

export function isOpen(id) {
  return opened.has(id);
}

// `fetch(message, onProgress)` gives the decrypted bytes; `warnOnSave` asks before a save.
export function fileItem(message, options) {
  const box = h("div", { class: "file", "data-file": message.id });
  fill(box, message, options);
  return box;
}

function redraw(box, message, options) {
  box.replaceChildren();
  fill(box, message, options);
}

async function bytesOf(box, message, options) {
  const onProgress = track(message.id, "down", message.name, message.size);
  redraw(box, message, options);
  try {
    return await options.fetch(message, onProgress);
  } finally {
    finished(message.id);
  }
}

function fill(box, message, options) {
  const { announce } = options;
  const entry = opened.get(message.id);
  box.append(h("span", { class: "file-name" }, message.name), " ",
    h("span", { class: "file-size muted" }, `(${formatSize(message.size)})`));
  const actions = h("div", { class: "row" });
  const progress = progressFor(message.id);
  if (entry) {
    box.append(entry.type === "application/pdf"
      ? h("iframe", { class: "preview pdf", src: entry.url, title: t("chat.file.previewOf", { name: message.name }) })
      : h("img", { class: "preview", src: entry.url, alt: t("chat.file.previewOf", { name: message.name }) }));
    actions.append(h("button", {
      type: "button", class: "secondary", "data-action": "close",
      onclick: () => {
        close(message.id);
        redraw(box, message, options);
      },
    }, t("chat.file.close")));
  } else if (message.blobId && mayPreview(message)) {
    actions.append(h("button", {
      type: "button", class: "secondary", "data-action": "preview", disabled: Boolean(progress),
      onclick: async () => {
        try {
          const bytes = await bytesOf(box, message, options);
          const type = sniff(bytes);
          if (!type) {
            announce(t("chat.file.notPreviewable", { name: message.name }));
            return;
          }
          const blob = new Blob([bytes], { type });
          opened.set(message.id, { url: URL.createObjectURL(blob), blob, type });
        } catch (err) {
          announce(t("chat.file.failed", { reason: errorText(err) }));
        }
        redraw(box, message, options);
      },
    }, t("chat.file.preview", { name: message.name })));
  }
  if (message.blobId) actions.append(saveButton(box, message, options));
  if (progress) box.append(progress);
  box.append(actions);
}

function saveButton(box, message, options) {
  const save = async () => {
    try {
      const blob = opened.get(message.id)?.blob ?? new Blob([await bytesOf(box, message, options)], { type: "application/octet-stream" });
      downloadBlob(message.name, blob);
    } catch (err) {
      options.announce(t("chat.file.failed", { reason: errorText(err) }));
    }
  };
  return h("button", {
    type: "button", class: "secondary", "data-action": "save",
    onclick: (event) => {
      if (!options.warnOnSave) return save();
      // The client's page: saving leaves a copy that quick exit cannot wipe.
      event.currentTarget.replaceWith(h("div", { class: "card alert", role: "alert", "data-save-warning": "" },
        h("p", {}, t("chat.file.saveWarning")),
        h("div", { class: "row" },
          h("button", { type: "button", "data-action": "save-anyway", onclick: () => save().then(() => redraw(box, message, options)) }, t("chat.file.saveAnyway")),
          h("button", { type: "button", class: "secondary", onclick: () => redraw(box, message, options) }, t("chat.file.dontSave")))));
      return undefined;
    },
  }, t("chat.file.save", { name: message.name }));
}

function downloadBlob(name, blob) {
  const url = URL.createObjectURL(blob);
  const link = h("a", { href: url, download: name }, name);
  document.body.append(link);
  link.click();
  link.remove();
  // The browser has taken its copy once the download began; the URL is of no further use.
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}
