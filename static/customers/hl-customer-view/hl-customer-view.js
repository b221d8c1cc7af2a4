// One customer file as the screen pop shows it: name, grade, phones, notes, registration
// fields and the last calls with their dispositions. Read-only; re-rendered on new data.
import { h } from "../../lib/dom.js";
import { has, t } from "../../lib/i18n.js";
import { dateTime } from "../../lib/time.js";

export function fieldLabel(key) {
  return has("field." + key) ? t("field." + key) : key;
}

export function gradeBadge(grade) {
  return h("span", { class: `hl-grade hl-grade-${String(grade || "C").toLowerCase()}`, "data-test": "customer-grade", title: t("card.grade") }, grade || "");
}

export class HlCustomerView extends HTMLElement {
  #data = null;

  set data(value) {
    this.#data = value;
    this.#render();
  }

  #render() {
    const c = this.#data?.customer;
    if (!c) {
      this.replaceChildren();
      return;
    }
    const labels = this.#data.dispositionLabels || {};
    const fields = Object.entries(c.fields || {}).filter(([, v]) => v !== "" && v !== null && v !== undefined);
    const calls = c.last_calls || [];
    this.replaceChildren(
      h("div", { class: "hl-customer-head" },
        h("span", { class: "hl-customer-name", "data-test": "customer-name" }, c.name),
        gradeBadge(c.grade)),
      h("dl", { class: "hl-facts" },
        h("dt", {}, t("customer.phones")), h("dd", { "data-test": "customer-phones" }, (c.phones || []).join(" · ") || "—"),
        c.notes ? [h("dt", {}, t("customer.notes")), h("dd", { class: "hl-customer-notes" }, c.notes)] : null,
        fields.map(([k, v]) => [h("dt", {}, fieldLabel(k)), h("dd", {}, typeof v === "object" ? JSON.stringify(v) : String(v))])),
      h("details", { class: "hl-last-calls", open: calls.length > 0 },
        h("summary", {}, t("card.last_calls"), ` (${calls.length})`),
        calls.length
          ? h("ol", { "data-test": "last-calls" }, calls.map((lc) =>
              h("li", {},
                h("time", { datetime: lc.arrived_at }, dateTime(lc.arrived_at)), " ",
                h("span", { class: "hl-disposition" }, lc.disposition ? labels[lc.disposition] || lc.disposition : t("calls.no_disposition")), " ",
                lc.end_reason ? h("span", { class: "hl-muted" }, t("end." + lc.end_reason)) : null,
                lc.notes ? h("div", { class: "hl-muted hl-excerpt" }, lc.notes) : null)))
          : h("p", { class: "hl-muted" }, t("card.no_last_calls"))),
    );
  }
}

customElements.define("hl-customer-view", HlCustomerView);
