// The relay's errors in the reader's language. The relay answers every failure with
// problem+json (docs/protocol.md, "Errors") whose `title` and `detail` are English and meant
// for logs; the apps show the catalogue's sentence for the problem type instead, and keep the
// relay's own words as a secondary: on the browser's console, and (where a view has room for
// it) in a closed <details> marked as English. A type the catalogue does not know (a newer
// relay's) falls back to a general sentence with the HTTP status.
import { h } from "./dom.js";
import { hasMessage, t } from "./i18n.js";
import { RelayError } from "./relay.js";

// This device's own errors, by their `name` (not by class: this module is part of the client's
// first screens and must not pull the crypto code in with it), each with one sentence.
export const LOCAL_ERRORS = {
  ConsentError: "problem.local.consent",
  AttachmentDigestError: "problem.local.file",
  MalformedInput: "problem.local.damaged",
  DuplicateMessage: "problem.local.damaged",
  RosterError: "problem.local.roster",
  WrongPassphrase: "problem.local.passphrase",
};

// The text to show for `err`: a relay problem by its type, this device's own errors by their
// kind, a failed fetch as the network's. The English words behind any of them go to the
// browser's console only.
export function errorText(err) {
  if (!(err instanceof RelayError)) {
    if (err?.message) console.info(`${err.name ?? "Error"}: ${err.message}`);
    if (err?.name === "Explained" && err.key) return t(err.key, err.values);
    const network = err instanceof TypeError && /fetch|network|load failed/i.test(err.message ?? "");
    return t(network ? "problem.local.network" : LOCAL_ERRORS[err?.name] ?? "problem.local.unexpected");
  }
  const raw = relayWords(err);
  if (raw) console.info(`relay: ${err.status} ${err.slug ?? "(no type)"}: ${raw}`);
  const key = `problem.${err.slug}`;
  return err.slug && hasMessage(key, "en") ? t(key) : t("problem.unknown", { status: err.status });
}

// The relay's own English words for `err`, or null when it gave none.
export function relayWords(err) {
  if (!(err instanceof RelayError)) return null;
  return err.problem?.detail || err.problem?.title || null;
}

// A closed <details> holding the relay's words (English, marked so for screen readers), or
// null when there are none.
export function relayDetails(err) {
  const raw = relayWords(err);
  if (!raw) return null;
  return h("details", { class: "relay-detail" }, h("summary", {}, t("problem.details")), h("p", { lang: "en" }, raw));
}
