// The organisation console's sections: workers and devices, policies (and group terms),
// settings, audit trail.
// Each takes the console (admin.js) and returns its element; changes go through `c.act`
// (step-up, then the admin API) inside `c.run` (redraw, or show the error).
import { h } from "../shared/dom.js";
import { hasMessage, t } from "../shared/i18n.js";
import { qrSvg } from "../shared/qr.js";

const ROLES = ["worker", "supervisor", "admin"];
const day = (seconds) => new Date(seconds * 1000).toISOString().slice(0, 10);
const hour = (seconds) => new Date(seconds * 1000).toISOString().slice(0, 16).replace("T", " ");
const short = (id) => (!id ? "—" : id.length > 12 ? `${id.slice(0, 8)}…` : id);

function table(caption, head, rows) {
  return h("table", {},
    h("caption", {}, caption),
    h("thead", {}, h("tr", {}, ...head.map((text) => h("th", { scope: "col" }, text)))),
    h("tbody", {}, ...rows));
}

function select(id, options, value) {
  return h("select", { id }, ...options.map((o) => h("option", { value: o, selected: o === String(value) }, o)));
}

export async function workersView(c) {
  const workers = await c.api("GET", "/v1/admin/workers");
  const role = select("enrol-role", ROLES, "worker");
  const issued = h("div", { id: "enrol-result" });
  const enrol = h("form", {
    onsubmit: (event) => {
      event.preventDefault();
      c.run(async () => {
        const out = await c.act("POST", "/v1/admin/enrolment-codes", { role: role.value });
        c.issued = out;
      });
    },
  }, h("label", { for: "enrol-role" }, t("admin.role")), role, h("button", { type: "submit" }, t("admin.enrolWorker")));
  if (c.issued) {
    issued.append(
      h("p", {}, t("admin.codeIssued", { time: hour(c.issued.expires_at) })),
      h("p", {}, h("code", { id: "enrolment-code" }, c.issued.enrolment_code)),
      qrSvg(c.issued.enrolment_code, t("admin.codeQr")),
    );
    c.issued = null;
  }
  const rows = workers.map((w) => {
    const roleSelect = select(`role-${w.worker_id}`, ROLES, w.role);
    roleSelect.setAttribute("aria-label", t("admin.roleOf", { id: short(w.worker_id) }));
    const path = `/v1/admin/workers/${w.worker_id}`;
    return h("tr", { "data-worker": w.worker_id },
      h("td", {}, h("code", { title: w.worker_id }, short(w.worker_id))),
      h("td", {}, roleSelect, h("button", {
        type: "button", class: "secondary", onclick: () => c.run(() => c.act("POST", `${path}/role`, { role: roleSelect.value })),
      }, t("admin.changeRole"))),
      h("td", {}, String(w.devices)),
      h("td", {}, day(w.created_day)),
      h("td", {}, w.disabled ? t("admin.disabled") : t("admin.active")),
      h("td", {},
        h("button", { type: "button", class: "secondary", onclick: () => c.run(async () => { c.devicesOf = w.worker_id; }) }, t("admin.devices")),
        w.disabled
          ? h("button", { type: "button", onclick: () => c.run(() => c.act("POST", `${path}/enable`)) }, t("admin.enable"))
          : h("button", { type: "button", class: "danger", onclick: () => c.run(() => c.act("POST", `${path}/disable`)) }, t("admin.disable"))));
  });
  const section = h("section", { "aria-labelledby": "workers-title" },
    h("h3", { id: "workers-title" }, t("admin.workers")), enrol, issued,
    table(t("admin.workersCaption"), ["colWorker", "colRole", "colDevices", "colEnrolled", "colState", "colActions"].map((k) => t(`admin.${k}`)), rows));
  if (c.devicesOf) section.append(await devicesView(c, c.devicesOf));
  return section;
}

async function devicesView(c, workerId) {
  const devices = await c.api("GET", `/v1/admin/devices?worker_id=${encodeURIComponent(workerId)}`);
  const rows = devices.map((d) => h("tr", { "data-device": d.device_id },
    h("td", {}, h("code", { title: d.device_id }, short(d.device_id))),
    h("td", {}, day(d.created_day)),
    h("td", {}, d.revoked ? t("admin.revoked") : t("admin.active")),
    h("td", {}, d.revoked ? null : h("button", {
      type: "button", class: "danger", onclick: () => c.run(() => c.act("POST", `/v1/admin/devices/${d.device_id}/revoke`)),
    }, t("admin.revoke")))));
  return h("section", { "aria-labelledby": "devices-title" },
    h("h3", { id: "devices-title" }, t("admin.devicesOf", { id: short(workerId) })),
    table(t("admin.devices"), ["colDevice", "colRegistered", "colState", "colActions"].map((k) => t(`admin.${k}`)), rows));
}

