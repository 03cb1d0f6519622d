// Builds the web app into dist/: the two pages at the top, everything they load under
// dist/assets/, ready for the relay to serve as it is (server/src/confide_server/web_assets.py).
//
// - Content-hashed names: every bundle, chunk, stylesheet and icon is named `<name>-<hash>.<ext>`
//   (esbuild's [hash]: eight base32 characters of its content), and the pages are rewritten to
//   those names, so the relay can let browsers keep them for a year (`immutable`) and a new
//   build is never mixed with an old one. The pages themselves, and the quick-exit page whose
//   address the code names (one copy per language), keep their names and are revalidated on
//   every load.
// - Each page is built on its own, so the client's page never waits for code the worker app
//   shares with it; the crypto and everything after consent are chunks loaded by `import()`.
//   A page's static imports are listed as <link rel="modulepreload">, so they arrive together
//   with the entry instead of one round trip later.
// - Pre-compressed: brotli (`.br`) and gzip (`.gz`) beside every text file, made here with
//   node's zlib at the highest settings, which no relay or proxy could afford per request.
// Nothing here reaches the network, so `npm run build` works offline after `npm ci`.
import { build, transform } from "esbuild";
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { basename, dirname, extname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { brotliCompressSync, constants, gzipSync } from "node:zlib";
import { buildInstalledApp } from "./build-sw.mjs";
import { CATALOGUES, LANGUAGES, loadLanguage } from "./src/shared/i18n.js";
import { neutralPage } from "./src/join/neutral.js";
import { FIRST_SCREENS } from "./src/locales/parts.js";

const root = dirname(fileURLToPath(import.meta.url));
// `node build.mjs [folder]`: dist/ unless another folder is named (the build's own test does).
const dist = process.argv[2] ? resolve(process.argv[2]) : join(root, "dist");
const assets = join(dist, "assets");
const PAGES = { "index.html": "worker", "join.html": "join" };
const ENTRIES = { worker: "src/worker/main.js", join: "src/join/main.js" };
// Files whose address is written into the code, so they keep their name (and are revalidated):
// the quick-exit page, written once per language from static/neutral.html (src/join/neutral.js).
const NEUTRAL = "neutral.html";
const COMPRESSIBLE = new Set([".js", ".css", ".svg", ".html", ".txt", ".json", ".webmanifest"]);

rmSync(dist, { recursive: true, force: true });
mkdirSync(assets, { recursive: true });

// An esbuild plugin: the catalogues i18n.js imports hold only the messages whose key starts
// with one of `prefixes` (complete.js's imports of the same files are left whole).
function catalogueParts(prefixes) {
  return {
    name: "catalogue-parts",
    setup(builder) {
      builder.onResolve({ filter: /\/locales\/\w+\.json$/ }, (args) => {
        if (basename(args.importer) !== "i18n.js") return undefined;
        return { path: resolve(args.resolveDir, args.path), namespace: "catalogue-part" };
      });
      builder.onLoad({ filter: /.*/, namespace: "catalogue-part" }, (args) => {
        const messages = JSON.parse(readFileSync(args.path, "utf8"));
        const part = Object.entries(messages).filter(([key]) => prefixes.some((p) => key.startsWith(p)));
        return { contents: JSON.stringify(Object.fromEntries(part)), loader: "json" };
      });
    },
  };
}

// One page's bundle; returns the entry's file name and the chunks it imports statically.
async function bundle(name) {
  const result = await build({
    absWorkingDir: root,
    entryPoints: { [name]: ENTRIES[name] },
    outdir: assets,
    bundle: true,
    splitting: true,
    format: "esm",
    platform: "browser",
    target: ["es2022"],
    minify: true,
    sourcemap: false,
    legalComments: "linked",
    entryNames: "[name]-[hash]",
    chunkNames: "chunk-[hash]",
    metafile: true,
    // libsodium's module mentions node's crypto module behind a runtime check it never takes
    // in a browser; marking it external keeps the bundle free of node shims.
    external: ["crypto", "fs", "path"],
    plugins: name === "join" ? [catalogueParts(FIRST_SCREENS)] : [],
    logLevel: "warning",
  });
  const outputs = result.metafile.outputs;
  const fileName = (path) => relative(assets, join(root, path));
  // The page's own entry: a chunk loaded by import() names its module as entryPoint too.
  const [entry] = Object.keys(outputs).filter((path) => outputs[path].entryPoint === ENTRIES[name]);
  const preload = [];
  const visit = (path) => {
    for (const dep of outputs[path].imports) {
      if (dep.kind !== "import-statement" || dep.external || preload.includes(fileName(dep.path))) continue;
      preload.push(fileName(dep.path));
      visit(dep.path);
    }
  };
  visit(entry);
  return { entry: fileName(entry), preload };
}

// Eight base32 characters of the SHA-256 of `bytes`, the same alphabet as esbuild's [hash].
function contentHash(bytes) {
  const digest = createHash("sha256").update(bytes).digest();
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  let bits = 0;
  let value = 0;
  let out = "";
  for (const byte of digest.subarray(0, 5)) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += alphabet[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  return out;
}

// The static files (stylesheet, icons) under content-hashed names; returns original -> hashed.
async function copyStatic() {
  const renamed = {};
  for (const name of readdirSync(join(root, "static"))) {
    if (PAGES[name] || name === NEUTRAL) continue;
    let bytes = readFileSync(join(root, "static", name));
    if (extname(name) === ".css") bytes = Buffer.from((await transform(bytes.toString(), { loader: "css", minify: true })).code);
    const hashed = `${basename(name, extname(name))}-${contentHash(bytes)}${extname(name)}`;
    writeFileSync(join(assets, hashed), bytes);
    renamed[name] = hashed;
  }
  return renamed;
}

// A page with every /assets/<name> it refers to replaced by the hashed name, and its entry's
// static imports preloaded. `fill` may rewrite the page's text first.
function writePage(source, target, renamed, preload = [], fill = (html) => html) {
  let html = fill(readFileSync(source, "utf8")).replace(/\/assets\/([\w.-]+)/g, (whole, name) => {
    if (!renamed[name]) throw new Error(`${basename(source)} refers to /assets/${name}, which the build does not make`);
    return `/assets/${renamed[name]}`;
  });
  if (preload.length) {
    const links = preload.map((name) => `<link rel="modulepreload" href="/assets/${name}">`).join("\n");
    html = html.replace(/(<script type="module")/, `${links}\n$1`);
  }
  writeFileSync(target, html);
}

function compress(folder) {
  for (const name of readdirSync(folder)) {
    const path = join(folder, name);
    if (!statSync(path).isFile() || !COMPRESSIBLE.has(extname(name))) continue;
    const bytes = readFileSync(path);
    const brotli = brotliCompressSync(bytes, {
      params: {
        [constants.BROTLI_PARAM_MODE]: constants.BROTLI_MODE_TEXT,
        [constants.BROTLI_PARAM_QUALITY]: constants.BROTLI_MAX_QUALITY,
        [constants.BROTLI_PARAM_SIZE_HINT]: bytes.length,
      },
    });
    const gzip = gzipSync(bytes, { level: constants.Z_BEST_COMPRESSION });
    // A copy that saves nothing is left out; the relay then sends the file as it is.
    if (brotli.length < bytes.length) writeFileSync(`${path}.br`, brotli);
    if (gzip.length < bytes.length) writeFileSync(`${path}.gz`, gzip);
  }
}

const renamed = await copyStatic();
const preloads = {};
for (const name of Object.keys(ENTRIES)) {
  const { entry, preload } = await bundle(name);
  renamed[`${name}.js`] = entry;
  preloads[name] = preload;
}
for (const [page, entry] of Object.entries(PAGES)) {
  writePage(join(root, "static", page), join(dist, page), renamed, preloads[entry]);
}
const escapeHtml = (text) => text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

// The page in `lang`: its <html lang>, and every element marked data-i18n holding that key's
// message (a key the catalogue lacks stops the build rather than leaving English behind).
function inLanguage(lang) {
  return (html) => html
    .replace(/<html lang="[^"]*"/, `<html lang="${lang}"`)
    .replace(/<(\w+)([^>]*) data-i18n="([\w.]+)"([^>]*)>[^<]*<\/\1>/g, (whole, tag, before, key, after) => {
      const message = CATALOGUES[lang][key];
      if (message === undefined) throw new Error(`${NEUTRAL}: no "${key}" in the ${lang} catalogue`);
      return `<${tag}${before}${after}>${escapeHtml(message)}</${tag}>`;
    });
}

for (const lang of LANGUAGES) {
  await loadLanguage(lang);
  writePage(join(root, "static", NEUTRAL), join(assets, neutralPage(lang)), renamed, [], inLanguage(lang));
}
// After the pages and bundles, so that the service worker's precache list names the files as
// they were written; before compression, which then covers sw.js and the manifest too.
await buildInstalledApp(root, dist);
compress(dist);
compress(assets);
console.log("built", readdirSync(dist).join(" "), "| assets:", readdirSync(assets).length, "files");
