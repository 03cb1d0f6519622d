// One group call as this page takes part in it: a full mesh of PeerLinks (link.js), one per
// other participant, sharing this page's camera, microphone and DTLS certificate, with at
// most MAX_PARTICIPANTS people in the call. Signalling is group_signal.js, sent pairwise
// through `send(memberKey, op, fields)`, which the owner encrypts end to end.
//
// Who may connect to whom: a worker of the group joins at once; a client knocks and waits
// until a worker in the call admits them (the waiting room). A participant offers a link to
// a joiner only when the joiner is a worker, or a worker told it that the joiner was
// admitted; a newcomer takes offers only from workers and from the participants its
// admission named. So no member reaches anyone's camera without a worker's say.
//
// States: available (a call is on; this page is not in it) | waiting (a client in the
// waiting room) | in-call | ended.
import { groupCallCode, callCode } from "./code.js";
import { PeerLink, mediaState, openMedia, setTracks } from "./link.js";
import { MAX_PARTICIPANTS } from "./group_signal.js";
import { RECONNECT_MS, SETUP_MS, WAITING_ROOM_MS } from "./session.js";

// A join from a client waits this long for the worker's word that they were admitted (the
// two travel through different mailboxes and may arrive in either order).
const ADMISSION_WAIT_MS = 30_000;

export class GroupCall {
  // `self` is {key, worker, identityKey}; `member(key)` gives {name, worker, identityKey} for
  // another current member of the group, or null; `members()` their keys.
  constructor({ id, media, group, self, member, members, send, iceConfig, sodium, onChange }) {
    Object.assign(this, { id, media, group, self, member, members, send, iceConfig, sodium, onChange });
    this.state = "available";
    this.local = null;
    this.config = null;
    this.certificate = null;
    this.links = new Map();
    this.admitted = new Set();
    this.pendingJoins = new Map();
    this.knocks = new Map();
    this.seen = new Set();
    this.muted = false;
    this.cameraOff = false;
    this.code = null;
    this.joinedAt = null;
    this.ended = null;
    this.timers = {};
  }

  get live() {
    return this.state === "waiting" || this.state === "in-call";
  }

  get participants() {
    return 1 + this.links.size;
  }

  get full() {
    return this.participants >= MAX_PARTICIPANTS;
  }