export async function policiesView(c) {
  const versions = await c.api("GET", "/v1/admin/policies");
  const text = h("textarea", { id: "policy-text", rows: 6, required: true });
  const lang = h("input", { id: "policy-language", value: "en", required: true, maxlength: 35, autocomplete: "off" });
  const publish = h("form", {
    onsubmit: (event) => {
      event.preventDefault();
      c.run(() => c.act("POST", "/v1/admin/policies", { text: text.value, language: lang.value.trim() }));
    },
  }, h("label", { for: "policy-text" }, t("admin.newPolicy")), text,
  h("label", { for: "policy-language" }, t("admin.policyLanguage")), lang,
  h("div", { class: "row" }, h("button", { type: "submit" }, t("admin.publish"))));
  const translation = versions.length ? translationForm(c, versions) : null;
  const numbers = versions.map((v) => v.version);
  const a = select("diff-a", numbers, numbers.at(-2) ?? numbers[0]);
  const b = select("diff-b", numbers, numbers.at(-1));
  const out = h("pre", { id: "policy-diff" }, c.diff ?? "");
  c.diff = null;
  const diff = h("form", {
    onsubmit: (event) => {
      event.preventDefault();
      c.run(async () => {
        c.diff = (await c.api("GET", `/v1/admin/policies/${a.value}/diff/${b.value}`)).diff || t("admin.noDifference");
      });
    },
  }, h("label", { for: "diff-a" }, t("admin.fromVersion")), a, h("label", { for: "diff-b" }, t("admin.toVersion")), b,
  h("button", { type: "submit", class: "secondary" }, t("admin.showDifference")));
  const rows = versions.map((v) => h("tr", {},
    h("td", {}, String(v.version)), h("td", {}, day(v.published_day)),
    h("td", {}, String(v.active_consents)), h("td", {}, h("code", {}, v.sha256.slice(0, 16))),
    h("td", {}, (v.languages ?? []).join(", "))));
  return h("div", {},
    h("section", { "aria-labelledby": "policies-title" },
      h("h3", { id: "policies-title" }, t("admin.policies")), publish, translation,
      table(t("admin.policiesCaption"),
        [t("admin.colVersion"), t("admin.colPublished"), t("admin.colConsents"), "SHA-256", t("admin.colLanguages")], rows),
      diff, out),
    await groupTermsForm(c));
}

// The terms for peer support groups (POST /v1/admin/group-terms, audit `group-terms.publish`):
// the version in force and a new one, which starts from its text. Group workers' devices
// then name it in their groups' rosters and ask each client member again (docs/protocol.md
// G9, "New group terms").
async function groupTermsForm(c) {
  const current = (await c.api("GET", "/v1/organisation"))?.group_terms ?? null;
  const text = h("textarea", { id: "group-terms-new", rows: 6, required: true, "aria-describedby": "group-terms-help" });
  text.value = current?.text ?? "";
  return h("section", { "aria-labelledby": "group-terms-title" },
    h("h3", { id: "group-terms-title" }, t("admin.groupTerms")),
    h("p", { id: "group-terms-current" }, current
      ? t("admin.groupTermsCurrent", { version: current.version, sha: current.sha256.slice(0, 16) })
      : t("admin.groupTermsNone")),
    h("form", {
      onsubmit: (event) => {
        event.preventDefault();
        c.run(() => c.act("POST", "/v1/admin/group-terms", { text: text.value }));
      },
    }, h("label", { for: "group-terms-new" }, t("admin.groupTermsNew")), text,
    h("p", { class: "muted", id: "group-terms-help" }, t("admin.groupTermsHelp")),
    h("div", { class: "row" }, h("button", { type: "submit" }, t("admin.groupTermsPublish")))));
}

