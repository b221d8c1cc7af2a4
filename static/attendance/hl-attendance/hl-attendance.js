// The attendance page for planners and supervisors: real-time adherence (refreshed when an
// agent's desk state changes, and every 30 s for the clock), adherence per ended shift for a date range, and the monthly 10-point ledger with
// each agent's level and deductions. The element owns the state; the server does the maths.
import { getJSON } from "../../lib/api.js";
import { h } from "../../lib/dom.js";
import { t } from "../../lib/i18n.js";
import { start } from "../../lib/page.js";
import { LiveLink } from "../../lib/socket.js";
import { clockTime, dateTime } from "../../lib/time.js";

const REFRESH_MS = 30000;
const LIVE_DEBOUNCE_MS = 300; // a burst of state changes is one refresh
const STYLE = `
hl-attendance section.hl-panel { margin-bottom: 12px; }
hl-attendance .hl-att-bad { background: #fff5f5; }
hl-attendance .hl-att-badge { display: inline-block; padding: 0 6px; border-radius: 8px; font-size: 12px; }
hl-attendance .hl-att-badge[data-ok="true"], hl-attendance .hl-att-badge[data-level="none"] { background: #f0fff4; color: #276749; }
hl-attendance .hl-att-badge[data-ok="false"], hl-attendance .hl-att-badge[data-level="penalty"], hl-attendance .hl-att-badge[data-level="severe"] { background: #fff5f5; color: #c53030; font-weight: 600; }
hl-attendance .hl-att-badge[data-level="warning"] { background: #fffaf0; color: #975a16; font-weight: 600; }
hl-attendance details summary { cursor: pointer; }
`;

const hm = (iso) => (iso ? clockTime(iso).slice(0, 5) : "–");
const num = (x) => (x === null || x === undefined ? "–" : String(x));
const th = (labels) => h("thead", {}, h("tr", {}, labels.map((x) => h("th", { scope: "col" }, x))));

export class HlAttendance extends HTMLElement {
  state = { now: null, history: null, ledger: null, errors: {} };
  #els = null;
  #timer = null;
  #link = null;
  #soon = null;

  async connectedCallback() {
    if (this.#els) return;
    if (!document.getElementById("hl-attendance-style")) {
      document.head.append(h("style", { id: "hl-attendance-style" }, STYLE));
    }
    if (!(await start(this))) return;
    this.#render();
    this.#loadNow();
    this.#loadHistory();
    this.#loadLedger();
    this.#timer = setInterval(() => this.#loadNow(), REFRESH_MS);
    this.#link = new LiveLink({
      onEvent: () => {
        clearTimeout(this.#soon);
        this.#soon = setTimeout(() => this.#loadNow(), LIVE_DEBOUNCE_MS);
      },
      // A reconnect may have missed changes: read the table again.
      onStatus: (status) => {
        if (status === "connected" && this.dataset.live === "disconnected") this.#loadNow();
        this.dataset.live = status;
      },
    }).connect(["agent_state_changed", "agent_clocked"]);
  }

  disconnectedCallback() {
    clearInterval(this.#timer);
    clearTimeout(this.#soon);
    this.#link?.socket?.disconnect();
  }

  async #fetch(part, path) {
    try {
      const data = await getJSON(path);
      this.state[part] = data;
      this.state.errors[part] = null;
    } catch (err) {
      this.state.errors[part] = err.message;
    }
    this.#update(part);
  }

  #loadNow() {
    return this.#fetch("now", "/api/v1/adherence/now");
  }

