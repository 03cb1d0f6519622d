// The call's screen: a region above the page's main content, so the conversation keeps
// re-rendering below it without restarting the videos. Every state is said in words (and in
// `data-state`), and every control has a visible name.
import { h } from "../shared/dom.js";
import { t } from "../shared/i18n.js";

// Names start sentences too ("your peer worker is calling").
const cap = (text) => text.charAt(0).toUpperCase() + text.slice(1);

function status(session, peerName) {
  const { state, waitingRoom, outgoing } = session;
  const name = peerName;
  const Name = cap(peerName);
  if (state === "ringing") return waitingRoom ? t("call.waitingToBeLetIn", { name }) : t("call.calling", { name });
  if (state === "incoming") return waitingRoom ? t("call.inWaitingRoom", { name: Name }) : t("call.isCalling", { name: Name });
  if (state === "connecting") return outgoing || !waitingRoom ? t("call.connecting") : t("call.lettingIn");
  if (state === "connected") return t("call.connected");
  if (state === "reconnecting") return t("call.reconnecting");
  return t(...endedMessage(session, peerName));
}

// Why the call ended, from this person's point of view, as a catalogue key and its values
// (kept that way in the conversation, so it reads in whichever language is chosen later).
export function endedMessage({ ended, waitingRoom, outgoing }, peerName) {
  const them = ended.by === "them";
  const name = peerName;
  const Name = cap(peerName);
  switch (ended.reason) {
    case "hangup":
      return them ? ["call.endedTheyHungUp", { name }] : ["call.endedYouHungUp"];
    case "declined":
      if (!them) return ["call.youDeclined"];
      return waitingRoom && outgoing ? ["call.cannotTakeNow", { name: Name }] : ["call.theyDeclined", { name: Name }];
    case "busy":
      return ["call.busy", { name: Name }];
    case "timeout":
      return waitingRoom && outgoing ? ["call.nobodyLetIn"] : ["call.noAnswer"];
    case "cancel":
      return ["call.missed", { name }];
    case "closed":
      return them ? ["call.endedTheyClosed", { name }] : ["call.ended"];
    case "consent":
      return ["call.endedConsent"];
    case "failed":
      return ended.seconds === null ? ["call.couldNotConnect"] : ["call.connectionLost"];
    default:
      return ["call.ended"];
  }
}

export class CallPanel {
  constructor(session, { peerName, onAccept, onDecline, onHangUp, onClose }) {
    Object.assign(this, { session, peerName, onAccept, onDecline, onHangUp, onClose });
    this.remoteVideo = h("video", { id: "call-remote", autoplay: true, playsinline: true, "aria-label": t("call.remoteVideo", { name: peerName }) });
    this.localVideo = h("video", { id: "call-local", autoplay: true, playsinline: true, muted: true, "aria-label": t("call.localVideo") });
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
      h("h2", { id: "call-title" }, t("call.title", { media: s.media, name: this.peerName })),
      h("p", { id: "call-status", role: "status" }, status(s, this.peerName)),
      h("div", { class: "videos" }, this.remoteVideo, this.localVideo),
      this.#peerState(),
      s.code && !ended ? h("p", { id: "call-code" },
        t("call.readCode"), h("strong", { class: "digits" }, s.code),
        h("span", { class: "muted" }, t("call.codesDiffer"))) : null,
      h("div", { class: "row" }, ...this.#buttons()),
    ];
    this.el.replaceChildren(...parts.filter(Boolean));
    if (hadFocus) document.getElementById(hadFocus)?.focus();
  }

  #peerState() {
    const s = this.session;
    if (!["connected", "reconnecting"].includes(s.state)) return null;
    const notes = [];
    if (!s.peer.audio) notes.push(t("call.peerMuted", { name: cap(this.peerName) }));
    if (s.media === "video" && !s.peer.video) notes.push(t("call.peerCameraOff", { name: cap(this.peerName) }));
    return notes.length ? h("p", { id: "call-peer-state", class: "muted" }, notes.join(" ")) : null;
  }

  #buttons() {
    const s = this.session;
    const button = (id, label, onclick, extra = {}) => h("button", { type: "button", id, onclick, ...extra }, label);
    if (s.state === "incoming") {
      return [
        button("call-accept", s.waitingRoom ? t("call.admit") : t("call.accept"), this.onAccept),
        button("call-decline", t("call.decline"), this.onDecline, { class: "danger" }),
      ];
    }
    if (s.state === "ringing") {
      return [button("call-hangup", s.waitingRoom ? t("call.leaveWaitingRoom") : t("call.cancel"), this.onHangUp, { class: "danger" })];
    }
    if (s.state === "ended") return [button("call-close", t("common.close"), this.onClose, { class: "secondary" })];
    const controls = [
      button("call-mute", s.muted ? t("call.unmute") : t("call.mute"), () => s.toggleMute(), { class: "secondary", "aria-pressed": String(s.muted) }),
    ];
    if (s.media === "video") {
      controls.push(button("call-camera", s.cameraOff ? t("call.cameraOn") : t("call.cameraOff"), () => s.toggleCamera(),
        { class: "secondary", "aria-pressed": String(s.cameraOff) }));
    }
    controls.push(button("call-hangup", t("call.hangUp"), this.onHangUp, { class: "danger" }));
    return controls;
  }

  remove() {
    this.el.remove();
  }
}
