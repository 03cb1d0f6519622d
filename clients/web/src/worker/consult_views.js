// The consultation screens: asking (choose messages, review the de-identified draft, send),
// the threads under a conversation, and the supervisor's inbox. Views keep their working
// state in `ws.view`, so a redraw on an incoming message loses nothing being written.
import { announce, field, formatTime, h } from "../shared/dom.js";
import { t } from "../shared/i18n.js";
import { addTerm, toggle } from "./deidentify.js";
import { draftToSend, otherNames, prepareDraft, redactionToken } from "./consult.js";
import { errorText } from "../shared/problems.js";

const kindName = (kind) => t(`consult.kind.${kind}`);

// The draft with every redaction as a button: pressing one shows the original (undo), or
// masks it again.
function draftPreview(ws, view) {
  const { original, redactions } = view.draft;
  const out = h("p", { id: "consult-draft", class: "draft", "aria-label": t("consult.draftLabel") });
  let at = 0;
  redactions.forEach((r, index) => {
    out.append(original.slice(at, r.start));
    out.append(h("button", {
      type: "button", class: r.undone ? "redaction undone" : "redaction", "data-kind": r.kind, "data-index": index,
      "aria-pressed": r.undone ? "false" : "true",
      title: r.undone ? t("consult.shownAsWritten", { kind: kindName(r.kind) }) : t("consult.hidden", { kind: kindName(r.kind) }),
      onclick: () => {
        view.draft.redactions = toggle(view.draft.redactions, index);
        ws.render();
      },
    }, r.undone ? r.original : redactionToken(r)));
    at = r.end;
  });
  out.append(original.slice(at));
  return out;
}

function reviewSection(ws, key, view) {
  const hide = h("input", { id: "consult-hide", autocomplete: "off" });
  const error = h("p", { class: "error", role: "alert" });
  const active = view.draft.redactions.filter((r) => !r.undone).length;
  return h("section", { "aria-labelledby": "review-title" },
    h("h3", { id: "review-title" }, t("consult.reviewTitle")),
    h("p", { class: "muted" }, t("consult.redactions", { count: active })),
    draftPreview(ws, view),
    h("form", {
      onsubmit: (event) => {
        event.preventDefault();
        view.draft.redactions = addTerm(view.draft.original, view.draft.redactions, hide.value);
        ws.render();
      },
    }, ...field("consult-hide", t("consult.alsoHide"), hide), h("button", { type: "submit", class: "secondary" }, t("consult.hide"))),
    h("div", { class: "row" }, h("button", {
      type: "button", id: "consult-send",
      onclick: async () => {
        try {
          const text = draftToSend(view.draft);
          const label = await ws.consult.ask(view.supervisor, text, key);
          await ws.session.save();
          announce(t("consult.sentAsCase", { label }));
          ws.go({ name: "conversation", key });
        } catch (err) {
          error.textContent = t("consult.notSent", { error: errorText(err) });
        }
      },
    }, t("consult.sendToSupervisor"))),
    error);
}

function supervisorChoice(ws, view) {
  const select = h("select", { id: "consult-supervisor", required: true, onchange: () => { view.supervisor = select.value; } },
    h("option", { value: "" }, view.supervisors ? t("consult.chooseSupervisor") : t("consult.loading")),
    (view.supervisors ?? []).map((s) => h("option", { value: s.device_id, selected: s.device_id === view.supervisor }, t("consult.supervisorOption", { id: s.worker_id.slice(0, 8) }))));
  if (!view.supervisors) {
    ws.consult.supervisors().then((list) => {
      view.supervisors = list;
      ws.render();
    }, (err) => announce(t("consult.couldNotList", { error: errorText(err) })));
  }
  return field("consult-supervisor", t("consult.supervisor"), select);
}

