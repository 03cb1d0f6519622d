// Choosing the language a page shows, and the switch that changes it.
//
// The first choice is the browser's (navigator.languages); a choice made with the switch is
// remembered in `storage` for this tab or device: sessionStorage on the client's page (quick
// exit clears it, and it goes with the tab), localStorage in the worker's app. The static
// parts of a page (its header, its title) carry `data-i18n` attributes and are filled here;
// the views redraw themselves through onLanguageChange.
import { h } from "./dom.js";
import { LANGUAGES, chooseLanguage, language, onLanguageChange, switchLanguage, t } from "./i18n.js";

const STORAGE_KEY = "confide-language";

// Each language names itself, so someone who reads only that one can find it.
const OWN_NAME = { en: "English", es: "Español" };

function stored(storage) {
  try {
    return storage?.getItem(STORAGE_KEY) ?? null;
  } catch {
    return null;
  }
}

// Sets the language from `storage`, else from the browser (loading its catalogue), and fills
// the page's static text.
export async function initLanguage(storage, preferred = navigator.languages ?? [navigator.language]) {
  const saved = stored(storage);
  await switchLanguage(saved && LANGUAGES.includes(saved) ? saved : chooseLanguage(preferred));
  localiseStatic();
  onLanguageChange(() => {
    localiseStatic();
    // The last announcement was in the language left behind; a screen reader reading the
    // status region again would meet it there.
    const status = document.getElementById("status");
    if (status) status.textContent = "";
  });
  return language();
}

// Fills every element marked `data-i18n` (text), `data-i18n-title` and `data-i18n-label`
// (aria-label), and the document's title when `<html data-i18n-title-key>` names one.
export function localiseStatic(root = document) {
  for (const el of root.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll("[data-i18n-title]")) el.title = t(el.dataset.i18nTitle);
  for (const el of root.querySelectorAll("[data-i18n-label]")) el.setAttribute("aria-label", t(el.dataset.i18nLabel));
  const titleKey = document.documentElement.dataset.i18nTitleKey;
  if (titleKey) document.title = t(titleKey);
}

// A labelled <select> of the languages the apps have, each in its own name. Choosing one
// remembers it in `storage` and redraws through onLanguageChange.
export function languageSwitch(storage, id = "language") {
  const select = h("select", { id, "data-testid": "language-switch" },
    LANGUAGES.map((lang) => h("option", { value: lang, lang, selected: lang === language() }, OWN_NAME[lang] ?? lang)));
  select.addEventListener("change", () => {
    try {
      storage?.setItem(STORAGE_KEY, select.value);
    } catch {
      // A browser that refuses storage still switches, for this page.
    }
    switchLanguage(select.value);
  });
  const label = h("label", { for: id, class: "language-label" }, t("common.language"));
  onLanguageChange(() => {
    label.textContent = t("common.language");
    select.value = language();
  });
  return h("div", { class: "language" }, label, select);
}