  #loadHistory() {
    const q = new URLSearchParams({ from: this.#els.from.value, to: this.#els.to.value });
    return this.#fetch("history", `/api/v1/adherence?${q}`);
  }

  #loadLedger() {
    const q = new URLSearchParams({ month: this.#els.month.value });
    return this.#fetch("ledger", `/api/v1/attendance/ledger?${q}`);
  }

  #render() {
    const els = {};
    const errorBox = (part) => (els["error_" + part] = h("p", { class: "hl-error", role: "alert", "data-test": "error-" + part, hidden: true }));
    els.nowSummary = h("span", { class: "hl-muted", role: "status", "data-test": "now-summary" });
    els.nowBody = h("tbody");
    els.nowTable = h("table", { class: "hl-table", "data-test": "now-table" },
      th([t("att.agent"), t("att.shift"), t("att.clock"), t("att.state"), t("att.adherence")]), els.nowBody);
    els.from = h("input", { type: "date", name: "from", value: this.dataset.from, "data-test": "from", required: true });
    els.to = h("input", { type: "date", name: "to", value: this.dataset.today, "data-test": "to", required: true });
    els.histSummary = h("p", { class: "hl-muted", role: "status", "data-test": "history-summary" });
    els.histBody = h("tbody");
    els.histTable = h("table", { class: "hl-table", "data-test": "history-table" },
      th([t("att.day"), t("att.agent"), t("att.shift"), t("att.scheduled_min"), t("att.logged_in_min"), t("att.adherence_pct"),
        t("att.clock_in"), t("att.clock_out"), t("att.late_min"), t("att.early_min"), t("att.logouts")]), els.histBody);
    els.month = h("input", { type: "month", name: "month", value: this.dataset.month, "data-test": "month", required: true });
    els.rules = h("p", { class: "hl-muted", "data-test": "rules" });
    // The month's ledger for payroll: the same month as the table, as CSV.
    const ledgerCsv = () => `/api/v1/attendance/ledger.csv?${new URLSearchParams({ month: els.month.value })}`;
    els.exportLedger = h("a", { class: "hl-btn", "data-test": "export-ledger", download: "", href: ledgerCsv() }, t("att.export_csv"));
    els.month.addEventListener("input", () => { els.exportLedger.href = ledgerCsv(); });
    els.ledgerBody = h("tbody");
    els.ledgerTable = h("table", { class: "hl-table", "data-test": "ledger-table" },
      th([t("att.agent"), t("att.score"), t("att.level"), t("att.late_count"), t("att.absences"), t("att.logouts"),
        t("att.leave_days"), t("att.swaps"), t("att.previous"), t("att.entries")]), els.ledgerBody);
    this.#els = els;
    const form = (onsubmit, ...fields) => h("form", { class: "hl-filter-form", onsubmit: (e) => { e.preventDefault(); onsubmit(); } },
      ...fields, h("div", { class: "hl-form-actions" }, h("button", { type: "submit", class: "hl-btn" }, t("att.show"))));
    this.replaceChildren(
      h("h1", {}, t("att.title")),
      h("section", { class: "hl-panel", "aria-labelledby": "att-now" },
        h("header", { class: "hl-panel-head" }, h("h2", { id: "att-now" }, t("att.now")), els.nowSummary,
          h("button", { type: "button", class: "hl-btn", "data-test": "refresh-now", onclick: () => this.#loadNow() }, t("att.refresh"))),
        errorBox("now"), h("div", { class: "hl-table-wrap" }, els.nowTable)),
      h("section", { class: "hl-panel", "aria-labelledby": "att-ledger" },
        h("header", { class: "hl-panel-head" }, h("h2", { id: "att-ledger" }, t("att.ledger"))),
        form(() => this.#loadLedger(), h("label", {}, t("att.month"), els.month), els.exportLedger),
        els.rules, errorBox("ledger"), h("div", { class: "hl-table-wrap" }, els.ledgerTable)),
      h("section", { class: "hl-panel", "aria-labelledby": "att-history" },
        h("header", { class: "hl-panel-head" }, h("h2", { id: "att-history" }, t("att.history"))),
        form(() => this.#loadHistory(), h("label", {}, t("att.from"), els.from), h("label", {}, t("att.to"), els.to)),
        errorBox("history"), els.histSummary, h("div", { class: "hl-table-wrap" }, els.histTable)));
  }

  #empty(cols) {
    return h("tr", {}, h("td", { colspan: cols, class: "hl-muted" }, t("att.empty")));
  }

  #update(part) {
    const els = this.#els;
    const err = this.state.errors[part];
    els["error_" + part].textContent = err || "";
    els["error_" + part].hidden = !err;
    if (part === "now") this.#updateNow();
    else if (part === "history") this.#updateHistory();
    else this.#updateLedger();
  }

  #updateNow() {
    const d = this.state.now;
    if (!d) return;
    const els = this.#els;
    els.nowSummary.textContent = t("att.summary_now", { scheduled: d.scheduled, out: d.out_of_adherence });
    const rows = d.agents.map((a) => h("tr", { "data-test": "now-row", "data-agent": a.agent_id, class: a.in_adherence ? null : "hl-att-bad" },
      h("td", { "data-test": "name" }, a.name),
      h("td", {}, a.shift ? `${a.shift.template_code} ${hm(a.shift.start)}–${hm(a.shift.end)}` : t("att.off_shift")),
      h("td", { "data-test": "clocked" }, a.clocked_in ? t("att.clocked_since", { time: hm(a.clocked_in_since) }) : t("att.not_clocked")),
      h("td", { "data-test": "state" }, t("state." + a.state)),
      h("td", {}, h("span", { class: "hl-att-badge", "data-ok": String(a.in_adherence), "data-test": "adherence" }, t("att.reason." + a.reason)))));
    els.nowBody.replaceChildren(...(rows.length ? rows : [this.#empty(5)]));
  }

  #updateHistory() {
    const d = this.state.history;
    if (!d) return;
    const els = this.#els;
    const x = d.totals;
    els.histSummary.textContent = t("att.totals", { shifts: x.shifts, pct: num(x.adherence_pct), late: x.late, absent: x.absent, logouts: x.logouts });
    const rows = d.shifts.map((s) => h("tr", { "data-test": "history-row", "data-agent": s.agent_id, class: s.absent && !s.on_leave ? "hl-att-bad" : null },
      h("td", {}, s.day),
      h("td", {}, s.name),
      h("td", {}, `${s.template_code} ${hm(s.start)}–${hm(s.end)}`, s.on_leave ? ` (${t("att.on_leave")})` : ""),
      h("td", { class: "hl-num" }, num(s.scheduled_min)),
      h("td", { class: "hl-num" }, num(s.logged_in_min)),
      h("td", { class: "hl-num" }, num(s.adherence_pct)),
      h("td", { class: "hl-num" }, s.clock_in ? dateTime(s.clock_in) : s.absent ? t("att.absent") : "–"),
      h("td", { class: "hl-num", "data-test": "clock-out" }, s.clock_out ? dateTime(s.clock_out) : "–",
        s.without_relief ? h("span", { class: "hl-error", title: t("att.without_relief"), "data-test": "without-relief" }, " ⚠") : null),
      h("td", { class: "hl-num" }, num(s.late_start_min)),
      h("td", { class: "hl-num" }, num(s.early_leave_min)),
      h("td", { class: "hl-num" }, s.logouts)));
    els.histBody.replaceChildren(...(rows.length ? rows : [this.#empty(11)]));
  }

  #updateLedger() {
    const d = this.state.ledger;
    if (!d) return;
    const els = this.#els;
    const p = d.policy;
    els.rules.textContent = t("att.rules", {
      start: p.start_points, late: p.late_points, after: p.absence_late_after_min, absence_late: p.absence_late_points,
      absence: p.absence_points, logout_count: p.logout_count, logouts: p.logout_points, max_swaps: p.max_swaps,
      swap: p.excess_swap_points, warning: p.warning_at, penalty: p.penalty_at,
    });
    const rows = d.ledgers.map((l) => {
      const level = l.level || "none";
      const entries = l.entries.length
        ? h("details", {}, h("summary", {}, String(l.entries.length)),
            h("ul", {}, l.entries.map((e) => h("li", { "data-test": "entry", "data-kind": e.kind }, `${e.day} ${e.points}: ${e.detail}`))))
        : h("span", { class: "hl-muted" }, t("att.no_entries"));
      return h("tr", { "data-test": "ledger-row", "data-agent": l.agent_id, class: level === "none" ? null : "hl-att-bad" },
        h("td", {}, l.name),
        h("td", { class: "hl-num", "data-test": "score" }, String(l.score)),
        h("td", {}, h("span", { class: "hl-att-badge", "data-level": level, "data-test": "level" }, t("att.level." + level))),
        h("td", { class: "hl-num" }, l.late),
        h("td", { class: "hl-num" }, l.absences),
        h("td", { class: "hl-num" }, l.logouts),
        h("td", { class: "hl-num" }, l.leave_days),
        h("td", { class: "hl-num" }, l.swaps),
        h("td", { class: "hl-num" }, l.previous_scores.join(" / ") || "–"),
        h("td", {}, entries));
    });
    els.ledgerBody.replaceChildren(...(rows.length ? rows : [this.#empty(10)]));
  }
}

customElements.define("hl-attendance", HlAttendance);
