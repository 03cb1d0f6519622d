// The console's "Texts" section: the organisation's own wording of the client's privacy guide
// and the worker's checklist before a call, per language (PUT/DELETE /v1/admin/texts). A text
// left empty is not saved; "Use the app's wording" deletes the organisation's.
import { h } from "../shared/dom.js";
import { LANGUAGES, t } from "../shared/i18n.js";
import { CHECKLIST_KEYS, GUIDE_KEYS } from "../shared/guides.js";

const NAMES = [["privacy_guide", "admin.textPrivacyGuide", GUIDE_KEYS], ["call_checklist", "admin.textCallChecklist", CHECKLIST_KEYS]];

function textForm(c, name, lang, current) {
  const id = `text-${name}-${lang}`;
  const area = h("textarea", { id, rows: 5, maxlength: 8000 });
  area.value = current ?? "";
  return h("form", {
    "data-text": `${name}/${lang}`,
    onsubmit: (event) => {
      event.preventDefault();
      if (!area.value.trim()) return;
      c.run(() => c.act("PUT", `/v1/admin/texts/${name}/${lang}`, { text: area.value }));
    },
  }, h("label", { for: id }, t("admin.textIn", { language: new Intl.DisplayNames([lang], { type: "language" }).of(lang) ?? lang })), area,
  h("div", { class: "row" },
    h("button", { type: "submit", class: "secondary" }, t("admin.save")),
    current ? h("button", {
      type: "button", class: "secondary", onclick: () => c.run(() => c.act("DELETE", `/v1/admin/texts/${name}/${lang}`)),
    }, t("admin.textReset")) : null));
}

export async function textsView(c) {
  const texts = await c.api("GET", "/v1/admin/texts");
  return h("section", { "aria-labelledby": "texts-title" },
    h("h3", { id: "texts-title" }, t("admin.tabTexts")),
    h("p", { class: "muted" }, t("admin.textsIntro")),
    ...NAMES.map(([name, title, keys]) => h("section", { "aria-labelledby": `texts-${name}` },
      h("h4", { id: `texts-${name}` }, t(title)),
      h("details", {}, h("summary", {}, t("admin.textDefault")), h("ul", { class: "guide" }, keys.map((key) => h("li", {}, t(key, { host: location.host }))))),
      ...LANGUAGES.map((lang) => textForm(c, name, lang, texts[name]?.[lang])))));
}
