// The consent records the relay keeps for this worker device (GET /v1/consent, every page):
// the organisation's signed record of who agreed to which policy version, and who withdrew.
// Each receipt is checked here against the key that signed it, so the list shows what the
// clients really signed, not what the relay says they did.
import { fromB64u } from "../shared/b64.js";
import { h } from "../shared/dom.js";
import { language, t } from "../shared/i18n.js";
import { listConsentRecords } from "../shared/relay.js";
import { showDialog } from "../shared/records.js";
import { errorText } from "../shared/problems.js";

const day = (seconds) => new Date(seconds * 1000).toISOString().slice(0, 10);

// One line for one record, in plain words.
export function describeRecord(engine, workerIdentityKey, record) {
  const client = record.client_device_id.slice(0, 8);
  if (record.kind === "revocation") return t("consentRecords.revocation", { day: day(record.created_day), client });
  try {
    const data = fromB64u(record.receipt);
    const fields = engine.consent.decodeReceipt(data);
    // Checked as at its signing time: an old receipt is still the record of what was agreed.
    engine.consent.verifyReceipt(data, fromB64u(record.signature), {
      clientIdentityKey: fields.clientIdentityKey, workerIdentityKey, now: fields.signedAt,
    });
    const until = Date.now() / 1000 < fields.expiresAt
      ? t("consentRecords.validUntil", { day: day(fields.expiresAt) }) : t("consentRecords.expired", { day: day(fields.expiresAt) });
    const common = { day: day(fields.signedAt), client, version: fields.policyVersion, until };
    // A receipt of format 2 names the language of the text shown and that text's hash.
    if (fields.policyLanguage) {
      const name = new Intl.DisplayNames([language()], { type: "language" }).of(fields.policyLanguage) ?? fields.policyLanguage;
      const sha = Array.from(fields.policySha256.slice(0, 8), (b) => b.toString(16).padStart(2, "0")).join("");
      return t("consentRecords.agreedLanguage", { ...common, language: name, sha });
    }
    return t("consentRecords.agreed", common);
  } catch (err) {
    return t("consentRecords.bad", { day: day(record.created_day), client, error: errorText(err) });
  }
}

export function showConsentRecords(session) {
  return showDialog(t("consentRecords.title"), async () => {
    const records = await listConsentRecords(session.token);
    const own = session.device.identity.public;
    return h("div", {},
      h("p", { id: "consent-records-count" }, t("consentRecords.count", { count: records.length })),
      h("ul", { id: "consent-records" },
        ...records.map((r) => h("li", { "data-kind": r.kind }, describeRecord(session.engine, own, r)))));
  }, t("consentRecords.note"));
}
