// The call's short code, which both people read aloud once the call connects. It is a hash
// of both identity keys (the end-to-end session) and both DTLS certificate fingerprints (the
// media's keys), so equal codes mean the media runs between the two devices of this
// conversation and nobody substituted a session description. The safety number checks the
// identity keys themselves; this code ties each call to them.
import { concatBytes, utf8 } from "../shared/b64.js";

const LABEL = "Confide call code v1";
const DIGITS = 6;

function compare(a, b) {
  for (let i = 0; i < Math.min(a.length, b.length); i += 1) {
    if (a[i] !== b[i]) return a[i] - b[i];
  }
  return a.length - b.length;
}

// Each side passes its own key and fingerprint and the other's; ordering the two pairs by
// identity key makes the result the same on both screens.
export function callCode(sodium, mine, theirs) {
  const pairs = [concatBytes(mine.identityKey, mine.fingerprint), concatBytes(theirs.identityKey, theirs.fingerprint)];
  pairs.sort(compare);
  const digest = sodium.crypto_generichash(32, concatBytes(utf8(LABEL), new Uint8Array([0]), ...pairs));
  const value = new DataView(digest.buffer, digest.byteOffset, 8).getBigUint64(0) % 10n ** BigInt(DIGITS);
  const text = value.toString().padStart(DIGITS, "0");
  return `${text.slice(0, 3)} ${text.slice(3)}`;
}
