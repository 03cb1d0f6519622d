// The lazily loaded engine: everything that needs libsodium. Pages import it with a dynamic
// import() only once a person starts to enrol, unlock or join, so the first paint is light.
export { Device } from "../crypto/device.js";
export * as keystore from "../crypto/keystore.js";
export * as safety from "../crypto/safety.js";
export * as consent from "../crypto/consent.js";
export * as attachments from "../crypto/attachments.js";
export { fingerprint } from "../crypto/keys.js";
export { sodium } from "../crypto/sodium.js";
export { Messenger } from "./messenger.js";
export { Channel, pointerLength } from "./channel.js";
export * as groupConsent from "../crypto/group_consent.js";
