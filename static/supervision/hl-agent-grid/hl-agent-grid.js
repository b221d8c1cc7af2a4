// The agent grid: every agent's state and reason, time in state (ticking), the call in hand
// (number, customer, queue, talk time), calls handled and offers missed this shift day,
// clocked in, adherence. Sortable (column headers) and filtered by queue, skill, state and
// name. One keyed row per agent, changed in place: an event redraws its agent's row only (and
// moves it alone when its place changes), the clock only the visible time cells.
import { h } from "../../lib/dom.js";
import { t } from "../../lib/i18n.js";
import { clockTime, duration } from "../../lib/time.js";

const STATE_ORDER = ["ringing", "on_call", "wrap_up", "not_ready", "available", "offline"];
const DASH = "–";
const COLUMNS = [
  // [key, label key, sortable]
  ["name", "sup.grid.agent", true],
  ["state", "sup.grid.state", true],
  ["since", "sup.grid.in_state", true],
  ["call", "sup.grid.call", false],
  ["queue", "sup.grid.queue", true],
  ["talk", "sup.grid.talk", false],
  ["handled", "sup.grid.handled", true],
  ["missed", "sup.grid.missed", true],
  ["clock", "sup.grid.clock", true],
  ["adherence", "sup.grid.adherence", true],
  ["skills", "sup.grid.skills", false],
];

export class HlAgentGrid extends HTMLElement {
  board = null;
  #els = null;
  #rows = new Map(); // agent id -> {tr, cells, visible}
  #order = []; // agent ids as the tbody holds them
  #sort = { key: "state", dir: 1 };

