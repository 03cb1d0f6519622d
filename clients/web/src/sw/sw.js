// The worker app's service worker: it keeps the app shell (shell.js) so the installed app
// opens without the network, and shows a notification when the relay's push wakes it.
//
// It never sees a message or a key: the push carries no payload (the relay sends none, and
// anything that arrives is ignored), the notification's text is fixed, and the fetch handler
// stores only the shell's files; /v1 (the API and the WebSocket) and /join pass straight
// through to the network.
import { CATALOGUES, chooseLanguage, setLanguage, t } from "../shared/i18n.js";
import es from "../locales/es.json" with { type: "json" };
import { CACHE_PREFIX, inShell } from "./shell.js";

// A service worker cannot load a catalogue later (no import() here): every language the
// notification may be shown in is bundled.
CATALOGUES.es ??= es;

// Filled in by the build (build-sw.mjs) from the files it has just written.
const SHELL = __SHELL__;
const CACHE = CACHE_PREFIX + __VERSION__;

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(SHELL)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil((async () => {
    for (const name of await caches.keys()) {
      if (name.startsWith(CACHE_PREFIX) && name !== CACHE) await caches.delete(name);
    }
    await self.clients.claim();
  })());
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET" || !inShell(SHELL, request.url, self.location.origin)) return;
  const path = new URL(request.url).pathname;
  event.respondWith((async () => {
    const cache = await caches.open(CACHE);
    if (path === "/") {
      // The page first from the network, so a new version shows at once; the cache is for
      // when there is none.
      try {
        const fresh = await fetch(request);
        if (fresh.ok) await cache.put("/", fresh.clone());
        return fresh;
      } catch {
        return (await cache.match("/")) ?? Response.error();
      }
    }
    return (await cache.match(path)) ?? fetch(request);
  })());
});

self.addEventListener("push", (event) => {
  setLanguage(chooseLanguage(self.navigator.languages ?? []));
  // A fixed text with no sender: the lock screen of a shared phone shows nothing more.
  event.waitUntil(self.registration.showNotification(t("notify.worker.title"), {
    body: t("notify.worker.body"),
    tag: "confide-new-message",
    icon: SHELL.find((path) => /\/icon[.-]/.test(path)),
  }));
});

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  event.waitUntil((async () => {
    const open = await self.clients.matchAll({ type: "window" });
    const app = open.find((c) => new URL(c.url).pathname === "/");
    if (app) return app.focus();
    return self.clients.openWindow("/");
  })());
});
