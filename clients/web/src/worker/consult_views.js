// The consultation screens: asking (choose messages, review the de-identified draft, send),
// the threads under a conversation, and the supervisor's inbox. Views keep their working
// state in `ws.view`, so a redraw on an incoming message loses nothing being written.
import { announce, field, formatTime, h } from "../shared/dom.js";
import { addTerm, applyRedactions, toggle } from "./deidentify.js";
import { otherNames, prepareDraft } from "./consult.js";

const KIND_NAME = {
  client: "client's name", name: "name", phone: "phone number", email: "e-mail address", address: "address",
  date: "date", age: "age over 89", url: "web address", handle: "handle", ip: "IP address", id: "ID number",
  number: "number", manual: "added by you",
};

// The draft with every redaction as a button: pressing one shows the original (undo), or
// masks it again.
function draftPreview(ws, view) {
  const { original, redactions } = view.draft;
  const out = h("p", { id: "consult-draft", class: "draft", "aria-label": "De-identified draft" });
  let at = 0;
  redactions.forEach((r, index) => {
    out.append(original.slice(at, r.start));
    out.append(h("button", {
      type: "button", class: r.undone ? "redaction undone" : "redaction", "data-kind": r.kind, "data-index": index,
      "aria-pressed": r.undone ? "false" : "true",
      title: r.undone ? `Shown as written: press to hide this ${KIND_NAME[r.kind]}` : `Hidden ${KIND_NAME[r.kind]}: press to show it as written`,
      onclick: () => {
        view.draft.redactions = toggle(view.draft.redactions, index);
        ws.render();
      },
    }, r.undone ? r.original : r.label));
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
    h("h3", { id: "review-title" }, "Review before sending"),
    h("p", { class: "muted" }, `${active} redaction(s). The finder helps, it does not replace reading: check every line.`),
    draftPreview(ws, view),
    h("form", {
      onsubmit: (event) => {
        event.preventDefault();
        view.draft.redactions = addTerm(view.draft.original, view.draft.redactions, hide.value);
        ws.render();
      },
    }, ...field("consult-hide", "Also hide (every occurrence)", hide), h("button", { type: "submit", class: "secondary" }, "Hide")),
    h("div", { class: "row" }, h("button", {
      type: "button", id: "consult-send",
      onclick: async () => {
        try {
          const text = applyRedactions(view.draft.original, view.draft.redactions).text;
          const label = await ws.consult.ask(view.supervisor, text, key);
          await ws.session.save();
          announce(`Sent to the supervisor as case ${label}.`);
          ws.go({ name: "conversation", key });
        } catch (err) {
          error.textContent = `Not sent: ${err.message}`;
        }
      },
    }, "Send to supervisor")),
    error);
}

function supervisorChoice(ws, view) {
  const select = h("select", { id: "consult-supervisor", required: true, onchange: () => { view.supervisor = select.value; } },
    h("option", { value: "" }, view.supervisors ? "Choose a supervisor" : "Loading…"),
    (view.supervisors ?? []).map((s) => h("option", { value: s.device_id, selected: s.device_id === view.supervisor }, `Supervisor ${s.worker_id.slice(0, 8)}`)));
  if (!view.supervisors) {
    ws.consult.supervisors().then((list) => {
      view.supervisors = list;
      ws.render();
    }, (err) => announce(`Could not list supervisors: ${err.message}`));
  }
  return field("consult-supervisor", "Supervisor", select);
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
    return h("li", {}, h("label", { class: "check" }, box, `${m.mine ? "You" : "Them"}: ${m.body}`));
  });
  return h("section", { "aria-labelledby": "consult-title" },
    h("h1", { id: "consult-title" }, "Ask a supervisor"),
    h("p", { class: "muted" }, "Only a de-identified draft leaves this device, under a random case label. The supervisor never learns who this is."),
    ...supervisorChoice(ws, view),
    ...field("consult-question", "Your question", question),
    h("fieldset", {}, h("legend", {}, "Messages to include"), picks.length ? h("ul", { class: "picks" }, picks) : h("p", { class: "muted" }, "No messages.")),
    ...field("consult-names", "Other names they go by (comma-separated, kept on this device)", names),
    h("div", { class: "row" },
      h("button", {
        type: "button", id: "consult-prepare",
        onclick: async () => {
          conv.names = names.value.split(",").map((n) => n.trim()).filter(Boolean);
          await ws.session.save();
          view.draft = prepareDraft(view.question ?? "", conv, view.selected, otherNames(ws.state.conversations, conv));
          ws.render();
        },
      }, "Prepare draft"),
      h("button", { type: "button", class: "secondary", onclick: () => ws.go({ name: "conversation", key }) }, "Cancel")),
    view.draft && view.supervisor ? reviewSection(ws, key, view) : view.draft ? h("p", { class: "error", role: "alert" }, "Choose a supervisor first.") : null);
}

function threadView(ws, label, thread, { heading }) {
  const reply = h("textarea", { id: `reply-${label}`, rows: 2 });
  const who = (n) => (n.mine ? "You" : thread.asking ? "Supervisor" : "Worker");
  return h("article", { class: "thread", "data-case": label, "aria-label": `Case ${label}` },
    h(heading, {}, `Case ${label}`, thread.closed ? h("span", { class: "badge" }, "Closed") : null),
    thread.asking ? null : h("p", { class: "muted" }, `From worker ${thread.workerId.slice(0, 8)}`),
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
          announce(`Not sent: ${err.message}`);
        }
      },
    }, ...field(`reply-${label}`, thread.asking ? "Follow up" : "Reply", reply),
    h("div", { class: "row" },
      h("button", { type: "submit" }, thread.asking ? "Send" : "Reply"),
      h("button", {
        type: "button", class: "secondary",
        onclick: async () => {
          await ws.consult.close(label).catch((err) => announce(`Could not close: ${err.message}`));
          await ws.session.save();
          ws.render();
        },
      }, "Close"))));
}

// The consultations about one conversation, on the asking worker's device.
export function threadsFor(ws, key) {
  const threads = ws.consult.threads((t) => t.asking && t.contactKey === key);
  if (!threads.length) return null;
  return h("section", { "aria-labelledby": "conv-consults", class: "consults" },
    h("h3", { id: "conv-consults" }, "Consultations"),
    threads.map(([label, t]) => threadView(ws, label, t, { heading: "h4" })));
}

// The supervisor's inbox: every case asked of this device, newest first.
export function inboxView(ws) {
  const threads = ws.consult.threads((t) => !t.asking);
  return h("section", { "aria-labelledby": "inbox-title" },
    h("h1", { id: "inbox-title" }, "Consultations"),
    h("p", { class: "muted" }, "Questions colleagues asked you, de-identified on their devices. They disappear after the organisation's retention period."),
    threads.length ? threads.map(([label, t]) => threadView(ws, label, t, { heading: "h3" })) : h("p", { class: "muted" }, "No consultations."));
}
