// "What the relay keeps about this device", in plain words, from GET /v1/devices/me/records
// (docs/operations.md section 13.7). Both apps show it in a dialog.
import { h } from "./dom.js";
import { t } from "./i18n.js";

const date = (seconds) => new Date(seconds * 1000).toLocaleDateString();
const plural = (n, one, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;
const latest = (rows, key) => Math.max(...rows.map((r) => r[key] ?? 0));

// One sentence per kind of row; a kind with no rows says nothing.
const SENTENCES = {
  devices: (rows) => `This device, registered on ${date(rows[0].created_day)}, and its public identity key${rows[0].revoked ? " (revoked)" : ""}${rows.length > 1 ? `; ${plural(rows.length - 1, "client device")} that joined through its invites` : ""}.`,
  mailboxes: () => "Its mailbox, known only by a random id.",
  sessions: (rows) => `${plural(rows.length, "sign-in session")}, the last expiring ${date(latest(rows, "expires_at"))}.`,
  signed_prekeys: () => "One signed public key that lets someone start a conversation with it.",
  one_time_prekeys: (rows) => `${plural(rows.length, "one-time public key")} for starting conversations.`,
  capabilities: (rows) => `${plural(rows.length, "permission")} to send to its mailbox (${rows.filter((r) => r.revoked).length} withdrawn).`,
  envelopes: (rows) => `${plural(rows.length, "encrypted message")} waiting for it (${rows.reduce((n, r) => n + r.size, 0)} bytes, unreadable by the relay), deleted on delivery or by ${date(latest(rows, "expires_at"))}.`,
  invites: (rows) => `${plural(rows.length, "invite")} it made (${rows.filter((r) => r.used).length} used).`,
  consent_receipts: (rows) => `${plural(rows.length, "signed consent record")} (agreements or withdrawals), kept as the organisation's record.`,
  workers: (rows) => `The worker account: role ${rows[0].role}, enrolled on ${date(rows[0].created_day)}${rows[0].disabled ? ", disabled" : ""}.`,
  enrolment_codes: (rows) => `${plural(rows.length, "enrolment code")}, stored only as a hash.`,
  push_subscriptions: (rows) => t("records.push_subscription", { service: rows[0].push_service, date: date(rows[0].expires_at) }),
  audit_events: (rows) => `${plural(rows.length, "audit event")} about it: ${[...new Set(rows.map((r) => r.action))].join(", ")}.`,
};

export function recordsList(records) {
  const items = Object.entries(records)
    .filter(([name, rows]) => rows.length && SENTENCES[name])
    .map(([name, rows]) => h("li", { "data-table": name }, SENTENCES[name](rows)));
  return h("ul", { id: "records-list" }, ...items);
}

// Opens a modal dialog with the records `load()` fetches.
export function showRecords(load) {
  return showDialog("What the relay keeps about this device", async () => recordsList(await load()),
    "No names, no message text, no contacts and no addresses are kept. Nothing else refers to this device.");
}

// A modal dialog titled `title` whose body `render()` builds (asynchronously, from the relay).
export async function showDialog(title, render, note) {
  const body = h("div", {}, h("p", { class: "muted" }, "Asking the relay…"));
  const close = h("button", { type: "button", class: "secondary" }, "Close");
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
    body.replaceChildren(h("p", { class: "error", role: "alert" }, `Could not ask the relay: ${err.message}`));
  }
}
