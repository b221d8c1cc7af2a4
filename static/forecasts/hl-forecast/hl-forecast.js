// Forecast and staffing requirement for one queue and one week: a compact table with inline
// edits of calls/AHT (Enter saves), an SVG bar chart of required agents, generate, CSV
// import and the staffing settings. The element owns the state; the server does the maths.
import { api, getJSON, postJSON, putJSON } from "../../lib/api.js";
import { h } from "../../lib/dom.js";
import { t } from "../../lib/i18n.js";
import { showLine, start } from "../../lib/page.js";
import { dateTime, wallToIso } from "../../lib/time.js";

const SVG = "http://www.w3.org/2000/svg";
const PERCENT = new Set(["target_sl", "shrinkage", "max_occupancy"]);
const SETTINGS = ["interval_min", "target_sl", "target_answer_s", "shrinkage", "max_occupancy", "patience_s"];

// Monday of an ISO week "YYYY-Www" as "YYYY-MM-DD".
function weekMonday(week) {
  const m = /^(\d{4})-W(\d{2})$/.exec(week || "");
  if (!m) return null;
  const jan4 = new Date(Date.UTC(Number(m[1]), 0, 4));
  const monday = new Date(jan4.getTime() - ((jan4.getUTCDay() + 6) % 7) * 864e5 + (Number(m[2]) - 1) * 7 * 864e5);
  return monday.toISOString().slice(0, 10);
}

function addDays(day, n) {
  return new Date(Date.parse(day + "T00:00:00Z") + n * 864e5).toISOString().slice(0, 10);
}

const fmt = (x, digits = 1) => (x === null || x === undefined ? "–" : Number(x).toFixed(digits));

export class HlForecast extends HTMLElement {
  state = { queues: [], queue: null, week: "", rows: [], model: "", settings: null, accuracy: null, error: null, notice: null, loading: false };
  #els = null;

  async connectedCallback() {
    if (this.#els) return;
    if (!(await start(this))) return;
    this.state.queues = JSON.parse(this.dataset.queues || "[]");
    this.state.queue = this.state.queues[0]?.id ?? null;
    this.state.week = this.dataset.week || "";
    this.#render();
    this.#load();
  }

  #set(patch) {
    Object.assign(this.state, patch);
    this.#update();
  }

