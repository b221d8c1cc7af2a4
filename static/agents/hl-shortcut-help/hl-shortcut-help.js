// The keyboard shortcut list, as a native popover (toggled by "?" or the ? button).
import { h } from "../../lib/dom.js";
import { t } from "../../lib/i18n.js";

export const SHORTCUTS = [
  ["A", "card.answer"],
  ["R", "card.reject"],
  ["H", "card.hangup"],
  ["F2", "state.available"],
  ["F3", "state.not_ready"],
  ["F4", "state.offline"],
  ["Ctrl+Enter", "wrapup.submit"],
  ["M", "card.mute"],
  ["F6", "call.hold"],
  ["F7", "call.keypad"],
  ["F8", "softphone.mute"],
  ["F9", "recording.pause"],
  ["F10", "transfer.open"],
  ["Alt+C", "consult.open"],
  ["Alt+N", "dial.title"],
  ["?", "help.title"],
];

export class HlShortcutHelp extends HTMLElement {
  connectedCallback() {
    this.setAttribute("popover", "auto");
    this.setAttribute("data-test", "shortcut-help");
    this.classList.add("hl-popover");
    this.replaceChildren(
      h("h2", {}, t("help.title")),
      h("dl", { class: "hl-shortcuts" }, SHORTCUTS.map(([key, label]) => [h("dt", {}, h("kbd", {}, key)), h("dd", {}, t(label))])),
      h("p", { class: "hl-muted" }, t("help.typing")));
  }

  toggle() {
    this.togglePopover();
  }
}

customElements.define("hl-shortcut-help", HlShortcutHelp);
