// The call log for supervisors: filters, a page of results, paging and a CSV export
// link carrying the same filters. The filters live in the URL so a view can be shared.
import { getJSON } from "../../lib/api.js";
import { h } from "../../lib/dom.js";
import { t } from "../../lib/i18n.js";
import { showLine, start } from "../../lib/page.js";
import { dateTime, duration, wallToIso } from "../../lib/time.js";

const PAGE = 50;
const FILTERS = ["since", "until", "queue", "agent", "number", "disposition", "tag", "needs_wrap_up"];

export class HlCallLog extends HTMLElement {
  state = { filters: {}, offset: 0, total: 0, items: [], loading: false, error: null, dispositions: [] };
  #els = null;
  #abort = null;

  async connectedCallback() {
    if (this.#els) return;
    const me = await start(this);
    if (!me) return;
    this.state.dispositions = me.dispositions || [];
    const params = new URLSearchParams(location.search);
    for (const k of FILTERS) if (params.get(k)) this.state.filters[k] = params.get(k);
    this.state.offset = Number(params.get("offset")) || 0;
    this.#render();
    this.#load();
  }

  // Query string for the API: wall times from the form become ISO instants.
  #query(extra = {}) {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(this.state.filters)) {
      if (!v) continue;
      q.set(k, k === "since" || k === "until" ? wallToIso(v) : v);
    }
    for (const [k, v] of Object.entries(extra)) q.set(k, String(v));
    return q;
  }

  async #load() {
    this.#abort?.abort();
    const ctrl = new AbortController();
    this.#abort = ctrl;
    this.#set({ loading: true, error: null });
    try {
      const page = await getJSON("/api/v1/calls?" + this.#query({ limit: PAGE, offset: this.state.offset }), { signal: ctrl.signal });
      this.#set({ loading: false, items: page.items, total: page.total });
    } catch (err) {
      if (err.name === "AbortError") return;
      this.#set({ loading: false, error: err.message });
    }
  }

  #set(patch) {
    Object.assign(this.state, patch);
    this.#update();
  }

  #apply(offset = 0) {
    const form = this.#els.form;
    const filters = {};
    for (const k of FILTERS) {
      const el = form.elements[k];
      const v = el.type === "checkbox" ? (el.checked ? "1" : "") : el.value.trim();
      if (v) filters[k] = v;
    }
    this.state.filters = filters;
    this.state.offset = offset;
    const url = new URLSearchParams(filters);
    if (offset) url.set("offset", offset);
    history.replaceState(null, "", location.pathname + (url.toString() ? "?" + url : ""));
    this.#load();
  }

  #render() {
    const f = this.state.filters;
    const input = (name, label, attrs = {}) =>
      h("label", {}, label, h("input", { name, value: f[name] || "", "data-test": "filter-" + name, ...attrs }));
    const els = {};
    els.form = h("form", { class: "hl-filter-form", "data-test": "filter-form", onsubmit: (e) => { e.preventDefault(); this.#apply(0); } },
      input("since", t("calls.from"), { type: "datetime-local" }),
      input("until", t("calls.to"), { type: "datetime-local" }),
      input("queue", t("calls.queue_id"), { inputmode: "numeric", size: 5 }),
      input("agent", t("calls.agent_id"), { inputmode: "numeric", size: 5 }),
      input("number", t("calls.number"), { type: "search", size: 14 }),
      h("label", {}, t("wrapup.disposition"),
        h("select", { name: "disposition", "data-test": "filter-disposition" },
          h("option", { value: "" }, t("calls.any")),
          this.state.dispositions.map((d) => h("option", { value: d.code, selected: f.disposition === d.code }, d.label)))),
      input("tag", t("wrapup.tag"), { size: 10 }),
      h("label", { class: "hl-check" },
        h("input", { type: "checkbox", name: "needs_wrap_up", value: "1", checked: !!f.needs_wrap_up, "data-test": "filter-needs_wrap_up" }),
        t("calls.needs_wrap_up_only")),
      h("div", { class: "hl-form-actions" },
        h("button", { type: "submit", class: "hl-btn hl-btn-primary", "data-test": "btn-filter" }, t("calls.filter")),
        h("button", { type: "button", class: "hl-btn hl-btn-quiet", "data-test": "btn-reset", onclick: () => { els.form.reset(); for (const el of els.form.elements) if (el.name && el.type !== "checkbox") el.value = ""; this.#apply(0); } }, t("calls.reset"))));
    els.export = h("a", { class: "hl-btn", "data-test": "export-csv", download: "calls.csv" }, t("calls.export"));
    els.summary = h("span", { class: "hl-muted", "data-test": "calls-summary", role: "status" });
    els.error = h("p", { class: "hl-error", role: "alert", "data-test": "error", hidden: true });
    els.tbody = h("tbody");
    els.prev = h("button", { type: "button", class: "hl-btn", "data-test": "btn-prev", onclick: () => this.#apply(Math.max(0, this.state.offset - PAGE)) }, "‹ ", t("calls.prev"));
    els.next = h("button", { type: "button", class: "hl-btn", "data-test": "btn-next", onclick: () => this.#apply(this.state.offset + PAGE) }, t("calls.next"), " ›");
    els.table = h("table", { class: "hl-table", "data-test": "calls-table" },
      h("thead", {}, h("tr", {},
        [t("calls.time"), t("calls.caller"), t("card.queue"), t("calls.agent"), t("card.wait"), t("calls.talk"), t("calls.end_reason"), t("wrapup.disposition"), t("wrapup.tags"), t("wrapup.notes")]
          .map((x) => h("th", { scope: "col" }, x)))),
      els.tbody);
    this.#els = els;
    this.replaceChildren(
      h("section", { class: "hl-panel hl-call-log" },
        h("header", { class: "hl-panel-head" }, h("h1", {}, t("nav.calls")), els.summary, els.export),
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
    const labels = Object.fromEntries(s.dispositions.map((d) => [d.code, d.label]));
    els.export.href = "/api/v1/calls.csv?" + this.#query();
    showLine(els.error, s.error);
    els.table.setAttribute("aria-busy", String(s.loading));
    els.summary.textContent = s.loading
      ? t("common.loading")
      : s.total
        ? t("calls.page", { from: s.offset + 1, to: s.offset + s.items.length, total: s.total })
        : "";
    els.prev.disabled = s.loading || s.offset === 0;
    els.next.disabled = s.loading || s.offset + s.items.length >= s.total;
    const rows = s.items.map((c) =>
      h("tr", { "data-call-id": c.id },
        h("td", {}, h("a", { href: `/calls/${encodeURIComponent(c.id)}`, "data-test": "call-link", title: t("detail.title") },
          h("time", { datetime: c.arrived_at }, dateTime(c.arrived_at)))),
        h("td", { class: "hl-num" }, c.caller_number, numberMark(c)),
        h("td", {}, c.queue || ""),
        h("td", {}, c.agent || ""),
        h("td", { class: "hl-num" }, c.wait_s != null ? duration(c.wait_s) : ""),
        h("td", { class: "hl-num" }, c.talk_s != null ? duration(c.talk_s) : ""),
        h("td", {}, c.end_reason ? t("end." + c.end_reason) : t("calls.in_progress")),
        h("td", {}, c.disposition ? labels[c.disposition] || c.disposition : "",
          c.needs_wrap_up ? h("span", { class: "hl-chip hl-chip-warn", "data-test": "needs-wrap-up" }, t("calls.needs_wrap_up")) : null),
        h("td", {}, (c.tags || []).map((tag) => h("span", { class: "hl-chip" }, tag))),
        h("td", { class: "hl-excerpt", title: c.notes || "" }, excerpt(c.notes))));
    if (!rows.length && !s.loading) rows.push(h("tr", {}, h("td", { colspan: 10, class: "hl-muted" }, t("calls.empty"))));
    els.tbody.replaceChildren(...rows);
  }
}

// A caller number that cannot be E.164 is shown as it came, with a mark saying so.
export function numberMark(c) {
  return c.caller_number_invalid
    ? h("span", { class: "hl-chip hl-chip-warn", "data-test": "number-invalid", title: t("calls.number_invalid") }, "⚠ ", t("calls.number_invalid"))
    : null;
}

function excerpt(text, n = 60) {
  if (!text) return "";
  return text.length > n ? text.slice(0, n) + "…" : text;
}

customElements.define("hl-call-log", HlCallLog);