  #base() {
    return `/api/v1/queues/${this.state.queue}`;
  }

  async #load() {
    if (this.state.queue === null) return;
    const monday = weekMonday(this.state.week);
    if (!monday) return;
    const q = new URLSearchParams({ since: wallToIso(monday + "T00:00"), until: wallToIso(addDays(monday, 7) + "T00:00") });
    this.#set({ loading: true, error: null });
    try {
      const data = await getJSON(`${this.#base()}/forecast?${q}`);
      this.#set({ loading: false, rows: data.rows, model: data.model, settings: data.settings, accuracy: data.accuracy });
      this.#fillSettings();
    } catch (err) {
      this.#set({ loading: false, error: err.message });
    }
  }

  async #run(action, notice) {
    this.#set({ error: null, notice: null });
    try {
      const res = await action();
      if (res?.week) {
        this.state.week = res.week;
        this.#els.week.value = res.week;
      }
      this.state.notice = notice(res);
      await this.#load();
    } catch (err) {
      this.#set({ error: err.message });
    }
  }

  #generate() {
    const start = weekMonday(this.state.week);
    const weeks = Number(this.#els.weeks.value) || 1;
    return this.#run(() => postJSON(`${this.#base()}/forecast/generate`, { start, weeks }), (r) => t("forecast.generated", { n: r.generated }));
  }

  async #import(file) {
    if (!file) return;
    const text = await file.text();
    this.#els.file.value = "";
    return this.#run(() => postJSON(`${this.#base()}/forecast/import`, { csv: text }), (r) => t("forecast.imported", { n: r.imported }));
  }

  #edit(row, input) {
    const tr = input.closest("tr");
    const calls = Number(tr.querySelector('[data-test="edit-calls"]').value);
    const aht_s = Number(tr.querySelector('[data-test="edit-aht"]').value);
    return this.#run(() => putJSON(`${this.#base()}/forecast/${encodeURIComponent(row.start)}`, { calls, aht_s }), () => t("forecast.saved"));
  }

  #saveSettings() {
    const form = this.#els.settings;
    const body = {};
    for (const k of SETTINGS) {
      const raw = form.elements[k].value.trim();
      if (raw === "") body[k] = null;
      else body[k] = PERCENT.has(k) ? Number(raw) / 100 : Number(raw);
    }
    return this.#run(() => api(`${this.#base()}/staffing-settings`, { method: "PUT", body }), () => t("forecast.saved"));
  }

  #fillSettings() {
    const s = this.state.settings;
    if (!s) return;
    const form = this.#els.settings;
    for (const k of SETTINGS) {
      const v = s[k];
      form.elements[k].value = v === null ? "" : PERCENT.has(k) ? String(Math.round(v * 1000) / 10) : String(v);
    }
  }

  #render() {
    const els = {};
    els.queue = h("select", { "data-test": "queue", onchange: (e) => { this.state.queue = Number(e.target.value); this.#load(); } },
      this.state.queues.map((q) => h("option", { value: q.id }, q.name)));
    els.week = h("input", { type: "week", value: this.state.week, "data-test": "week", onchange: (e) => { this.state.week = e.target.value; this.#load(); } });
    els.weeks = h("input", { type: "number", min: 1, max: 8, value: 1, size: 2, "data-test": "weeks" });
    els.file = h("input", { type: "file", accept: ".csv,text/csv", "data-test": "import-file", hidden: true, onchange: (e) => this.#import(e.target.files[0]) });
    els.error = h("p", { class: "hl-error", role: "alert", "data-test": "error", hidden: true });
    els.notice = h("p", { class: "hl-muted", role: "status", "data-test": "notice", hidden: true });
    els.model = h("span", { class: "hl-muted", "data-test": "model" });
    els.accuracy = h("p", { class: "hl-muted", "data-test": "accuracy", hidden: true });
    els.chart = document.createElementNS(SVG, "svg");
    els.chart.setAttribute("data-test", "chart");
    els.chart.setAttribute("role", "img");
    els.chart.setAttribute("aria-label", t("forecast.chart"));
    els.chart.setAttribute("preserveAspectRatio", "none");
    els.chart.style.cssText = "width:100%;height:80px;display:block;background:#f7fafc";
    els.tbody = h("tbody");
    els.table = h("table", { class: "hl-table", "data-test": "forecast-table" },
      h("thead", {}, h("tr", {},
        [t("forecast.time"), t("forecast.calls"), t("forecast.actual"), t("forecast.aht"), t("forecast.erlangs"), t("forecast.agents"), t("forecast.agents_shrinkage"), t("forecast.sl"), t("forecast.asa")]
          .map((x) => h("th", { scope: "col" }, x)))),
      els.tbody);
    const field = (name, label, attrs = {}) => h("label", {}, label, h("input", { name, type: "number", step: "any", min: 0, size: 6, "data-test": "setting-" + name, ...attrs }));
    els.settings = h("form", { class: "hl-filter-form", "data-test": "settings-form", onsubmit: (e) => { e.preventDefault(); this.#saveSettings(); } },
      h("label", {}, t("forecast.interval_min"),
        h("select", { name: "interval_min", "data-test": "setting-interval_min" }, h("option", { value: 30 }, "30"), h("option", { value: 15 }, "15"))),
      field("target_sl", t("forecast.target_sl")),
      field("target_answer_s", t("forecast.target_answer_s")),
      field("shrinkage", t("forecast.shrinkage")),
      field("max_occupancy", t("forecast.max_occupancy")),
      field("patience_s", t("forecast.patience_s")),
      h("div", { class: "hl-form-actions" }, h("button", { type: "submit", class: "hl-btn", "data-test": "btn-save-settings" }, t("forecast.save_settings"))));
    this.#els = els;
    const controls = this.state.queues.length
      ? h("div", { class: "hl-filter-form" },
          h("label", {}, t("forecast.queue"), els.queue),
          h("label", {}, t("forecast.week"), els.week),
          h("label", {}, t("forecast.weeks"), els.weeks),
          h("div", { class: "hl-form-actions" },
            h("button", { type: "button", class: "hl-btn hl-btn-primary", "data-test": "btn-generate", onclick: () => this.#generate() }, t("forecast.generate")),
            h("button", { type: "button", class: "hl-btn", "data-test": "btn-import", onclick: () => els.file.click() }, t("forecast.import")),
            els.file))
      : h("p", { class: "hl-muted" }, t("forecast.no_queues"));
    this.replaceChildren(
      h("section", { class: "hl-panel hl-forecast" },
        h("header", { class: "hl-panel-head" }, h("h1", {}, t("forecast.title")), els.model),
        controls, els.error, els.notice, els.accuracy, els.chart,
        h("div", { class: "hl-table-wrap" }, els.table),
        h("h2", {}, t("forecast.settings")), els.settings));
    this.#update();
  }

  #update() {
    const els = this.#els;
    if (!els) return;
    const s = this.state;
    showLine(els.error, s.error);
    showLine(els.notice, s.notice);
    els.model.textContent = s.model ? t("forecast.model." + s.model) : "";
    const a = s.accuracy;
    els.accuracy.hidden = !a;
    if (a) {
      els.accuracy.textContent = t("forecast.accuracy", {
        n: a.intervals, forecast: fmt(a.forecast_calls, 1), actual: a.actual_calls,
        wape: a.wape_pct === null ? "–" : fmt(a.wape_pct, 1), bias: a.bias_pct === null ? "–" : fmt(a.bias_pct, 1),
      });
    }
    els.table.setAttribute("aria-busy", String(s.loading));
    const rows = s.rows.map((r) => {
      const onkeydown = (e) => { if (e.key === "Enter") { e.preventDefault(); this.#edit(r, e.target); } };
      const cell = (name, value) => h("td", { class: "hl-num" },
        h("input", { type: "number", step: "any", min: 0, value: fmt(value, name === "calls" ? 2 : 0), "data-test": "edit-" + name, title: t("forecast.edit_hint"), style: "width:6em", onkeydown }));
      return h("tr", { "data-start": r.start, "data-test": "forecast-row", class: r.edited ? "hl-edited" : null },
        h("td", {}, h("time", { datetime: r.start }, dateTime(r.start)), r.edited ? h("span", { title: t("forecast.edited"), "data-test": "edited" }, " ✎") : null),
        cell("calls", r.calls),
        h("td", { class: "hl-num", "data-test": "actual" }, r.actual_calls ?? "–"),
        cell("aht", r.aht_s),
        h("td", { class: "hl-num" }, fmt(r.traffic_erlangs, 2)),
        h("td", { class: "hl-num", "data-test": "agents" }, r.agents),
        h("td", { class: "hl-num", "data-test": "agents-shrinkage" }, r.agents_with_shrinkage),
        h("td", { class: "hl-num" }, fmt(r.service_level * 100)),
        h("td", { class: "hl-num" }, fmt(r.asa_s)));
    });
    if (!rows.length && !s.loading) rows.push(h("tr", {}, h("td", { colspan: 9, class: "hl-muted", "data-test": "empty" }, t("forecast.empty"))));
    els.tbody.replaceChildren(...rows);
    this.#chart();
  }

  #chart() {
    const svg = this.#els.chart;
    const rows = this.state.rows;
    const n = Math.max(rows.length, 1);
    const top = Math.max(1, ...rows.map((r) => r.agents_with_shrinkage));
    svg.setAttribute("viewBox", `0 0 ${n} 100`);
    svg.replaceChildren(...rows.map((r, i) => {
      const bar = document.createElementNS(SVG, "rect");
      const height = (r.agents / top) * 100;
      bar.setAttribute("x", String(i + 0.1));
      bar.setAttribute("width", "0.8");
      bar.setAttribute("y", String(100 - height));
      bar.setAttribute("height", String(height));
      bar.setAttribute("fill", r.edited ? "#dd6b20" : "#3182ce");
      bar.setAttribute("data-agents", String(r.agents));
      const title = document.createElementNS(SVG, "title");
      title.textContent = `${dateTime(r.start)} · ${t("forecast.agents")} ${r.agents}`;
      bar.append(title);
      return bar;
    }));
  }
}

customElements.define("hl-forecast", HlForecast);
