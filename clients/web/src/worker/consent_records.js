// The consent records the relay keeps for this worker device (GET /v1/consent, every page):
// the organisation's signed record of who agreed to which policy version, and who withdrew.
// Each receipt is checked here against the key that signed it, so the list shows what the
// clients really signed, not what the relay says they did.
import { fromB64u } from "../shared/b64.js";
import { h } from "../shared/dom.js";
import { listConsentRecords } from "../shared/relay.js";
import { showDialog } from "../shared/records.js";

const day = (seconds) => new Date(seconds * 1000).toISOString().slice(0, 10);

// One line for one record, in plain words.
export function describeRecord(engine, workerIdentityKey, record) {
  const client = record.client_device_id.slice(0, 8);
  if (record.kind === "revocation") return `${day(record.created_day)}: client device ${client}… withdrew consent.`;
  try {
    const data = fromB64u(record.receipt);
    const fields = engine.consent.decodeReceipt(data);
    // Checked as at its signing time: an old receipt is still the record of what was agreed.
    engine.consent.verifyReceipt(data, fromB64u(record.signature), {
      clientIdentityKey: fields.clientIdentityKey, workerIdentityKey, now: fields.signedAt,
    });
    const until = Date.now() / 1000 < fields.expiresAt ? `valid until ${day(fields.expiresAt)}` : `expired ${day(fields.expiresAt)}`;
    return `${day(fields.signedAt)}: client device ${client}… agreed to policy version ${fields.policyVersion} (${until}).`;
  } catch (err) {
    return `${day(record.created_day)}: a record from client device ${client}… that does not verify (${err.message}).`;
  }
}

export function showConsentRecords(session) {
  return showDialog("Consent records kept by the relay", async () => {
    const records = await listConsentRecords(session.token);
    const own = session.device.identity.public;
    return h("div", {},
      h("p", { id: "consent-records-count" }, `${records.length} ${records.length === 1 ? "record" : "records"}, oldest first.`),
      h("ul", { id: "consent-records" },
        ...records.map((r) => h("li", { "data-kind": r.kind }, describeRecord(session.engine, own, r)))));
  }, "Receipts are signed by the client's device; this app checks each signature. They are kept as the organisation's record for its consent retention period.");
}
