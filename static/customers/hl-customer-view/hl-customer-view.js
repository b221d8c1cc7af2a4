// One customer file as the screen pop shows it: name, grade, phones, notes, registration
// fields and the last calls with their dispositions. Read-only; re-rendered on new data.
// With `phoneAction` ("dial" or "consult") each phone number gets a button that signals
// `hl-phone` {number, customer_id, action}; the agent console places the call.
import { h, signal } from "../../lib/dom.js";
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
        h("dt", {}, t("customer.phones")), h("dd", { "data-test": "customer-phones" }, this.#phones(c)),
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

  #phones(c) {
    const phones = c.phones || [];
    const action = this.#data.phoneAction;
    if (!phones.length) return "—";
    if (!action) return phones.join(" · ");
    const consult = action === "consult";
    return phones.map((number, i) => {
      const label = consult ? t("dial.consult_number", { number }) : t("dial.call_number", { number });
      return [
        i ? " · " : null,
        h("span", { class: "hl-phone" }, h("span", { class: "hl-num" }, number),
          h("button", {
            type: "button", class: "hl-btn hl-btn-quiet hl-phone-btn", "data-test": "btn-phone-" + action, "data-number": number,
            title: label, "aria-label": label,
            onclick: () => signal(this, "hl-phone", { number, customer_id: c.id, action }),
          }, "☎ ", consult ? t("consult.open") : t("dial.button"))),
      ];
    });
  }
}

customElements.define("hl-customer-view", HlCustomerView);
