// The client's page. It keeps the invite secret only in memory: the fragment is removed from
// the address bar at once, so neither history nor a shared screen shows it.
import { h, show } from "../shared/dom.js";
import { completeCatalogues, onLanguageChange, t } from "../shared/i18n.js";
import { idbPeek } from "../shared/idb.js";
import { openInvite } from "./firstconsent.js";
import { initLanguage, languageSwitch } from "../shared/language.js";
import { CLIENT_DB, CLIENT_VAULT, GROUP_VAULT, installQuickExit } from "./quickexit.js";
import { errorText } from "../shared/problems.js";

installQuickExit();
// The browser's language first; a choice made with the switch lasts for this tab only
// (sessionStorage, which quick exit clears), so nothing about it outlives the visit.
await initLanguage(sessionStorage);
document.getElementById("bar-tools").prepend(languageSwitch(sessionStorage, "join-language"));

// The code after consent, with the rest of the catalogues: this page was built with only the
// messages of its first screens (src/locales/parts.js).
const withCatalogues = (loading) => Promise.all([loading, completeCatalogues()]).then(([module]) => module);
const loadClient = () => withCatalogues(import("./client.js"));
const loadGroup = () => withCatalogues(import("./group_client.js"));

let joining = false;
// The screens this module draws itself (nothing here; which remembered thing to open),
// redrawn in a newly chosen language; client.js and group_client.js redraw their own.
let redraw = null;
onLanguageChange(() => redraw?.());

const GROUP_PREFIX = "g1.";

async function boot() {
  const token = location.hash.slice(1);
  if (token) {
    redraw = null;
    history.replaceState(null, "", location.pathname);
    // One invite per tab: a link pasted while one is being joined or used is not followed.
    if (joining) return;
    joining = true;
    show(h("section", {}, h("h1", {}, t("join.gettingReady")), h("p", { class: "muted" }, t("join.makingKey"))));
    // A group invite (docs/protocol.md G3) shows the group's terms, not the one-to-one flow.
    if (token.startsWith(GROUP_PREFIX)) (await loadGroup()).joinGroup(token.slice(GROUP_PREFIX.length));
    else await openInvite(token, loadClient);
    return;
  }
  // A device may remember a one-to-one conversation, a group, or both (each sealed under
  // its own passphrase); with both, the person chooses which to open.
  const [single, group] = await Promise.all([CLIENT_VAULT, GROUP_VAULT].map((key) => idbPeek(CLIENT_DB, key).catch(() => null)));
  if (single && group) showChoice(single, group);
  else if (single) await openSingle(single);
  else if (group) await openGroup(group);
  else showNothing();
}

async function openSingle(sealed) {
  redraw = null;
  (await loadClient()).showUnlock(sealed);
}

async function openGroup(sealed) {
  redraw = null;
  (await loadGroup()).showGroupUnlock(sealed);
}

function showChoice(single, group) {
  redraw = () => showChoice(single, group);
  show(h("section", { "aria-labelledby": "choose-title" },
    h("h1", { id: "choose-title" }, t("join.welcomeBack")),
    h("p", {}, t("join.chooseBody")),
    h("div", { class: "row" },
      h("button", { type: "button", id: "open-conversation", onclick: () => openSingle(single) }, t("join.chooseConversation")),
      h("button", { type: "button", id: "open-group", onclick: () => openGroup(group) }, t("join.chooseGroup")))));
}

function showNothing() {
  redraw = showNothing;
  show(h("section", { "aria-labelledby": "nothing-title" },
    h("h1", { id: "nothing-title" }, t("join.nothingTitle")),
    h("p", {}, t("join.nothingBody")),
    h("div", { class: "row" }, h("button", { type: "button", class: "secondary", id: "open-privacy", onclick: openGuide }, t("privacy.open")))));
}

// The privacy guide from the empty page too: what quick exit leaves behind matters most to
// someone who has just used it. The organisation's wording comes from the relay.
async function openGuide() {
  const [{ showDialog }, { privacyGuide }, relay] = await Promise.all([
    import("../shared/records.js"), import("../shared/guides.js"), import("../shared/relay.js"),
  ]);
  const org = await relay.getOrganisation().catch(() => null);
  showDialog(t("privacy.title"), async () => privacyGuide(org?.texts, location.host));
}

const start = () => boot().catch((err) => show(h("p", { class: "error", role: "alert" }, t("common.couldNotStart", { error: errorText(err) }))));

// An invite link pasted into a tab that already shows /join changes only the fragment, which
// loads nothing: the page reacts to the change instead.
addEventListener("hashchange", () => {
  if (location.hash.length > 1) start();
});
start();
