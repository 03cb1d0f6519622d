// One call's media and state: the camera and microphone, the RTCPeerConnection, and the
// timers that end a call nobody answers, one that cannot connect, or one whose network is
// gone. Signalling leaves through `send` (end-to-end encrypted by the caller of this class);
// nothing here talks to the relay except through the TURN configuration it is handed.
import { callCode } from "./code.js";
import { PeerLink, mediaState, openMedia, setTracks } from "./link.js";

// How long a ring lasts, how long set-up may take once accepted, and how long a dropped
// connection may try to come back, before the call ends and the screen says why.
export const RING_MS = 60_000;
export const WAITING_ROOM_MS = 10 * 60_000;
export const SETUP_MS = 30_000;
export const RECONNECT_MS = 10_000;

// The states a call goes through; the panel shows each one in words.
//   ringing (outgoing, waiting for an answer) | incoming (waiting for this person)
//   connecting | connected | reconnecting | ended
export class CallSession {
  constructor({ id, media, outgoing, waitingRoom, send, iceConfig, keys, sodium, onChange }) {
    Object.assign(this, { id, media, outgoing, waitingRoom, send, iceConfig, keys, sodium, onChange });
    this.state = outgoing ? "ringing" : "incoming";
    this.local = null;
    this.remote = null;
    this.link = null;
    this.earlyCandidates = [];
    this.muted = false;
    this.cameraOff = false;
    this.peer = { audio: true, video: media === "video" };
    this.code = null;
    this.connectedAt = null;
    this.ended = null;
    this.timers = {};
  }

  get live() {
    return this.state !== "ended";
  }

  #set(state) {
    this.state = state;
    this.onChange();
  }

  #timer(name, ms, fire) {
    clearTimeout(this.timers[name]);
    this.timers[name] = setTimeout(fire, ms);
  }

  #clear(name) {
    clearTimeout(this.timers[name]);
    delete this.timers[name];
  }

  // The caller's first step: the camera and microphone, then the ring.
  async start() {
    await this.#openMedia();
    this.#timer("ring", this.waitingRoom ? WAITING_ROOM_MS : RING_MS, () => this.hangUp("timeout"));
    await this.send("ring", { media: this.media });
    this.onChange();
  }

  // The callee accepts: its media and peer connection are ready before "accept" leaves,
  // so the caller's offer always finds them.
  async accept() {
    this.#set("connecting");
    await this.#openMedia();
    await this.#connect();
    await this.send("accept");
  }

  async decline() {
    this.#finish("declined", "me");
    await this.send("decline", { reason: "declined" }).catch(() => {});
  }

  // Ends the call from this side and tells the other side why.
  async hangUp(reason = "hangup") {
    if (!this.live) return;
    const wire = reason === "timeout" && this.state === "ringing" ? "cancel" : reason;
    this.#finish(reason, "me");
    await this.send("end", { reason: wire }).catch(() => {});
  }

  async receive(msg) {
    if (!this.live) return;
    switch (msg.op) {
      case "accept":
        if (this.outgoing && this.state === "ringing") await this.#offer();
        break;
      case "decline":
        this.#finish(msg.reason === "busy" ? "busy" : "declined", "them");
        break;
      case "offer":
        if (!this.outgoing && this.link && !this.link.described) await this.link.answer(msg.sdp);
        break;
      case "answer":
        if (this.outgoing) await this.link?.answered(msg.sdp);
        break;
      case "candidate":
        if (this.link) await this.link.addCandidate(msg.candidate);
        else this.earlyCandidates.push(msg.candidate);
        break;
      case "media":
        this.peer = { audio: msg.audio, video: msg.video };
        this.onChange();
        break;
      case "end":
        this.#finish(msg.reason, "them");
        break;
      default:
        break;
    }
  }

  toggleMute() {
    this.muted = !this.muted;
    setTracks(this.local, "audio", !this.muted);
    this.#sendMediaState();
  }

  toggleCamera() {
    this.cameraOff = !this.cameraOff;
    setTracks(this.local, "video", !this.cameraOff);
    this.#sendMediaState();
  }

  #sendMediaState() {
    this.onChange();
    this.send("media", mediaState(this)).catch(() => {});
  }

  async #openMedia() {
    if (this.local) return;
    this.local = await openMedia(this.media);
    this.onChange();
  }

  async #connect() {
    this.link = new PeerLink({
      config: await this.iceConfig(),
      local: this.local,
      send: this.send,
      onRemote: (stream) => {
        this.remote = stream;
        this.onChange();
      },
      onState: () => this.#connectionChanged(),
    }).open();
    this.link.pendingCandidates.push(...this.earlyCandidates.splice(0));
    this.#timer("setup", SETUP_MS, () => {
      if (this.state === "connecting") this.hangUp("failed");
    });
  }

  async #offer() {
    this.#clear("ring");
    this.#set("connecting");
    await this.#connect();
    await this.link.offer();
  }

  #connectionChanged() {
    if (!this.live) return;
    const state = this.link.state;
    if (state === "connected") {
      this.#clear("setup");
      this.#clear("reconnect");
      this.connectedAt ??= Date.now();
      this.code ??= this.#code();
      this.#set("connected");
    } else if (state === "disconnected" && this.state === "connected") {
      this.#set("reconnecting");
      this.#timer("reconnect", RECONNECT_MS, () => this.hangUp("failed"));
    } else if (state === "failed") {
      this.hangUp("failed");
    }
  }

  #code() {
    const prints = this.link.fingerprints();
    if (!prints) return null;
    return callCode(this.sodium,
      { identityKey: this.keys.mine, fingerprint: prints.mine },
      { identityKey: this.keys.theirs, fingerprint: prints.theirs });
  }

  #finish(reason, by) {
    if (!this.live) return;
    for (const name of Object.keys(this.timers)) this.#clear(name);
    for (const track of this.local?.getTracks() ?? []) track.stop();
    this.link?.close();
    this.ended = { reason, by, seconds: this.connectedAt ? Math.round((Date.now() - this.connectedAt) / 1000) : null };
    this.#set("ended");
  }
}