  // A new snapshot: rows for every agent, filters for its queues and skills.
  rebuild() {
    const board = this.board;
    if (!this.#els) this.#renderFrame();
    const els = this.#els;
    const keep = (select) => select.value;
    const [q, sk, st] = [keep(els.queue), keep(els.skill), keep(els.state)];
    els.queue.replaceChildren(h("option", { value: "" }, t("sup.grid.all_queues")),
      ...board.queues.map((x) => h("option", { value: x.skill }, x.name)));
    const skills = [...new Set([...board.agents.values()].flatMap((a) => a.skills))].sort();
    els.skill.replaceChildren(h("option", { value: "" }, t("sup.grid.all_skills")), ...skills.map((s) => h("option", { value: s }, s)));
    els.state.replaceChildren(h("option", { value: "" }, t("sup.grid.all_states")),
      ...STATE_ORDER.map((s) => h("option", { value: s }, t(`state.${s}`))));
    els.queue.value = q;
    els.skill.value = sk;
    els.state.value = st;
    const seen = new Set();
    for (const id of board.agents.keys()) {
      seen.add(id);
      if (!this.#rows.has(id)) this.#rows.set(id, this.#makeRow(id));
      this.updateAgent(id, false);
    }
    for (const [id, r] of this.#rows) {
      if (!seen.has(id)) {
        r.tr.remove();
        this.#rows.delete(id);
      }
    }
    this.#order = [];
    this.#resort();
    this.#count();
  }

  #renderFrame() {
    const els = {};
    const onFilter = () => {
      for (const id of this.#rows.keys()) this.#applyFilter(id);
      this.#count();
      this.tick(this.now ?? Date.now() / 1000);
    };
    els.search = h("input", { type: "search", "data-test": "grid-search", placeholder: t("sup.grid.search"), "aria-label": t("sup.grid.search"), oninput: onFilter });
    els.queue = h("select", { "data-test": "grid-queue", onchange: onFilter });
    els.skill = h("select", { "data-test": "grid-skill", onchange: onFilter });
    els.state = h("select", { "data-test": "grid-state", onchange: onFilter });
    els.count = h("span", { class: "hl-muted", role: "status", "data-test": "grid-count" });
    els.heads = new Map();
    const headRow = h("tr", {}, COLUMNS.map(([key, label, sortable]) => {
      const th = h("th", { scope: "col", "data-col": key }, sortable
        ? h("button", { type: "button", class: "hl-sup-sort", "data-test": `sort-${key}`, onclick: () => this.#sortBy(key) }, t(label))
        : t(label));
      els.heads.set(key, th);
      return th;
    }));
    els.body = h("tbody");
    els.empty = h("p", { class: "hl-muted", "data-test": "grid-empty", hidden: true }, t("sup.grid.empty"));
    els.table = h("table", { class: "hl-table hl-sup-grid", "data-test": "agent-grid" }, h("thead", {}, headRow), els.body);
    this.#els = els;
    this.replaceChildren(
      h("header", { class: "hl-panel-head" }, h("h2", { id: "sup-grid-title" }, t("sup.grid.title")), els.count),
      h("div", { class: "hl-filter-form hl-sup-filters" },
        h("label", {}, t("sup.grid.search"), els.search), h("label", {}, t("sup.grid.queue"), els.queue),
        h("label", {}, t("sup.grid.skills"), els.skill), h("label", {}, t("sup.grid.state"), els.state)),
      h("div", { class: "hl-table-wrap hl-sup-grid-wrap", "aria-labelledby": "sup-grid-title" }, els.table), els.empty);
    this.#markSort();
  }

  focusSearch() {
    this.#els?.search.focus();
  }

  #makeRow(id) {
    const cells = {};
    const tr = h("tr", { "data-agent-id": String(id), "data-test": "agent-row" },
      COLUMNS.map(([key]) => (cells[key] = h(key === "name" ? "th" : "td", key === "name" ? { scope: "row", "data-test": `cell-${key}` } : { "data-test": `cell-${key}` }))));
    cells.since.className = "hl-num";
    cells.talk.className = "hl-num";
    cells.handled.className = "hl-num";
    cells.missed.className = "hl-num";
    cells.callLink = h("a", { "data-test": "call-link" });
    cells.call.append(cells.callLink);
    cells.stateBadge = h("span", { class: "hl-sup-badge" });
    cells.reason = h("span", { class: "hl-sup-reason" });
    cells.state.append(cells.stateBadge, cells.reason);
    return { tr, cells, visible: true, key: null };
  }

  // One agent's row from the board; `resort` false while many rows change at once.
  updateAgent(id, resort = true) {
    const r = this.#rows.get(id);
    const a = this.board.agents.get(id);
    if (!r || !a) return;
    const c = r.cells;
    const call = a.call_id ? this.board.calls.get(a.call_id) : null;
    setText(c.name, a.name);
    c.name.title = a.username;
    r.tr.dataset.state = a.state;
    c.stateBadge.dataset.state = a.state;
    setText(c.stateBadge, t(`state.${a.state}`));
    setText(c.reason, a.state === "not_ready" ? (a.reason ? t(`reason.${a.reason}`) : t("sup.reason_none")) : "");
    setText(c.callLink, call ? [call.caller_number, call.customer].filter(Boolean).join(" · ") + (call.direction === "outbound" ? ` (${t("sup.outbound")})` : "") : "");
    const href = call ? `/calls/${encodeURIComponent(call.id)}` : null;
    if (href) c.callLink.setAttribute("href", href);
    else c.callLink.removeAttribute("href");
    setText(c.queue, call ? this.board.queueName(call.queue_id) : "");
    setText(c.handled, String(a.handled));
    setText(c.missed, String(a.missed));
    c.missed.dataset.alert = String(a.missed > 0);
    setText(c.clock, a.clocked_in ? t("sup.grid.clocked_since", { time: clockTime(a.clocked_in_since).slice(0, 5) }) : t("sup.grid.not_clocked"));
    c.clock.dataset.in = String(a.clocked_in);
    setText(c.adherence, t(`att.reason.${a.adherence}`));
    c.adherence.dataset.ok = String(a.in_adherence);
    setText(c.skills, a.skills.join(", "));
    if (this.#applyFilter(id) && resort) this.#count();
    this.#tickRow(r, a, this.now ?? Date.now() / 1000);
    if (resort && this.#sortKey(a) !== r.key) this.#reposition(id);
  }

  // Rows showing these calls (their facts changed).
  updateCalls(callIds) {
    const ids = new Set(callIds);
    for (const a of this.board.agents.values()) if (a.call_id && ids.has(a.call_id)) this.updateAgent(a.agent_id);
  }

  tick(now) {
    this.now = now;
    for (const [id, r] of this.#rows) {
      if (r.visible) this.#tickRow(r, this.board.agents.get(id), now);
    }
  }

  #tickRow(r, a, now) {
    if (!a) return;
    setText(r.cells.since, a.since ? duration(Math.max(0, now - a.since)) : "");
    const call = a.state === "on_call" && a.call_id ? this.board.calls.get(a.call_id) : null;
    setText(r.cells.talk, call?.answered_at ? duration(Math.max(0, now - call.answered_at)) : "");
  }

  #applyFilter(id) {
    const r = this.#rows.get(id);
    const a = this.board.agents.get(id);
    const els = this.#els;
    const text = els.search.value.trim().toLowerCase();
    const visible = (!els.queue.value || a.skills.includes(els.queue.value))
      && (!els.skill.value || a.skills.includes(els.skill.value))
      && (!els.state.value || a.state === els.state.value)
      && (!text || a.name.toLowerCase().includes(text) || a.username.toLowerCase().includes(text));
    if (visible === r.visible) return false;
    r.visible = visible;
    r.tr.hidden = !visible;
    return true;
  }

  #count() {
    const shown = [...this.#rows.values()].filter((r) => r.visible).length;
    this.#els.count.textContent = t("sup.grid.count", { shown, total: this.#rows.size });
    this.#els.empty.hidden = shown > 0 || this.#rows.size === 0;
  }

  #sortBy(key) {
    this.#sort = { key, dir: this.#sort.key === key ? -this.#sort.dir : 1 };
    this.#markSort();
    this.#resort();
  }

  #markSort() {
    for (const [key, th] of this.#els.heads) {
      if (key === this.#sort.key) th.setAttribute("aria-sort", this.#sort.dir > 0 ? "ascending" : "descending");
      else th.removeAttribute("aria-sort");
    }
  }

  #sortKey(a) {
    switch (this.#sort.key) {
      case "name": return a.name;
      case "state": return STATE_ORDER.indexOf(a.state) * 1e11 + (a.since || 0);
      case "since": return a.since || 0;
      case "queue": {
        const call = a.call_id ? this.board.calls.get(a.call_id) : null;
        return call ? this.board.queueName(call.queue_id) : "";
      }
      case "handled": return a.handled;
      case "missed": return a.missed;
      case "clock": return a.clocked_in ? 0 : 1;
      case "adherence": return a.in_adherence ? 1 : 0;
      default: return 0;
    }
  }

  #compare(ia, ib) {
    const a = this.#rows.get(ia).key;
    const b = this.#rows.get(ib).key;
    const cmp = typeof a === "string" ? a.localeCompare(b) : a - b;
    if (cmp) return cmp * this.#sort.dir;
    const name = (id) => this.board.agents.get(id)?.name ?? "";
    return name(ia).localeCompare(name(ib)) || ia - ib;
  }

