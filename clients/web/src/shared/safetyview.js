// Safety-number comparison: digits to read aloud, a QR code to scan, and a button to mark the
// contact verified. A changed key is shown loudly wherever the conversation is.
import { toB64u } from "./b64.js";
import { h } from "./dom.js";
import { qrSvg } from "./qr.js";

// With `onConfirm`, `peerKey` is a new, unconfirmed key: the view says so, and confirming it
// is what moves the conversation to that key.
export function safetyView(engine, ownKey, peerKey, { peerName, verified, onVerified, onConfirm, onBack }) {
  const digits = engine.safety.safetyNumber(ownKey, peerKey);
  const groups = engine.safety.grouped(digits);
  return h("section", { "aria-labelledby": "safety-title" },
    h("h1", { id: "safety-title" }, `Safety number with ${peerName}`),
    h("p", {}, "Compare these digits with the other person, in person or on a call. If they match, nobody is reading along."),
    h("p", { class: "digits", id: "safety-digits", "aria-label": `Safety number: ${groups}` }, groups),
    qrSvg(`confide-safety:${toB64u(engine.safety.qrPayload(ownKey, peerKey))}`, "Safety number as a QR code"),
    onConfirm
      ? h("p", { class: "alert", id: "safety-changed" }, `This safety number is new: ${peerName}'s security key changed. Nothing is sent until you confirm it.`)
      : null,
    onConfirm
      ? h("button", { type: "button", id: "confirm-key", onclick: onConfirm }, "The numbers match: confirm the new key")
      : verified
        ? h("p", { class: "ok", id: "verified-state" }, "Verified")
        : h("button", { type: "button", id: "mark-verified", onclick: onVerified }, "The numbers match: mark as verified"),
    h("div", { class: "row" }, h("button", { type: "button", class: "secondary", onclick: onBack }, "Back to the conversation")),
  );
}

export function keyChangedAlert(peerName) {
  return h("div", { class: "alert", role: "alert", id: "key-changed" },
    `${peerName}'s security key has changed. This can mean a new device, or someone in the middle. `
    + "Nothing more is sent until you compare the new safety number and confirm it.");
}
