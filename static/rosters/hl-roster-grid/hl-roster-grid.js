// One roster: agents × days grid of shift selects (type a code letter to pick), solve with live
// progress, hard-rule violations re-checked after every edit, understaffing explanations,
// required vs scheduled chart, sealed-coverage gaps, publish.
import { getJSON, postJSON, putJSON } from "../../lib/api.js";
import { h } from "../../lib/dom.js";
import { lang, t } from "../../lib/i18n.js";
import { messageLines, start } from "../../lib/page.js";
import { clockTime, dateTime } from "../../lib/time.js";

const SVG = "http://www.w3.org/2000/svg";
const POLL_MS = 1000;
const fmt = (x, digits = 1) => (x === null || x === undefined ? "–" : Number(x).toFixed(digits));

function weekday(day) {
  return new Date(day + "T12:00:00Z").toLocaleDateString(lang(), { weekday: "short", timeZone: "UTC" });
}

const MOVES = { ArrowLeft: [0, -1], ArrowRight: [0, 1], ArrowUp: [-1, 0], ArrowDown: [1, 0] };

export class HlRosterGrid extends HTMLElement {
  state = { plan: null, coverage: null, busy: false };
  #els = null;
  #timer = null;
  #clip = null; // a shift code copied with Ctrl+C, pasted with Ctrl+V

  async connectedCallback() {
    if (this.#els) return;
    if (!(await start(this))) return;
    this.#render();
    this.#load();
  }

  disconnectedCallback() {
    clearTimeout(this.#timer);
  }

  get #id() {
    return this.dataset.rosterId;
  }

  async #load() {
    clearTimeout(this.#timer);
    try {
      const plan = await getJSON(`/api/v1/rosters/${this.#id}`);
      const coverage = plan.status === "solving" ? this.state.coverage : await getJSON(`/api/v1/rosters/${this.#id}/coverage`);
      this.state.plan = plan;
      this.state.coverage = coverage;
      this.#update();
      if (plan.status === "solving") this.#timer = setTimeout(() => this.#load(), POLL_MS);
    } catch (err) {
      this.#els.msg.fail(err.message);
    }
  }

  async #act(action, notice) {
    this.#els.msg.say("");
    try {
      await action();
      if (notice) this.#els.msg.say(notice);
    } catch (err) {
      this.#els.msg.fail(err.message);
    }
    await this.#load();
  }

