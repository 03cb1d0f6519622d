// At most one call at a time per page, for the worker app and the client's page alike. This
// module routes `call` payloads from a conversation's verified peer to the current call,
// rings or opens the waiting room for a new one, and turns a closed tab into a hang-up.
// The apps decide who may call (consent given) and how to reach the peer (`send`).
import { announce } from "../shared/dom.js";
import { t } from "../shared/i18n.js";
import { getTurn } from "../shared/relay.js";
import { CallPanel, endedMessage } from "./panel.js";
import { callPayload, parseCall } from "./signal.js";
import { CallSession, WAITING_ROOM_MS } from "./session.js";
import { errorText } from "../shared/problems.js";
import { Explained } from "../shared/explained.js";

// A ring older than the longest wait (plus some clock skew) comes from a call long gone.
const STALE_RING_MS = WAITING_ROOM_MS + 60_000;

// Signalling envelopes are only useful for a minute or two; the relay may drop them after.
export const SIGNAL_TTL_SECONDS = 120;

// Turns GET /v1/turn into an RTCPeerConnection configuration for this one call.
export async function iceConfig(token) {
  const turn = await getTurn(token);
  const relayOnly = turn.ice_transport_policy === "relay";
  if (!turn.urls?.length) {
    if (relayOnly) throw new Explained("call.error.noTurn", {}, "calls must go through a TURN server, and none is configured");
    return { iceServers: [], iceTransportPolicy: "all" };
  }
  return {
    iceServers: [{ urls: turn.urls, username: turn.username, credential: turn.credential }],
    iceTransportPolicy: relayOnly ? "relay" : "all",
  };
}

export class Calls {
  // `role` is "worker" or "client": a client's call waits in the worker's waiting room.
  // `contact(conv)` gives {name, identityKey (bytes), send(payload) → Promise}; `token()`
  // the relay token; `onEnded(conv, session, [key, vars])` records the call in the
  // conversation (why it ended, as a catalogue message).
  // `onState()` lets the app redraw its call buttons; `elsewhereBusy()` says whether a group
  // call (group_calls.js) holds the camera, so a ring is answered "busy". `beforeCall(media,
  // incoming)` may ask something first (the worker's checklist) and resolves false to leave
  // the call for now.
  constructor({ role, sodium, identityKey, newId, token, contact, onEnded, notify = () => {}, onState = () => {}, elsewhereBusy = () => false, beforeCall = async () => true }) {
    Object.assign(this, { role, sodium, identityKey, newId, token, contact, onEnded, notify, onState, elsewhereBusy, beforeCall });
    this.current = null;
    addEventListener("pagehide", () => this.#closing());
  }

  get busy() {
    return Boolean(this.current?.session.live);
  }

  async start(conv, media) {
    if (this.busy || this.elsewhereBusy()) return;
    if (!(await this.beforeCall(media, false)) || this.busy || this.elsewhereBusy()) return;
    const session = this.#open(conv, { id: this.newId(), media, outgoing: true });
    try {
      await session.start();
    } catch (err) {
      this.#failed(session, err);
    }
  }

  async receive(conv, payload) {
    const msg = parseCall(payload);
    if (!msg) return;
    if (msg.op === "ring") {
      await this.#ring(conv, msg);
      return;
    }
    const current = this.current;
    if (current && current.conv === conv && current.session.id === msg.call) {
      try {
        await current.session.receive(msg);
      } catch (err) {
        this.#failed(current.session, err);
      }
    }
  }

  async #ring(conv, msg) {
    if (Date.now() - msg.at > STALE_RING_MS) return;
    if (this.current?.session.id === msg.call) return;
    if (this.busy || this.elsewhereBusy()) {
      await this.contact(conv).send(callPayload(this.newId(), msg.call, "decline", { reason: "busy" })).catch(() => {});
      return;
    }
    this.#open(conv, { id: msg.call, media: msg.media, outgoing: false });
    this.notify(this.role === "worker" ? t("call.notifyWaitingRoom") : t("call.notifyIncoming"));
  }

  // Ends the call when consent is withdrawn, or the conversation can no longer be used.
  stopFor(conv) {
    if (this.busy && this.current.conv === conv) this.current.session.hangUp("consent");
  }

  #open(conv, { id, media, outgoing }) {
    this.current?.panel.remove();
    const who = this.contact(conv);
    const session = new CallSession({
      id, media, outgoing,
      // The waiting room is where a client's call waits for the worker.
      waitingRoom: (this.role === "client") === outgoing,
      send: (op, fields) => who.send(callPayload(this.newId(), id, op, fields)),
      iceConfig: () => iceConfig(this.token()),
      keys: { mine: this.identityKey, theirs: who.identityKey },
      sodium: this.sodium,
      onChange: () => this.#changed(conv, session),
    });
    const panel = new CallPanel(session, {
      peerName: who.name,
      onAccept: async () => {
        if (!(await this.beforeCall(media, true)) || session.state !== "incoming") return;
        await session.accept().catch((err) => this.#failed(session, err));
      },
      onDecline: () => session.decline(),
      onHangUp: () => session.hangUp(),
      onClose: () => {
        panel.remove();
        if (this.current?.session === session) this.current = null;
        this.onState();
      },
    });
    this.current = { conv, session, panel, name: who.name, logged: false };
    return session;
  }

  #changed(conv, session) {
    const current = this.current;
    if (!current || current.session !== session) return;
    current.panel.update();
    this.onState();
    if (session.state === "ended" && !current.logged) {
      current.logged = true;
      const ended = endedMessage(session, current.name);
      announce(t(...ended));
      this.onEnded(conv, session, ended);
    } else if (session.state === "connected") {
      announce(t("call.announceConnected"));
    }
  }

  #failed(session, err) {
    announce(t("call.couldNotGoOn", { error: errorText(err) }));
    session.hangUp("failed");
  }

  // Quick exit: nothing about the call may stay on screen; the hang-up is sent if it can be.
  wipe() {
    const current = this.current;
    this.current = null;
    current?.panel.remove();
    return current?.session.live ? current.session.hangUp("closed") : Promise.resolve();
  }

  // The tab is closing or navigating away: tell the other side, as far as the page still can.
  #closing() {
    if (this.busy) this.current.session.hangUp("closed");
  }
}
