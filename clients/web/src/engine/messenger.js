// Carries application messages between this device and its peers: JSON inside the ratchet,
// sealed for the peer, queued at the peer's mailbox with a send capability. Incoming
// envelopes are handled one at a time, in order, and acknowledged only after the new state
// has been saved, so a crash never loses a message the relay has already deleted.
import { fromUtf8, toB64u, utf8 } from "../shared/b64.js";
import { RelaySocket } from "../shared/socket.js";
import { sodium } from "../crypto/sodium.js";

export class Messenger {
  constructor({ device, token, renewToken = null, onMessage, onUnreadable = () => {}, onState = () => {}, save }) {
    Object.assign(this, { device, token, renewToken, onMessage, onUnreadable, onState, save });
    this.queue = Promise.resolve();
  }

  start() {
    this.socket = new RelaySocket({
      token: this.token,
      renewToken: this.renewToken,
      onState: this.onState,
      onEnvelope: (id, body) => {
        this.queue = this.queue.then(() => this.#receive(id, body));
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
    let message;
    try {
      message = JSON.parse(fromUtf8(received.plaintext));
    } catch {
      message = { t: "unknown" };
    }
    await this.onMessage(received.senderIdentityKey, message, received.newSession);
    await this.save();
    this.socket.ack([id]);
  }

  static newId() {
    return toB64u(sodium.randombytes_buf(16));
  }

  // Encrypts and queues one application message; resolves when the relay holds it durably.
  async send(peer, message, ttl) {
    const body = this.device.encryptTo(peer.identityKey, utf8(JSON.stringify(message)));
    // The ratchet moved forward: persist before the envelope leaves, so a reload never
    // reuses a message key.
    await this.save();
    return this.socket.send({
      mailboxId: peer.mailboxId, capability: peer.capability, body,
      clientMessageId: message.id ?? Messenger.newId(), ttl,
    });
  }
}
