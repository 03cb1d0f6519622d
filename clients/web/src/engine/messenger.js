// Carries application messages between this device and its peers: JSON inside the ratchet,
// sealed for the peer, queued at the peer's mailbox with a send capability. Incoming
// envelopes are handled one at a time, in order, and acknowledged only after the new state
// has been saved, so a crash never loses a message the relay has already deleted.
import { fromUtf8, toB64u, utf8 } from "../shared/b64.js";
import { isPayload } from "../shared/payload.js";
import { RelaySocket } from "../shared/socket.js";
import { offer } from "../shared/window.js";
import { sodium } from "../crypto/sodium.js";

export class Messenger {
  // `windows` is the caller's saved receive-window state (shared/window.js), kept with the
  // rest of its state so that exactly-once holds across reloads. `windowKey(sender, payload)`
  // names the window a payload counts in: one per sender, and one per sender and group for
  // group payloads (docs/protocol.md G5).
  constructor({ device, token, renewToken = null, windows, windowKey = (sender) => sender, onMessage, onNotice = () => {}, onUnreadable = () => {}, onState = () => {}, save }) {
    Object.assign(this, { device, token, renewToken, windows, windowKey, onMessage, onNotice, onUnreadable, onState, save });
    this.queue = Promise.resolve();
  }

  start() {
    this.socket = new RelaySocket({
      token: this.token,
      renewToken: this.renewToken,
      onState: this.onState,
      onNotice: (frame) => this.onNotice(frame),
      onEnvelope: (id, body) => {
        // One failure must not stop the queue: the envelope stays unacknowledged, so the
        // relay offers it again after the next reconnect.
        this.queue = this.queue.then(() => this.#receive(id, body)).catch((error) => this.onUnreadable(error));
      },
    });
    this.socket.start();
  }

  stop() {
    this.socket?.stop();
  }

  async #receive(id, body) {
    let received;
    try {
      received = this.device.decryptEnvelope(body);
    } catch (error) {
      // An envelope this device cannot open never will be; drop it rather than loop on it.
      this.onUnreadable(error);
      this.socket.ack([id]);
      return;
    }
    let payload = null;
    try {
      payload = JSON.parse(fromUtf8(received.plaintext));
    } catch {
      // A payload that is not JSON is dropped below, like any other malformed one.
    }
    if (isPayload(payload)) {
      const sender = received.senderIdentityKey;
      for (const ready of offer(this.windows, this.windowKey(toB64u(sender), payload), payload)) {
        await this.onMessage(sender, ready, received.newSession);
      }
    } else {
      this.onUnreadable(new Error("malformed payload"));
    }
    await this.save();
    this.socket.ack([id]);
  }

  static newId() {
    return toB64u(sodium.randombytes_buf(16));
  }

  // Encrypts and queues one payload; resolves when the relay holds it durably.
  async send(peer, payload, ttl) {
    const body = this.device.encryptTo(peer.identityKey, utf8(JSON.stringify(payload)));
    // The ratchet moved forward: persist before the envelope leaves, so a reload never
    // reuses a message key.
    await this.save();
    return this.socket.send({
      mailboxId: peer.mailboxId, capability: peer.capability, body,
      clientMessageId: payload.id, ttl,
    });
  }
}
