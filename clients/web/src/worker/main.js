// The worker's app: enrol this device, or unlock it, then hand over to the workspace. The
// first paint needs none of the crypto; the engine chunk loads when a form is submitted.
import { h, show, field, announce } from "../shared/dom.js";
import { onLanguageChange, t } from "../shared/i18n.js";
import { idbGet } from "../shared/idb.js";
import { initLanguage, languageSwitch } from "../shared/language.js";
import { showRecords } from "../shared/records.js";
import { getMyRecords } from "../shared/relay.js";
import { VAULT_DB, VAULT_KEY, enrol, unlock } from "./vault.js";
import { installShell } from "./push.js";
import { errorText } from "../shared/problems.js";

const loadWorkspace = () => import("./workspace.js");

// The worker's own device: the language chosen in the header is kept in localStorage (it says
// nothing about anyone), and the browser's language is the first guess.
await initLanguage(localStorage);
document.getElementById("bar-tools").prepend(languageSwitch(localStorage, "worker-language"));

// The locked screens redraw in a new language; the workspace redraws itself.
let lockedScreen = null;
onLanguageChange(() => lockedScreen?.());

// The workspace, and for an admin the organisation console's button (admin.js).
async function openApp(session) {
  (await loadWorkspace()).openWorkspace(session, lockNow);
  const records = document.getElementById("records-open");
  records.hidden = false;
  records.onclick = () => showRecords(() => getMyRecords(session.token));
  const consent = document.getElementById("consent-records-open");
  consent.hidden = false;
  consent.onclick = () => import("./consent_records.js").then((m) => m.showConsentRecords(session));
  import("./admin.js").then((m) => m.offerConsole(session)).catch(() => {});
}

function passphraseInput(id, autocomplete) {
  return h("input", { id, type: "password", required: true, minlength: 10, autocomplete });
}

function errorLine() {
  return h("p", { class: "error", role: "alert" });
}

function busy(form, on) {
  for (const el of form.querySelectorAll("button, input")) el.disabled = on;
}

function showEnrol() {
  const code = h("input", { required: true, autocomplete: "off", spellcheck: "false" });
  const pass = passphraseInput("pass", "new-password");
  const again = passphraseInput("pass2", "new-password");
  const error = errorLine();
  const form = h("form", {
    onsubmit: async (event) => {
      event.preventDefault();
      error.textContent = "";
      if (pass.value !== again.value) {
        error.textContent = t("worker.passphrasesDiffer");
        return;
      }
      busy(form, true);
      announce(t("worker.makingKeys"));
      try {
        const session = await enrol(code.value, pass.value);
        lockedScreen = null;
        await openApp(session);
      } catch (err) {
        error.textContent = t("worker.enrolFailed", { error: errorText(err) });
        busy(form, false);
      }
    },
  },
  ...field("enrol-code", t("worker.enrolCode"), code),
  ...field("enrol-pass", t("worker.choosePassphrase"), pass),
  h("p", { class: "muted", id: "pass-help" }, t("worker.passHelp")),
  ...field("enrol-pass2", t("worker.passAgain"), again),
  h("div", { class: "row" }, h("button", { type: "submit" }, t("worker.setUp"))),
  error);
  lockedScreen = showEnrol;
  show(h("section", { "aria-labelledby": "enrol-title" }, h("h1", { id: "enrol-title" }, t("worker.enrolTitle")), form));
}

function showUnlock(sealed, reason) {
  const pass = passphraseInput("unlock-pass", "current-password");
  const error = errorLine();
  const form = h("form", {
    onsubmit: async (event) => {
      event.preventDefault();
      error.textContent = "";
      busy(form, true);
      try {
        const session = await unlock(sealed, pass.value);
        lockedScreen = null;
        await openApp(session);
      } catch (err) {
        error.textContent = err.name === "WrongPassphrase" ? t("worker.wrongPassphrase") : t("worker.couldNotUnlock", { error: errorText(err) });
        busy(form, false);
        pass.focus();
      }
    },
  },
  ...field("unlock-pass", t("common.passphrase"), pass),
  h("div", { class: "row" }, h("button", { type: "submit" }, t("worker.unlock"))),
  error);
  lockedScreen = () => showUnlock(sealed, reason);
  show(h("section", { "aria-labelledby": "unlock-title" },
    h("h1", { id: "unlock-title" }, t("worker.lockedTitle")),
    reason ? h("p", { class: "muted" }, t(reason)) : null,
    form));
}

// Locking drops every key and message from memory by reloading the page: nothing of the
// unlocked session survives in JavaScript objects, and the sealed vault stays in IndexedDB.
function lockNow(reason = "locked") {
  sessionStorage.setItem("confide-lock-reason", reason);
  location.reload();
}

async function boot() {
  // The app shell for the installed app; it holds no message or key (src/sw/shell.js).
  installShell();
  const reason = sessionStorage.getItem("confide-lock-reason");
  sessionStorage.removeItem("confide-lock-reason");
  const sealed = await idbGet(VAULT_DB, VAULT_KEY);
  if (sealed) showUnlock(sealed, reason === "idle" ? "worker.lockedIdle" : null);
  else showEnrol();
}

boot().catch((err) => show(h("p", { class: "error", role: "alert" }, t("common.couldNotStart", { error: errorText(err) }))));