export function askView(ws, key) {
  const conv = ws.state.conversations[key];
  const view = ws.view;
  view.selected ??= [];
  const question = h("textarea", { id: "consult-question", rows: 3, oninput: () => { view.question = question.value; } });
  question.value = view.question ?? "";
  const names = h("input", { id: "consult-names", autocomplete: "off", value: (conv.names ?? []).join(", ") });
  const picks = conv.messages.filter((m) => m.kind === "text").map((m) => {
    const box = h("input", {
      type: "checkbox", "data-message-id": m.id, checked: view.selected.includes(m.id),
      onchange: () => {
        view.selected = box.checked ? [...view.selected, m.id] : view.selected.filter((id) => id !== m.id);
      },
    });
    return h("li", {}, h("label", { class: "check" }, box, `${m.mine ? t("consult.you") : t("consult.them")}: ${m.body}`));
  });
  return h("section", { "aria-labelledby": "consult-title" },
    h("h1", { id: "consult-title" }, t("consult.title")),
    h("p", { class: "muted" }, t("consult.intro")),
    ...supervisorChoice(ws, view),
    ...field("consult-question", t("consult.question"), question),
    h("fieldset", {}, h("legend", {}, t("consult.include")), picks.length ? h("ul", { class: "picks" }, picks) : h("p", { class: "muted" }, t("consult.noMessages"))),
    ...field("consult-names", t("consult.otherNames"), names),
    h("div", { class: "row" },
      h("button", {
        type: "button", id: "consult-prepare",
        onclick: async () => {
          conv.names = names.value.split(",").map((n) => n.trim()).filter(Boolean);
          await ws.session.save();
          view.draft = prepareDraft(view.question ?? "", conv, view.selected, otherNames(ws.state.conversations, conv));
          ws.render();
        },
      }, t("consult.prepare")),
      h("button", { type: "button", class: "secondary", onclick: () => ws.go({ name: "conversation", key }) }, t("common.cancel"))),
    view.draft && view.supervisor ? reviewSection(ws, key, view) : view.draft ? h("p", { class: "error", role: "alert" }, t("consult.chooseFirst")) : null);
}

function threadView(ws, label, thread, { heading }) {
  const reply = h("textarea", { id: `reply-${label}`, rows: 2 });
  const who = (n) => (n.mine ? t("consult.you") : thread.asking ? t("consult.supervisor") : t("consult.worker"));
  return h("article", { class: "thread", "data-case": label, "aria-label": t("consult.case", { label }) },
    h(heading, {}, t("consult.case", { label }), thread.closed ? h("span", { class: "badge" }, t("consult.closed")) : null),
    thread.asking ? null : h("p", { class: "muted" }, t("consult.fromWorker", { id: thread.workerId.slice(0, 8) })),
    h("ol", { class: "messages" }, thread.notes.map((n) => h("li", { class: `message${n.mine ? " mine" : ""}` },
      h("span", { class: "text" }, n.text), h("span", { class: "meta" }, `${who(n)} · ${formatTime(n.at * 1000)}`)))),
    thread.closed ? null : h("form", {
      onsubmit: async (event) => {
        event.preventDefault();
        if (!reply.value.trim()) return;
        try {
          await ws.consult.reply(label, reply.value.trim());
          await ws.session.save();
          ws.render();
        } catch (err) {
          announce(t("consult.notSent", { error: errorText(err) }));
        }
      },
    }, ...field(`reply-${label}`, thread.asking ? t("consult.followUp") : t("consult.reply"), reply),
    h("div", { class: "row" },
      h("button", { type: "submit" }, thread.asking ? t("chat.send") : t("consult.reply")),
      h("button", {
        type: "button", class: "secondary",
        onclick: async () => {
          await ws.consult.close(label).catch((err) => announce(t("consult.couldNotClose", { error: errorText(err) })));
          await ws.session.save();
          ws.render();
        },
      }, t("common.close")))));
}

// The consultations about one conversation, on the asking worker's device.
export function threadsFor(ws, key) {
  const threads = ws.consult.threads((thread) => thread.asking && thread.contactKey === key);
  if (!threads.length) return null;
  return h("section", { "aria-labelledby": "conv-consults", class: "consults" },
    h("h3", { id: "conv-consults" }, t("consult.threadsTitle")),
    threads.map(([label, thread]) => threadView(ws, label, thread, { heading: "h4" })));
}

// The supervisor's inbox: every case asked of this device, newest first.
export function inboxView(ws) {
  const threads = ws.consult.threads((thread) => !thread.asking);
  return h("section", { "aria-labelledby": "inbox-title" },
    h("h1", { id: "inbox-title" }, t("consult.threadsTitle")),
    h("p", { class: "muted" }, t("consult.inboxIntro")),
    threads.length ? threads.map(([label, thread]) => threadView(ws, label, thread, { heading: "h3" })) : h("p", { class: "muted" }, t("consult.none")));
}
