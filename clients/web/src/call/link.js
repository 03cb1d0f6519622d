// One WebRTC peer connection to one other device: the offer/answer exchange, trickled ICE
// candidates (held until the description they belong to is applied), the remote stream and
// the connection's state. A one-to-one call (session.js) has one link; a group call
// (group/mesh.js) has one link per other participant, all sharing the same local stream and
// the same DTLS certificate. Signalling leaves through `send(op, fields)`, which the owner
// encrypts end to end; nothing here talks to the relay.
import { dtlsFingerprint } from "./signal.js";

// The camera and microphone. A video call falls back to voice when there is no camera; no
// microphone ends the call.
export async function openMedia(media) {
  try {
    return await navigator.mediaDevices.getUserMedia({ audio: true, video: media === "video" });
  } catch (err) {
    if (media !== "video") throw err;
    return navigator.mediaDevices.getUserMedia({ audio: true });
  }
}

// Turns the local stream's tracks of one kind ("audio" or "video") on or off, and says what
// the others should be told: one-to-one calls and group calls share both.
export function setTracks(local, kind, enabled) {
  const tracks = kind === "audio" ? local?.getAudioTracks() : local?.getVideoTracks();
  for (const track of tracks ?? []) track.enabled = enabled;
}

export function mediaState({ media, local, muted, cameraOff }) {
  const video = media === "video" && !cameraOff && (local?.getVideoTracks().length ?? 0) > 0;
  return { audio: !muted, video };
}

export class PeerLink {
  // `onRemote(stream)` when the peer's media arrives, `onState(connectionState)` on every
  // change of the connection. `certificate` (optional) is an RTCCertificate shared by every
  // link of one call, so the call has one fingerprint per participant.
  constructor({ config, local, send, certificate = null, onRemote = () => {}, onState = () => {} }) {
    Object.assign(this, { config, local, send, certificate, onRemote, onState });
    this.pendingCandidates = [];
    this.pc = null;
    this.remote = null;
  }

  open() {
    const certificates = this.certificate ? [this.certificate] : undefined;
    const pc = new RTCPeerConnection({ ...this.config, bundlePolicy: "max-bundle", certificates });
    this.pc = pc;
    for (const track of this.local?.getTracks() ?? []) pc.addTrack(track, this.local);
    pc.onicecandidate = (event) => {
      if (event.candidate) this.send("candidate", { candidate: event.candidate.toJSON() }).catch(() => {});
    };
    pc.ontrack = (event) => {
      this.remote = event.streams[0] ?? new MediaStream([event.track]);
      this.onRemote(this.remote);
    };
    pc.onconnectionstatechange = () => this.onState(pc.connectionState);
    return this;
  }

  get state() {
    return this.pc?.connectionState ?? "new";
  }

  get offering() {
    return this.pc?.signalingState === "have-local-offer";
  }

  get described() {
    return Boolean(this.pc?.remoteDescription);
  }

  async offer() {
    await this.pc.setLocalDescription(await this.pc.createOffer());
    await this.send("offer", { sdp: this.pc.localDescription.sdp });
  }

  async answer(sdp) {
    await this.pc.setRemoteDescription({ type: "offer", sdp });
    await this.#flushCandidates();
    await this.pc.setLocalDescription(await this.pc.createAnswer());
    await this.send("answer", { sdp: this.pc.localDescription.sdp });
  }

  async answered(sdp) {
    if (!this.offering) return;
    await this.pc.setRemoteDescription({ type: "answer", sdp });
    await this.#flushCandidates();
  }

  // Candidates can overtake the description they belong to; they wait for it.
  async addCandidate(candidate) {
    if (!this.pc || !this.pc.remoteDescription) {
      this.pendingCandidates.push(candidate);
      return;
    }
    await this.pc.addIceCandidate(candidate ?? undefined).catch(() => {});
  }

  async #flushCandidates() {
    const waiting = this.pendingCandidates.splice(0);
    for (const c of waiting) await this.addCandidate(c);
  }

  // The SHA-256 DTLS fingerprints both descriptions announce, or null before both exist.
  fingerprints() {
    const mine = dtlsFingerprint(this.pc?.localDescription?.sdp);
    const theirs = dtlsFingerprint(this.pc?.remoteDescription?.sdp);
    return mine && theirs ? { mine, theirs } : null;
  }

  close() {
    this.pc?.close();
  }
}
