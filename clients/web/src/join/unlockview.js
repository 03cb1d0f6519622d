// The screen a remembered device opens with: one passphrase field. A passphrase that opens
// `sealed` (a JSON document sealed by crypto/keystore.js) calls `onOpen(doc, storeKey)`;
// one that does not says so, and anything onOpen throws is shown as it is (the relay being
// unreachable is not a wrong passphrase).
import { fromUtf8 } from "../shared/b64.js";
import { open as openStore } from "../crypto/keystore.js";
import { field, h } from "../shared/dom.js";
import { t } from "../shared/i18n.js";
import { errorText } from "../shared/problems.js";

function opened(passphrase, sealed) {
  try {
    return openStore(passphrase, sealed);
  } catch {
    return null;
  }
}

export function unlockView({ title, intro = null, sealed, onOpen }) {
  const pass = h("input", { type: "password", required: true, autocomplete: "current-password" });
  const error = h("p", { class: "error", role: "alert" });
  const open = h("button", { type: "submit" }, t("join.open"));
  return h("section", { "aria-labelledby": "unlock-title" },
    h("h1", { id: "unlock-title" }, title),
    intro ? h("p", {}, intro) : null,
    h("form", {
      onsubmit: async (event) => {
        event.preventDefault();
        error.textContent = "";
        open.disabled = true;
        try {
          const store = opened(pass.value, sealed);
          if (store) await onOpen(JSON.parse(fromUtf8(store.plaintext)), store.storeKey);
          else error.textContent = t("join.wrongPassphrase");
        } catch (err) {
          error.textContent = t("common.somethingWrong", { error: errorText(err) });
        } finally {
          open.disabled = false;
        }
      },
    }, ...field("client-pass", t("common.passphrase"), pass), h("div", { class: "row" }, open), error));
}
