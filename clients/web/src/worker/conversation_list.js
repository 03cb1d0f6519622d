// The worker's list of conversations: newest activity first with its time, a search over the
// local aliases that runs on this device only (nothing is sent anywhere while typing), and
// archived conversations kept apart until the worker opens them again.
import { relativeTime } from "../shared/chatview.js";
import { fold, lastActivity, listConversations } from "../shared/conversation.js";
import { h } from "../shared/dom.js";
import { t } from "../shared/i18n.js";

// `item(key, conv)` draws one entry's button; `query` is the search kept across redraws.
export function conversationList(conversations, { item, query, onQuery }) {
  const row = ([key, conv]) => h("li", { "data-search": fold(conv.alias) },
    item(key, conv, relativeTime(lastActivity(conv))));
  const active = listConversations(conversations);
  const archived = listConversations(conversations, { archived: true });
  if (!active.length && !archived.length) return [h("p", { class: "muted" }, t("worker.list.empty"))];
  const list = h("ul", { class: "conversations", id: "conversation-list" }, active.map(row));
  const archive = archived.length
    ? h("details", { class: "archived", id: "archived-conversations" },
      h("summary", {}, t("worker.list.archived", { count: archived.length })),
      h("ul", { class: "conversations" }, archived.map(row)))
    : null;
  const none = h("p", { class: "muted", id: "search-none", hidden: true }, t("worker.list.noMatch"));
  const search = h("input", { type: "search", id: "conversation-search", value: query, autocomplete: "off", spellcheck: "false" });
  const filter = () => {
    const wanted = fold(search.value.trim());
    let shown = 0;
    let shownArchived = 0;
    for (const li of [list, archive].filter(Boolean).flatMap((el) => [...el.querySelectorAll("li[data-search]")])) {
      li.hidden = Boolean(wanted) && !li.dataset.search.includes(wanted);
      if (!li.hidden) li.closest("details") ? (shownArchived += 1) : (shown += 1);
    }
    // A search that only matches archived conversations shows them.
    if (archive && wanted) archive.open = shownArchived > 0;
    none.hidden = !wanted || shown + shownArchived > 0;
  };
  search.addEventListener("input", () => {
    onQuery(search.value);
    filter();
  });
  filter();
  return [
    h("label", { for: "conversation-search", class: "search-label" }, t("worker.list.search")),
    search,
    list, none, archive,
  ];
}
