// Builds the web app into dist/: static pages at the top, bundles under dist/assets/.
// The crypto code is a separate chunk loaded by dynamic import, so the first page stays light.
// Nothing here reaches the network, so `npm run build` works offline after `npm ci`.
import { build } from "esbuild";
import { cpSync, mkdirSync, readdirSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = dirname(fileURLToPath(import.meta.url));
const dist = join(root, "dist");
const assets = join(dist, "assets");

rmSync(dist, { recursive: true, force: true });
mkdirSync(assets, { recursive: true });

await build({
  absWorkingDir: root,
  entryPoints: { worker: "src/worker/main.js", join: "src/join/main.js" },
  outdir: assets,
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "browser",
  target: ["es2022"],
  minify: true,
  sourcemap: false,
  legalComments: "linked",
  chunkNames: "chunk-[hash]",
  // libsodium's module mentions node's crypto module behind a runtime check it never takes
  // in a browser; marking it external keeps the bundle free of node shims.
  external: ["crypto", "fs", "path"],
  logLevel: "warning",
});

// Pages go to the top of dist/ (the relay maps / and /join to them); everything else to assets/.
for (const name of readdirSync(join(root, "static"))) {
  const target = name.endsWith(".html") && name !== "neutral.html" ? dist : assets;
  cpSync(join(root, "static", name), join(target, name));
}
console.log("built", readdirSync(dist).join(" "), "| assets:", readdirSync(assets).join(" "));
