// The call's short code, which both people read aloud once the call connects. It is a hash
// of both identity keys (the end-to-end session) and both DTLS certificate fingerprints (the
// media's keys), so equal codes mean the media runs between the two devices of this
// conversation and nobody substituted a session description. The safety number checks the
// identity keys themselves; this code ties each call to them.
import { concatBytes, utf8 } from "../shared/b64.js";

const LABEL = "Confide call code v1";
const GROUP_LABEL = "Confide group call code v1";
const DIGITS = 6;

function compare(a, b) {
  for (let i = 0; i < Math.min(a.length, b.length); i += 1) {
    if (a[i] !== b[i]) return a[i] - b[i];
  }
  return a.length - b.length;
}

// Each side passes its own key and fingerprint and the other's; ordering the pairs by
// identity key makes the result the same on every screen.
export function callCode(sodium, mine, theirs) {
  return digits(sodium, LABEL, [mine, theirs]);
}

// One code for a whole group call: every participant uses one DTLS certificate for all its
// links, so each has one fingerprint, and the code covers every (identity key, fingerprint)
// pair in the call. Equal codes on every screen mean everyone sees the same participants
// with the same media keys; a substituted description between any two of them shows as a
// different code on those two screens.
export function groupCallCode(sodium, participants) {
  return digits(sodium, GROUP_LABEL, participants);
}

function digits(sodium, label, participants) {
  const pairs = participants.map((p) => concatBytes(p.identityKey, p.fingerprint));
  pairs.sort(compare);
  const digest = sodium.crypto_generichash(32, concatBytes(utf8(label), new Uint8Array([0]), ...pairs));
  const value = new DataView(digest.buffer, digest.byteOffset, 8).getBigUint64(0) % 10n ** BigInt(DIGITS);
  const text = value.toString().padStart(DIGITS, "0");
  return `${text.slice(0, 3)} ${text.slice(3)}`;
}
