// The transfer dialog of the call in hand, a modal <dialog> with a search-as-you-type list:
// mode "transfer" (blind) offers the queues, the agents (only available ones can be
// chosen) and, when the node has an outbound trunk, the number typed; mode "consult"
// (attended transfer) rings an available colleague or calls the number typed first.
// ↑/↓ move, Enter confirms, Esc closes.
// The console owns the data ({mode, targets: {queues, agents, outside} | null, loading,
// error, busy, number}) and opens or closes the dialog by setting it (null: closed).
// Signals `hl-transfer` {to, target, label}, `hl-consult` {number} or {agent},
// `hl-transfer-close`.
import { h, signal } from "../../lib/dom.js";
import { t } from "../../lib/i18n.js";
import { AgentState } from "../../lib/states.js";

// What an agent types as a number: digits with an optional +, spaces, dashes, dots,
// brackets. The server has the last word (error.invalid-number).
export function phoneLike(text) {
  const s = String(text || "").trim();
  if (!/^\+?[\d\s\-().]+$/.test(s)) return null;
  const digits = s.replace(/[^\d]/g, "");
  return digits.length >= 3 ? (s.startsWith("+") ? "+" : "") + digits : null;
}

let seq = 0;

export class HlTransfer extends HTMLElement {
  #data = null;
  #els = null;
  #options = []; // [{key, kind, target, label, disabled}]
  #active = null; // key of the active option
  #id = `hl-transfer-${++seq}`;

