// The agent's handover: file open items for her running or just-ended shift (Ctrl+Enter
// files), and take over what the previous shift handed over. The element owns the state;
// the server decides which shift an entry belongs to and records who took it over.
import { getJSON, postJSON } from "../../lib/api.js";
import { h } from "../../lib/dom.js";
import { t } from "../../lib/i18n.js";
import { showLine, start } from "../../lib/page.js";
import { clockTime, dateTime } from "../../lib/time.js";

const EMPTY_ROW = () => ({ text: "", ref: "" });

function shiftLabel(shift) {
  return t("handover.shift", {
    day: shift.day ?? shift.shift_day,
    code: shift.template_code,
    start: shift.start ? clockTime(shift.start).slice(0, 5) : "",
    end: shift.end ? clockTime(shift.end).slice(0, 5) : "",
  });
}

// One entry as a read-only card; `action` is an optional button (take over).
export function entryCard(entry, { action = null, showAuthor = true } = {}) {
  const items = entry.items.length
    ? h("ol", {}, entry.items.map((i) => h("li", { "data-test": "entry-item" }, i.text, i.ref ? h("span", { class: "hl-ho-ref", title: t("handover.ref") }, i.ref) : null)))
    : h("p", { class: "hl-muted", "data-test": "entry-nothing" }, t("handover.nothing_open"));
  const ack = entry.acknowledged_at
    ? h("p", { class: "hl-ok", "data-test": "entry-ack" }, t("handover.acknowledged", { name: entry.acknowledged_by_name || "", at: dateTime(entry.acknowledged_at) }))
    : null;
  return h("article", { class: "hl-ho-entry", "data-test": "entry", "data-entry-id": entry.id },
    h("header", {},
      h("strong", {}, showAuthor
        ? t("handover.from", { name: entry.author_name, day: entry.shift_day, code: entry.template_code, at: dateTime(entry.created_at) })
        : t("handover.filed", { at: dateTime(entry.created_at) })),
      action),
    items,
    entry.notes ? h("p", { class: "hl-ho-notes" }, entry.notes) : null,
    ack);
}

export class HlHandover extends HTMLElement {
  state = { shift: null, entry: null, incoming: [], taken_over: [], rows: [EMPTY_ROW()], notes: "", error: null, notice: null, busy: false, loaded: false };
  #els = null;

