// At most one group call per page, and none during a one-to-one call (calls.js): this
// routes `group-call` payloads from current members of a group to its call, shows a call
// that others started (so members can join it), and turns a closed tab into leaving.
// The app says who is in the group and how to reach each member (`context(groupId)`).
import { announce } from "../shared/dom.js";
import { t } from "../shared/i18n.js";
import { iceConfig } from "./calls.js";
import { groupCallPayload, parseGroupCall } from "./group_signal.js";
import { GroupCallPanel, groupEndedText } from "./group_panel.js";
import { GroupCall } from "./mesh.js";
import { errorText } from "../shared/problems.js";

// Members of a group must not learn each other's network addresses (they see names and
// roles only), so a group call's media always goes through TURN when the relay offers it,
// whatever CONFIDE_TURN_RELAY_ONLY says for one-to-one calls.
async function groupIceConfig(token) {
  const config = await iceConfig(token);
  return config.iceServers.length ? { ...config, iceTransportPolicy: "relay" } : config;
}

export class GroupCalls {
  // `context(groupId)` gives {name, self: {key, worker, identityKey}, member(key),
  // members(), send(key, payload) -> Promise} or null; `otherBusy()` whether a one-to-one
  // call is on; `onEnded(groupId, call, text)` records the call in the group.
  // `beforeEnter(media)` may ask something before this page starts or joins a call (the
  // worker's checklist) and resolves false to leave it for now.
  constructor({ sodium, newId, token, context, otherBusy = () => false, onEnded = () => {}, onState = () => {}, notify = () => {}, beforeEnter = async () => true }) {
    Object.assign(this, { sodium, newId, token, context, otherBusy, onEnded, onState, notify, beforeEnter });
    this.current = null;
    addEventListener("pagehide", () => {
      if (this.busy) this.current.call.hangUp("closed");
    });
  }

  get busy() {
    return Boolean(this.current?.call.live);
  }

  // The group's call as this page knows it (available, live or ended), or null.
  callFor(groupId) {
    return this.current?.groupId === groupId ? this.current.call : null;
  }

  // Starts a call (a worker) or asks to join one (a client), or joins the call on screen.
  async enter(groupId, media) {
    const blocked = () => this.otherBusy() || (this.busy && this.current.groupId !== groupId);
    if (blocked()) return;
    if (!this.callFor(groupId)?.live && (!(await this.beforeEnter(media)) || blocked())) return;
    let call = this.callFor(groupId);
    if (!call || call.state === "ended") call = this.#open(groupId, { id: this.newId(), media });
    try {
      await call.enter();
    } catch (err) {
      announce(t("call.group.failed", { reason: errorText(err) }));
      await call.hangUp("failed");
    }
  }

  async receive(groupId, from, payload) {
    const msg = parseGroupCall(payload);
    if (!msg || msg.group !== groupId) return;
    let call = this.callFor(groupId);
    if (call && call.id !== msg.call) {
      // A knock may name a call id of the client's own making: it asks for this group's
      // call. The answer to a knock names the worker's call, which the client then joins.
      if (msg.op === "knock" && call.state !== "ended") msg.call = call.id;
      else if (call.state === "waiting" && ["admit", "refuse"].includes(msg.op)) call.id = msg.call;
      else if (call.live || !["join", "knock"].includes(msg.op)) return;
      else call = null;
    }
    if (!call) {
      if (!["join", "knock"].includes(msg.op) || this.busy || this.otherBusy()) return;
      call = this.#open(groupId, { id: msg.call, media: msg.media });
      this.notify(t("call.group.notify"));
    }
    try {
      await call.receive(from, msg);
    } catch (err) {
      announce(t("call.group.failed", { reason: errorText(err) }));
    }
  }

  // A member the group removed, or the whole group gone (member null): the call lets go.
  forget(groupId, member) {
    const call = this.callFor(groupId);
    if (!call) return;
    if (member === null) call.hangUp("removed");
    else call.forget(member);
  }

  #open(groupId, { id, media }) {
    this.current?.panel.remove();
    const ctx = this.context(groupId);
    const call = new GroupCall({
      id, media, group: groupId, self: ctx.self, sodium: this.sodium,
      member: (key) => this.context(groupId)?.member(key) ?? null,
      members: () => this.context(groupId)?.members() ?? [],
      send: (key, op, fields) => this.context(groupId).send(key, groupCallPayload(this.newId(), groupId, call.id, op, fields)),
      iceConfig: () => groupIceConfig(this.token()),
      onChange: () => this.#changed(call),
    });
    const panel = new GroupCallPanel(call, {
      groupName: ctx.name,
      onEnter: () => this.enter(groupId, call.media),
      onAdmit: (key) => call.admit(key),
      onRefuse: (key) => call.refuseKnock(key),
      onHangUp: () => call.hangUp(),
      onClose: () => {
        panel.remove();
        if (this.current?.call === call) this.current = null;
        this.onState();
      },
    });
    this.current = { groupId, call, panel, logged: false };
    return call;
  }

  #changed(call) {
    const current = this.current;
    if (!current || current.call !== call) return;
    // A call this page never joined, which everyone has left, leaves the screen.
    if (call.state === "available" && !call.seen.size && !call.knocks.size) {
      current.panel.remove();
      this.current = null;
      this.onState();
      return;
    }
    current.panel.update();
    this.onState();
    if (call.state === "ended" && !current.logged) {
      current.logged = true;
      const text = groupEndedText(call);
      announce(text);
      this.onEnded(current.groupId, call, text);
    }
  }

  wipe() {
    const current = this.current;
    this.current = null;
    current?.panel.remove();
    return current?.call.live ? current.call.hangUp("closed") : Promise.resolve();
  }
}
