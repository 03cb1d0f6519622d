// The de-identifier: finds what in a consultation draft could identify the client, so the
// worker can review every redaction before anything reaches a supervisor. Pure: text and the
// worker's names in, redactions out; nothing here touches the network or storage.
//
// The rules are data shared with the Python SDK (confide_client/deid_rules.json), so both
// mask the same things; tests/fixtures/deidentify/corpus.json holds both to the same results.
// It helps the review, it does not replace it (docs/web.md, "Consultation").
import RULES from "../../../python/src/confide_client/deid_rules.json" with { type: "json" };

const LETTER_OR_DIGIT = /[\p{L}\p{N}]/u;
const STOPWORDS = new Set(RULES.stopwords);

function expand(source) {
  let out = source;
  for (let guard = 0; guard < 10 && out.includes("{"); guard += 1) {
    out = out.replace(/\{([A-Z_]+)\}/g, (whole, name) => RULES.macros[name] ?? whole);
  }
  return out;
}

const COMPILED = RULES.rules.map((rule, index) => ({
  ...rule,
  priority: index + 2,
  regex: new RegExp(expand(rule.pattern), `gd${rule.flags ?? ""}`),
}));

// Folds one character for name matching (case and accents), keeping one unit per unit so
// offsets in the folded text are offsets in the original.
function foldChar(c) {
  const f = c.normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase();
  return f.length === 1 ? f : c;
}

const fold = (text) => Array.from({ length: text.length }, (_, i) => foldChar(text[i])).join("");
const isWordChar = (c) => c !== undefined && LETTER_OR_DIGIT.test(c);

// The strings to look for for one name: the whole of it, and each capitalised word in it
// that is not a title or a common word (so "Maria Lopez" also finds "Maria" and "Lopez").
function nameCandidates(name) {
  const whole = name.trim().replace(/\s+/g, " ");
  const out = new Set();
  if (whole.length >= 2) out.add(fold(whole));
  for (const raw of whole.split(" ")) {
    const word = raw.replace(/^[.,'"()]+|[.,'"()]+$/g, "");
    if (word.length >= 2 && word[0] !== word[0].toLowerCase() && !STOPWORDS.has(fold(word))) out.add(fold(word));
  }
  return out;
}

function findNames(text, folded, names, kind, priority) {
  const found = [];
  const candidates = new Set();
  for (const name of names) for (const c of nameCandidates(name ?? "")) candidates.add(c);
  for (const candidate of candidates) {
    for (let at = folded.indexOf(candidate); at !== -1; at = folded.indexOf(candidate, at + 1)) {
      const end = at + candidate.length;
      if (!isWordChar(text[at - 1]) && !isWordChar(text[end])) found.push({ start: at, end, kind, priority });
    }
  }
  return found;
}

function findRules(text) {
  const found = [];
  for (const rule of COMPILED) {
    rule.regex.lastIndex = 0;
    for (const match of text.matchAll(rule.regex)) {
      const [start, fullEnd] = match.indices[rule.group ?? 0] ?? match.indices[0];
      let end = fullEnd;
      if (rule.trim) while (end > start && rule.trim.includes(text[end - 1])) end -= 1;
      if (rule.min_digits && (text.slice(start, end).match(/[0-9]/g) ?? []).length < rule.min_digits) continue;
      if (end > start) found.push({ start, end, kind: rule.kind, label: rule.label, priority: rule.priority });
    }
  }
  return found;
}

// Overlapping matches become one redaction (nothing half-masked), named by the longer match
// (an e-mail address that contains the client's name stays "[email]"); on a tie, by the
// earlier rule.
// Neighbouring name parts ("Maria" "Lopez") separated only by spaces become one label.
function merge(text, found) {
  found.sort((a, b) => a.start - b.start || b.end - a.end || a.priority - b.priority);
  const out = [];
  for (const f of found) {
    const last = out[out.length - 1];
    const touchingName = last && last.kind === f.kind && (f.kind === "client" || f.kind === "name")
      && /^[ \t]*$/.test(text.slice(last.end, f.start));
    if (last && (f.start < last.end || touchingName)) {
      const length = f.end - f.start;
      if (length > last.longest || (length === last.longest && f.priority < last.priority)) {
        Object.assign(last, { kind: f.kind, label: f.label, priority: f.priority, longest: length });
      }
      last.end = Math.max(last.end, f.end);
    } else out.push({ ...f, longest: f.end - f.start });
  }
  return out.map(({ start, end, kind, label }) => ({
    start, end, kind, label: label ?? RULES.labels[kind], original: text.slice(start, end), undone: false,
  }));
}

/**
 * Every identifier found in `text`, as redactions on the original text (sorted, disjoint).
 * `alias` and `names` are the contact's (they become "[client]"); `others` are further names
 * the worker listed (relatives, places), which become "[name]".
 */
export function findIdentifiers(text, { alias = "", names = [], others = [] } = {}) {
  const folded = fold(text);
  return merge(text, [
    ...findNames(text, folded, [alias, ...names], "client", 0),
    ...findNames(text, folded, others, "name", 1),
    ...findRules(text),
  ]);
}

/**
 * The text with every redaction not undone replaced by its label, and where each label is.
 * `labelOf` chooses the label: the rules' own (English, as the Python SDK writes it) unless the
 * caller gives the reader's (consult.js, redactionToken).
 */
export function applyRedactions(text, redactions, labelOf = (r) => r.label) {
  let out = "";
  let at = 0;
  const spans = [];
  redactions.forEach((r, index) => {
    if (r.undone) return;
    out += text.slice(at, r.start);
    const label = labelOf(r);
    spans.push({ start: out.length, end: out.length + label.length, kind: r.kind, index });
    out += label;
    at = r.end;
  });
  return { text: out + text.slice(at), spans };
}

/** The redactions with one more: every occurrence of `term` the worker chose to hide. */
export function addTerm(text, redactions, term) {
  const wanted = term.trim();
  if (!wanted) return redactions;
  const folded = fold(text);
  const target = fold(wanted);
  const extra = [];
  for (let at = folded.indexOf(target); at !== -1; at = folded.indexOf(target, at + 1)) {
    extra.push({ start: at, end: at + target.length, kind: "manual", priority: -1 });
  }
  const kept = redactions.filter((r) => !r.undone).map((r) => ({ ...r, priority: r.kind === "manual" ? -1 : 0 }));
  return merge(text, [...kept, ...extra]);
}

/** Undo (or redo) one redaction; returns a new list. */
export function toggle(redactions, index) {
  return redactions.map((r, i) => (i === index ? { ...r, undone: !r.undone } : r));
}

/** One call for the draft: the redactions found, and the text as it would be sent. */
export function deidentify(text, options) {
  const redactions = findIdentifiers(text, options);
  return { redactions, ...applyRedactions(text, redactions) };
}
