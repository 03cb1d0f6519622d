// A tiny element builder. Text is always set as text, never parsed as HTML, so message
// bodies and aliases cannot inject markup.
import { formatDate } from "./i18n.js";

export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on") && typeof value === "function") {
      el.addEventListener(key.slice(2), value);
    } else if (key === "class") {
      el.className = value;
    } else if (value === true) {
      el.setAttribute(key, "");
    } else {
      el.setAttribute(key, String(value));
    }
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

const FOCUSABLE = "a[href], button, input, select, textarea, summary, [tabindex]:not([tabindex='-1'])";

// A view is known by its level-one heading: its id and its words ("conv-title", "Kim").
const viewOf = (root) => {
  const heading = root.querySelector("h1");
  return heading ? `${heading.id}\u0000${heading.textContent}` : null;
};

// What makes a control the same one after a redraw: its id, or else its kind and words.
const keyOf = (el) => el.id || `${el.tagName}\u0000${el.textContent}`;

// Replaces the main region. A new view moves focus to its level-one heading, so screen
// readers announce the new screen and keyboard users start from its top. The same view drawn
// again (a message arrived, the connection came back) keeps the focus where it was: on the
// control with the same id (or kind and words), or else the one at the same place.
export function show(...children) {
  const main = document.getElementById("app");
  const before = viewOf(main);
  const active = document.activeElement;
  const inside = active && active !== main && main.contains(active);
  const place = inside ? { key: keyOf(active), index: [...main.querySelectorAll(FOCUSABLE)].indexOf(active) } : null;
  main.replaceChildren(...children);
  // Someone working the call's controls (above the page) keeps their place while the
  // conversation below redraws.
  if (document.activeElement?.closest("#call")) return;
  if (before !== null && viewOf(main) === before) {
    // Focus elsewhere (the header, a dialog) is left alone; focus inside moves to its twin.
    if (!place) return;
    const now = [...main.querySelectorAll(FOCUSABLE)];
    const twin = now.find((el) => keyOf(el) === place.key) ?? now[place.index];
    if (twin && !twin.disabled) {
      twin.focus();
      return;
    }
  }
  focusHeading(main);
}

// Moves focus to the level-one heading of what `root` shows (or to `root` itself).
export function focusHeading(root) {
  const heading = root.querySelector("h1") ?? root;
  heading.setAttribute("tabindex", "-1");
  heading.focus();
}

export function announce(text) {
  const status = document.getElementById("status");
  status.textContent = "";
  // A fresh text node after a tick makes screen readers announce repeated messages too.
  setTimeout(() => {
    status.textContent = text;
  }, 50);
}

export function field(id, labelText, input) {
  input.id = id;
  return [h("label", { for: id }, labelText), input];
}

// A message's time, in the language shown (Intl, through the catalogue's language).
export function formatTime(ms) {
  return formatDate(ms, { hour: "2-digit", minute: "2-digit" });
}