  #timer(name, ms, fire) {
    clearTimeout(this.timers[name]);
    this.timers[name] = setTimeout(fire, ms);
  }

  #clear(name) {
    clearTimeout(this.timers[name]);
    delete this.timers[name];
  }

  #workers() {
    return this.members().filter((key) => this.member(key)?.worker);
  }

  #sendMany(keys, op, fields) {
    return Promise.all(keys.map((key) => this.send(key, op, fields).catch(() => {})));
  }

  // --- this person's actions --------------------------------------------------------------

  // A worker starts or joins the call; a client knocks and waits to be admitted.
  async enter() {
    if (this.live) return;
    this.local = await openMedia(this.media);
    if (!this.self.worker) {
      this.state = "waiting";
      this.#timer("waiting", WAITING_ROOM_MS, () => this.hangUp("timeout"));
      this.onChange();
      await this.#sendMany(this.#workers(), "knock", { media: this.media });
      return;
    }
    await this.#joinCall();
  }

  async #joinCall() {
    this.#clear("waiting");
    this.config = await this.iceConfig();
    this.certificate = await RTCPeerConnection.generateCertificate({ name: "ECDSA", namedCurve: "P-256" });
    this.state = "in-call";
    this.joinedAt = Date.now();
    this.onChange();
    await this.#sendMany(this.members(), "join", { media: this.media });
  }

  async admit(key) {
    const knock = this.knocks.get(key);
    if (!knock || !this.self.worker) return;
    this.knocks.delete(key);
    if (this.state !== "in-call") await this.#joinCall();
    if (this.full) {
      this.onChange();
      await this.send(key, "refuse", { reason: "full" }).catch(() => {});
      return;
    }
    this.admitted.add(key);
    this.onChange();
    const others = [...this.links.keys()];
    await this.#sendMany(others, "admitted", { member: key });
    await this.send(key, "admit", { participants: [this.self.key, ...others] });
  }

  async refuseKnock(key) {
    if (!this.knocks.delete(key)) return;
    this.onChange();
    await this.send(key, "refuse", { reason: "declined" }).catch(() => {});
  }

  // Leaves the call or the waiting room and tells whoever needs to know.
  async hangUp(reason = "hangup") {
    if (!this.live) return;
    const told = this.state === "waiting" ? this.#workers() : [...this.links.keys()];
    this.#finish(reason, "me");
    await this.#sendMany(told, "leave", { reason });
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
    this.#sendMany([...this.links.keys()], "media", mediaState(this));
  }

  // --- what the others send ---------------------------------------------------------------

  async receive(from, msg) {
    const who = this.member(from);
    if (!who || this.state === "ended") return;
    switch (msg.op) {
      case "join":
        this.seen.add(from);
        if (this.state === "in-call") await this.#joined(from, who);
        else this.onChange();
        break;
      case "knock":
        if (this.self.worker && !who.worker) {
          this.knocks.set(from, { at: Date.now() });
          this.onChange();
        }
        break;
      case "admit":
        if (this.state === "waiting" && who.worker) {
          for (const key of msg.participants) this.admitted.add(key);
          await this.#joinCall();
        }
        break;
      case "admitted":
        if (who.worker && this.links.has(from)) await this.#admitted(msg.member);
        break;
      case "refuse":
        if (this.state === "waiting" && who.worker) this.#finish(msg.reason, "them");
        break;
      case "leave":
        this.seen.delete(from);
        this.knocks.delete(from);
        this.pendingJoins.delete(from);
        this.#drop(from);
        break;
      default:
        await this.#linkMessage(from, who, msg);
    }
  }

  #allowed(key, who) {
    return who.worker || this.admitted.has(key);
  }

  async #joined(key, who) {
    if (!this.#allowed(key, who)) {
      // The worker's word may still be on its way; the join waits for it a little.
      this.pendingJoins.set(key, who);
      this.#timer(`pending-${key}`, ADMISSION_WAIT_MS, () => this.pendingJoins.delete(key));
      return;
    }
    // A join from someone already linked means they started over (a reload): the old link
    // goes. One still being set up is the other half of two people joining at once.
    const existing = this.links.get(key);
    if (existing?.state === "connecting") return;
    if (existing) this.#drop(key, false);
    if (this.full) {
      await this.send(key, "refuse", { reason: "full" }).catch(() => {});
      return;
    }
    const link = this.#link(key);
    await link.link.offer();
  }

  async #admitted(key) {
    this.admitted.add(key);
    const who = this.pendingJoins.get(key);
    if (!who) return;
    this.pendingJoins.delete(key);
    this.#clear(`pending-${key}`);
    await this.#joined(key, who);
  }

  async #linkMessage(from, who, msg) {
    if (this.state !== "in-call") return;
    const entry = this.links.get(from);
    if (msg.op === "offer") {
      if (!this.#allowed(from, who)) return;
      // Both sides offered at once: the smaller identity key keeps its own offer.
      if (entry?.link.offering && this.self.key < from) return;
      if (entry) this.#drop(from, false);
      if (this.full) return;
      await this.#link(from).link.answer(msg.sdp);
      return;
    }
    if (!entry) return;
    if (msg.op === "answer") await entry.link.answered(msg.sdp);
    else if (msg.op === "candidate") await entry.link.addCandidate(msg.candidate);
    else if (msg.op === "media") {
      entry.peer = { audio: msg.audio, video: msg.video };
      this.onChange();
    }
  }

  // --- the links ----------------------------------------------------------------------------

  #link(key) {
    const who = this.member(key);
    const entry = { key, name: who.name, identityKey: who.identityKey, state: "connecting", code: null, remote: null,
      peer: { audio: true, video: this.media === "video" } };
    entry.link = new PeerLink({
      config: this.config,
      local: this.local,
      certificate: this.certificate,
      send: (op, fields) => this.send(key, op, fields),
      onRemote: (stream) => {
        entry.remote = stream;
        this.onChange();
      },
      onState: (state) => this.#linkChanged(entry, state),
    }).open();
    this.links.set(key, entry);
    this.#timer(`setup-${key}`, SETUP_MS, () => {
      if (entry.state === "connecting") this.#drop(key);
    });
    this.onChange();
    return entry;
  }

  #linkChanged(entry, state) {
    if (this.links.get(entry.key) !== entry) return;
    if (state === "connected") {
      this.#clear(`setup-${entry.key}`);
      this.#clear(`reconnect-${entry.key}`);
      entry.state = "connected";
      const prints = entry.link.fingerprints();
      entry.fingerprint = prints?.theirs ?? null;
      this.fingerprint = prints?.mine ?? this.fingerprint;
      entry.code = prints ? callCode(this.sodium, { identityKey: this.self.identityKey, fingerprint: prints.mine },
        { identityKey: entry.identityKey, fingerprint: prints.theirs }) : null;
    } else if (state === "disconnected" && entry.state === "connected") {
      entry.state = "reconnecting";
      this.#timer(`reconnect-${entry.key}`, RECONNECT_MS, () => this.#drop(entry.key));
    } else if (state === "failed") {
      this.#drop(entry.key);
      return;
    }
    this.#recode();
    this.onChange();
  }

  #drop(key, redraw = true) {
    const entry = this.links.get(key);
    if (!entry) return;
    this.links.delete(key);
    this.#clear(`setup-${key}`);
    this.#clear(`reconnect-${key}`);
    entry.link.close();
    this.#recode();
    if (redraw) this.onChange();
  }

  // The call's code covers this page and every participant it is connected to.
  #recode() {
    const connected = [...this.links.values()].filter((e) => e.state !== "connecting" && e.fingerprint);
    this.code = connected.length && this.fingerprint
      ? groupCallCode(this.sodium, [{ identityKey: this.self.identityKey, fingerprint: this.fingerprint },
        ...connected.map((e) => ({ identityKey: e.identityKey, fingerprint: e.fingerprint }))])
      : null;
  }

  // A member the group removed leaves the call at once, and cannot knock or join again.
  forget(key) {
    this.knocks.delete(key);
    this.pendingJoins.delete(key);
    this.admitted.delete(key);
    this.seen.delete(key);
    this.#drop(key);
  }

  #finish(reason, by) {
    for (const name of Object.keys(this.timers)) this.#clear(name);
    for (const track of this.local?.getTracks() ?? []) track.stop();
    for (const key of [...this.links.keys()]) this.#drop(key, false);
    this.ended = { reason, by, seconds: this.joinedAt ? Math.round((Date.now() - this.joinedAt) / 1000) : null };
    this.state = "ended";
    this.onChange();
  }
}
