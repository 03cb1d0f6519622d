// The consent screens: the organisation's policy in its own words (including the limits of
// confidentiality), what the client agrees to, and later a review with the right to revoke.
import { lineDiff } from "../shared/diff.js";
import { field, h } from "../shared/dom.js";
import { formatDate, language, t } from "../shared/i18n.js";
import { errorText } from "../shared/problems.js";

// How long a consent receipt lasts unless withdrawn sooner.
export const CONSENT_DAYS = 365;

// What changed since the version the client agreed to, line by line.
function changesView(previous, policy) {
  const marks = { same: "  ", added: "+ ", removed: "\u2212 " };
  return h("div", { class: "card", id: "policy-changes" },
    h("h3", {}, t("consent.changesTitle", { version: previous.version })),
    h("pre", { class: "policy diff", "aria-label": t("consent.changesLabel") },
      ...lineDiff(previous.text, policy.text).map((line) => h(
        line.kind === "added" ? "ins" : line.kind === "removed" ? "del" : "span",
        { class: `diff-${line.kind}` }, `${marks[line.kind]}${line.text}\n`))));
}

// "Remember this device", off by default, with the passphrase it asks for once ticked: the
// one-to-one consent screen and the group terms screen offer it in the same words.
// `passphrase()` is the passphrase when it is ticked, otherwise null.
export function rememberChoice() {
  const remember = h("input", { type: "checkbox", id: "remember" });
  const pass = h("input", { type: "password", minlength: 10, autocomplete: "new-password" });
  const passRow = h("div", { hidden: true, id: "remember-pass-row" }, ...field("remember-pass", t("consent.passphraseLabel"), pass));
  remember.addEventListener("change", () => {
    passRow.hidden = !remember.checked;
    pass.required = remember.checked;
  });
  return {
    nodes: [
      h("label", { class: "check", for: "remember" }, remember, t("consent.remember")),
      h("p", { class: "muted" }, t("consent.rememberOff")),
      passRow,
    ],
    passphrase: () => (remember.checked ? pass.value : null),
  };
}

export function consentView({ policy, policyIntact, days, renewal = false, previous = null, onAgree, onDecline = null, privacyButton = null }) {
  const remember = rememberChoice();
  const error = h("p", { class: "error", role: "alert" });
  const agree = h("button", { type: "submit", id: "agree", disabled: !policyIntact }, t("consent.agree"));
  return h("section", { "aria-labelledby": "policy-title" },
    h("h1", { id: "policy-title" }, renewal ? t("consent.renewalTitle") : t("consent.title")),
    h("p", {}, renewal
      ? t("consent.renewalIntro")
      : t("consent.intro")),
    privacyButton ? h("div", { class: "row" }, privacyButton) : null,
    h("div", { class: "card policy", id: "policy-text", tabindex: 0, role: "document", "aria-label": t("consent.policyLabel", { version: policy.version }), lang: policy.language ?? null }, policy.text),
    h("p", { class: "muted" }, t("consent.policyVersion", { version: policy.version })),
    renewal && previous?.text ? changesView(previous, policy) : null,
    policyIntact ? null : h("p", { class: "alert", role: "alert" }, t("consent.fingerprintMismatch")),
    h("div", { class: "card" },
      h("h3", {}, t("consent.agreeTitle")),
      h("ul", {},
        h("li", {}, t("consent.agreeReceives")),
        h("li", {}, t("consent.agreeLasts", { days })),
        h("li", {}, t("consent.agreeWithdraw")),
        h("li", {}, t("consent.agreeSigns")))),
    h("form", {
      onsubmit: async (event) => {
        event.preventDefault();
        agree.disabled = true;
        error.textContent = "";
        try {
          await onAgree(remember.passphrase());
        } catch (err) {
          error.textContent = t("common.somethingWrong", { error: errorText(err) });
          agree.disabled = false;
        }
      },
    },
    ...(renewal ? [] : remember.nodes),
    h("div", { class: "row" }, agree,
      onDecline ? h("button", { type: "button", class: "secondary", id: "decline", onclick: () => onDecline() }, t("consent.notNow")) : null),
    error));
}

// A language's name in the language being shown ("español" or "Spanish").
function languageName(tag) {
  try {
    return new Intl.DisplayNames([language()], { type: "language" }).of(tag) ?? tag;
  } catch {
    return tag;
  }
}

export function reviewView({ consent, policy, onRevoke, onBack, onRecords }) {
  const revoked = consent.state === "revoked";
  const confirm = h("input", { type: "checkbox", id: "confirm-revoke" });
  const revoke = h("button", { type: "button", class: "danger", id: "revoke", disabled: true, onclick: () => onRevoke() }, t("consent.revokeButton"));
  confirm.addEventListener("change", () => {
    revoke.disabled = !confirm.checked;
  });
  return h("section", { "aria-labelledby": "review-title" },
    h("h1", { id: "review-title" }, t("consent.reviewTitle")),
    h("dl", {},
      h("dt", {}, t("consent.status")), h("dd", { id: "consent-status" }, revoked ? t("consent.withdrawn") : t("consent.given")),
      h("dt", {}, t("consent.policyVersionTerm")), h("dd", {}, String(consent.policyVersion)),
      consent.policyLanguage ? [h("dt", {}, t("consent.policyLanguageTerm")), h("dd", { id: "consent-language" }, languageName(consent.policyLanguage))] : null,
      h("dt", {}, t("consent.signed")), h("dd", {}, formatDate(consent.signedAt * 1000)),
      h("dt", {}, t("consent.expires")), h("dd", {}, formatDate(consent.expiresAt * 1000, { dateStyle: "long" }))),
    h("details", {}, h("summary", {}, t("consent.readAgain")), h("div", { class: "policy", lang: policy.language ?? null }, policy.text)),
    revoked ? null : h("div", { class: "card" },
      h("p", {}, t("consent.revokeExplain")),
      h("label", { class: "check", for: "confirm-revoke" }, confirm, t("consent.revokeConfirm")),
      h("div", { class: "row" }, revoke)),
    h("div", { class: "row" },
      onRecords ? h("button", { type: "button", class: "secondary", onclick: onRecords }, t("consent.recordsButton")) : null,
      h("button", { type: "button", class: "secondary", onclick: onBack }, t("common.back"))));
}
