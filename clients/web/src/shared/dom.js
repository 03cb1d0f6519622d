// A tiny element builder. Text is always set as text, never parsed as HTML, so message
// bodies and aliases cannot inject markup.

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

// Replaces the main region and moves focus there, so screen readers announce the new screen.
export function show(...children) {
  const main = document.getElementById("app");
  main.replaceChildren(...children);
  // Someone working the call's controls (above the page) keeps their place while the
  // conversation below redraws.
  if (document.activeElement?.closest("#call")) return;
  const heading = main.querySelector("h1, h2");
  (heading ?? main).setAttribute("tabindex", "-1");
  (heading ?? main).focus();
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

export function formatTime(ms) {
  return new Date(ms).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
}
