// The installed worker app: the service worker (src/sw/sw.js) and the push subscription
// that lets the relay wake this device when a message waits and the app is closed.
//
// The relay keeps only the subscription's endpoint (docs/operations.md). The subscription is
// sent again on every unlock, which renews it at the relay; if the relay's key changed (a
// new VAPID key), the old subscription cannot be used and is replaced.
import { fromB64u, toB64u } from "../shared/b64.js";
import { call } from "../shared/relay.js";

const SW_URL = "/sw.js";

// Registered from the worker's page only: a client's browser never gets a service worker.
export function installShell() {
  if (!("serviceWorker" in navigator)) return Promise.resolve(null);
  return navigator.serviceWorker.register(SW_URL, { scope: "/" }).catch(() => null);
}

function sameKey(buffer, publicKey) {
  return buffer ? toB64u(new Uint8Array(buffer)) === publicKey : false;
}

// Subscribes (or renews the subscription) and tells the relay. Throws if the browser could
// not subscribe; the page's own notifications still work then.
export async function enablePush(token) {
  if (!("serviceWorker" in navigator) || !("PushManager" in window)) throw new Error("no Web Push here");
  await installShell();
  const registration = await navigator.serviceWorker.ready;
  const { public_key: publicKey } = await call("GET", "/v1/push/key", { token });
  let subscription = await registration.pushManager.getSubscription();
  if (subscription && !sameKey(subscription.options?.applicationServerKey, publicKey)) {
    await subscription.unsubscribe();
    subscription = null;
  }
  subscription ??= await registration.pushManager.subscribe({
    userVisibleOnly: true, applicationServerKey: fromB64u(publicKey),
  });
  await call("PUT", "/v1/push/subscription", { token, body: { endpoint: subscription.endpoint } });
  return subscription;
}

// On unlock: renew what the person already allowed; never ask.
export async function renewPush(token) {
  if (typeof Notification === "undefined" || Notification.permission !== "granted") return null;
  return enablePush(token).catch(() => null);
}
