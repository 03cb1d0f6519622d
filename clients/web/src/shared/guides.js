// Two short texts that help people keep their own confidentiality (issue 17): the client's
// guide "Keeping this conversation private" and the worker's checklist before a call.
//
// Each app has its own wording in every language (the catalogue); the organisation may
// replace either text per language (PUT /v1/admin/texts/{name}/{language}, or `confide texts
// set`), and GET /v1/organisation hands its wording to every device. The organisation's text
// is plain text, one paragraph or item per line, and is shown as text, never as markup.
import { h } from "./dom.js";
import { language, t } from "./i18n.js";
import { showDialog } from "./records.js";

// The app's own wording: catalogue keys, one item each.
export const GUIDE_KEYS = [
  "privacy.place", "privacy.headphones", "privacy.previews", "privacy.quickExitWipes",
  "privacy.quickExitKeeps", "privacy.sharedDevices",
];
export const CHECKLIST_KEYS = ["checklist.room", "checklist.headphones", "checklist.names"];

// The organisation's wording of `name` in the language shown (or its primary subtag), split
// into lines; null when it has none, so the app's own is used.
export function organisationText(texts, name, lang = language()) {
  const own = texts?.[name] ?? {};
  const text = own[lang] ?? own[lang.split("-")[0]];
  if (typeof text !== "string" || !text.trim()) return null;
  return text.split("\n").map((line) => line.trim()).filter(Boolean);
}

// The items of `name` to show: the organisation's lines, or the app's own sentences.
export function guideItems(texts, name, keys, vars = {}) {
  return organisationText(texts, name) ?? keys.map((key) => t(key, vars));
}

// The client's guide, as the body of a dialog. `host` is the relay's address as the
// browser's history would show it.
export function privacyGuide(texts, host) {
  return h("div", { id: "privacy-guide" },
    h("p", {}, t("privacy.intro")),
    h("ul", { class: "guide" }, guideItems(texts, "privacy_guide", GUIDE_KEYS, { host }).map((item) => h("li", {}, item))));
}

// The worker's checklist before a call, as a modal dialog: resolves true to go on with the
// call (one the worker starts, or one waiting to be let in), false to leave it for now.
export function callChecklist(texts, media, incoming = false) {
  return new Promise((resolve) => {
    const finish = (answer) => {
      dialog.close();
      dialog.remove();
      resolve(answer);
    };
    const go = h("button", { type: "button", id: "checklist-go", onclick: () => finish(true) },
      incoming ? t("checklist.goAdmit") : t("checklist.go", { media }));
    const dialog = h("dialog", { id: "call-checklist", "aria-labelledby": "checklist-title" },
      h("h3", { id: "checklist-title" }, t("checklist.title")),
      h("ul", { class: "guide checklist" }, guideItems(texts, "call_checklist", CHECKLIST_KEYS).map((item) => h("li", {}, item))),
      h("div", { class: "row" }, go,
        h("button", { type: "button", class: "secondary", id: "checklist-later", onclick: () => finish(false) }, t("checklist.later"))));
    // Escape closes a modal dialog: that is "not now".
    dialog.addEventListener("cancel", (event) => {
      event.preventDefault();
      finish(false);
    });
    document.body.append(dialog);
    dialog.showModal();
    go.focus();
  });
}

// The button that opens the client's guide in a dialog. `texts()` gives the organisation's
// texts when the page has them (GET /v1/organisation); the address shown is the one the
// browser's history keeps.
export function privacyButton(texts) {
  return h("button", {
    type: "button", class: "secondary", id: "open-privacy",
    onclick: () => showDialog(t("privacy.title"), async () => privacyGuide(texts(), location.host)),
  }, t("privacy.open"));
}
