// A session with one peer device (confide_crypto.session): X3DH to start, the Double Ratchet
// inside sealed envelopes. The initiator sends the X3DH keys with every message until the
// peer answers (X3DH §3.3).
import { concatBytes, equalBytes } from "../shared/b64.js";
import { decodeMessage, encodeInitial, encodeMessage, readInitial } from "./header.js";
import { newX25519 } from "./keys.js";
import { RatchetState } from "./ratchet.js";
import * as sealed from "./sealed.js";
import { initiate, respond } from "./x3dh.js";
import { MalformedInput, Reader, u32, u8 } from "./wire.js";

const SESSION_VERSION = 1;

export class Session {
  constructor({ identity, peerIdentityKey, associatedData, ratchet, baseKey, pendingInitial = null }) {
    Object.assign(this, { identity, peerIdentityKey, associatedData, ratchet, baseKey, pendingInitial });
  }

  static initiate(identity, bundle, ephemeral = newX25519(), ratchetKey = newX25519()) {
    const [result, initial] = initiate(identity, bundle, ephemeral);
    const ratchet = RatchetState.initInitiator(result.sharedKey, bundle.signedPrekey, ratchetKey);
    return new Session({
      identity, peerIdentityKey: bundle.identityKey, associatedData: result.associatedData,
      ratchet, baseKey: initial.ephemeralKey, pendingInitial: initial,
    });
  }

  static respond(identity, initiatorIdentityKey, initial, signedPrekey, oneTimePrekey) {
    const result = respond(identity, initiatorIdentityKey, initial, signedPrekey, oneTimePrekey);
    return new Session({
      identity, peerIdentityKey: initiatorIdentityKey, associatedData: result.associatedData,
      ratchet: RatchetState.initResponder(result.sharedKey, signedPrekey.pair), baseKey: initial.ephemeralKey,
    });
  }

  encryptMessage(plaintext) {
    return encodeMessage(this.ratchet.encrypt(plaintext, this.associatedData, this.pendingInitial));
  }

  encrypt(plaintext, ephemeral = newX25519()) {
    return sealed.seal(this.identity, this.peerIdentityKey, this.encryptMessage(plaintext), ephemeral);
  }

  decryptMessage(message, { now, newKeyPair }) {
    if (message.initial != null && !equalBytes(message.initial.ephemeralKey, this.baseKey)) {
      throw new Error("prekey message belongs to a different session");
    }
    const plaintext = this.ratchet.decrypt(message, this.associatedData, { now, newKeyPair });
    // The peer has our reply chain only after it answered, so stop sending X3DH keys.
    if (message.initial == null) this.pendingInitial = null;
    return plaintext;
  }

  toBytes() {
    const pending = this.pendingInitial == null ? u8(0) : concatBytes(u8(1), encodeInitial(this.pendingInitial));
    const ratchet = this.ratchet.toBytes();
    return concatBytes(
      u8(SESSION_VERSION), this.peerIdentityKey, this.associatedData, this.baseKey, pending,
      u32(ratchet.length), ratchet,
    );
  }

  static read(reader, identity) {
    const version = reader.u8();
    if (version !== SESSION_VERSION) throw new MalformedInput(`session version ${version}`);
    const peerIdentityKey = reader.take(32);
    const associatedData = reader.take(64);
    const baseKey = reader.take(32);
    const pendingInitial = reader.flag() ? readInitial(reader) : null;
    const ratchet = RatchetState.fromBytes(reader.take(reader.u32()));
    const mine = concatBytes(identity.public, peerIdentityKey);
    const theirs = concatBytes(peerIdentityKey, identity.public);
    if (!equalBytes(associatedData, mine) && !equalBytes(associatedData, theirs)) {
      throw new MalformedInput("session does not belong to this identity");
    }
    return new Session({ identity, peerIdentityKey, associatedData, ratchet, baseKey, pendingInitial });
  }
}

export { decodeMessage };
