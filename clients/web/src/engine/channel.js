// One conversation's outgoing side, shared by the worker app and the client's page: it
// builds payloads (shared/payload.js), tracks delivery state, and handles attachments.
import { fromB64u, toB64u } from "../shared/b64.js";
import { downloadFile } from "../shared/chatview.js";
import { addMessage, markState } from "../shared/conversation.js";
import { announce } from "../shared/dom.js";
import { sequenced, unsequenced } from "../shared/payload.js";
import * as relay from "../shared/relay.js";
import * as attachments from "../crypto/attachments.js";
import { Messenger } from "./messenger.js";

export class Channel {
  // `peer()` gives {identityKey, mailboxId, capability} as bytes; `token()` the relay token;
  // `changed()` saves and redraws; `fit(seconds)` moves a timer into the organisation's
  // limits (shared/conversation.js fitTimer).
  constructor({ messenger, conv, peer, token, changed, fit = (seconds) => seconds }) {
    Object.assign(this, { messenger, conv, peer, token, changed, fit });
  }

  #ttl() {
    return this.fit(this.conv.ttl) || undefined;
  }

  // Sends a payload that shows in the conversation, with its delivery state.
  async #sendShown(type, fields, shown) {
    const id = Messenger.newId();
    const ttl = this.#ttl();
    const payload = sequenced(this.conv, type, id, { ...fields, ttl });
    addMessage(this.conv, { ...shown, id, mine: true, state: "sending", ttl });
    await this.changed();
    try {
      await this.messenger.send(this.peer(), payload, ttl);
      markState(this.conv, [id], "sent");
    } catch (err) {
      markState(this.conv, [id], "failed");
      announce(`Not sent: ${err.message}`);
    }
    await this.changed();
  }

  sendText(text) {
    return this.#sendShown("text", { text }, { kind: "text", body: text });
  }

  async sendFile(file) {
    const bytes = new Uint8Array(await file.arrayBuffer());
    const { blob, pointer } = attachments.encryptAttachment(bytes);
    let blobId;
    try {
      blobId = await relay.uploadBlob(this.token(), blob);
    } catch (err) {
      announce(`The attachment could not be uploaded: ${err.message}`);
      return;
    }
    const encoded = toB64u(attachments.encodePointer(pointer));
    const mime = file.type || "application/octet-stream";
    await this.#sendShown("attachment", { blob: blobId, pointer: encoded, name: file.name, mime },
      { kind: "file", name: file.name, type: mime, size: bytes.length, blobId, pointer: encoded });
  }

  async openFile(message) {
    try {
      const blob = await relay.downloadBlob(this.token(), message.blobId);
      const plain = attachments.decryptAttachment(blob, attachments.decodePointer(fromB64u(message.pointer)));
      downloadFile(message.name, message.type, plain);
    } catch (err) {
      announce(`The attachment could not be opened: ${err.message}`);
    }
  }

  // Sequenced payloads that do not show as messages: hello, revoke.
  sendControl(type, fields) {
    return this.messenger.send(this.peer(), sequenced(this.conv, type, Messenger.newId(), fields));
  }

  // Delivery receipts and timer changes are best effort: losing one only leaves a tick at
  // "Sent" or a timer to set again.
  sendDelivered(ids) {
    this.messenger.send(this.peer(), unsequenced("delivered", Messenger.newId(), { ids })).catch(() => {});
  }

  // The worker's request that the client review the organisation's current policy version.
  // Unsequenced: a device that does not know it (the SDK) drops it without leaving a gap.
  sendReviewRequest(version) {
    return this.messenger.send(this.peer(), unsequenced("policy", Messenger.newId(), { version }));
  }

  // Call signalling (call/signal.js) is built by the call module; it expires on the relay
  // after `ttl` seconds, since a late offer or candidate is of no use to anyone.
  sendCall(payload, ttl) {
    return this.messenger.send(this.peer(), payload, ttl);
  }

  async setTimer(ttl) {
    this.conv.ttl = ttl;
    await this.changed();
    this.messenger.send(this.peer(), unsequenced("timer", Messenger.newId(), { ttl })).catch(() => {});
  }
}

export function pointerLength(encoded) {
  try {
    return attachments.decodePointer(fromB64u(encoded)).length;
  } catch {
    return 0;
  }
}