// One version in one more language (POST /v1/admin/policies/{version}/translations).
function translationForm(c, versions) {
  const version = select("translation-version", versions.map((v) => v.version), versions.at(-1).version);
  const lang = h("input", { id: "translation-language", required: true, maxlength: 35, placeholder: "es", autocomplete: "off" });
  const text = h("textarea", { id: "translation-text", rows: 6, required: true });
  return h("form", {
    id: "policy-translation",
    onsubmit: (event) => {
      event.preventDefault();
      c.run(() => c.act("POST", `/v1/admin/policies/${version.value}/translations`, { language: lang.value.trim(), text: text.value }));
    },
  }, h("h4", {}, t("admin.translationTitle")),
  h("label", { for: "translation-version" }, t("admin.translationVersion")), version,
  h("label", { for: "translation-language" }, t("admin.policyLanguage")), lang,
  h("label", { for: "translation-text" }, t("admin.translationText")), text,
  h("div", { class: "row" }, h("button", { type: "submit", class: "secondary" }, t("admin.publishTranslation"))));
}

// The app's own wording of a setting, in the reader's language; a setting the app does not
// know yet (a newer relay's) keeps the relay's English description.
const settingMeaning = (s) => (hasMessage(`admin.setting.${s.name}`, "en") ? t(`admin.setting.${s.name}`) : s.meaning);

export async function settingsView(c) {
  const settings = await c.api("GET", "/v1/admin/settings");
  const forms = settings.map((s) => {
    const input = h("input", { id: `setting-${s.name}`, type: "number", min: s.minimum, max: s.maximum, value: s.value, required: true });
    return h("form", {
      class: "row",
      onsubmit: (event) => {
        event.preventDefault();
        c.run(() => c.act("PUT", `/v1/admin/settings/${s.name}`, { value: Number(input.value) }));
      },
    }, h("label", { for: input.id }, t("admin.settingLabel", { name: s.name, meaning: settingMeaning(s) })), input,
    h("button", { type: "submit", class: "secondary" }, t("admin.save")));
  });
  return h("section", { "aria-labelledby": "settings-title" }, h("h3", { id: "settings-title" }, t("admin.settings")), ...forms);
}

export async function auditView(c) {
  const filter = c.auditFilter ?? {};
  const query = new URLSearchParams({ limit: "200" });
  if (filter.action) query.set("action", filter.action);
  if (filter.since) query.set("since", String(Date.parse(filter.since) / 1000));
  if (filter.until) query.set("until", String(Date.parse(filter.until) / 1000 + 86399));
  const events = await c.api("GET", `/v1/admin/audit?${query}`);
  const action = h("input", { id: "audit-action", value: filter.action ?? "", placeholder: t("admin.auditPlaceholder") });
  const since = h("input", { id: "audit-since", type: "date", value: filter.since ?? "" });
  const until = h("input", { id: "audit-until", type: "date", value: filter.until ?? "" });
  const status = h("p", { id: "audit-status", role: "status" }, c.auditStatus ?? "");
  c.auditStatus = null;
  const filters = h("form", {
    class: "row",
    onsubmit: (event) => {
      event.preventDefault();
      c.run(async () => { c.auditFilter = { action: action.value.trim(), since: since.value, until: until.value }; });
    },
  }, h("label", { for: "audit-action" }, t("admin.action")), action, h("label", { for: "audit-since" }, t("admin.from")), since,
  h("label", { for: "audit-until" }, t("admin.to")), until, h("button", { type: "submit", class: "secondary" }, t("admin.filter")),
  h("button", {
    type: "button", class: "secondary",
    onclick: () => c.run(async () => {
      const v = await c.api("GET", "/v1/admin/audit/verify");
      c.auditStatus = v.intact ? t("admin.auditIntact", { events: v.events, head: v.head.slice(0, 16) }) : t("admin.auditBroken", { detail: v.detail });
    }),
  }, t("admin.verifyChain")));
  const rows = events.map((e) => h("tr", {},
    h("td", {}, String(e.id)), h("td", {}, hour(e.hour)), h("td", {}, e.action),
    h("td", {}, e.actor === "cli" ? "cli" : short(e.actor)), h("td", {}, e.subject ? short(e.subject) : "—"), h("td", {}, e.detail ?? "")));
  return h("section", { "aria-labelledby": "audit-title" }, h("h3", { id: "audit-title" }, t("admin.audit")), filters, status,
    table(t("admin.auditCaption"), ["#", ...["colHour", "colAction", "colBy", "colOn", "colDetail"].map((k) => t(`admin.${k}`))], rows));
}
