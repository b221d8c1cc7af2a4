// After-call work: disposition (required), tags, notes, and the customer file. What the
// agent types survives parent updates; the form is rebuilt only for another call.
// Signals `hl-wrap-up` {call_id, disposition, tags, notes} and `hl-save-customer`.
import { showLine } from "../../lib/page.js";
import { h, signal } from "../../lib/dom.js";
import { t } from "../../lib/i18n.js";
import { duration, ServerClock } from "../../lib/time.js";
import "../../customers/hl-customer-form/hl-customer-form.js";

export function splitTags(text) {
  const seen = new Set();
  for (const raw of String(text || "").split(/[,，、;；]/)) {
    const tag = raw.trim();
    if (tag) seen.add(tag);
  }
  return [...seen];
}

export class HlWrapUp extends HTMLElement {
  #data = null;
  #callId = null;
  #els = null;
  #timer = null;

  set data(value) {
    this.#data = value;
    const id = value?.call?.id ?? null;
    if (id !== this.#callId) {
      this.#callId = id;
      this.#render();
    }
    this.#update();
  }

  connectedCallback() {
    this.#timer = setInterval(() => this.#tick(), 1000);
  }

  disconnectedCallback() {
    clearInterval(this.#timer);
  }

  // Ctrl+Enter from the console: submit as if the button was pressed.
  submit() {
    this.#els?.form.requestSubmit();
  }

  #render() {
    const d = this.#data;
    if (!d?.call) {
      this.#els = null;
      this.replaceChildren();
      return;
    }
    const call = d.call;
    const els = {};
    els.disposition = h("select", { name: "disposition", "data-test": "select-disposition", "aria-required": "true" },
      h("option", { value: "" }, t("wrapup.choose")),
      (d.dispositions || []).map((x) => h("option", { value: x.code }, x.label)));
    els.chips = h("span", { class: "hl-chips", "data-test": "tag-chips" });
    els.tags = h("input", { name: "tags", "data-test": "input-tags", autocomplete: "off", placeholder: t("wrapup.tags_hint"),
      oninput: () => this.#renderChips() });
    els.notes = h("textarea", { name: "notes", rows: 4, "data-test": "input-notes" });
    els.error = h("p", { class: "hl-error", role: "alert", "data-test": "error", hidden: true });
    els.submit = h("button", { type: "submit", class: "hl-btn hl-btn-primary", "data-test": "btn-wrap-up" }, t("wrapup.submit"), h("kbd", {}, "Ctrl+Enter"));
    els.timer = h("span", { class: "hl-wrap-timer", "data-test": "wrap-up-timer" });
    els.overdue = h("span", { class: "hl-overdue", "data-test": "wrap-up-overdue", hidden: true }, t("wrapup.overdue"));
    els.form = h("form", { class: "hl-wrap-form", "data-test": "wrap-up-form", novalidate: true, onsubmit: (e) => { e.preventDefault(); this.#submit(); } },
      h("label", {}, t("wrapup.disposition") + " *", els.disposition),
      h("label", {}, t("wrapup.tags"), els.tags, els.chips),
      h("label", {}, t("wrapup.notes"), els.notes),
      els.error,
      h("div", { class: "hl-form-actions" }, els.submit));
    const customer = call.pop?.customers?.[0] || null;
    els.customer = document.createElement("hl-customer-form");
    this.#els = els;
    this.replaceChildren(
      h("section", { class: "hl-wrap-up", "data-test": "wrap-up", "data-call-id": call.id },
        h("header", { class: "hl-card-head" },
          h("div", { class: "hl-card-title" },
            h("span", { class: "hl-card-kind" }, t("wrapup.title")),
            h("span", { class: "hl-caller-number" }, call.pop?.number || call.caller_number || ""),
            customer ? h("span", { class: "hl-customer-name" }, customer.name) : null),
          h("div", { class: "hl-card-meta" },
            call.end_reason ? h("span", {}, t("wrapup.end_reason"), ": ", t("end." + call.end_reason)) : null,
            h("span", {}, els.timer), els.overdue)),
        h("div", { class: "hl-wrap-grid" }, els.form, els.customer)));
    this.#renderChips();
  }

  #renderChips() {
    const els = this.#els;
    els.chips.replaceChildren(...splitTags(els.tags.value).map((tag) => h("span", { class: "hl-chip" }, tag)));
  }

  #submit() {
    const els = this.#els;
    signal(this, "hl-wrap-up", {
      call_id: this.#callId,
      disposition: els.disposition.value,
      tags: splitTags(els.tags.value),
      notes: els.notes.value,
    });
  }

  #update() {
    const d = this.#data;
    const els = this.#els;
    if (!d?.call || !els) return;
    showLine(els.error, d.error);
    els.submit.disabled = !!d.busy;
    const customer = d.call.pop?.customers?.[0] || null;
    els.customer.data = { customer, number: d.call.pop?.number || d.call.caller_number, registration: d.call.pop?.queue?.fields, ...(d.customerForm || {}) };
    this.#tick();
  }

  #tick() {
    const d = this.#data;
    const els = this.#els;
    if (!d?.call || !els || !d.call.endedAt) return;
    const spent = ServerClock.now() - d.call.endedAt;
    const limit = d.call.limit || 0;
    els.timer.textContent = limit ? `${duration(spent)} / ${duration(limit)}` : duration(spent);
    const overdue = limit > 0 && spent > limit;
    els.overdue.hidden = !overdue;
    this.querySelector(".hl-wrap-up")?.classList.toggle("is-overdue", overdue);
  }
}

customElements.define("hl-wrap-up", HlWrapUp);
