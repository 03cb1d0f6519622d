// X3DH key agreement (https://signal.org/docs/specifications/x3dh/), as in confide_crypto.x3dh:
// SK = HKDF-SHA256(F || DH1 || DH2 || DH3 [|| DH4]), F = 32 0xFF bytes, zero salt,
// info "Confide X3DH v1"; AD = initiator identity key || responder identity key (§3.3).
import { concatBytes, equalBytes } from "../shared/b64.js";
import { INFO_X3DH, hkdfSha256 } from "./kdf.js";
import { checkX25519Public, edPublicToX25519, verifyBundle, x25519 } from "./keys.js";

const F = new Uint8Array(32).fill(0xff);

function derive(outputs) {
  return hkdfSha256(concatBytes(F, ...outputs), { salt: new Uint8Array(0), info: INFO_X3DH, length: 32 });
}

export function initiate(identity, bundle, ephemeral) {
  verifyBundle(bundle);
  const responderDh = edPublicToX25519(bundle.identityKey);
  const outputs = [
    x25519(identity.dh.private, bundle.signedPrekey),
    x25519(ephemeral.private, responderDh),
    x25519(ephemeral.private, bundle.signedPrekey),
  ];
  if (bundle.oneTimePrekey != null) outputs.push(x25519(ephemeral.private, bundle.oneTimePrekey));
  const result = { sharedKey: derive(outputs), associatedData: concatBytes(identity.public, bundle.identityKey) };
  const keys = {
    ephemeralKey: ephemeral.public,
    signedPrekeyId: bundle.signedPrekeyId,
    oneTimePrekeyId: bundle.oneTimePrekeyId ?? null,
  };
  return [result, keys];
}

export function respond(identity, initiatorIdentityKey, keys, signedPrekey, oneTimePrekey) {
  if (signedPrekey.keyId !== keys.signedPrekeyId) throw new Error("signed prekey id does not match");
  if ((oneTimePrekey == null) !== (keys.oneTimePrekeyId == null)
    || (oneTimePrekey != null && oneTimePrekey.keyId !== keys.oneTimePrekeyId)) {
    throw new Error("one-time prekey does not match");
  }
  if (equalBytes(initiatorIdentityKey, identity.public)) throw new Error("a device cannot start a session with itself");
  const initiatorDh = edPublicToX25519(initiatorIdentityKey);
  checkX25519Public(keys.ephemeralKey);
  const outputs = [
    x25519(signedPrekey.pair.private, initiatorDh),
    x25519(identity.dh.private, keys.ephemeralKey),
    x25519(signedPrekey.pair.private, keys.ephemeralKey),
  ];
  if (oneTimePrekey != null) outputs.push(x25519(oneTimePrekey.pair.private, keys.ephemeralKey));
  return { sharedKey: derive(outputs), associatedData: concatBytes(initiatorIdentityKey, identity.public) };
}
