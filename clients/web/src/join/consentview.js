// The consent screens: the organisation's policy in its own words (including the limits of
// confidentiality), what the client agrees to, and later a review with the right to revoke.
import { lineDiff } from "../shared/diff.js";
import { field, h } from "../shared/dom.js";

// How long a consent receipt lasts unless withdrawn sooner.
export const CONSENT_DAYS = 365;

// What changed since the version the client agreed to, line by line.
function changesView(previous, policy) {
  const marks = { same: "  ", added: "+ ", removed: "\u2212 " };
  return h("div", { class: "card", id: "policy-changes" },
    h("h3", {}, `What changed since version ${previous.version}, which you agreed to`),
    h("pre", { class: "policy diff", "aria-label": "Changes: lines marked + are new, lines marked \u2212 were removed" },
      ...lineDiff(previous.text, policy.text).map((line) => h(
        line.kind === "added" ? "ins" : line.kind === "removed" ? "del" : "span",
        { class: `diff-${line.kind}` }, `${marks[line.kind]}${line.text}\n`))));
}

export function consentView({ policy, policyIntact, days, renewal = false, previous = null, onAgree, onDecline = null }) {
  const remember = h("input", { type: "checkbox", id: "remember" });
  const pass = h("input", { type: "password", minlength: 10, autocomplete: "new-password" });
  const passRow = h("div", { hidden: true, id: "remember-pass-row" }, ...field("remember-pass", "Passphrase for this device (at least 10 characters)", pass));
  remember.addEventListener("change", () => {
    passRow.hidden = !remember.checked;
    pass.required = remember.checked;
  });
  const error = h("p", { class: "error", role: "alert" });
  const agree = h("button", { type: "submit", id: "agree", disabled: !policyIntact }, "I agree");
  return h("section", { "aria-labelledby": "policy-title" },
    h("h1", { id: "policy-title" }, renewal ? "The policy has changed" : "Before you start"),
    h("p", {}, renewal
      ? "Your worker's organisation published a new version. Please read it; you can go on only if you agree."
      : "Please read how your information is handled, including when it cannot be kept confidential."),
    h("div", { class: "card policy", id: "policy-text", tabindex: 0, role: "document", "aria-label": `Confidentiality policy, version ${policy.version}` }, policy.text),
    h("p", { class: "muted" }, `Policy version ${policy.version}.`),
    renewal && previous?.text ? changesView(previous, policy) : null,
    policyIntact ? null : h("p", { class: "alert", role: "alert" }, "This policy text does not match its published fingerprint. Do not agree; tell your worker."),
    h("div", { class: "card" },
      h("h3", {}, "What you agree to"),
      h("ul", {},
        h("li", {}, "Your peer worker's program receives the messages and files you choose to send here, for peer support."),
        h("li", {}, `This consent lasts ${days} days unless you withdraw it sooner.`),
        h("li", {}, "You can withdraw it at any time from \u201cYour consent\u201d; nothing more can then be sent to you."),
        h("li", {}, "This device signs your agreement with a key made in this browser. No name, phone number or e-mail is needed."))),
    h("form", {
      onsubmit: async (event) => {
        event.preventDefault();
        agree.disabled = true;
        error.textContent = "";
        try {
          await onAgree(remember.checked ? pass.value : null);
        } catch (err) {
          error.textContent = `Something went wrong: ${err.message}`;
          agree.disabled = false;
        }
      },
    },
    renewal ? null : h("label", { class: "check", for: "remember" }, remember, "Remember this device (only on a device that is yours alone)"),
    renewal ? null : h("p", { class: "muted" }, "Off: nothing is kept once you close this tab."),
    renewal ? null : passRow,
    h("div", { class: "row" }, agree,
      onDecline ? h("button", { type: "button", class: "secondary", id: "decline", onclick: () => onDecline() }, "Not now") : null),
    error));
}

export function reviewView({ consent, policy, onRevoke, onBack, onRecords }) {
  const revoked = consent.state === "revoked";
  const confirm = h("input", { type: "checkbox", id: "confirm-revoke" });
  const revoke = h("button", { type: "button", class: "danger", id: "revoke", disabled: true, onclick: () => onRevoke() }, "Withdraw my consent");
  confirm.addEventListener("change", () => {
    revoke.disabled = !confirm.checked;
  });
  return h("section", { "aria-labelledby": "review-title" },
    h("h1", { id: "review-title" }, "Your consent"),
    h("dl", {},
      h("dt", {}, "Status"), h("dd", { id: "consent-status" }, revoked ? "Withdrawn" : "Given"),
      h("dt", {}, "Policy version"), h("dd", {}, String(consent.policyVersion)),
      h("dt", {}, "Signed"), h("dd", {}, new Date(consent.signedAt * 1000).toLocaleString()),
      h("dt", {}, "Expires"), h("dd", {}, new Date(consent.expiresAt * 1000).toLocaleDateString())),
    h("details", {}, h("summary", {}, "Read the policy again"), h("div", { class: "policy" }, policy.text)),
    revoked ? null : h("div", { class: "card" },
      h("p", {}, "If you withdraw, your worker is told and can no longer send you anything here."),
      h("label", { class: "check", for: "confirm-revoke" }, confirm, "Yes, I want to withdraw"),
      h("div", { class: "row" }, revoke)),
    h("div", { class: "row" },
      onRecords ? h("button", { type: "button", class: "secondary", onclick: onRecords }, "What the relay keeps about this device") : null,
      h("button", { type: "button", class: "secondary", onclick: onBack }, "Back")));
}
