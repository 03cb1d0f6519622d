// The client's page. It keeps the invite secret only in memory: the fragment is removed from
// the address bar at once, so neither history nor a shared screen shows it.
import { h, show } from "../shared/dom.js";
import { idbPeek } from "../shared/idb.js";
import { openInvite } from "./firstconsent.js";
import { CLIENT_DB, installQuickExit } from "./quickexit.js";

installQuickExit();

const loadClient = () => import("./client.js");

let joining = false;

const GROUP_PREFIX = "g1.";

async function boot() {
  const token = location.hash.slice(1);
  if (token) {
    history.replaceState(null, "", location.pathname);
    // One invite per tab: a link pasted while one is being joined or used is not followed.
    if (joining) return;
    joining = true;
    show(h("section", {}, h("h1", {}, "Getting ready…"), h("p", { class: "muted" }, "Making a private key on this device.")));
    // A group invite (docs/protocol.md G3) shows the group's terms, not the one-to-one flow.
    if (token.startsWith(GROUP_PREFIX)) (await import("./group_client.js")).joinGroup(token.slice(GROUP_PREFIX.length));
    else await openInvite(token, loadClient);
    return;
  }
  const remembered = await idbPeek(CLIENT_DB, "vault").catch(() => null);
  if (remembered) {
    (await loadClient()).showUnlock(remembered);
    return;
  }
  show(h("section", { "aria-labelledby": "nothing-title" },
    h("h1", { id: "nothing-title" }, "Nothing here"),
    h("p", {}, "This page keeps nothing once it is closed. If you were given a link, open it again from where you received it; each link works once, so you may need to ask for a new one.")));
}

const start = () => boot().catch((err) => show(h("p", { class: "error", role: "alert" }, `Could not start: ${err.message}`)));

// An invite link pasted into a tab that already shows /join changes only the fragment, which
// loads nothing: the page reacts to the change instead.
addEventListener("hashchange", () => {
  if (location.hash.length > 1) start();
});
start();
