// The agent's own recent calls, each with a call-back button. Signals `hl-refresh-calls`
// (the parent loads them) and `hl-dial` {number, queue_id, customer_id}; `dial` says
// whether she can dial now ({enabled, why}).
import { h, signal } from "../../lib/dom.js";
import { t } from "../../lib/i18n.js";
import { dateTime, duration } from "../../lib/time.js";

export class HlRecentCalls extends HTMLElement {
  #data = { items: [], loading: true, error: null, dispositionLabels: {}, dial: { enabled: false, why: "" } };

  set data(value) {
    this.#data = value;
    this.#render();
  }

  connectedCallback() {
    this.#render();
  }

  #render() {
    const { items = [], loading, error, dispositionLabels = {}, dial = {} } = this.#data;
    const callBack = (c) => {
      const why = c.caller_number_invalid ? t("error.invalid-number") : dial.enabled ? "" : dial.why || "";
      const label = t("dial.call_back") + " · " + t("dial.call_number", { number: c.caller_number });
      // An icon in the number's cell: the side panel is narrow.
      return h("button", {
        type: "button", class: "hl-btn hl-btn-quiet hl-call-back", "data-test": "btn-call-back", disabled: !!why,
        title: why || label, "aria-label": label,
        onclick: () => signal(this, "hl-dial", { number: c.caller_number, queue_id: c.queue_id ?? null, customer_id: c.customer_id ?? null }),
      }, "☎");
    };
    const rows = items.map((c) =>
      h("tr", { "data-call-id": c.id },
        h("td", {}, h("time", { datetime: c.arrived_at }, dateTime(c.arrived_at))),
        h("td", { class: "hl-num" },
          c.direction === "outbound" ? h("span", { class: "hl-direction", title: t("dial.kind"), "aria-label": t("dial.kind") }, "↗") : null,
          c.caller_number,
          c.caller_number ? callBack(c) : null),
        h("td", {}, c.queue || ""),
        h("td", { class: "hl-num" }, c.talk_s != null ? duration(c.talk_s) : ""),
        h("td", {}, c.end_reason ? t("end." + c.end_reason) : ""),
        h("td", {}, c.disposition ? dispositionLabels[c.disposition] || c.disposition : ""),
        h("td", {}, (c.tags || []).map((tag) => h("span", { class: "hl-chip" }, tag)))));
    this.replaceChildren(
      h("section", { class: "hl-panel", "data-test": "recent-calls", "aria-busy": String(!!loading) },
        h("header", { class: "hl-panel-head" },
          h("h2", {}, t("calls.mine")),
          h("button", { type: "button", class: "hl-btn hl-btn-quiet", "data-test": "btn-refresh-calls", onclick: () => signal(this, "hl-refresh-calls") }, t("calls.refresh"))),
        error ? h("p", { class: "hl-error", role: "alert", "data-test": "error" }, error) : null,
        h("div", { class: "hl-table-wrap" },
          h("table", { class: "hl-table" },
            h("thead", {}, h("tr", {},
              [t("calls.time"), t("calls.caller"), t("card.queue"), t("calls.talk"), t("calls.end_reason"), t("wrapup.disposition"), t("wrapup.tags")].map((x) => h("th", {}, x)))),
            h("tbody", {}, rows.length ? rows : h("tr", {}, h("td", { colspan: 7, class: "hl-muted" }, loading ? t("common.loading") : t("calls.empty"))))))));
  }
}

customElements.define("hl-recent-calls", HlRecentCalls);
