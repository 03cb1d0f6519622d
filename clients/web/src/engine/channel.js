// One conversation's outgoing side, shared by the worker app and the client's page: it
// builds payloads (shared/payload.js), tracks delivery state, and handles attachments.
import { fromB64u, toB64u } from "../shared/b64.js";
import { addMessage, markState, setTimer } from "../shared/conversation.js";
import { announce } from "../shared/dom.js";
import { t } from "../shared/i18n.js";
import { sequenced, unsequenced } from "../shared/payload.js";
import * as relay from "../shared/relay.js";
import { finished, track } from "../shared/transfers.js";
import * as attachments from "../crypto/attachments.js";
import { Messenger } from "./messenger.js";
import { errorText } from "../shared/problems.js";

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

  // Sends a payload that shows in the conversation, with its delivery state. `shown` may
  // already be in the conversation (an attachment shows while it uploads).
  async #sendShown(type, fields, shown, id = Messenger.newId(), ttl = this.#ttl()) {
    addMessage(this.conv, { ...shown, id, mine: true, state: "sending", ttl });
    const payload = sequenced(this.conv, type, id, { ...fields, ttl });
    await this.changed();
    try {
      await this.messenger.send(this.peer(), payload, ttl);
      markState(this.conv, [id], "sent");
    } catch (err) {
      markState(this.conv, [id], "failed");
      announce(t("chat.notSent", { error: errorText(err) }));
    }
    await this.changed();
  }

  sendText(text) {
    return this.#sendShown("text", { text }, { kind: "text", body: text });
  }

  // The attachment shows at once with its upload's progress; the payload that lets the peer
  // fetch it follows once the relay holds the encrypted blob.
  async sendFile(file) {
    const bytes = new Uint8Array(await file.arrayBuffer());
    const { blob, pointer } = attachments.encryptAttachment(bytes);
    const id = Messenger.newId();
    const ttl = this.#ttl();
    const mime = file.type || "application/octet-stream";
    addMessage(this.conv, { id, kind: "file", name: file.name, type: mime, size: bytes.length, mine: true, state: "sending", ttl });
    const onProgress = track(id, "up", file.name, blob.length);
    await this.changed();
    let blobId;
    try {
      blobId = await relay.uploadBlob(this.token(), blob, onProgress);
    } catch (err) {
      markState(this.conv, [id], "failed");
      announce(t("chat.uploadFailed", { error: errorText(err) }));
      return;
    } finally {
      finished(id);
      await this.changed();
    }
    const encoded = toB64u(attachments.encodePointer(pointer));
    Object.assign(this.conv.messages.find((m) => m.id === id) ?? {}, { blobId, pointer: encoded });
    await this.#sendShown("attachment", { blob: blobId, pointer: encoded, name: file.name, mime }, {}, id, ttl);
  }

  // The decrypted bytes, in memory only (shared/files.js decides what to show or save).
  async fetchFile(message, onProgress) {
    const blob = await relay.downloadBlob(this.token(), message.blobId, onProgress);
    return attachments.decryptAttachment(blob, attachments.decodePointer(fromB64u(message.pointer)));
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

  // The change shows as a line in the conversation on both sides (shared/inbox.js).
  async setTimer(ttl) {
    const id = Messenger.newId();
    setTimer(this.conv, ttl, id);
    await this.changed();
    this.messenger.send(this.peer(), unsequenced("timer", id, { ttl })).catch(() => {});
  }
}

export function pointerLength(encoded) {
  try {
    return attachments.decodePointer(fromB64u(encoded)).length;
  } catch {
    return 0;
  }
}
