// The message catalogue: every string either app shows comes from here.
//
// Messages live in src/locales/<language>.json, one flat object of key -> ICU-style message.
// Only the ICU subset the apps need is read: `{name}` placeholders, and
// `{n, plural, one {…} other {…}}` / `{x, select, a {…} other {…}}` with `#` for the number,
// plural categories chosen by Intl.PluralRules for the active language (so Spanish "one"
// and "other" follow Spanish rules, not English ones). Dates and numbers follow the active
// language through Intl. A key missing from a language falls back to English, then to the
// key itself, so a half-translated catalogue never shows an empty control.
//
// English, the fallback, is part of every page; any other language's catalogue is a chunk of
// its own, loaded when that language is chosen (switchLanguage), so a page carries only the
// catalogues it shows. The client's /join is built with only the messages of its first
// screens in those modules (build.mjs); completeCatalogues brings the rest with the code that
// follows consent.
import en from "../locales/en.json" with { type: "json" };

const LOADERS = {
  es: () => import("../locales/es.json", { with: { type: "json" } }),
};

export const CATALOGUES = { en };
export const LANGUAGES = ["en", ...Object.keys(LOADERS)];
const FALLBACK = "en";

// complete.js's loaders once completeCatalogues has run, and each language's completion.
let whole = null;
const completing = new Map();

// Merges a loaded module's messages into `lang`'s (a part and the whole agree where they
// overlap, so the order in which they arrive does not matter).
async function fill(lang, loader) {
  const messages = (await loader()).default;
  CATALOGUES[lang] = { ...CATALOGUES[lang], ...messages };
}

function complete(lang) {
  if (!whole?.[lang]) return undefined;
  if (!completing.has(lang)) completing.set(lang, fill(lang, whole[lang]));
  return completing.get(lang);
}

// Loads `lang`'s catalogue if the apps have it; resolves to it (or undefined).
export async function loadLanguage(lang) {
  if (!CATALOGUES[lang] && LOADERS[lang]) await fill(lang, LOADERS[lang]);
  if (CATALOGUES[lang]) await complete(lang);
  return CATALOGUES[lang];
}

// Every message of every loaded language, on a page built with part of them up front (the
// client's /join); on any other page the same messages again, at no cost. What is on screen
// already came from the part the page had, so nothing is redrawn.
export async function completeCatalogues() {
  if (!whole) whole = (await import("../locales/complete.js")).COMPLETE;
  await Promise.all(Object.keys(CATALOGUES).map(complete));
}

// Loads the catalogue, then makes `lang` the active language (English if the apps lack it).
export async function switchLanguage(lang) {
  await loadLanguage(lang).catch(() => undefined);
  return setLanguage(CATALOGUES[lang] ? lang : FALLBACK);
}

let current = FALLBACK;
const listeners = new Set();

// The first of the browser's preferred languages the apps have, by primary subtag
// ("es-MX" -> "es"); English when none matches.
export function chooseLanguage(preferred = [], available = LANGUAGES) {
  for (const tag of preferred) {
    const primary = String(tag).toLowerCase().split("-")[0];
    if (available.includes(primary)) return primary;
  }
  return FALLBACK;
}

export function language() {
  return current;
}

// Synchronous: for a language whose catalogue is loaded (switchLanguage loads it first).
export function setLanguage(lang) {
  const next = CATALOGUES[lang] ? lang : FALLBACK;
  if (next === current) return current;
  current = next;
  if (typeof document !== "undefined") document.documentElement.lang = current;
  for (const fn of listeners) fn(current);
  return current;
}

