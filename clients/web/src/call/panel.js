// The call's screen: a region above the page's main content, so the conversation keeps
// re-rendering below it without restarting the videos. Every state is said in words (and in
// `data-state`), and every control has a visible name.
import { h } from "../shared/dom.js";

export const KIND = { audio: "Voice", video: "Video" };

// Names start sentences too ("your peer worker is calling").
const cap = (text) => text.charAt(0).toUpperCase() + text.slice(1);

function status(session, peerName) {
  const { state, waitingRoom, outgoing } = session;
  if (state === "ringing") return waitingRoom ? `Waiting for ${peerName} to let you in…` : `Calling ${peerName}…`;
  if (state === "incoming") return waitingRoom ? `${cap(peerName)} is in the waiting room. Admit them when you are ready.` : `${cap(peerName)} is calling you.`;
  if (state === "connecting") return outgoing || !waitingRoom ? "Connecting…" : "Letting them in…";
  if (state === "connected") return "Connected. The call is end-to-end encrypted.";
  if (state === "reconnecting") return "The connection dropped. Trying to reconnect…";
  return endedText(session, peerName);
}

// Why the call ended, from this person's point of view.
export function endedText({ ended, waitingRoom, outgoing }, peerName) {
  const them = ended.by === "them";
  switch (ended.reason) {
    case "hangup":
      return them ? `The call ended: ${peerName} hung up.` : "The call ended: you hung up.";
    case "declined":
      if (!them) return "You declined the call.";
      return waitingRoom && outgoing ? `${cap(peerName)} cannot take the call now.` : `${cap(peerName)} declined the call.`;
    case "busy":
      return `${cap(peerName)} is on another call.`;
    case "timeout":
      return waitingRoom && outgoing ? "Nobody let you in. Try again later." : "No answer.";
    case "cancel":
      return `Missed call: ${peerName} stopped calling.`;
    case "closed":
      return them ? `The call ended: ${peerName} closed the page.` : "The call ended.";
    case "consent":
      return "The call ended: consent was withdrawn.";
    case "failed":
      return ended.seconds === null ? "The call could not connect." : "The call ended: the connection was lost.";
    default:
      return "The call ended.";
  }
}

export class CallPanel {
  constructor(session, { peerName, onAccept, onDecline, onHangUp, onClose }) {
    Object.assign(this, { session, peerName, onAccept, onDecline, onHangUp, onClose });
    this.remoteVideo = h("video", { id: "call-remote", autoplay: true, playsinline: true, "aria-label": `${peerName}'s video` });
    this.localVideo = h("video", { id: "call-local", autoplay: true, playsinline: true, muted: true, "aria-label": "Your video" });
    this.localVideo.muted = true;
    this.el = h("section", { id: "call", class: "call", "aria-labelledby": "call-title" });
    const app = document.getElementById("app");
    app.parentNode.insertBefore(this.el, app);
    this.update();
    this.el.querySelector("button")?.focus();
  }

  #attach(video, stream) {
    if (stream && video.srcObject !== stream) {
      video.srcObject = stream;
      video.play().catch(() => {});
    }
  }

  update() {
    const s = this.session;
    const ended = s.state === "ended";
    this.el.dataset.state = s.state;
    if (ended) this.el.dataset.endReason = s.ended.reason;
    const hadFocus = this.el.contains(document.activeElement) ? document.activeElement.id : null;
    this.#attach(this.remoteVideo, s.remote);
    this.#attach(this.localVideo, s.local);
    const showVideo = s.media === "video" && !ended;
    this.remoteVideo.hidden = !showVideo || !s.remote;
    this.localVideo.hidden = !showVideo || !s.local || s.cameraOff;
    const parts = [
      h("h2", { id: "call-title" }, `${KIND[s.media]} call with ${this.peerName}`),
      h("p", { id: "call-status", role: "status" }, status(s, this.peerName)),
      h("div", { class: "videos" }, this.remoteVideo, this.localVideo),
      this.#peerState(),
      s.code && !ended ? h("p", { id: "call-code" },
        "Read this code aloud to each other: ", h("strong", { class: "digits" }, s.code),
        h("span", { class: "muted" }, " If your codes differ, hang up.")) : null,
      h("div", { class: "row" }, ...this.#buttons()),
    ];
    this.el.replaceChildren(...parts.filter(Boolean));
    if (hadFocus) document.getElementById(hadFocus)?.focus();
  }

  #peerState() {
    const s = this.session;
    if (!["connected", "reconnecting"].includes(s.state)) return null;
    const notes = [];
    if (!s.peer.audio) notes.push(`${cap(this.peerName)} muted their microphone.`);
    if (s.media === "video" && !s.peer.video) notes.push(`${cap(this.peerName)}'s camera is off.`);
    return notes.length ? h("p", { id: "call-peer-state", class: "muted" }, notes.join(" ")) : null;
  }

  #buttons() {
    const s = this.session;
    const button = (id, label, onclick, extra = {}) => h("button", { type: "button", id, onclick, ...extra }, label);
    if (s.state === "incoming") {
      return [
        button("call-accept", s.waitingRoom ? "Admit" : "Accept", this.onAccept),
        button("call-decline", "Decline", this.onDecline, { class: "danger" }),
      ];
    }
    if (s.state === "ringing") {
      return [button("call-hangup", s.waitingRoom ? "Leave the waiting room" : "Cancel the call", this.onHangUp, { class: "danger" })];
    }
    if (s.state === "ended") return [button("call-close", "Close", this.onClose, { class: "secondary" })];
    const controls = [
      button("call-mute", s.muted ? "Unmute" : "Mute", () => s.toggleMute(), { class: "secondary", "aria-pressed": String(s.muted) }),
    ];
    if (s.media === "video") {
      controls.push(button("call-camera", s.cameraOff ? "Turn camera on" : "Turn camera off", () => s.toggleCamera(),
        { class: "secondary", "aria-pressed": String(s.cameraOff) }));
    }
    controls.push(button("call-hangup", "Hang up", this.onHangUp, { class: "danger" }));
    return controls;
  }

  remove() {
    this.el.remove();
  }
}
