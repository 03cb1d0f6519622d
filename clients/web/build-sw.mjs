// The installed app's two files at fixed paths, written after the bundles: dist/sw.js (the
// service worker, with the list of shell files it precaches read from what the build just
// wrote, so content-hashed names work) and dist/manifest.webmanifest. Their names never
// change: a browser finds a service worker and a manifest again only at the same URL.
import { build } from "esbuild";
import { createHash } from "node:crypto";
import { readFileSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { shellFiles } from "./src/sw/shell.js";

function walk(dir, root = dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? walk(path, root) : [relative(root, path)];
  });
}

export async function buildInstalledApp(root, dist) {
  const files = walk(dist);
  const icon = files.find((f) => /^assets\/icon([.-][^/]*)?\.svg$/.test(f));
  const manifest = {
    name: "Confide",
    short_name: "Confide",
    start_url: "/",
    scope: "/",
    display: "standalone",
    background_color: "#ffffff",
    theme_color: "#2f5d62",
    icons: icon ? [{ src: `/${icon}`, sizes: "any", type: "image/svg+xml", purpose: "any" }] : [],
  };
  writeFileSync(join(dist, "manifest.webmanifest"), `${JSON.stringify(manifest, null, 2)}\n`);
  const shell = shellFiles([...files, "manifest.webmanifest"]);
  // The cache's name follows the shell's contents, so a new build replaces the old cache.
  const digest = createHash("sha256");
  for (const path of shell) {
    const file = path === "/" ? "index.html" : path.slice(1);
    digest.update(path).update("\0").update(readFileSync(join(dist, file)));
  }
  await build({
    absWorkingDir: root,
    entryPoints: ["src/sw/sw.js"],
    outfile: join(dist, "sw.js"),
    bundle: true,
    format: "iife",
    platform: "browser",
    target: ["es2022"],
    minify: true,
    legalComments: "none",
    define: { __SHELL__: JSON.stringify(shell), __VERSION__: JSON.stringify(digest.digest("hex").slice(0, 16)) },
    logLevel: "warning",
  });
  return shell;
}
