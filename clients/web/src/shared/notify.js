// Notifications with a fixed, neutral text: never a sender, a name or a word of a message,
// so a shared screen or a lock screen shows nothing of the conversation. The worker's say
// "New message", the client's "Something new" under the page's neutral title.
import { h } from "./dom.js";
import { t } from "./i18n.js";

const supported = () => typeof window !== "undefined" && "Notification" in window;

// Shown only while the page is not being looked at: otherwise the page itself says it.
export function notifyIfHidden(role, body = t(`notify.${role}.body`)) {
  if (document.hidden && supported() && Notification.permission === "granted") {
    new Notification(t(`notify.${role}.title`), { body });
  }
}

// The person asks; the page never does on its own (a prompt out of nowhere is easy to refuse
// for good). Nothing is shown once they have answered either way.
export function allowNotificationsButton(role, onAllowed = () => {}, after = () => {}) {
  if (!supported() || Notification.permission !== "default") return null;
  return h("button", {
    type: "button", class: "secondary", id: "allow-notifications",
    onclick: async () => {
      const answer = await Notification.requestPermission();
      after();
      // Not awaited: subscribing may take a while, and the button has already gone.
      if (answer === "granted") onAllowed();
    },
  }, t(`notify.${role}.allow`));
}
