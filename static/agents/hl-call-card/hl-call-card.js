// The call in hand: while ringing, a pulsing card with a countdown and the screen pop;
// while her own call rings out (mode "dialling"), "Calling <number>…" and Cancel; once
// answered, the talk timer and Hang up. Signals `hl-answer`, `hl-reject`, `hl-hangup`
// {call_id}; a new-customer form inside signals `hl-save-customer`; the phone buttons of
// the customer files signal `hl-phone` {number, customer_id} (on a call: consult it).
import { h, signal } from "../../lib/dom.js";
import { t } from "../../lib/i18n.js";
import { duration, ServerClock } from "../../lib/time.js";
import "../../customers/hl-customer-view/hl-customer-view.js";
import "../../customers/hl-customer-form/hl-customer-form.js";

export class HlCallCard extends HTMLElement {
  #data = null;
  #key = null;
  #els = null;
  #timer = null;

  set data(value) {
    this.#data = value;
    const key = value ? `${value.callId}|${value.mode}|${value.pop?.customers?.map((c) => c.id).join(",")}` : null;
    if (key !== this.#key) {
      this.#key = key;
      this.#render();
    }
    this.#update();
  }

  connectedCallback() {
    this.#timer = setInterval(() => this.#tick(), 250);
  }

  disconnectedCallback() {
    clearInterval(this.#timer);
  }

  #render() {
    const d = this.#data;
    if (!d) {
      this.#els = null;
      this.replaceChildren();
      return;
    }
    const pop = d.pop || {};
    const ringing = d.mode === "ringing";
    const dialling = d.mode === "dialling";
    const els = {};
    const fire = (name) => () => signal(this, name, { call_id: d.callId });
    els.countdown = h("span", { class: "hl-countdown", "data-test": "countdown", "aria-label": t("card.countdown") });
    els.talk = h("span", { class: "hl-talk", "data-test": "talk-timer" });
    els.wait = h("span", { class: "hl-wait", "data-test": "wait-time" });
    els.answer = h("button", { type: "button", class: "hl-btn hl-btn-answer", "data-test": "btn-answer", onclick: fire("hl-answer") }, t("card.answer"), h("kbd", {}, "A"));
    els.reject = h("button", { type: "button", class: "hl-btn hl-btn-reject", "data-test": "btn-reject", onclick: fire("hl-reject") }, t("card.reject"), h("kbd", {}, "R"));
    els.hangup = dialling
      ? h("button", { type: "button", class: "hl-btn hl-btn-hangup", "data-test": "btn-cancel-dial", onclick: fire("hl-hangup") }, t("dial.cancel"), h("kbd", {}, "H"))
      : h("button", { type: "button", class: "hl-btn hl-btn-hangup", "data-test": "btn-hangup", onclick: fire("hl-hangup") }, t("card.hangup"), h("kbd", {}, "H"));
    els.calling = h("span", { class: "hl-dialling", "data-test": "dialling" }, t("dial.calling", { number: pop.number || "" }));
    els.ringFor = h("span", { class: "hl-talk", "data-test": "ring-timer" });
    els.status = h("span", { class: "hl-card-status", role: "status" });
    const customers = pop.customers || [];
    els.form = null;
    let body;
    if (customers.length) {
      body = customers.map((c, i) => {
        const view = document.createElement("hl-customer-view");
        view.className = i === 0 ? "hl-primary-customer" : "hl-other-customer";
        view.data = { customer: c, dispositionLabels: d.dispositionLabels, phoneAction: d.mode === "on_call" ? "consult" : null };
        return view;
      });
      if (customers.length > 1) body.unshift(h("p", { class: "hl-warn" }, t("card.several_customers", { n: customers.length })));
    } else if (dialling) {
      body = [h("p", { class: "hl-muted" }, t("card.no_customer"))];
    } else {
      els.form = document.createElement("hl-customer-form");
      body = [h("p", { class: "hl-muted" }, t("card.no_customer")), els.form];
    }
    const kind = ringing ? t("card.incoming") : d.outbound ? t("dial.kind") : t("state.on_call");
    let meta;
    if (ringing) meta = [h("span", {}, t("card.wait"), " ", els.wait), els.countdown];
    else if (dialling) meta = [h("span", {}, t("dial.ringing_for"), " ", els.ringFor)];
    else meta = [h("span", {}, t("card.talk"), " ", els.talk)];
    this.#els = els;
    this.replaceChildren(
      h("section", {
        class: "hl-call-card" + (ringing ? " is-ringing" : dialling ? " is-dialling" : " is-on-call"),
        "data-test": "call-card", "data-call-id": d.callId, "data-mode": d.mode, "data-direction": d.outbound ? "outbound" : "inbound", "aria-live": "assertive",
      },
        h("header", { class: "hl-card-head" },
          h("div", { class: "hl-card-title" },
            h("span", { class: "hl-card-kind", "data-test": "card-kind" }, kind),
            h("span", { class: "hl-caller-number", "data-test": "caller-number" }, pop.number || ""),
            // Not an E.164 number: shown as it came in, and said so, rather than "corrected".
            pop.number_invalid ? h("span", { class: "hl-chip hl-chip-warn", "data-test": "number-invalid" }, "⚠ ", t("calls.number_invalid")) : null),
          h("div", { class: "hl-card-meta" },
            pop.queue ? h("span", {}, t("card.queue"), ": ", h("b", { "data-test": "queue-name" }, pop.queue.name)) : null,
            meta)),
        h("div", { class: "hl-card-actions" }, ringing ? [els.answer, els.reject] : dialling ? [els.calling, els.hangup] : els.hangup, els.status),
        h("div", { class: "hl-pop" }, body)));
  }

  #update() {
    const d = this.#data;
    const els = this.#els;
    if (!d || !els) return;
    const busy = d.busy || "";
    els.answer.disabled = els.reject.disabled = !!busy;
    els.hangup.disabled = !!busy;
    els.status.textContent = busy ? t("card.busy." + busy) : "";
    if (els.form) els.form.data = { customer: null, number: d.pop?.number, registration: d.pop?.queue?.fields, ...(d.customerForm || {}) };
    this.#tick();
  }

  #tick() {
    const d = this.#data;
    const els = this.#els;
    if (!d || !els) return;
    const now = ServerClock.now();
    if (d.mode === "ringing") {
      const left = Math.max(0, Math.ceil(d.ringTimeout - (now - d.offeredAt)));
      els.countdown.textContent = String(left);
      els.countdown.classList.toggle("is-urgent", left <= 5);
      const waitFrom = d.pop?.wait_started;
      els.wait.textContent = waitFrom ? duration(now - waitFrom) : "—";
    } else if (d.mode === "dialling") {
      els.ringFor.textContent = d.dialledAt ? duration(Math.max(0, now - d.dialledAt)) : "";
    } else if (d.answeredAt) {
      els.talk.textContent = duration(now - d.answeredAt);
    }
  }
}

customElements.define("hl-call-card", HlCallCard);
