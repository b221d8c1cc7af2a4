// The recording library for reviewers: recorded calls newest first, filtered by call facts and
// by the automatic metrics, a page at a time; saved filter sets; each row opens the player.
// The filters live in the URL (shareable) and are what a saved set stores.
import { getJSON } from "../../lib/api.js";
import { h } from "../../lib/dom.js";
import { t } from "../../lib/i18n.js";
import { showLine, start } from "../../lib/page.js";
import { dateTime, duration } from "../../lib/time.js";
import { playerHref, seconds } from "../format.js";
import "../hl-saved-filters/hl-saved-filters.js";

const PAGE = 50;
const CALL_FILTERS = ["from", "to", "agent", "queue", "disposition", "tag", "min_duration", "max_duration"];
const METRIC_FILTERS = ["silence", "overtalk", "first_word", "failed_rule"];
const FILTERS = [...CALL_FILTERS, ...METRIC_FILTERS];
// Saved sets store these as numbers (the API's types); the URL and the form hold strings.
const NUMBERS = new Set(["agent", "queue", "min_duration", "max_duration", "silence", "overtalk", "first_word"]);
// The three metric columns: the row's metric, its filter, its header.
const METRIC_COLUMNS = [
  ["longest_silence_s", "quality.col.silence"],
  ["overtalk_s", "quality.col.overtalk"],
  ["agent_first_word_s", "quality.col.first_word"],
];

export class HlRecordingLibrary extends HTMLElement {
  state = { filters: {}, offset: 0, total: 0, items: [], loading: false, error: null, choices: null, progress: null, zone: "" };
  #els = null;
  #abort = null;

  async connectedCallback() {
    if (this.#els) return;
    const me = await start(this);
    if (!me) return;
    this.state.zone = me.timezone || "";
    const params = new URLSearchParams(location.search);
    for (const k of FILTERS) if (params.get(k)) this.state.filters[k] = params.get(k);
    this.state.offset = Number(params.get("offset")) || 0;
    try {
      this.state.choices = await getJSON("/api/v1/quality/filter-choices");
    } catch (err) {
      this.state.error = err.message;
    }
    this.#render();
    this.#load();
    getJSON("/api/v1/quality/analysis").then((p) => this.#set({ progress: p }), () => {});
  }

  #query(extra = {}) {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(this.state.filters)) if (v) q.set(k, v);
    for (const [k, v] of Object.entries(extra)) q.set(k, String(v));
    return q;
  }

  async #load() {
    this.#abort?.abort();
    const ctrl = new AbortController();
    this.#abort = ctrl;
    this.#set({ loading: true, error: null });
    try {
      const page = await getJSON("/api/v1/quality/recordings?" + this.#query({ limit: PAGE, offset: this.state.offset }), { signal: ctrl.signal });
      this.#set({ loading: false, items: page.items, total: page.total });
    } catch (err) {
      if (err.name === "AbortError") return;
      this.#set({ loading: false, error: err.message, items: [], total: 0 });
    }
  }

  #set(patch) {
    Object.assign(this.state, patch);
    this.#update();
  }

