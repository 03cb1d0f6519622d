// Safety-number comparison: digits to read aloud, a QR code to scan, and a button to mark the
// contact verified. A changed key is shown loudly wherever the conversation is.
import { toB64u } from "./b64.js";
import { h } from "./dom.js";
import { t } from "./i18n.js";
import { qrSvg } from "./qr.js";

// With `onConfirm`, `peerKey` is a new, unconfirmed key: the view says so, and confirming it
// is what moves the conversation to that key.
export function safetyView(engine, ownKey, peerKey, { peerName, verified, onVerified, onConfirm, onBack }) {
  const digits = engine.safety.safetyNumber(ownKey, peerKey);
  const groups = engine.safety.grouped(digits);
  return h("section", { "aria-labelledby": "safety-title" },
    h("h1", { id: "safety-title" }, t("safety.title", { name: peerName })),
    h("p", {}, t("safety.explain")),
    h("p", { class: "digits", id: "safety-digits", "aria-label": t("safety.digitsLabel", { digits: groups }) }, groups),
    qrSvg(`confide-safety:${toB64u(engine.safety.qrPayload(ownKey, peerKey))}`, t("safety.qrLabel")),
    onConfirm
      ? h("p", { class: "alert", id: "safety-changed" }, t("safety.changed", { name: peerName }))
      : null,
    onConfirm
      ? h("button", { type: "button", id: "confirm-key", onclick: onConfirm }, t("safety.confirmKey"))
      : verified
        ? h("p", { class: "ok", id: "verified-state" }, t("safety.verified"))
        : h("button", { type: "button", id: "mark-verified", onclick: onVerified }, t("safety.markVerified")),
    h("div", { class: "row" }, h("button", { type: "button", class: "secondary", onclick: onBack }, t("safety.back"))),
  );
}

export function keyChangedAlert(peerName) {
  return h("div", { class: "alert", role: "alert", id: "key-changed" },
    t("safety.keyChangedAlert", { name: peerName }));
}