  #render() {
    const els = {};
    els.title = h("h1", {});
    els.status = h("span", { class: "hl-muted", "data-test": "roster-status" });
    els.solve = h("button", { type: "button", class: "hl-btn hl-btn-primary", "data-test": "btn-solve", onclick: () => this.#act(() => postJSON(`/api/v1/rosters/${this.#id}/solve`, {})) }, t("roster.solve"));
    els.cancel = h("button", { type: "button", class: "hl-btn", "data-test": "btn-cancel", onclick: () => this.#act(() => postJSON(`/api/v1/rosters/${this.#id}/cancel`, {})) }, t("roster.cancel"));
    els.publish = h("button", { type: "button", class: "hl-btn", "data-test": "btn-publish", onclick: () => this.#act(() => postJSON(`/api/v1/rosters/${this.#id}/publish`, {}), t("roster.published")) }, t("roster.publish"));
    els.export = h("a", { class: "hl-btn", "data-test": "export-roster", download: "", href: `/api/v1/rosters/${this.#id}/roster.csv` }, t("att.export_csv"));
    els.progress = h("p", { class: "hl-muted", role: "status", "data-test": "progress" });
    els.result = h("p", { "data-test": "result" });
    els.msg = messageLines();
    els.grid = h("table", { class: "hl-table hl-roster", "data-test": "roster-grid", onkeydown: (e) => this.#key(e) });
    els.violations = h("ul", { "data-test": "violations" });
    els.violationsOk = h("p", { class: "hl-ok", "data-test": "no-violations" }, t("roster.no_violations"));
    els.explanations = h("ul", { "data-test": "explanations" });
    els.gaps = h("ul", { "data-test": "gaps" });
    els.chart = document.createElementNS(SVG, "svg");
    els.chart.setAttribute("data-test", "coverage-chart");
    els.chart.setAttribute("role", "img");
    els.chart.setAttribute("aria-label", t("roster.chart"));
    els.chart.setAttribute("preserveAspectRatio", "none");
    els.chart.style.cssText = "width:100%;height:90px;display:block;background:#f7fafc";
    this.#els = els;
    this.replaceChildren(
      h("section", { class: "hl-panel" },
        h("header", { class: "hl-panel-head" }, els.title, els.status,
          h("div", { class: "hl-form-actions" }, els.solve, els.cancel, els.publish, els.export)),
        els.msg.error, els.msg.notice, els.progress, els.result,
        h("p", { class: "hl-muted" }, t("roster.edit_hint")),
        h("div", { class: "hl-table-wrap" }, els.grid)),
      h("section", { class: "hl-panel" }, h("h2", {}, t("roster.violations")), els.violationsOk, els.violations),
      h("section", { class: "hl-panel" }, h("h2", {}, t("roster.chart")), els.chart, h("h3", {}, t("roster.gaps")), els.gaps),
      h("section", { class: "hl-panel" }, h("h2", {}, t("roster.understaffed")), els.explanations));
  }

  async #edit(agentId, day, code) {
    this.#els.msg.say("");
    try {
      await putJSON(`/api/v1/rosters/${this.#id}/shifts`, { agent_id: agentId, day, template_code: code || null });
    } catch (err) {
      this.#els.msg.fail(err.message);
    }
    await this.#load();
  }

  // Spreadsheet keys on the grid: arrows move between cells (not through the options), a code
  // letter picks a shift, Delete clears the cell, Ctrl+C / Ctrl+V copy a shift to other cells.
  #key(e) {
    const cell = e.target.closest?.('select[data-test="cell"]');
    if (!cell || e.altKey) return;
    const mod = e.ctrlKey || e.metaKey;
    const move = MOVES[e.key];
    if (move && !mod && !e.shiftKey) {
      e.preventDefault();
      const row = cell.closest("tr");
      const rows = [...this.#els.grid.querySelectorAll("tbody tr")];
      const r = rows.indexOf(row) + move[0];
      const c = [...row.querySelectorAll('select[data-test="cell"]')].indexOf(cell) + move[1];
      const target = rows[r]?.querySelectorAll('select[data-test="cell"]')[c];
      (target || cell).focus();
      return;
    }
    if (cell.disabled) return;
    if ((e.key === "Delete" || e.key === "Backspace") && !mod) {
      e.preventDefault();
      if (cell.value) this.#edit(Number(cell.dataset.agent), cell.dataset.day, "");
    } else if (mod && e.key.toLowerCase() === "c") {
      this.#clip = cell.value;
      this.#els.msg.say(t("roster.copied", { code: cell.value || "–" }));
    } else if (mod && e.key.toLowerCase() === "v" && this.#clip !== null) {
      e.preventDefault();
      if (cell.value !== this.#clip) this.#edit(Number(cell.dataset.agent), cell.dataset.day, this.#clip);
    }
  }

  #update() {
    const { plan, coverage } = this.state;
    const els = this.#els;
    if (!plan) return;
    els.title.textContent = plan.name;
    els.status.textContent = t("roster.status." + plan.status);
    els.status.dataset.status = plan.status;
    const editable = ["draft", "solved", "failed"].includes(plan.status);
    els.solve.disabled = !editable;
    els.cancel.hidden = plan.status !== "solving";
    els.publish.disabled = !(plan.status === "solved" || plan.status === "draft") || plan.violation_list.length > 0;
    const p = plan.progress || {};
    els.progress.textContent = plan.status === "solving"
      ? t("roster.progress", { elapsed: fmt(p.elapsed_s), limit: p.time_limit_s ?? plan.time_limit_s, solutions: p.solutions ?? 0, gap: fmt(p.gap_pct) })
      : plan.error || "";
    const r = plan.result || {};
    els.result.textContent = r.objective !== undefined
      ? t("roster.result", { under: r.understaffed, required: r.required, over: r.overstaffed, gap: fmt(r.gap_pct, 2), first: fmt(r.first_feasible_s, 2) })
      : "";
    this.#grid(plan, editable);
    const bad = plan.violation_list;
    els.violationsOk.hidden = bad.length > 0;
    els.violations.replaceChildren(...bad.map((v) => h("li", { class: "hl-error", "data-test": "violation", "data-rule": v.rule },
      `${v.agent} · ${v.day} · `, h("code", {}, v.rule), " ", v.message)));
    els.explanations.replaceChildren(...(r.explanations || []).slice(0, 100).map((e) => h("li", { "data-test": "explanation", "data-reason": e.reason },
      e.message)));
    if (coverage) this.#coverage(coverage);
  }

  #grid(plan, editable) {
    const codes = plan.templates.filter((x) => x.active).map((x) => x.code);
    const byCell = new Map(plan.violation_list.map((v) => [`${v.agent_id}|${v.day}`, v]));
    const duties = new Map(plan.duties.map((d) => [`${d.agent_id}|${d.day}`, d.duty]));
    const head = h("thead", {}, h("tr", {},
      h("th", { scope: "col" }, t("roster.agent")),
      plan.days_list.map((d) => h("th", { scope: "col", class: [0, 6].includes(new Date(d + "T12:00:00Z").getUTCDay()) ? "hl-weekend" : null }, d.slice(5), h("br"), weekday(d))),
      h("th", { scope: "col" }, t("roster.hours"))));
    const body = h("tbody", {}, plan.agents.map((a) => h("tr", { "data-test": "grid-row", "data-agent": a.id, class: a.active === false ? "hl-muted" : null },
      h("th", { scope: "row" }, a.name, h("div", { class: "hl-muted" }, a.skills.join(", "))),
      plan.days_list.map((day) => {
        const cell = a.shifts[day];
        const v = byCell.get(`${a.id}|${day}`);
        const onLeave = a.leave.includes(day);
        const select = h("select", {
          "data-test": "cell", "data-agent": a.id, "data-day": day, disabled: !editable,
          "aria-label": `${a.name} ${day}`,
          title: v ? v.message : [cell?.queue, cell?.seat ? t("roster.seat", { n: cell.seat }) : "", cell?.break_start ? t("roster.break_at", { at: clockTime(cell.break_start).slice(0, 5) }) : ""].filter(Boolean).join(" · "),
          onchange: (e) => this.#edit(a.id, day, e.target.value),
        }, h("option", { value: "" }, onLeave ? t("roster.leave") : "–"), codes.map((c) => h("option", { value: c, selected: cell?.code === c }, c)));
        if (cell && !codes.includes(cell.code)) select.append(h("option", { value: cell.code, selected: true }, cell.code));
        const duty = duties.get(`${a.id}|${day}`);
        return h("td", { class: [v ? "hl-cell-bad" : "", onLeave ? "hl-cell-leave" : "", cell?.edited ? "hl-edited" : ""].join(" ").trim() || null },
          select, duty ? h("span", { title: t("roster.duty." + duty), "data-test": "duty" }, " ✦") : null);
      }),
      h("td", { class: "hl-num", "data-test": "hours" }, fmt(a.hours)))));
    // The grid is rebuilt after every edit: keep the keyboard where it was.
    const focused = this.#els.grid.contains(document.activeElement) ? document.activeElement.dataset : null;
    this.#els.grid.replaceChildren(head, body);
    if (focused?.agent) {
      this.#els.grid.querySelector(`select[data-test="cell"][data-agent="${focused.agent}"][data-day="${focused.day}"]`)?.focus();
    }
  }

  #coverage(cov) {
    const svg = this.#els.chart;
    const rows = cov.rows;
    const n = Math.max(rows.length, 1);
    const top = Math.max(1, ...rows.map((r) => Math.max(r.required, r.scheduled)));
    svg.setAttribute("viewBox", `0 0 ${n} 100`);
    const parts = rows.map((r, i) => {
      const bar = document.createElementNS(SVG, "rect");
      const height = (r.scheduled / top) * 100;
      bar.setAttribute("x", String(i));
      bar.setAttribute("width", "1");
      bar.setAttribute("y", String(100 - height));
      bar.setAttribute("height", String(height));
      bar.setAttribute("fill", r.scheduled < r.required ? "#f6ad55" : "#90cdf4");
      return bar;
    });
    const line = document.createElementNS(SVG, "polyline");
    line.setAttribute("points", rows.map((r, i) => `${i},${100 - (r.required / top) * 100} ${i + 1},${100 - (r.required / top) * 100}`).join(" "));
    line.setAttribute("fill", "none");
    line.setAttribute("stroke", "#c53030");
    line.setAttribute("stroke-width", "1.5");
    line.setAttribute("vector-effect", "non-scaling-stroke");
    svg.replaceChildren(...parts, line);
    const gaps = cov.gaps.slice(0, 60).map((g) => h("li", { "data-test": "gap" }, `${dateTime(g.start)} → ${dateTime(g.end)} (${g.minutes} min)`));
    this.#els.gaps.replaceChildren(...(gaps.length ? gaps : [h("li", { class: "hl-ok" }, t("roster.no_gaps"))]));
  }
}

customElements.define("hl-roster-grid", HlRosterGrid);
