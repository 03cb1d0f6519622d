// The relay WebSocket (docs/protocol.md, "WebSocket"): authenticate, receive queued then live
// envelopes, send with an "accepted" answer per ref, acknowledge to delete. It reconnects
// with a growing delay; sends made while disconnected wait and are retried with the same
// client_message_id, which the relay uses to keep them exactly-once.
import { fromB64u, toB64u } from "./b64.js";

const WS_PATH = "/v1/ws";

export class RelaySocket {
  // `token` is the session token to start with; `renewToken` (optional) signs in again when
  // a reconnect finds the old one expired.
  constructor({ token, renewToken = null, onEnvelope, onNotice = () => {}, onState = () => {} }) {
    this.token = token;
    this.renewToken = renewToken;
    this.onEnvelope = onEnvelope;
    // The relay's notices (docs/protocol.md, WebSocket notices), e.g. a new policy version.
    this.onNotice = onNotice;
    this.onState = onState;
    this.pending = new Map();
    this.nextRef = 1;
    this.delay = 500;
    this.closed = false;
    this.ws = null;
    this.ready = false;
  }

  start() {
    const url = new URL(WS_PATH, location.href);
    url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
    const ws = new WebSocket(url);
    this.ws = ws;
    ws.onopen = () => ws.send(JSON.stringify({ type: "auth", token: toB64u(this.token) }));
    ws.onmessage = (event) => this.#receive(JSON.parse(event.data));
    ws.onclose = () => {
      const wasReady = this.ready;
      this.ready = false;
      this.onState("offline");
      if (this.closed) return;
      setTimeout(() => this.#restart(!wasReady), this.delay);
      this.delay = Math.min(this.delay * 2, 15000);
    };
  }

  // A connection that closed before "ready" was most likely refused its token.
  async #restart(renew) {
    if (renew && this.renewToken) {
      try {
        this.token = await this.renewToken();
      } catch {
        // Offline or the relay is down: try again with the next reconnect.
      }
    }
    if (!this.closed) this.start();
  }

  #receive(frame) {
    if (frame.type === "ready") {
      this.ready = true;
      this.delay = 500;
      this.onState("online");
      for (const entry of this.pending.values()) this.ws.send(entry.text);
    } else if (frame.type === "envelope") {
      this.onEnvelope(fromB64u(frame.id), fromB64u(frame.body));
    } else if (frame.type === "notice") {
      this.onNotice(frame);
    } else if (frame.type === "accepted" || frame.type === "error") {
      const entry = this.pending.get(frame.ref);
      if (!entry) return;
      this.pending.delete(frame.ref);
      if (frame.type === "accepted") entry.resolve(frame);
      else entry.reject(new Error(frame.detail || frame.title || "the relay refused the message"));
    }
  }

  // Resolves once the relay says the envelope is durable ("accepted").
  send({ mailboxId, capability, body, clientMessageId, ttl }) {
    const ref = this.nextRef;
    this.nextRef += 1;
    const frame = {
      type: "send", ref, mailbox_id: toB64u(mailboxId), capability: toB64u(capability),
      client_message_id: clientMessageId, body: toB64u(body),
    };
    if (ttl) frame.ttl = ttl;
    const text = JSON.stringify(frame);
    return new Promise((resolve, reject) => {
      this.pending.set(ref, { text, resolve, reject });
      if (this.ready) this.ws.send(text);
    });
  }

  ack(ids) {
    if (this.ready && ids.length) this.ws.send(JSON.stringify({ type: "ack", ids: ids.map(toB64u) }));
  }

  stop() {
    this.closed = true;
    for (const entry of this.pending.values()) entry.reject(new Error("disconnected"));
    this.pending.clear();
    this.ws?.close();
  }
}
