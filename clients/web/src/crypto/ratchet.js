// The Double Ratchet (https://signal.org/docs/specifications/doubleratchet/), as in
// confide_crypto.ratchet: the state machine of §3.2-§3.5, MAX_SKIP per message, skipped keys
// forgotten by age and count, and decryption on a copy that replaces the state only when the
// message authenticates.
import { concatBytes, fromHex, toHex } from "../shared/b64.js";
import { kdfCk, kdfRk, messageKeyMaterial } from "./kdf.js";
import { messagePrefix } from "./header.js";
import { newX25519, x25519, x25519FromPrivate } from "./keys.js";
import { sodium } from "./sodium.js";
import { MalformedInput, Reader, u32, u64, u8 } from "./wire.js";

export const MAX_SKIP = 1000;
export const MAX_STORED_SKIPPED = 2000;
export const MAX_SKIPPED_AGE = 30 * 24 * 3600;
const STATE_VERSION = 1;

export class DuplicateMessage extends Error {
  name = "DuplicateMessage"; // read by shared/problems.js (class names do not survive minifying)
}

function seal(messageKey, plaintext, ad) {
  const [key, nonce] = messageKeyMaterial(messageKey);
  return sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(plaintext, ad, null, nonce, key);
}

function open(messageKey, message, ad) {
  const [key, nonce] = messageKeyMaterial(messageKey);
  return sodium.crypto_aead_xchacha20poly1305_ietf_decrypt(
    null, message.ciphertext, concatBytes(ad, messagePrefix(message)), nonce, key,
  );
}

const skipId = (ratchetKey, n) => `${toHex(ratchetKey)}:${n}`;

export class RatchetState {
  constructor({ dhs, dhr, rk, cks, ckr, ns = 0, nr = 0, pn = 0, skipped = new Map() }) {
    Object.assign(this, { dhs, dhr, rk, cks, ckr, ns, nr, pn, skipped });
  }

  // RatchetInitAlice (§3.3): the responder's signed prekey is its first ratchet key.
  static initInitiator(sharedKey, responderRatchetKey, dhs = newX25519()) {
    const [rk, cks] = kdfRk(sharedKey, x25519(dhs.private, responderRatchetKey));
    return new RatchetState({ dhs, dhr: responderRatchetKey, rk, cks, ckr: null });
  }

  // RatchetInitBob (§3.3).
  static initResponder(sharedKey, signedPrekeyPair) {
    return new RatchetState({ dhs: signedPrekeyPair, dhr: null, rk: sharedKey, cks: null, ckr: null });
  }

  // RatchetEncrypt (§3.4); `initial` turns the result into a prekey message.
  encrypt(plaintext, associatedData, initial = null) {
    if (this.cks == null) throw new Error("no sending chain yet: the responder must receive first");
    const [nextChain, messageKey] = kdfCk(this.cks);
    this.cks = nextChain;
    const header = { ratchetKey: this.dhs.public, pn: this.pn, n: this.ns };
    this.ns += 1;
    const unsealed = { header, initial, ciphertext: new Uint8Array(0) };
    const ciphertext = seal(messageKey, plaintext, concatBytes(associatedData, messagePrefix(unsealed)));
    return { header, initial, ciphertext };
  }

  // RatchetDecrypt (§3.5) on a copy; this state changes only if the message is genuine.
  decrypt(message, associatedData, { now, newKeyPair = newX25519 }) {
    const trial = this.clone();
    const plaintext = trial.#decrypt(message, associatedData, now, newKeyPair);
    Object.assign(this, trial);
    return plaintext;
  }

  clone() {
    return new RatchetState({ ...this, skipped: new Map(this.skipped) });
  }

  #decrypt(message, ad, now, newKeyPair) {
    this.#forgetOldSkipped(now);
    const { header } = message;
    const id = skipId(header.ratchetKey, header.n);
    const stored = this.skipped.get(id);
    if (stored) {
      this.skipped.delete(id);
      return open(stored.key, message, ad);
    }
    if (this.dhr == null || toHex(header.ratchetKey) !== toHex(this.dhr)) {
      this.#skip(header.pn, now);
      this.#dhRatchet(header, newKeyPair);
    } else if (header.n < this.nr) {
      throw new DuplicateMessage("message key already used");
    }
    this.#skip(header.n, now);
    const [nextChain, messageKey] = kdfCk(this.ckr);
    this.ckr = nextChain;
    this.nr += 1;
    return open(messageKey, message, ad);
  }

  #skip(until, now) {
    if (this.ckr == null) return;
    if (until - this.nr > MAX_SKIP) throw new Error(`more than ${MAX_SKIP} skipped message keys`);
    while (this.nr < until) {
      const [nextChain, messageKey] = kdfCk(this.ckr);
      this.ckr = nextChain;
      this.skipped.set(skipId(this.dhr, this.nr), { key: messageKey, at: now });
      this.nr += 1;
    }
    // Maps keep insertion order, so the first entries are the oldest.
    while (this.skipped.size > MAX_STORED_SKIPPED) this.skipped.delete(this.skipped.keys().next().value);
  }

  #forgetOldSkipped(now) {
    for (const [id, { at }] of this.skipped) if (now - at > MAX_SKIPPED_AGE) this.skipped.delete(id);
  }

  // DHRatchet (§3.5).
  #dhRatchet(header, newKeyPair) {
    this.pn = this.ns;
    this.ns = 0;
    this.nr = 0;
    this.dhr = header.ratchetKey;
    [this.rk, this.ckr] = kdfRk(this.rk, x25519(this.dhs.private, this.dhr));
    this.dhs = newKeyPair();
    [this.rk, this.cks] = kdfRk(this.rk, x25519(this.dhs.private, this.dhr));
  }

  // Versioned serialisation, byte-compatible with confide_crypto (docs/protocol.md E2E §11).
  toBytes() {
    const out = [u8(STATE_VERSION), this.dhs.private, this.rk];
    for (const optional of [this.dhr, this.cks, this.ckr]) {
      out.push(optional == null ? concatBytes(u8(0), new Uint8Array(32)) : concatBytes(u8(1), optional));
    }
    out.push(u32(this.ns), u32(this.nr), u32(this.pn), u32(this.skipped.size));
    for (const [id, { key, at }] of this.skipped) {
      const [hex, n] = id.split(":");
      out.push(fromHex(hex), u32(Number(n)), key, u64(at));
    }
    return concatBytes(...out);
  }

  static read(reader) {
    const version = reader.u8();
    if (version !== STATE_VERSION) throw new MalformedInput(`ratchet state version ${version}`);
    const dhs = x25519FromPrivate(reader.take(32));
    const rk = reader.take(32);
    const [dhr, cks, ckr] = [0, 1, 2].map(() => {
      const present = reader.flag();
      const key = reader.take(32);
      return present ? key : null;
    });
    const [ns, nr, pn, count] = [reader.u32(), reader.u32(), reader.u32(), reader.u32()];
    const skipped = new Map();
    for (let i = 0; i < count; i += 1) {
      const ratchetKey = reader.take(32);
      const n = reader.u32();
      skipped.set(skipId(ratchetKey, n), { key: reader.take(32), at: reader.u64() });
    }
    return new RatchetState({ dhs, dhr, rk, cks, ckr, ns, nr, pn, skipped });
  }

  static fromBytes(data) {
    const reader = new Reader(data);
    const state = RatchetState.read(reader);
    reader.done();
    return state;
  }
}
