// The worker's sealed vault in IndexedDB: the device's keys and sessions plus conversations
// and local aliases, as one JSON document sealed with the passphrase (Argon2id key store).
// The Argon2id key is derived once per unlock and kept in memory until the app locks.
import { fromB64u, fromUtf8, toB64u, utf8 } from "../shared/b64.js";
import { idbPut } from "../shared/idb.js";
import * as relay from "../shared/relay.js";

export const VAULT_DB = "confide-worker";
export const VAULT_KEY = "vault";
const PREKEY_BATCH = 20;

const loadEngine = () => import("../engine/index.js");

export class WorkerSession {
  constructor(engine, storeKey, state) {
    this.engine = engine;
    this.storeKey = storeKey;
    this.state = state;
    this.device = engine.Device.fromBytes(fromB64u(state.device));
    this.token = null;
  }

  async save() {
    this.state.device = toB64u(this.device.toBytes());
    const sealed = this.engine.keystore.seal(this.storeKey, utf8(JSON.stringify(this.state)));
    await idbPut(VAULT_DB, VAULT_KEY, sealed);
  }

  async signIn() {
    this.token = await relay.authenticate(this.device.identity, fromB64u(this.state.deviceId));
    return this.token;
  }

  // Keeps the relay stocked with one-time prekeys; each new client session uses one up.
  async topUpPrekeys() {
    if (this.device.oneTimePrekeys.size >= PREKEY_BATCH / 2) return;
    const first = this.state.nextPrekeyId;
    const fresh = this.device.addOneTimePrekeys(first, PREKEY_BATCH);
    this.state.nextPrekeyId = first + PREKEY_BATCH;
    await this.save();
    await relay.uploadOneTimePrekeys(this.token, fresh);
  }

  async loadSettings() {
    const org = await relay.getOrganisation().catch(() => null);
    if (!org) return;
    this.state.settings = {
      ...this.state.settings, maxRetention: org.max_retention_seconds, organisation: org.name, policyVersion: org.policy?.version,
    };
    // The organisation's settings (docs/operations.md section 13.2): idle lock and timers.
    const idle = org.settings?.idle_lock_seconds;
    if (Number.isInteger(idle) && idle > 0) this.state.settings.idleMinutes = idle / 60;
    this.state.settings.timers = { min: org.settings?.disappearing_min_seconds, max: org.settings?.disappearing_max_seconds };
    this.state.settings.consultationRetention = org.settings?.consultation_retention_seconds;
    // The organisation's own wording of the call checklist, per language (shared/guides.js).
    this.state.settings.texts = org.texts ?? {};
  }
}

export async function enrol(code, passphrase) {
  const engine = await loadEngine();
  const device = engine.Device.create();
  const spk = device.addSignedPrekey(1);
  const prekeys = device.addOneTimePrekeys(1, PREKEY_BATCH);
  const registered = await relay.enrolDevice(device.identity, code, spk, prekeys);
  const storeKey = engine.keystore.newStoreKey(passphrase);
  const session = new WorkerSession(engine, storeKey, {
    v: 1,
    deviceId: toB64u(registered.deviceId),
    mailboxId: toB64u(registered.mailboxId),
    device: toB64u(device.toBytes()),
    signedPrekeyId: 1,
    nextPrekeyId: 1 + PREKEY_BATCH,
    conversations: {},
  });
  await session.save();
  await session.signIn();
  await session.loadSettings();
  return session;
}

export async function unlock(sealed, passphrase) {
  const engine = await loadEngine();
  const opened = engine.keystore.open(passphrase, sealed);
  const session = new WorkerSession(engine, opened.storeKey, JSON.parse(fromUtf8(opened.plaintext)));
  await session.signIn();
  await session.loadSettings();
  return session;
}