  set data(value) {
    const opening = !!value && !this.#data;
    // Another mode or a number to call (a customer's phone button): start afresh.
    const changed = !!value && !!this.#data && (value.mode !== this.#data.mode || (value.number || "") !== (this.#data.number || ""));
    this.#data = value;
    if (!this.#els) this.#render();
    if (opening || changed) {
      this.#els.search.value = value.number || "";
      this.#active = null;
    }
    this.#update();
    const dialog = this.#els.dialog;
    if (value && !dialog.open) {
      dialog.showModal();
      this.#els.search.focus();
    } else if (!value && dialog.open) {
      dialog.close();
    }
  }

  get open() {
    return !!this.#els?.dialog.open;
  }

  connectedCallback() {
    if (!this.#els) this.#render();
  }

  #render() {
    const els = {};
    const listId = `${this.#id}-list`;
    els.title = h("h2", { id: `${this.#id}-title` });
    els.hint = h("p", { class: "hl-muted hl-dialog-hint", "data-test": "transfer-hint" });
    // type=text, not search: in a search field Esc clears the text instead of closing.
    els.search = h("input", {
      type: "text", enterkeyhint: "done", class: "hl-transfer-search", "data-test": "transfer-search", autocomplete: "off", spellcheck: "false",
      role: "combobox", "aria-autocomplete": "list", "aria-expanded": "true", "aria-controls": listId,
      oninput: () => { this.#active = null; this.#update(); },
      onkeydown: (e) => this.#onKey(e),
    });
    els.list = h("ul", { id: listId, class: "hl-transfer-list", role: "listbox", "data-test": "transfer-options", "aria-labelledby": els.title.id });
    els.error = h("p", { class: "hl-error", role: "alert", "data-test": "transfer-error", hidden: true });
    els.confirm = h("button", { type: "button", class: "hl-btn hl-btn-primary", "data-test": "btn-transfer-confirm", onclick: () => this.#confirm() });
    els.close = h("button", { type: "button", class: "hl-btn", "data-test": "btn-transfer-close", onclick: () => this.#dismiss() },
      t("transfer.close"), h("kbd", {}, "Esc"));
    els.keys = h("span", { class: "hl-muted hl-dialog-keys" }, t("transfer.keys"));
    els.dialog = h("dialog", { class: "hl-dialog hl-transfer", "data-test": "transfer-dialog", "aria-labelledby": els.title.id,
      // Esc on a button of the dialog: closed here, at once, like every other way out.
      oncancel: (e) => { e.preventDefault(); this.#dismiss(); },
      // The "close" event comes a task after close(): by then she may have opened it again.
      onclose: () => !this.#els.dialog.open && this.#dismiss() },
      h("header", { class: "hl-dialog-head" }, els.title),
      els.hint,
      els.search,
      els.list,
      els.error,
      h("footer", { class: "hl-dialog-foot" }, els.keys, els.close, els.confirm));
    this.#els = els;
    this.replaceChildren(els.dialog);
  }

  // The options for what is typed, in the order shown; groups are headings in the list.
  #build() {
    const d = this.#data;
    const query = this.#els.search.value.trim();
    const q = query.toLowerCase();
    const number = phoneLike(query);
    const targets = d.targets;
    const rows = []; // options and {group} headings
    const outside = !!targets?.outside;
    const numberRow = () => {
      if (!number) return null;
      if (!outside) return { note: t("error.no-outbound-trunk"), test: "transfer-no-trunk" };
      const label = t(d.mode === "consult" ? "consult.call" : "transfer.to_number", { number });
      return { key: "number:" + number, kind: "number", target: number, label, name: number };
    };
    const matches = (name, id) => !q || String(name).toLowerCase().includes(q) || String(id) === q;
    const row = numberRow();
    if (d.mode === "consult") {
      // A number typed, or a colleague (available ones can be rung).
      if (row) rows.push({ group: t("transfer.number") }, row);
      else if (targets && outside && !number) rows.push({ note: t("consult.type_number"), test: "transfer-type-number" });
    }
    if (!targets) return rows;
    if (d.mode !== "consult" && row) rows.push({ group: t("transfer.number") }, row);
    const queues = d.mode === "consult" ? [] : targets.queues.filter((x) => matches(x.name, x.id));
    if (queues.length) {
      rows.push({ group: t("transfer.queues") });
      for (const x of queues) rows.push({ key: "queue:" + x.id, kind: "queue", target: String(x.id), label: x.name, name: x.name });
    }
    const agents = targets.agents.filter((x) => matches(x.name, x.id));
    agents.sort((a, b) => Number(b.state === AgentState.AVAILABLE) - Number(a.state === AgentState.AVAILABLE));
    if (agents.length) {
      rows.push({ group: t("transfer.agents") });
      for (const x of agents) {
        rows.push({
          key: "agent:" + x.id, kind: "agent", target: String(x.id), label: x.name, name: x.name,
          state: x.state, disabled: x.state !== AgentState.AVAILABLE,
        });
      }
    }
    if (!queues.length && !agents.length && !row) rows.push({ note: t("transfer.no_match"), test: "transfer-no-match" });
    return rows;
  }

  #update() {
    const els = this.#els;
    const d = this.#data;
    if (!els || !d) return;
    const consult = d.mode === "consult";
    els.title.textContent = t(consult ? "consult.title" : "transfer.title");
    els.hint.textContent = t(consult ? "consult.hint" : "transfer.hint");
    els.search.placeholder = t(consult ? "consult.search" : "transfer.search");
    els.search.setAttribute("aria-label", els.search.placeholder);
    els.search.inputMode = consult ? "tel" : "text";
    els.search.readOnly = !!d.busy; // not disabled: the focus stays here for the next try
    const rows = d.loading ? [] : this.#build();
    this.#options = rows.filter((r) => r.key);
    const enabled = this.#options.filter((o) => !o.disabled);
    if (!enabled.some((o) => o.key === this.#active)) this.#active = enabled[0]?.key ?? null;
    els.list.replaceChildren(...(d.loading
      ? [h("li", { class: "hl-muted hl-option-note", role: "presentation" }, t("common.loading"))]
      : rows.map((r) => this.#row(r))));
    els.list.setAttribute("aria-busy", String(!!d.loading));
    const active = this.#options.find((o) => o.key === this.#active);
    if (active) els.search.setAttribute("aria-activedescendant", this.#optionId(active));
    else els.search.removeAttribute("aria-activedescendant");
    els.list.querySelector('[aria-selected="true"]')?.scrollIntoView({ block: "nearest" });
    els.error.textContent = d.error || "";
    els.error.hidden = !d.error;
    els.confirm.replaceChildren(t(d.busy ? "transfer.sending" : consult ? "consult.start" : "transfer.confirm"), h("kbd", {}, "Enter"));
    els.confirm.disabled = !active || !!d.busy;
  }

  // She closes the dialog: the parent hears of it at once (not after the dialog's "close"
  // event, a task later: a shortcut pressed meanwhile must find it closed).
  #dismiss() {
    if (this.#els.dialog.open) this.#els.dialog.close();
    if (!this.#data) return;
    this.#data = null;
    signal(this, "hl-transfer-close");
  }

  #optionId(o) {
    return `${this.#id}-${o.key.replace(/[^\w-]/g, "_")}`;
  }

  #row(r) {
    if (r.group) return h("li", { class: "hl-option-group", role: "presentation" }, r.group);
    if (r.note) return h("li", { class: "hl-muted hl-option-note", role: "presentation", "data-test": r.test }, r.note);
    const selected = r.key === this.#active;
    return h("li", {
      id: this.#optionId(r), role: "option", class: "hl-option", "data-test": "transfer-option",
      "data-kind": r.kind, "data-target": r.target, "aria-selected": String(selected), "aria-disabled": r.disabled ? "true" : null,
      onclick: () => {
        if (r.disabled) return;
        this.#active = r.key;
        this.#update();
        this.#els.search.focus();
      },
      ondblclick: () => !r.disabled && this.#confirm(),
    },
    h("span", { class: "hl-option-label" }, r.label),
    r.kind === "agent" ? h("span", { class: "hl-chip hl-agent-state", "data-state": r.state }, t("state." + r.state)) : null);
  }

  #move(step) {
    const enabled = this.#options.filter((o) => !o.disabled);
    if (!enabled.length) return;
    const at = enabled.findIndex((o) => o.key === this.#active);
    let next;
    if (step === Infinity) next = enabled.length - 1;
    else if (step === -Infinity) next = 0;
    else next = (at + step + enabled.length) % enabled.length;
    this.#active = enabled[next].key;
    this.#update();
  }

  #onKey(e) {
    if (e.isComposing) return; // an IME is building a word: its Enter is not ours
    const moves = { ArrowDown: 1, ArrowUp: -1, PageDown: Infinity, PageUp: -Infinity };
    if (e.key in moves) {
      e.preventDefault();
      this.#move(moves[e.key]);
    } else if (e.key === "Enter") {
      e.preventDefault();
      this.#confirm();
    } else if (e.key === "Escape") {
      e.preventDefault();
      this.#dismiss();
    }
  }

  #confirm() {
    const d = this.#data;
    if (!d || d.busy) return;
    const o = this.#options.find((x) => x.key === this.#active && !x.disabled);
    if (!o) return;
    if (d.mode === "consult") signal(this, "hl-consult", o.kind === "agent" ? { agent: Number(o.target) } : { number: o.target });
    else signal(this, "hl-transfer", { to: o.kind, target: o.target, label: o.name });
  }
}

customElements.define("hl-transfer", HlTransfer);
