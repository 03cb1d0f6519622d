// A device (confide_crypto.device): identity, prekeys and sessions, routing each envelope to
// the right session and creating one from a prekey message when needed. State is committed
// only after a message authenticates, so a forged prekey message burns nothing.
import { concatBytes, equalBytes, toHex, fromHex } from "../shared/b64.js";
import { decodeMessage } from "./header.js";
import { Identity, createSignedPrekey, newX25519, x25519FromPrivate } from "./keys.js";
import * as sealed from "./sealed.js";
import { Session } from "./session.js";
import { MalformedInput, Reader, u32, u8 } from "./wire.js";

const DEVICE_VERSION = 1;
const REMEMBERED_BASE_KEYS = 32;

export class Device {
  constructor(identity) {
    this.identity = identity;
    this.signedPrekeys = new Map();
    this.oneTimePrekeys = new Map();
    this.sessions = new Map();
    this.baseKeysSeen = new Map();
  }

  static create() {
    return new Device(Identity.generate());
  }

  addSignedPrekey(keyId) {
    const spk = createSignedPrekey(this.identity, keyId);
    this.signedPrekeys.set(keyId, spk);
    return spk;
  }

  addOneTimePrekeys(firstId, count) {
    const fresh = Array.from({ length: count }, (_, i) => ({ keyId: firstId + i, pair: newX25519() }));
    for (const k of fresh) this.oneTimePrekeys.set(k.keyId, k);
    return fresh;
  }

  // The optional key pairs let tests pin what would otherwise be random.
  startSession(bundle, ephemeral = newX25519(), ratchetKey = newX25519()) {
    const session = Session.initiate(this.identity, bundle, ephemeral, ratchetKey);
    this.sessions.set(toHex(bundle.identityKey), session);
    return session;
  }

  session(peerIdentityKey) {
    return this.sessions.get(toHex(peerIdentityKey));
  }

  encryptTo(peerIdentityKey, plaintext, ephemeral = newX25519()) {
    const session = this.session(peerIdentityKey);
    if (!session) throw new Error("no session with this peer");
    return session.encrypt(plaintext, ephemeral);
  }

  decryptEnvelope(envelope, { now = Math.floor(Date.now() / 1000), newKeyPair = newX25519 } = {}) {
    const opened = sealed.open(this.identity, envelope);
    const sender = opened.senderIdentityKey;
    const senderHex = toHex(sender);
    const message = decodeMessage(opened.content);
    const existing = this.sessions.get(senderHex);
    const { initial } = message;
    if (initial == null || (existing && equalBytes(existing.baseKey, initial.ephemeralKey))) {
      if (!existing) throw new Error("no session with this sender");
      const trial = Session.read(new Reader(existing.toBytes()), this.identity);
      const plaintext = trial.decryptMessage(message, { now, newKeyPair });
      this.sessions.set(senderHex, trial);
      return { senderIdentityKey: sender, plaintext, newSession: false };
    }
    const seen = this.baseKeysSeen.get(senderHex) ?? [];
    if (seen.some((k) => equalBytes(k, initial.ephemeralKey))) throw new Error("replayed prekey message");
    const spk = this.signedPrekeys.get(initial.signedPrekeyId);
    if (!spk) throw new Error("unknown signed prekey");
    let opk = null;
    if (initial.oneTimePrekeyId != null) {
      opk = this.oneTimePrekeys.get(initial.oneTimePrekeyId);
      if (!opk) throw new Error("unknown or used one-time prekey");
    }
    const fresh = Session.respond(this.identity, sender, initial, spk, opk);
    const plaintext = fresh.decryptMessage(message, { now, newKeyPair });
    this.sessions.set(senderHex, fresh);
    this.baseKeysSeen.set(senderHex, [...seen, initial.ephemeralKey].slice(-REMEMBERED_BASE_KEYS));
    if (opk) this.oneTimePrekeys.delete(opk.keyId);
    return { senderIdentityKey: sender, plaintext, newSession: true };
  }

  // Byte-compatible with confide_crypto's Device.to_bytes (docs/protocol.md E2E §11).
  toBytes() {
    const out = [u8(DEVICE_VERSION), this.identity.seed, u32(this.signedPrekeys.size)];
    for (const spk of this.signedPrekeys.values()) out.push(u32(spk.keyId), spk.pair.private, spk.signature);
    out.push(u32(this.oneTimePrekeys.size));
    for (const opk of this.oneTimePrekeys.values()) out.push(u32(opk.keyId), opk.pair.private);
    out.push(u32(this.sessions.size));
    for (const session of this.sessions.values()) {
      const data = session.toBytes();
      out.push(u32(data.length), data);
    }
    out.push(u32(this.baseKeysSeen.size));
    for (const [peer, keys] of this.baseKeysSeen) out.push(fromHex(peer), u32(keys.length), ...keys);
    return concatBytes(...out);
  }

  static fromBytes(data) {
    const reader = new Reader(data);
    const version = reader.u8();
    if (version !== DEVICE_VERSION) throw new MalformedInput(`device version ${version}`);
    const device = new Device(new Identity(reader.take(32)));
    for (let i = 0, n = reader.u32(); i < n; i += 1) {
      const keyId = reader.u32();
      const pair = x25519FromPrivate(reader.take(32));
      device.signedPrekeys.set(keyId, { keyId, pair, signature: reader.take(64) });
    }
    for (let i = 0, n = reader.u32(); i < n; i += 1) {
      const keyId = reader.u32();
      device.oneTimePrekeys.set(keyId, { keyId, pair: x25519FromPrivate(reader.take(32)) });
    }
    for (let i = 0, n = reader.u32(); i < n; i += 1) {
      const session = Session.read(new Reader(reader.take(reader.u32())), device.identity);
      device.sessions.set(toHex(session.peerIdentityKey), session);
    }
    for (let i = 0, n = reader.u32(); i < n; i += 1) {
      const peer = toHex(reader.take(32));
      device.baseKeysSeen.set(peer, Array.from({ length: reader.u32() }, () => reader.take(32)));
    }
    reader.done();
    return device;
  }
}