  async connectedCallback() {
    if (this.#els) return;
    if (!(await start(this))) return;
    this.#render();
    this.reload();
  }

  async reload() {
    try {
      const data = await getJSON("/api/v1/handover/mine");
      Object.assign(this.state, data, { loaded: true });
    } catch (err) {
      this.state.error = err.message;
    }
    this.#update();
  }

  #render() {
    const els = (this.#els = {});
    els.shift = h("p", { class: "hl-muted", "data-test": "my-shift" }, t("common.loading"));
    els.error = h("p", { class: "hl-error", role: "alert", "data-test": "error", hidden: true });
    els.notice = h("p", { class: "hl-notice", role: "status", "data-test": "notice", hidden: true });
    els.items = h("ol", { class: "hl-ho-items", "data-test": "items" });
    els.notes = h("textarea", { rows: 3, maxlength: 4000, "data-test": "notes", oninput: (e) => (this.state.notes = e.target.value) });
    els.submit = h("button", { type: "submit", class: "hl-btn hl-btn-primary", "data-test": "btn-file" }, t("handover.submit"));
    els.form = h("form", { "data-test": "handover-form", onsubmit: (e) => { e.preventDefault(); this.#file(); }, onkeydown: (e) => this.#keys(e) },
      els.items,
      h("div", { class: "hl-form-actions" },
        h("button", { type: "button", class: "hl-btn", "data-test": "btn-add-item", onclick: () => this.#addRow() }, "+ " + t("handover.add_item"))),
      h("label", {}, t("handover.notes"), els.notes),
      h("div", { class: "hl-form-actions" }, els.submit, h("span", { class: "hl-muted" }, t("handover.submit_hint"))));
    els.mine = h("div", { "data-test": "my-entry" });
    els.incoming = h("div", { "data-test": "incoming" });
    els.taken = h("div", { "data-test": "taken-over" });
    els.takenWrap = h("section", { hidden: true }, h("h3", {}, t("handover.taken_over")), els.taken);
    this.replaceChildren(
      h("section", { class: "hl-panel" },
        h("header", { class: "hl-panel-head" }, h("h1", {}, t("handover.title"))),
        els.error, els.notice,
        h("h2", {}, t("handover.incoming")), els.incoming,
        h("h2", {}, t("handover.file_title")), els.shift, els.mine, els.form,
        els.takenWrap));
  }

  #keys(e) {
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) {
      e.preventDefault();
      this.#file();
    }
  }

  #addRow() {
    this.state.rows.push(EMPTY_ROW());
    this.#drawRows();
    this.#els.items.querySelector("li:last-child input")?.focus();
  }

  #drawRows() {
    const rows = this.state.rows;
    this.#els.items.replaceChildren(...rows.map((row, i) => h("li", { class: "hl-ho-item", "data-test": "item-row" },
      h("span", {}, `${i + 1}.`),
      h("input", { type: "text", value: row.text, maxlength: 500, placeholder: t("handover.item"), "aria-label": t("handover.item"), "data-test": "item-text",
        oninput: (e) => (row.text = e.target.value),
        onkeydown: (e) => { if (e.key === "Enter" && !e.ctrlKey && !e.metaKey) { e.preventDefault(); this.#addRow(); } } }),
      h("input", { type: "text", value: row.ref, maxlength: 64, placeholder: t("handover.item_ref"), "aria-label": t("handover.item_ref"), "data-test": "item-ref", oninput: (e) => (row.ref = e.target.value) }),
      h("button", { type: "button", class: "hl-btn hl-btn-quiet", title: t("handover.remove_item"), "aria-label": t("handover.remove_item"), "data-test": "btn-remove-item",
        onclick: () => { rows.splice(i, 1); if (!rows.length) rows.push(EMPTY_ROW()); this.#drawRows(); } }, "✕"))));
  }

  async #file() {
    if (this.state.busy || !this.state.shift || this.state.entry) return;
    // Rows left completely blank are not items; a half-filled row is sent so the server names it.
    const items = this.state.rows.filter((r) => r.text.trim() || r.ref.trim()).map((r) => ({ text: r.text, ref: r.ref }));
    this.#set({ busy: true, error: null, notice: null });
    try {
      const entry = await postJSON("/api/v1/handover", { items, notes: this.state.notes });
      this.state.rows = [EMPTY_ROW()];
      this.state.notes = "";
      this.#els.notes.value = "";
      this.#set({ busy: false, entry, notice: t("handover.filed_ok") });
    } catch (err) {
      this.#set({ busy: false, error: err.message });
    }
  }

  async #acknowledge(entry, button) {
    button.disabled = true;
    this.#set({ error: null, notice: null });
    try {
      const done = await postJSON(`/api/v1/handover/${entry.id}/acknowledge`, {});
      this.state.incoming = this.state.incoming.filter((e) => e.id !== entry.id);
      this.state.taken_over = [done, ...this.state.taken_over];
      this.#set({ notice: t("handover.acknowledged_ok") });
    } catch (err) {
      button.disabled = false;
      this.#set({ error: err.message });
      if (err.status === 409) this.reload(); // someone else took it over: show who
    }
  }

  #set(patch) {
    Object.assign(this.state, patch);
    this.#update();
  }

  #update() {
    const s = this.state;
    const els = this.#els;
    showLine(els.error, s.error);
    showLine(els.notice, s.notice);
    if (!s.loaded) return;
    els.shift.textContent = s.shift ? shiftLabel(s.shift) : t("handover.no_shift");
    els.mine.replaceChildren(s.entry ? entryCard(s.entry, { showAuthor: false }) : "");
    els.form.hidden = !s.shift || !!s.entry;
    els.submit.disabled = s.busy;
    if (!els.form.hidden && !els.items.children.length) this.#drawRows();
    els.incoming.replaceChildren(...(s.incoming.length
      ? s.incoming.map((e) => {
          const btn = h("button", { type: "button", class: "hl-btn hl-btn-primary", "data-test": "btn-acknowledge" }, t("handover.acknowledge"));
          btn.addEventListener("click", () => this.#acknowledge(e, btn));
          return entryCard(e, { action: btn });
        })
      : [h("p", { class: "hl-muted", "data-test": "incoming-none" }, t("handover.incoming_none"))]));
    els.takenWrap.hidden = !s.taken_over.length;
    els.taken.replaceChildren(...s.taken_over.map((e) => entryCard(e)));
  }
}

customElements.define("hl-handover", HlHandover);