// Called after every change of language, for views that redraw themselves.
export function onLanguageChange(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

export function hasMessage(key, lang = current) {
  return Object.hasOwn(CATALOGUES[lang] ?? {}, key);
}

export function t(key, vars = {}, lang = current) {
  const message = CATALOGUES[lang]?.[key] ?? CATALOGUES[FALLBACK][key];
  if (message === undefined) return key;
  return format(message, vars, lang);
}

export function formatNumber(n, options = {}, lang = current) {
  return new Intl.NumberFormat(lang, options).format(n);
}

export function formatDate(date, options = { dateStyle: "medium", timeStyle: "short" }, lang = current) {
  return new Intl.DateTimeFormat(lang, options).format(date instanceof Date ? date : new Date(date));
}

// "3 minutes ago", "yesterday", in the active language.
export function formatRelative(date, now = Date.now(), lang = current) {
  const seconds = Math.round(((date instanceof Date ? date.getTime() : date) - now) / 1000);
  const units = [["year", 31536000], ["month", 2592000], ["week", 604800], ["day", 86400], ["hour", 3600], ["minute", 60]];
  const rtf = new Intl.RelativeTimeFormat(lang, { numeric: "auto" });
  for (const [unit, size] of units) {
    if (Math.abs(seconds) >= size) return rtf.format(Math.trunc(seconds / size), unit);
  }
  return rtf.format(0, "minute");
}

// --- the ICU subset -----------------------------------------------------------------------

export function format(message, vars = {}, lang = current) {
  return render(parse(message), vars, lang, null);
}

const cache = new Map();

function parse(message) {
  let parsed = cache.get(message);
  if (!parsed) {
    const [nodes, end] = parseNodes(message, 0, false);
    if (end !== message.length) throw new Error(`unbalanced braces in message: ${message}`);
    parsed = nodes;
    cache.set(message, parsed);
  }
  return parsed;
}

// Returns [nodes, index after the last consumed character]. Inside a plural/select branch
// (nested = true) parsing stops at the branch's closing brace.
function parseNodes(src, i, nested) {
  const nodes = [];
  let text = "";
  while (i < src.length) {
    const ch = src[i];
    if (ch === "}") {
      if (!nested) throw new Error(`unexpected "}" in message: ${src}`);
      break;
    }
    if (ch === "#" && nested) {
      if (text) nodes.push(text), (text = "");
      nodes.push({ hash: true });
      i += 1;
      continue;
    }
    if (ch === "'" && src[i + 1] === "'") {
      text += "'";
      i += 2;
      continue;
    }
    if (ch !== "{") {
      text += ch;
      i += 1;
      continue;
    }
    if (text) nodes.push(text), (text = "");
    const close = src.indexOf("}", i);
    const comma = src.indexOf(",", i);
    if (close === -1) throw new Error(`unclosed "{" in message: ${src}`);
    if (comma === -1 || comma > close) {
      nodes.push({ name: src.slice(i + 1, close).trim() });
      i = close + 1;
      continue;
    }
    const name = src.slice(i + 1, comma).trim();
    const comma2 = src.indexOf(",", comma + 1);
    const kind = src.slice(comma + 1, comma2).trim();
    if (kind !== "plural" && kind !== "select") throw new Error(`unknown argument type ${kind} in message: ${src}`);
    i = comma2 + 1;
    const branches = {};
    for (;;) {
      while (/\s/.test(src[i] ?? "")) i += 1;
      if (src[i] === "}") {
        i += 1;
        break;
      }
      const open = src.indexOf("{", i);
      if (open === -1) throw new Error(`unclosed ${kind} in message: ${src}`);
      const selector = src.slice(i, open).trim();
      const [branch, end] = parseNodes(src, open + 1, true);
      if (src[end] !== "}") throw new Error(`unclosed branch in message: ${src}`);
      branches[selector] = branch;
      i = end + 1;
    }
    if (!branches.other) throw new Error(`${kind} without "other" in message: ${src}`);
    nodes.push({ name, kind, branches });
  }
  if (text) nodes.push(text);
  return [nodes, i];
}

function render(nodes, vars, lang, number) {
  let out = "";
  for (const node of nodes) {
    if (typeof node === "string") out += node;
    else if (node.hash) out += number === null ? "#" : formatNumber(number, {}, lang);
    else if (!node.kind) out += node.name in vars ? String(vars[node.name]) : `{${node.name}}`;
    else {
      const value = vars[node.name];
      let branch;
      if (node.kind === "plural") {
        const n = Number(value);
        branch = node.branches[`=${n}`] ?? node.branches[new Intl.PluralRules(lang).select(n)] ?? node.branches.other;
        out += render(branch, vars, lang, n);
      } else {
        branch = node.branches[String(value)] ?? node.branches.other;
        out += render(branch, vars, lang, number);
      }
    }
  }
  return out;
}
