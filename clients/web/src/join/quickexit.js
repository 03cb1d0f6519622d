// Quick exit: the always-visible button, or Escape pressed twice within a second and a half,
// replaces this page with a neutral one and wipes what this tab stored. location.replace
// drops the current history entry, so Back does not return here.
import { idbDrop } from "../shared/idb.js";
import { language, t } from "../shared/i18n.js";
import { neutralPage } from "./neutral.js";

export const CLIENT_DB = "notes-device";
// The keys a client's remembered state is sealed under in CLIENT_DB: a one-to-one
// conversation and a group membership, each under its own passphrase.
export const CLIENT_VAULT = "vault";
export const GROUP_VAULT = "group-vault";
const DOUBLE_PRESS_MS = 1500;

let wipers = [];

// Lets the page register something to forget (sockets, keys held in memory).
export function onQuickExit(wipe) {
  wipers.push(wipe);
}

export async function quickExit() {
  // The language the page shows, read before the wipe; the neutral page is in it too.
  const lang = language();
  for (const wipe of wipers) {
    try {
      wipe();
    } catch {
      // Leaving matters more than a clean wipe of one part.
    }
  }
  wipers = [];
  document.getElementById("app")?.replaceChildren();
  document.title = t("neutral.title");
  sessionStorage.clear();
  localStorage.clear();
  // Deleting the database is quick; a short cap keeps the exit immediate even if it is not.
  await Promise.race([idbDrop(CLIENT_DB), new Promise((r) => setTimeout(r, 400))]);
  location.replace(`/assets/${neutralPage(lang)}`);
}

export function installQuickExit() {
  document.getElementById("quick-exit").addEventListener("click", quickExit);
  let lastEscape = 0;
  addEventListener("keydown", (event) => {
    if (event.key !== "Escape") return;
    const now = Date.now();
    if (now - lastEscape < DOUBLE_PRESS_MS) quickExit();
    lastEscape = now;
  }, { capture: true });
}
