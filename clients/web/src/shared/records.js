// "What the relay keeps about this device", in plain words, from GET /v1/devices/me/records
// (docs/operations.md section 13.7). Both apps show it in a dialog.
import { h } from "./dom.js";
import { formatDate, formatNumber, t } from "./i18n.js";
import { errorText } from "./problems.js";

const date = (seconds) => formatDate(seconds * 1000, { dateStyle: "medium" });
const latest = (rows, key) => Math.max(...rows.map((r) => r[key] ?? 0));
const yes = (flag) => (flag ? "yes" : "no");

// One sentence per kind of row; a kind with no rows says nothing.
const SENTENCES = {
  devices: (rows) => t("records.devices", { day: date(rows[0].created_day), revoked: yes(rows[0].revoked), others: rows.length - 1 }),
  mailboxes: () => t("records.mailboxes"),
  sessions: (rows) => t("records.sessions", { count: rows.length, day: date(latest(rows, "expires_at")) }),
  signed_prekeys: () => t("records.signedPrekeys"),
  one_time_prekeys: (rows) => t("records.oneTimePrekeys", { count: rows.length }),
  capabilities: (rows) => t("records.capabilities", { count: rows.length, withdrawn: rows.filter((r) => r.revoked).length }),
  envelopes: (rows) => t("records.envelopes", {
    count: rows.length, bytes: formatNumber(rows.reduce((n, r) => n + r.size, 0)), day: date(latest(rows, "expires_at")),
  }),
  invites: (rows) => t("records.invites", { count: rows.length, used: rows.filter((r) => r.used).length }),
  consent_receipts: (rows) => t("records.consentReceipts", { count: rows.length }),
  workers: (rows) => t("records.workers", { role: rows[0].role, day: date(rows[0].created_day), disabled: yes(rows[0].disabled) }),
  enrolment_codes: (rows) => t("records.enrolmentCodes", { count: rows.length }),
  push_subscriptions: (rows) => t("records.push_subscription", { service: rows[0].push_service, date: date(rows[0].expires_at) }),
  audit_events: (rows) => t("records.auditEvents", { count: rows.length, actions: [...new Set(rows.map((r) => r.action))].join(", ") }),
};

export function recordsList(records) {
  const items = Object.entries(records)
    .filter(([name, rows]) => rows.length && SENTENCES[name])
    .map(([name, rows]) => h("li", { "data-table": name }, SENTENCES[name](rows)));
  return h("ul", { id: "records-list" }, ...items);
}

// Opens a modal dialog with the records `load()` fetches.
export function showRecords(load) {
  return showDialog(t("records.title"), async () => recordsList(await load()), t("records.note"));
}

// A modal dialog titled `title` whose body `render()` builds (asynchronously, from the relay).
export async function showDialog(title, render, note) {
  const body = h("div", {}, h("p", { class: "muted" }, t("records.asking")));
  const close = h("button", { type: "button", class: "secondary" }, t("common.close"));
  const dialog = h("dialog", { "aria-labelledby": "records-title" },
    h("h3", { id: "records-title" }, title),
    body,
    note ? h("p", { class: "muted" }, note) : null,
    h("div", { class: "row" }, close));
  close.onclick = () => {
    dialog.close();
    dialog.remove();
  };
  document.body.append(dialog);
  dialog.showModal();
  close.focus();
  try {
    body.replaceChildren(await render());
  } catch (err) {
    body.replaceChildren(h("p", { class: "error", role: "alert" }, t("records.couldNotAsk", { error: errorText(err) })));
  }
}
