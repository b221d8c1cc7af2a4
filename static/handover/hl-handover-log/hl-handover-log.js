// Supervisors' view: the handover log of recent published shifts (filed / missing, who took
// it over) and the month's misses per agent with their escalation level; supervisors and
// admins record complaint misses here.
import { getJSON, postJSON } from "../../lib/api.js";
import { h } from "../../lib/dom.js";
import { t } from "../../lib/i18n.js";
import { showLine, start } from "../../lib/page.js";
import { clockTime, dateTime } from "../../lib/time.js";
import { entryCard } from "../hl-handover/hl-handover.js";

const KINDS = ["handover", "weekly-summary", "complaint"];

export class HlHandoverLog extends HTMLElement {
  state = { days: 2, period: "", log: null, report: null, error: null, notice: null };
  #els = null;

  async connectedCallback() {
    if (this.#els) return;
    if (!(await start(this))) return;
    this.state.period = this.dataset.period || "";
    this.#render();
    this.#load();
  }

  async #load() {
    this.#set({ error: null });
    try {
      const [log, report] = await Promise.all([
        getJSON(`/api/v1/handover?days=${encodeURIComponent(this.state.days)}`),
        getJSON(`/api/v1/misses?period=${encodeURIComponent(this.state.period)}`),
      ]);
      this.#set({ log, report });
    } catch (err) {
      this.#set({ error: err.message });
    }
  }

  #render() {
    const els = (this.#els = {});
    const agents = JSON.parse(this.dataset.agents || "[]");
    els.error = h("p", { class: "hl-error", role: "alert", "data-test": "error", hidden: true });
    els.notice = h("p", { class: "hl-notice", role: "status", "data-test": "notice", hidden: true });
    els.days = h("select", { "data-test": "days", onchange: (e) => { this.state.days = Number(e.target.value); this.#load(); } },
      [1, 2, 3, 7, 14].map((d) => h("option", { value: d, selected: d === this.state.days }, d)));
    els.period = h("input", { type: "month", value: this.state.period, "data-test": "period",
      onchange: (e) => { if (e.target.value) { this.state.period = e.target.value; this.#load(); } } });
    els.log = h("tbody", { "data-test": "log-rows" });
    els.levels = h("tbody", { "data-test": "miss-agents" });
    els.misses = h("tbody", { "data-test": "miss-rows" });
    els.escalation = h("p", { class: "hl-muted", "data-test": "escalation" });
    let complaint = null;
    if (this.dataset.canRecord === "true") {
      els.agent = h("select", { "data-test": "complaint-agent", required: true }, agents.map((a) => h("option", { value: a.id }, a.name)));
      els.call = h("input", { type: "text", maxlength: 64, required: true, "data-test": "complaint-call" });
      complaint = h("form", { class: "hl-filter-form", "data-test": "complaint-form",
          onsubmit: (e) => { e.preventDefault(); this.#record(); },
          onkeydown: (e) => { if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) { e.preventDefault(); this.#record(); } } },
        h("strong", {}, t("misses.complaint_title")),
        h("label", {}, t("misses.agent"), els.agent),
        h("label", {}, t("misses.call_id"), els.call),
        h("button", { type: "submit", class: "hl-btn", "data-test": "btn-record" }, t("misses.record")));
    }
    const head = (...cols) => h("thead", {}, h("tr", {}, cols.map((c) => h("th", { scope: "col" }, c))));
    this.replaceChildren(
      h("section", { class: "hl-panel" },
        h("header", { class: "hl-panel-head" }, h("h1", {}, t("handover.log_title")),
          h("label", {}, t("handover.days"), " ", els.days),
          h("button", { type: "button", class: "hl-btn", "data-test": "btn-refresh", onclick: () => this.#load() }, t("handover.refresh"))),
        els.error, els.notice,
        h("div", { class: "hl-table-wrap" }, h("table", { class: "hl-table", "data-test": "log-table" },
          head(t("handover.col_shift"), t("handover.col_agent"), t("handover.col_status"), t("handover.col_items"), t("handover.col_ack")), els.log))),
      h("section", { class: "hl-panel" },
        h("header", { class: "hl-panel-head" }, h("h2", {}, t("misses.title")), h("label", {}, t("misses.period"), " ", els.period)),
        els.escalation,
        h("div", { class: "hl-table-wrap" }, h("table", { class: "hl-table", "data-test": "levels-table" },
          head(t("misses.agent"), ...KINDS.map((k) => t("misses.kind." + k))), els.levels)),
        complaint,
        h("div", { class: "hl-table-wrap" }, h("table", { class: "hl-table" },
          head(t("misses.agent"), t("misses.kind"), t("misses.ref"), "#", t("misses.consequence")), els.misses))));
  }

  async #record() {
    const call_id = this.#els.call.value.trim();
    this.#set({ error: null, notice: null });
    try {
      await postJSON("/api/v1/misses", { agent_id: Number(this.#els.agent.value), call_id });
      this.#els.call.value = "";
      this.#set({ notice: t("misses.recorded_ok") });
      this.#load();
    } catch (err) {
      this.#set({ error: err.message });
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
    if (s.log) {
      const rows = s.log.shifts.map((r) => h("tr", { "data-test": "log-row", "data-status": r.status },
        h("td", {}, `${r.day} ${r.template_code} `, h("span", { class: "hl-muted" }, `${clockTime(r.start).slice(0, 5)}–${clockTime(r.end).slice(0, 5)}`)),
        h("td", {}, r.agent_name),
        h("td", {}, h("span", { class: "hl-ho-status", "data-status": r.status }, t("handover.status." + r.status))),
        h("td", {}, r.entry ? entryCard(r.entry, { showAuthor: false }) : ""),
        h("td", { "data-test": "log-ack" }, r.entry
          ? (r.entry.acknowledged_at ? `${r.entry.acknowledged_by_name} · ${dateTime(r.entry.acknowledged_at)}` : h("span", { class: "hl-warn" }, t("handover.not_acknowledged")))
          : "")));
      els.log.replaceChildren(...(rows.length ? rows : [h("tr", {}, h("td", { colspan: 5, class: "hl-muted" }, t("handover.log_empty")))]));
    }
    if (s.report) {
      const r = s.report;
      els.escalation.textContent = r.escalation.map((c, i) => t("misses.level", { n: i + 1, consequence: c })).join(" · ");
      const cell = (k) => (k ? h("td", {}, h("strong", {}, k.count), " · ", t("misses.level", { n: k.level, consequence: k.consequence })) : h("td", { class: "hl-muted" }, "–"));
      els.levels.replaceChildren(...(r.agents.length
        ? r.agents.map((a) => h("tr", { "data-test": "miss-agent", "data-agent-id": a.agent_id }, h("td", {}, a.agent_name), KINDS.map((k) => cell(a.kinds[k]))))
        : [h("tr", {}, h("td", { colspan: 4, class: "hl-muted", "data-test": "misses-none" }, t("misses.none")))]));
      els.misses.replaceChildren(...r.misses.slice().reverse().map((m) => h("tr", { "data-test": "miss-row" },
        h("td", {}, m.agent_name), h("td", {}, t("misses.kind." + m.kind)), h("td", {}, m.ref),
        h("td", { class: "hl-num" }, m.occurrence), h("td", {}, t("misses.level", { n: m.level, consequence: m.consequence })))));
    }
  }
}

customElements.define("hl-handover-log", HlHandoverLog);
