// A group call's screen, in the same place as a one-to-one call's (above the page, id
// "call"): a tile per participant with their display name, the waiting room for workers,
// one code for the whole call and one per pair, and every state said in words.
import { h } from "../shared/dom.js";
import { t } from "../shared/i18n.js";

export function groupEndedText({ ended }) {
  return t("call.group.ended", { reason: ended.reason });
}

function status(call) {
  if (call.state === "available") return t("call.group.available", { count: call.seen.size });
  if (call.state === "waiting") return t("call.group.waiting");
  if (call.state === "ended") return groupEndedText(call);
  const others = [...call.links.values()].filter((e) => e.state === "connected").length;
  return others ? t("call.group.connected", { count: others }) : t("call.group.alone");
}

export class GroupCallPanel {
  constructor(call, { groupName, onEnter, onAdmit, onRefuse, onHangUp, onClose }) {
    Object.assign(this, { call, groupName, onEnter, onAdmit, onRefuse, onHangUp, onClose });
    this.videos = new Map();
    this.localVideo = h("video", { id: "call-local", autoplay: true, playsinline: true, muted: true, "aria-label": t("call.group.yourVideo") });
    this.localVideo.muted = true;
    this.el = h("section", { id: "call", class: "call group-call", "aria-labelledby": "call-title" });
    const app = document.getElementById("app");
    app.parentNode.insertBefore(this.el, app);
    this.update();
  }

  #video(entry) {
    let video = this.videos.get(entry.key);
    if (!video) {
      video = h("video", { autoplay: true, playsinline: true, "aria-label": t("call.group.videoOf", { name: entry.name }) });
      this.videos.set(entry.key, video);
    }
    if (entry.remote && video.srcObject !== entry.remote) {
      video.srcObject = entry.remote;
      video.play().catch(() => {});
    }
    video.hidden = this.call.media !== "video" || !entry.remote || entry.peer.video === false;
    return video;
  }

  #tiles() {
    const c = this.call;
    if (c.state !== "in-call") return null;
    const tiles = [...c.links.values()].map((e) => {
      const notes = [];
      if (e.state === "connecting") notes.push(t("call.group.linkConnecting", { name: e.name }));
      if (e.state === "reconnecting") notes.push(t("call.group.linkReconnecting", { name: e.name }));
      if (!e.peer.audio) notes.push(t("call.group.peerMuted", { name: e.name }));
      if (c.media === "video" && !e.peer.video) notes.push(t("call.group.peerCameraOff", { name: e.name }));
      return h("figure", { class: "tile", "data-member": e.key, "data-state": e.state },
        this.#video(e), h("figcaption", {}, e.name, notes.length ? h("span", { class: "muted" }, ` ${notes.join(" ")}`) : null));
    });
    if (c.local && this.localVideo.srcObject !== c.local) {
      this.localVideo.srcObject = c.local;
      this.localVideo.play().catch(() => {});
    }
    this.localVideo.hidden = c.media !== "video" || !c.local || c.cameraOff;
    return h("div", { class: "videos tiles" }, ...tiles, this.localVideo);
  }

  #codes() {
    const c = this.call;
    if (c.state !== "in-call" || !c.code) return null;
    const pairs = [...c.links.values()].filter((e) => e.code);
    return h("div", { id: "call-code" },
      h("p", {}, t("call.group.code"), " ", h("strong", { class: "digits", id: "call-group-code" }, c.code),
        h("span", { class: "muted" }, ` ${t("call.group.codeHint")}`)),
      h("details", {}, h("summary", {}, t("call.group.pairCodes")),
        h("ul", { id: "call-pair-codes" }, pairs.map((e) => h("li", { "data-member": e.key, "data-name": e.name },
          t("call.group.pairCode", { name: e.name }), " ", h("strong", { class: "digits" }, e.code))))));
  }

  #waitingRoom() {
    const c = this.call;
    if (!c.knocks.size) return null;
    const entries = [...c.knocks.keys()].map((key) => {
      const name = c.member(key)?.name ?? "";
      return h("li", { "data-member": key }, t("call.group.knock", { name }), " ",
        h("button", { type: "button", class: "call-admit", disabled: c.full, onclick: () => this.onAdmit(key) }, t("call.group.admit", { name })),
        h("button", { type: "button", class: "danger call-refuse", onclick: () => this.onRefuse(key) }, t("call.group.refuse", { name })));
    });
    return h("div", { class: "card", id: "call-waiting-room" },
      h("h3", {}, t("call.group.waitingRoom")), c.full ? h("p", { class: "muted" }, t("call.group.full")) : null,
      h("ul", {}, entries));
  }

  #buttons() {
    const c = this.call;
    const button = (id, label, onclick, extra = {}) => h("button", { type: "button", id, onclick, ...extra }, label);
    if (c.state === "available") {
      return [button("call-join", c.self.worker ? t("call.group.join") : t("call.group.askToJoin"), this.onEnter)];
    }
    if (c.state === "waiting") return [button("call-hangup", t("call.group.leaveWaiting"), this.onHangUp, { class: "danger" })];
    if (c.state === "ended") return [button("call-close", t("call.group.close"), this.onClose, { class: "secondary" })];
    const controls = [button("call-mute", c.muted ? t("call.group.unmute") : t("call.group.mute"), () => c.toggleMute(),
      { class: "secondary", "aria-pressed": String(c.muted) })];
    if (c.media === "video") {
      controls.push(button("call-camera", c.cameraOff ? t("call.group.cameraOn") : t("call.group.cameraOff"), () => c.toggleCamera(),
        { class: "secondary", "aria-pressed": String(c.cameraOff) }));
    }
    controls.push(button("call-hangup", t("call.group.hangUp"), this.onHangUp, { class: "danger" }));
    return controls;
  }

  update() {
    const c = this.call;
    this.el.dataset.state = c.state;
    this.el.dataset.participants = String(c.state === "in-call" ? c.participants : 0);
    if (c.state === "ended") this.el.dataset.endReason = c.ended.reason;
    const hadFocus = this.el.contains(document.activeElement) ? document.activeElement.id : null;
    const parts = [
      h("h2", { id: "call-title" }, t("call.group.title", { media: c.media, group: this.groupName })),
      h("p", { id: "call-status", role: "status" }, status(c)),
      this.#waitingRoom(),
      this.#tiles(),
      this.#codes(),
      h("div", { class: "row" }, ...this.#buttons()),
    ];
    this.el.replaceChildren(...parts.filter(Boolean));
    if (hadFocus) document.getElementById(hadFocus)?.focus();
  }

  remove() {
    this.el.remove();
  }
}
