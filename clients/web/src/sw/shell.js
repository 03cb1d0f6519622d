// The app shell a service worker may keep: which URL paths, and what the cache may hold.
// Shared by the service worker (src/sw/sw.js) and the build (build-sw.mjs), and tested on
// its own (test/sw_shell.test.mjs): nothing outside this list is ever put in a cache, so no
// message, key, attachment or relay answer can end up there.

export const CACHE_PREFIX = "confide-shell-";

// The worker app's files in dist/ (paths relative to dist/): the page, its script and
// chunks, styles and icon. The client's page (/join), its script and the quick-exit page are
// not part of it: a client's browser never registers the service worker, and a worker's
// caches hold nothing of the client's page. Pre-compressed copies are the same files.
export function shellFiles(files) {
  const shell = files.filter((file) => {
    const name = file.split("/").pop();
    if (/\.(br|gz|map|txt)$/.test(name)) return false;
    if (file === "index.html" || file === "manifest.webmanifest") return true;
    if (!file.startsWith("assets/")) return false;
    if (/^(join|neutral)([.-]|$)/.test(name)) return false;
    return /\.(js|css|svg|png|woff2)$/.test(name);
  });
  // The worker app is served at "/", not at "/index.html".
  return shell.map((file) => (file === "index.html" ? "/" : `/${file}`)).sort();
}

// Whether a request may be answered from, and stored in, the shell cache.
export function inShell(shell, url, origin) {
  const u = new URL(url);
  return u.origin === origin && u.search === "" && shell.includes(u.pathname);
}