  // Every row in order (a new sort, a new snapshot): rows move only if the order changed.
  #resort() {
    for (const [id, r] of this.#rows) r.key = this.#sortKey(this.board.agents.get(id));
    const order = [...this.#rows.keys()].sort((a, b) => this.#compare(a, b));
    if (order.length === this.#order.length && order.every((id, i) => id === this.#order[i])) return;
    this.#order = order;
    this.#els.body.append(...order.map((id) => this.#rows.get(id).tr));
  }

  // One row's sort key changed (an event): it alone moves, to its place among the others.
  #reposition(id) {
    const r = this.#rows.get(id);
    r.key = this.#sortKey(this.board.agents.get(id));
    const at = this.#order.indexOf(id);
    if (at >= 0) this.#order.splice(at, 1);
    let lo = 0;
    let hi = this.#order.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.#compare(this.#order[mid], id) < 0) lo = mid + 1;
      else hi = mid;
    }
    this.#order.splice(lo, 0, id);
    const next = this.#order[lo + 1];
    const before = next === undefined ? null : this.#rows.get(next).tr;
    if (r.tr.nextSibling !== before || r.tr.parentNode !== this.#els.body) this.#els.body.insertBefore(r.tr, before);
  }
}

function setText(el, text) {
  if (el.textContent !== text) el.textContent = text;
}

customElements.define("hl-agent-grid", HlAgentGrid);