  // The filters as a saved set stores them (numbers as numbers).
  #saved() {
    const out = {};
    for (const [k, v] of Object.entries(this.state.filters)) out[k] = NUMBERS.has(k) ? Number(v) : v;
    return out;
  }

  #apply(offset = 0, filters = null) {
    const form = this.#els.form;
    if (filters) {
      for (const k of FILTERS) form.elements[k].value = filters[k] ?? "";
    }
    const next = {};
    for (const k of FILTERS) {
      const v = form.elements[k].value.trim();
      if (v) next[k] = v;
    }
    this.state.filters = next;
    this.state.offset = offset;
    this.#els.saved.current = this.#saved();
    const url = this.#query(offset ? { offset } : {});
    history.replaceState(null, "", location.pathname + (url.toString() ? "?" + url : ""));
    this.#load();
  }

  #render() {
    const f = this.state.filters;
    const c = this.state.choices || { agents: [], queues: [], dispositions: [], tags: [], rules: [] };
    const field = (name, label, control, hint) => h("label", { title: hint || null }, label, control);
    const input = (name, attrs = {}) => h("input", { name, value: f[name] || "", "data-test": "filter-" + name, ...attrs });
    const number = (name) => input(name, { type: "number", min: 0, max: 86400, step: "any", inputmode: "decimal", class: "hl-num-input" });
    const select = (name, options) =>
      h("select", { name, "data-test": "filter-" + name },
        h("option", { value: "" }, t("calls.any")),
        options.map(([value, label]) => h("option", { value, selected: String(f[name] || "") === String(value) }, label)));
    const els = {};
    els.saved = h("hl-saved-filters", { "data-test": "saved-filters-bar" });
    els.saved.current = this.#saved();
    els.saved.addEventListener("saved-filter-picked", (e) => {
      const picked = {};
      for (const [k, v] of Object.entries(e.detail.filters || {})) picked[k] = String(v);
      this.#apply(0, picked);
    });
    els.form = h("form", { class: "hl-library-filters", "data-test": "filter-form", onsubmit: (e) => { e.preventDefault(); this.#apply(0); } },
      h("fieldset", {},
        h("legend", {}, t("quality.filter.call")),
        field("from", t("quality.filter.from"), input("from", { type: "date" }), t("quality.filter.zone", { zone: this.state.zone })),
        field("to", t("quality.filter.to"), input("to", { type: "date" }), t("quality.filter.zone", { zone: this.state.zone })),
        field("agent", t("quality.filter.agent"), select("agent", c.agents.map((a) => [a.id, a.name]))),
        field("queue", t("quality.filter.queue"), select("queue", c.queues.map((q) => [q.id, q.name]))),
        field("disposition", t("wrapup.disposition"), select("disposition", c.dispositions.map((d) => [d.code, d.label]))),
        field("tag", t("wrapup.tag"), input("tag", { list: "hl-library-tags", size: 10, maxlength: 64 })),
        h("datalist", { id: "hl-library-tags" }, c.tags.map((tag) => h("option", { value: tag }))),
        field("min_duration", t("quality.filter.min_duration"), number("min_duration")),
        field("max_duration", t("quality.filter.max_duration"), number("max_duration"))),
      h("fieldset", {},
        h("legend", {}, t("quality.filter.metrics")),
        field("silence", t("quality.filter.silence"), number("silence"), t("quality.filter.silence_hint")),
        field("overtalk", t("quality.filter.overtalk"), number("overtalk"), t("quality.filter.overtalk_hint")),
        field("first_word", t("quality.filter.first_word"), number("first_word"), t("quality.filter.first_word_hint")),
        field("failed_rule", t("quality.filter.failed_rule"),
          h("select", { name: "failed_rule", "data-test": "filter-failed_rule" },
            h("option", { value: "" }, t("calls.any")),
            h("option", { value: "any", selected: f.failed_rule === "any" }, t("quality.filter.any_rule")),
            c.rules.map((r) => h("option", { value: r.id, selected: f.failed_rule === r.id }, r.label))))),
      h("div", { class: "hl-form-actions" },
        h("button", { type: "submit", class: "hl-btn hl-btn-primary", "data-test": "btn-filter" }, t("calls.filter")),
        h("button", { type: "button", class: "hl-btn hl-btn-quiet", "data-test": "btn-reset", onclick: () => this.#apply(0, {}) }, t("calls.reset"))));
    els.summary = h("span", { class: "hl-muted", "data-test": "library-summary", role: "status" });
    els.progress = h("span", { class: "hl-muted hl-library-progress", "data-test": "analysis-progress" });
    els.error = h("p", { class: "hl-error", role: "alert", "data-test": "error", hidden: true });
    els.tbody = h("tbody");
    els.prev = h("button", { type: "button", class: "hl-btn", "data-test": "btn-prev", onclick: () => this.#apply(Math.max(0, this.state.offset - PAGE)) }, "‹ ", t("calls.prev"));
    els.next = h("button", { type: "button", class: "hl-btn", "data-test": "btn-next", onclick: () => this.#apply(this.state.offset + PAGE) }, t("calls.next"), " ›");
    const heads = [t("calls.time"), t("calls.agent"), t("card.queue"), t("calls.caller"), t("quality.col.duration"), t("wrapup.disposition"), t("wrapup.tags"),
      ...METRIC_COLUMNS.map(([, key]) => t(key)), t("quality.col.rules"), ""];
    els.table = h("table", { class: "hl-table hl-library-table", "data-test": "library-table" },
      h("thead", {}, h("tr", {}, heads.map((x, i) => h("th", { scope: "col", class: i >= 7 && i < 10 ? "hl-num" : null }, x)))),
      els.tbody);
    this.#els = els;
    this.replaceChildren(
      h("section", { class: "hl-panel hl-library" },
        h("header", { class: "hl-panel-head" }, h("h1", {}, t("quality.library.title")), els.progress, els.summary),
        els.saved,
        els.form,
        els.error,
        h("div", { class: "hl-table-wrap" }, els.table),
        h("nav", { class: "hl-pager" }, els.prev, els.next)));
    this.#update();
  }

  #update() {
    const els = this.#els;
    if (!els) return;
    const s = this.state;
    showLine(els.error, s.error);
    els.table.setAttribute("aria-busy", String(s.loading));
    els.summary.textContent = s.loading
      ? t("common.loading")
      : s.total
        ? t("calls.page", { from: s.offset + 1, to: s.offset + s.items.length, total: s.total })
        : "";
    const p = s.progress;
    els.progress.textContent = p ? t("quality.progress", { done: p.done, pending: p.pending, failed: p.failed }) : "";
    els.prev.disabled = s.loading || s.offset === 0;
    els.next.disabled = s.loading || s.offset + s.items.length >= s.total;
    const flagAt = s.choices?.flag_at || {};
    const rows = s.items.map((c) => libraryRow(c, flagAt));
    if (!rows.length && !s.loading && !s.error) {
      const empty = Object.keys(s.filters).length ? t("quality.empty") : t("quality.empty_all");
      rows.push(h("tr", {}, h("td", { colspan: 12, class: "hl-muted hl-library-empty", "data-test": "library-empty" }, empty)));
    }
    els.tbody.replaceChildren(...rows);
  }
}

function libraryRow(c, flagAt) {
  const href = playerHref(c.call_id);
  const a = c.analysis;
  let metrics;
  if (a.status === "done") {
    metrics = [
      ...METRIC_COLUMNS.map(([m]) => h("td", { class: "hl-num" }, metricBadge(c, m, flagAt))),
      h("td", {}, c.failed_rules.length
        ? c.failed_rules.map((r) => h("span", { class: "hl-chip hl-chip-bad", "data-test": "failed-rule" }, "✗ ", r.label))
        : h("span", { class: "hl-muted" }, "—")),
    ];
  } else {
    const chip = h("span", { class: "hl-chip " + (a.status === "failed" ? "hl-chip-bad" : "hl-chip-quiet"), "data-test": "analysis-status", title: a.error_message || null },
      t("quality.status." + a.status));
    metrics = [h("td", { colspan: 4 }, chip)];
  }
  return h("tr", { "data-call-id": c.call_id, class: "hl-library-row", onclick: (e) => { if (!e.target.closest("a, button")) location.assign(href); } },
    h("td", { class: "hl-nowrap" }, h("a", { href, "data-test": "open-call" }, h("time", { datetime: c.arrived_at }, dateTime(c.arrived_at)))),
    h("td", {}, c.agent || ""),
    h("td", {}, c.queue || ""),
    h("td", { class: "hl-num hl-nowrap" }, c.caller_number,
      c.caller_number_invalid ? h("span", { class: "hl-chip hl-chip-warn", title: t("calls.number_invalid") }, "⚠") : null),
    h("td", { class: "hl-num" }, c.duration_s != null ? duration(c.duration_s) : ""),
    h("td", {}, c.disposition_label || ""),
    h("td", {}, (c.tags || []).map((tag) => h("span", { class: "hl-chip" }, tag))),
    ...metrics,
    // The time is the row's link for the keyboard; this one is for the mouse (one tab stop a row).
    h("td", {}, h("a", { href, class: "hl-btn hl-btn-small", tabindex: -1, title: t("quality.open_title") }, "▶ ", t("quality.open"))));
}

function metricBadge(c, metric, flagAt) {
  const value = c.metrics[metric];
  if (value === null || value === undefined) return h("span", { class: "hl-muted" }, "—");
  const flagged = c.flags.includes(metric);
  return h("span", {
    class: "hl-metric" + (flagged ? " is-flagged" : ""),
    "data-test": "metric-" + metric,
    "data-flagged": flagged ? "true" : null,
    title: flagged && flagAt[metric] != null ? t("quality.flagged", { s: flagAt[metric] }) : null,
  }, seconds(value));
}

customElements.define("hl-recording-library", HlRecordingLibrary);
