// Create or edit a customer file. Keeps what the agent typed across parent updates: the
// form is rebuilt only when it is given a different customer (or a different new number).
// Signals `hl-save-customer` {id, payload}; the parent saves and hands back error/saved.
import { showLine } from "../../lib/page.js";
import { h, signal } from "../../lib/dom.js";
import { t } from "../../lib/i18n.js";
import { fieldLabel } from "../hl-customer-view/hl-customer-view.js";

const GRADES = ["A", "B", "C", "D"];

export class HlCustomerForm extends HTMLElement {
  #data = null;
  #key = null;
  #els = null;

  set data(value) {
    this.#data = value;
    const c = value?.customer;
    const key = c ? "id:" + c.id : "new:" + (value?.number || "");
    if (key !== this.#key) {
      this.#key = key;
      this.#render();
    }
    this.#update();
  }

  #render() {
    const c = this.#data?.customer;
    const isNew = !c;
    const els = {};
    els.name = h("input", { name: "name", required: true, "data-test": "input-customer-name", value: c?.name || "", autocomplete: "off" });
    els.grade = h("select", { name: "grade", "data-test": "select-customer-grade" },
      GRADES.map((g) => h("option", { value: g, selected: (c?.grade || "C") === g }, g)));
    els.phones = h("input", { name: "phones", "data-test": "input-customer-phones", value: (c?.phones || [this.#data?.number].filter(Boolean)).join(", "), autocomplete: "off" });
    els.notes = h("textarea", { name: "notes", rows: 2, "data-test": "input-customer-notes" });
    els.notes.value = c?.notes || "";
    els.fields = h("div", { class: "hl-field-rows" });
    const known = c?.fields || {};
    for (const [k, v] of Object.entries(known)) els.fields.append(this.#fieldRow(k, v));
    // The queue's registration fields are offered even when the file does not have them yet.
    for (const k of this.#data?.registration || []) if (!(k in known)) els.fields.append(this.#fieldRow(k, ""));
    els.error = h("p", { class: "hl-error", role: "alert", "data-test": "error", hidden: true });
    els.saved = h("span", { class: "hl-ok", role: "status", "data-test": "customer-saved" });
    els.save = h("button", { type: "submit", class: "hl-btn hl-btn-primary", "data-test": "btn-save-customer" }, t("customer.save"));
    const form = h("form", {
      class: "hl-customer-form", novalidate: true,
      "data-test": isNew ? "new-customer-form" : "customer-form",
      onsubmit: (e) => { e.preventDefault(); this.#submit(); },
    },
      h("h3", {}, isNew ? t("card.new_customer") : t("customer.edit")),
      h("div", { class: "hl-form-grid" },
        h("label", {}, t("customer.name"), els.name),
        h("label", {}, t("card.grade"), els.grade),
        h("label", { class: "hl-span-2" }, t("customer.phones"), els.phones),
        h("label", { class: "hl-span-2" }, t("customer.notes"), els.notes)),
      h("fieldset", { class: "hl-fields" },
        h("legend", {}, t("customer.fields")),
        els.fields,
        h("button", { type: "button", class: "hl-btn hl-btn-quiet", "data-test": "btn-add-field", onclick: () => els.fields.append(this.#fieldRow("", "")) }, "+ ", t("customer.add_field"))),
      els.error,
      h("div", { class: "hl-form-actions" }, els.save, els.saved));
    this.#els = els;
    this.replaceChildren(form);
  }

  #fieldRow(key, value) {
    const row = h("div", { class: "hl-field-row" },
      h("input", { class: "hl-field-key", "aria-label": t("customer.field_name"), placeholder: t("customer.field_name"), value: key }),
      h("input", { class: "hl-field-value", "aria-label": key ? fieldLabel(key) : t("customer.field_value"), placeholder: t("customer.field_value"), value: typeof value === "object" ? JSON.stringify(value) : String(value ?? "") }),
      h("button", { type: "button", class: "hl-btn hl-btn-quiet", "aria-label": t("customer.remove_field"), title: t("customer.remove_field"), onclick: () => row.remove() }, "×"));
    return row;
  }

  #submit() {
    const els = this.#els;
    const fields = {};
    for (const row of els.fields.querySelectorAll(".hl-field-row")) {
      const k = row.querySelector(".hl-field-key").value.trim();
      if (k) fields[k] = row.querySelector(".hl-field-value").value.trim();
    }
    const payload = {
      name: els.name.value.trim(),
      grade: els.grade.value,
      phones: els.phones.value.split(/[,，;；]+/).map((p) => p.trim()).filter(Boolean),
      notes: els.notes.value,
      fields,
    };
    signal(this, "hl-save-customer", { id: this.#data?.customer?.id ?? null, payload });
  }

  #update() {
    const els = this.#els;
    if (!els) return;
    const { error, saving, saved } = this.#data || {};
    showLine(els.error, error);
    els.save.disabled = !!saving;
    els.saved.textContent = saved ? t("customer.saved") : "";
  }
}

customElements.define("hl-customer-form", HlCustomerForm);
