// The agent's answered calls that ended without a disposition — typically because the
// node carrying them died — so she can still wrap them up. Signals `hl-late-wrap-up`
// {call}; the parent opens the wrap-up form for it.
import { h, signal } from "../../lib/dom.js";
import { t } from "../../lib/i18n.js";
import { dateTime, duration } from "../../lib/time.js";

export class HlPendingWrapUps extends HTMLElement {
  #data = { items: [], current: null, busy: false };

  set data(value) {
    this.#data = value;
    this.#render();
  }

  connectedCallback() {
    this.#render();
  }

  #render() {
    const { items = [], current = null, busy = false } = this.#data;
    const waiting = items.filter((c) => c.id !== current);
    this.hidden = !waiting.length;
    if (!waiting.length) {
      this.replaceChildren();
      return;
    }
    const rows = waiting.map((c) =>
      h("li", { "data-call-id": c.id, "data-test": "pending-wrap-up" },
        h("time", { datetime: c.arrived_at }, dateTime(c.arrived_at)), " ",
        h("span", { class: "hl-num" }, c.caller_number), " ",
        c.talk_s != null ? h("span", { class: "hl-num", "data-test": "talk" }, duration(c.talk_s)) : null, " ",
        c.end_reason ? h("span", { class: "hl-muted" }, t("end." + c.end_reason)) : null, " ",
        h("button", {
          type: "button", class: "hl-btn", "data-test": "btn-late-wrap-up", disabled: busy,
          onclick: () => signal(this, "hl-late-wrap-up", { call: c }),
        }, t("wrapup.title"))));
    this.replaceChildren(
      h("section", { class: "hl-panel hl-pending-wrap", "data-test": "pending-wrap-ups" },
        h("header", { class: "hl-panel-head" }, h("h2", {}, t("wrapup.pending"))),
        h("p", { class: "hl-muted" }, t("wrapup.pending_hint")),
        h("ul", {}, rows)));
  }
}

customElements.define("hl-pending-wrap-ups", HlPendingWrapUps);
