// The organisation console, for workers with the admin role (docs/operations.md section 13).
// It lives beside the workspace, in its own region, so conversations keep running behind
// it. Every change first asks for the passphrase again if the last confirmation is older
// than the relay allows (step-up): the vault is re-opened with it, proving it, and only then
// does the device sign the relay's step-up challenge.
import { concatBytes, fromB64u, toB64u, utf8 } from "../shared/b64.js";
import { focusHeading, h } from "../shared/dom.js";
import { onLanguageChange, t } from "../shared/i18n.js";
import { idbGet } from "../shared/idb.js";
import { errorText, relayDetails } from "../shared/problems.js";
import { call, RelayError } from "../shared/relay.js";
import { VAULT_DB, VAULT_KEY } from "./vault.js";
import { auditView, policiesView, settingsView, workersView } from "./admin_views.js";
import { textsView } from "./admin_texts.js";

const STEP_UP_TAG = utf8("Confide step-up v1\0");
// Ask again a little before the relay's limit runs out, so a change never fails half-way.
const MARGIN_SECONDS = 30;

// Shows the "Organisation" button when this worker is an admin.
export async function offerConsole(session) {
  const me = await call("GET", "/v1/devices/me", { token: session.token }).catch(() => null);
  if (me?.role !== "admin") return;
  const button = document.getElementById("admin-open");
  const consoleView = new AdminConsole(session);
  button.hidden = false;
  button.onclick = () => consoleView.open();
}

class AdminConsole {
  constructor(session) {
    this.session = session;
    this.until = 0;
    this.tab = "workers";
    this.region = document.getElementById("admin");
    onLanguageChange(() => {
      if (!this.region.hidden) this.render();
    });
  }

  // Calls the admin API, signing in again once if the session token has expired.
  async api(method, path, body) {
    try {
      return await call(method, path, { token: this.session.token, body });
    } catch (err) {
      if (!(err instanceof RelayError) || err.status !== 401) throw err;
      await this.session.signIn();
      return call(method, path, { token: this.session.token, body });
    }
  }

  // A change: step up first if needed, and once more if the relay still asks for it.
  async act(method, path, body) {
    await this.stepUp();
    try {
      return await this.api(method, path, body);
    } catch (err) {
      if (!(err instanceof RelayError) || !err.problem?.type?.endsWith("/step-up-required")) throw err;
      this.until = 0;
      await this.stepUp();
      return this.api(method, path, body);
    }
  }

  async stepUp() {
    if (Date.now() / 1000 < this.until - MARGIN_SECONDS) return;
    const passphrase = await askPassphrase();
    const sealed = await idbGet(VAULT_DB, VAULT_KEY);
    this.session.engine.keystore.open(passphrase, sealed); // throws on a wrong passphrase
    const challenge = fromB64u((await call("POST", "/v1/challenges")).challenge);
    const signature = this.session.device.identity.sign(concatBytes(STEP_UP_TAG, challenge));
    const out = await this.api("POST", "/v1/admin/step-up", { challenge: toB64u(challenge), signature: toB64u(signature) });
    this.until = out.until;
  }

  open() {
    document.getElementById("app").hidden = true;
    this.region.hidden = false;
    this.render();
  }

  close() {
    this.region.hidden = true;
    const app = document.getElementById("app");
    app.hidden = false;
    focusHeading(app);
  }

  async render() {
    const tabs = [["workers", t("admin.tabWorkers")], ["policies", t("admin.tabPolicies")], ["settings", t("admin.tabSettings")], ["texts", t("admin.tabTexts")], ["audit", t("admin.tabAudit")]];
    const body = h("div", { class: "admin-body" }, h("p", { class: "muted" }, t("admin.loading")));
    const heading = h("h1", { id: "admin-title", tabindex: "-1" }, t("admin.title"));
    this.region.replaceChildren(
      heading,
      h("nav", { class: "row", "aria-label": t("admin.sections") },
        ...tabs.map(([name, label]) => h("button", {
          type: "button", class: name === this.tab ? "" : "secondary", "aria-current": name === this.tab ? "page" : "false",
          onclick: () => { this.tab = name; this.render(); },
        }, label)),
        h("button", { type: "button", class: "secondary", onclick: () => this.close() }, t("admin.backToConversations"))),
      h("div", { class: "error", role: "alert", id: "admin-error" }),
      body,
    );
    heading.focus();
    const views = { workers: workersView, policies: policiesView, settings: settingsView, texts: textsView, audit: auditView };
    try {
      body.replaceChildren(await views[this.tab](this));
    } catch (err) {
      this.fail(err);
    }
  }

  // Runs one change from a view and redraws, or says why it failed.
  async run(work) {
    document.getElementById("admin-error").replaceChildren();
    try {
      await work();
      await this.render();
    } catch (err) {
      this.fail(err);
    }
  }

  fail(err) {
    const line = document.getElementById("admin-error");
    if (!line) return;
    if (err?.name === "WrongPassphrase") line.textContent = t("admin.wrongPassphrase");
    else line.replaceChildren(t("admin.failed", { error: errorText(err) }), relayDetails(err) ?? "");
  }
}

// A modal form asking for the passphrase; resolves with it, or rejects if cancelled.
function askPassphrase() {
  return new Promise((resolve, reject) => {
    const input = h("input", { id: "step-up-pass", type: "password", required: true, autocomplete: "current-password" });
    const dialog = h("dialog", { "aria-labelledby": "step-up-title" });
    const form = h("form", {
      onsubmit: (event) => {
        event.preventDefault();
        dialog.close();
        dialog.remove();
        resolve(input.value);
      },
    },
    h("h3", { id: "step-up-title" }, t("admin.stepUpTitle")),
    h("p", { class: "muted" }, t("admin.stepUpBody")),
    h("label", { for: "step-up-pass" }, t("common.passphrase")), input,
    h("div", { class: "row" },
      h("button", { type: "submit" }, t("admin.confirm")),
      h("button", { type: "button", class: "secondary", onclick: () => { dialog.close(); dialog.remove(); reject(new Error("not confirmed")); } }, t("common.cancel"))));
    dialog.append(form);
    document.body.append(dialog);
    dialog.showModal();
    input.focus();
  });
}
