// Rosters: the list with a "new roster" form, the shift templates and the centre's rules.
// Each table row edits in place; Enter in a field saves that row.
import { api, getJSON, postJSON, putJSON } from "../../lib/api.js";
import { h } from "../../lib/dom.js";
import { t } from "../../lib/i18n.js";
import { dateTime, wallToIso } from "../../lib/time.js";
import { messageLines, start } from "../../lib/page.js";

// The attendance rulebook (docs/rules.md §2.2): every number of roster.attendance.AttendancePolicy.
const POLICY = [
  "start_points", "late_grace_min", "late_points", "absence_late_after_min", "absence_late_points", "absence_points",
  "logout_count", "logout_points", "excess_swap_points", "warning_at", "penalty_at", "severe_months",
];
const RULES = [
  ["seats", "number"], ["max_hours_week", "number"], ["min_rest_h", "number"], ["max_consecutive_days", "number"],
  ["min_rest_days_per_month", "number"], ["max_late_shifts_per_week", "number"], ["holiday_reinforcement", "number"],
  ["cleaning_template", "text"], ["open_from", "time"], ["open_to", "time"], ["max_swaps_month", "number"],
  ["break_edge_min", "number"],
];
// Handover and weekly-summary timings (whole minutes or hours), saved with the policy.
const TIMINGS = ["weekly_summary_remind_h", "handover_grace_min", "handover_file_window_h", "handover_takeover_early_min"];

export class HlRosterList extends HTMLElement {
  #els = null;

  async connectedCallback() {
    if (this.#els) return;
    if (!(await start(this))) return;
    this.#render();
    this.#load();
  }

  // Run a change; `reload` re-reads the page's data afterwards (only where the change adds or
  // reorders rows: re-rendering a form would throw away what the user is typing in another).
  async #run(action, notice, reload = true) {
    this.#els.msg.say("");
    try {
      const res = await action();
      if (notice) this.#els.msg.say(notice);
      if (reload) await this.#load();
      return res;
    } catch (err) {
      this.#els.msg.fail(err.message);
      return null;
    }
  }

  async #load() {
    try {
      const [plans, templates, rules, agents] = await Promise.all([
        getJSON("/api/v1/rosters"), getJSON("/api/v1/shift-templates"), getJSON("/api/v1/workforce-settings"), getJSON("/api/v1/roster-agents"),
      ]);
      this.#plans(plans);
      this.#templates(templates);
      this.#rules(rules);
      this.#policy(rules);
      this.#agents(agents);
    } catch (err) {
      this.#els.msg.fail(err.message);
    }
  }

  async #create(form) {
    const body = {
      start: form.elements.start.value,
      weeks: Number(form.elements.weeks.value),
      time_limit_s: Number(form.elements.time_limit_s.value),
      name: form.elements.name.value.trim() || undefined,
    };
    const plan = await this.#run(() => postJSON("/api/v1/rosters", body));
    if (plan) window.location.assign(`/schedule/rosters/${plan.id}`);
  }

  #render() {
    const els = {};
    els.msg = messageLines("hl-muted");
    els.plans = h("tbody");
    els.templates = h("tbody");
    els.agents = h("tbody");
    els.policy = h("form", { class: "hl-filter-form", "data-test": "policy-form", onsubmit: (e) => { e.preventDefault(); this.#savePolicy(); } });
    els.rules = h("form", { class: "hl-filter-form", "data-test": "rules-form", onsubmit: (e) => { e.preventDefault(); this.#saveRules(); } });
    const create = h("form", { class: "hl-filter-form", "data-test": "new-roster", onsubmit: (e) => { e.preventDefault(); this.#create(e.target); } },
      h("label", {}, t("roster.start"), h("input", { name: "start", type: "date", required: true, value: this.dataset.nextMonday || "", "data-test": "new-start" })),
      h("label", {}, t("roster.weeks"), h("input", { name: "weeks", type: "number", min: 1, max: 6, value: 4, size: 2, "data-test": "new-weeks" })),
      h("label", {}, t("roster.time_limit"), h("input", { name: "time_limit_s", type: "number", min: 5, max: 600, value: 60, size: 4, "data-test": "new-limit" })),
      h("label", {}, t("roster.name"), h("input", { name: "name", maxlength: 64, size: 18 })),
      h("div", { class: "hl-form-actions" }, h("button", { type: "submit", class: "hl-btn hl-btn-primary", "data-test": "btn-create" }, t("roster.create"))));
    const head = (...cols) => h("thead", {}, h("tr", {}, cols.map((c) => h("th", { scope: "col" }, c))));
    this.#els = els;
    this.replaceChildren(
      h("section", { class: "hl-panel" },
        h("header", { class: "hl-panel-head" }, h("h1", {}, t("roster.title"))),
        els.msg.error, els.msg.notice,
        h("h2", {}, t("roster.new")), create,
        h("div", { class: "hl-table-wrap" }, h("table", { class: "hl-table", "data-test": "roster-table" },
          head(t("roster.name"), t("roster.start"), t("roster.weeks"), t("roster.status"), ""), els.plans))),
      h("section", { class: "hl-panel" },
        h("h2", {}, t("roster.templates")),
        h("div", { class: "hl-table-wrap" }, h("table", { class: "hl-table", "data-test": "template-table" },
          head(t("tpl.code"), t("tpl.name"), t("tpl.start"), t("tpl.end"), t("tpl.break_min"), t("tpl.break_paid"), t("tpl.on_site"), t("tpl.late"), t("tpl.skills"), t("tpl.active"), t("tpl.hours"), ""),
          els.templates))),
      h("section", { class: "hl-panel" }, h("h2", {}, t("roster.rules")), els.rules),
      h("section", { class: "hl-panel" }, h("h2", {}, t("roster.policy")), els.policy),
      h("section", { class: "hl-panel" },
        h("h2", {}, t("roster.agents")),
        h("div", { class: "hl-table-wrap" }, h("table", { class: "hl-table", "data-test": "agent-terms" },
          head(t("roster.agent"), t("tpl.skills"), t("rule.max_hours_week"), t("roster.flag.no-late"), t("roster.flag.no-weekend"), t("roster.unavailable"), ""),
          els.agents))));
  }

  #plans(plans) {
    const rows = plans.map((p) => h("tr", { "data-test": "roster-row", "data-id": p.id },
      h("td", {}, h("a", { href: `/schedule/rosters/${p.id}` }, p.name)),
      h("td", {}, p.start),
      h("td", { class: "hl-num" }, p.days / 7),
      h("td", { "data-test": "roster-status" }, t("roster.status." + p.status)),
      h("td", {}, h("a", { href: `/schedule/rosters/${p.id}`, class: "hl-btn" }, t("roster.open")))));
    if (!rows.length) rows.push(h("tr", {}, h("td", { colspan: 5, class: "hl-muted" }, t("roster.empty"))));
    this.#els.plans.replaceChildren(...rows);
  }

  #templateRow(tpl) {
    const isNew = !tpl;
    tpl = tpl || { code: "", name: "", start: "09:00", end: "17:00", break_min: 0, break_paid: false, on_site: true, late: false, skills: [], active: true };
    const input = (name, attrs) => h("input", { name, ...attrs, onkeydown: (e) => { if (e.key === "Enter") { e.preventDefault(); save(); } } });
    const box = (name) => input(name, { type: "checkbox", checked: tpl[name] });
    const tr = h("tr", { "data-test": "template-row", "data-code": tpl.code },
      h("td", {}, isNew ? input("code", { size: 4, maxlength: 16, required: true, "data-test": "tpl-code" }) : h("strong", {}, tpl.code)),
      h("td", {}, input("name", { value: tpl.name, size: 14 })),
      h("td", {}, input("start", { type: "time", value: tpl.start })),
      h("td", {}, input("end", { type: "time", value: tpl.end })),
      h("td", {}, input("break_min", { type: "number", min: 0, value: tpl.break_min, style: "width:5em" })),
      h("td", {}, box("break_paid")), h("td", {}, box("on_site")), h("td", {}, box("late")),
      h("td", {}, input("skills", { value: tpl.skills.join(","), size: 10, placeholder: "*" })),
      h("td", {}, box("active")),
      h("td", { class: "hl-num" }, isNew ? "" : tpl.paid_hours.toFixed(1) + (tpl.crosses_midnight ? " ☾" : "")),
      h("td", {}, h("button", { type: "button", class: "hl-btn", onclick: () => save() }, isNew ? t("roster.add_template") : t("roster.save"))));
    const save = () => {
      const v = (n) => tr.querySelector(`[name="${n}"]`);
      const body = {
        name: v("name").value, start: v("start").value, end: v("end").value, break_min: Number(v("break_min").value),
        break_paid: v("break_paid").checked, on_site: v("on_site").checked, late: v("late").checked, active: v("active").checked,
        skills: v("skills").value.split(",").map((s) => s.trim()).filter(Boolean),
      };
      if (isNew) return this.#run(() => postJSON("/api/v1/shift-templates", { code: v("code").value.trim(), ...body }), t("roster.saved"));
      return this.#run(() => putJSON(`/api/v1/shift-templates/${tpl.id}`, body), t("roster.saved"));
    };
    return tr;
  }

  #templates(templates) {
    this.#els.templates.replaceChildren(...templates.map((x) => this.#templateRow(x)), this.#templateRow(null));
  }

  #rules(rules) {
    const form = this.#els.rules;
    form.replaceChildren(
      ...RULES.map(([name, type]) => h("label", {}, t("rule." + name),
        h("input", { name, type, value: rules[name] ?? "", step: type === "number" ? "any" : undefined, style: "width:7em", "data-test": "rule-" + name }))),
      h("div", { class: "hl-form-actions" }, h("button", { type: "submit", class: "hl-btn", "data-test": "btn-save-rules" }, t("roster.save"))));
  }

  #agents(agents) {
    this.#els.agents.replaceChildren(...agents.map((a) => this.#agentRow(a)));
  }

  // One agent's contract terms; unavailable spans are chips (× removes) plus a from/to pair to add.
  #agentRow(a) {
    const spans = [...a.unavailable];
    const hours = h("input", { type: "number", min: 1, step: "any", value: a.max_hours_week ?? "", placeholder: "–", style: "width:5em", "data-test": "agent-max-hours" });
    const flag = (name) => h("input", { type: "checkbox", checked: a.contract_flags.includes(name), "data-test": "agent-" + name });
    const noLate = flag("no-late");
    const noWeekend = flag("no-weekend");
    const chips = h("span", {});
    const from = h("input", { type: "datetime-local", "data-test": "unavailable-from" });
    const to = h("input", { type: "datetime-local", "data-test": "unavailable-to" });
    const save = async () => {
      const saved = await this.#run(() => putJSON(`/api/v1/roster-agents/${a.id}`, {
        max_hours_week: hours.value.trim() === "" ? null : Number(hours.value),
        contract_flags: [noLate.checked && "no-late", noWeekend.checked && "no-weekend"].filter(Boolean),
        unavailable: spans,
      }), t("roster.saved"), false);
      if (saved) spans.splice(0, spans.length, ...saved.unavailable);
      else spans.splice(0, spans.length, ...a.unavailable);
      if (saved) a = saved;
      drawChips();
      from.value = to.value = "";
    };
    const drawChips = () => chips.replaceChildren(...spans.map((u, i) => h("span", { class: "hl-chip", "data-test": "unavailable" },
      `${dateTime(u.from)} – ${dateTime(u.to)} `,
      h("button", { type: "button", class: "hl-btn-quiet", "aria-label": t("roster.remove"), onclick: () => { spans.splice(i, 1); save(); } }, "×"))));
    drawChips();
    const add = () => {
      if (!from.value || !to.value) return;
      spans.push({ from: wallToIso(from.value), to: wallToIso(to.value) });
      save();
    };
    return h("tr", { "data-test": "agent-row", "data-agent": a.id },
      h("th", { scope: "row" }, a.name), h("td", {}, a.skills.join(", ")),
      h("td", {}, hours), h("td", {}, noLate), h("td", {}, noWeekend),
      h("td", {}, chips, h("span", { class: "hl-nowrap" }, from, "–", to,
        h("button", { type: "button", class: "hl-btn", "data-test": "btn-add-unavailable", onclick: add }, "+"))),
      h("td", {}, h("button", { type: "button", class: "hl-btn", "data-test": "btn-save-agent", onclick: save }, t("roster.save"))));
  }

  // Attendance score, escalation consequences and the weekly summary rule.
  #policy(rules) {
    const num = (name, value, label) => h("label", {}, label,
      h("input", { name, type: "number", step: "any", min: 0, value, style: "width:6em", "data-test": "policy-" + name }));
    this.#els.policy.replaceChildren(
      ...POLICY.map((k) => num(k, rules.attendance[k], t("policy." + k))),
      num("weekly_summary_min_chars", rules.weekly_summary_min_chars, t("policy.weekly_summary_min_chars")),
      h("label", {}, t("policy.weekly_summary_due"),
        h("span", { class: "hl-nowrap" },
          h("select", { name: "weekly_summary_due_weekday" }, [0, 1, 2, 3, 4, 5, 6].map((d) =>
            h("option", { value: d, selected: d === rules.weekly_summary_due_weekday }, t("policy.weekday." + d)))),
          h("input", { name: "weekly_summary_due_time", type: "time", value: rules.weekly_summary_due_time }))),
      ...TIMINGS.map((k) => num(k, rules[k], t("policy." + k))),
      h("label", { class: "hl-wide" }, t("policy.escalation"),
        h("textarea", { name: "escalation", rows: 5, cols: 40, "data-test": "policy-escalation" }, rules.escalation.join("\n"))),
      h("div", { class: "hl-form-actions" }, h("button", { type: "submit", class: "hl-btn", "data-test": "btn-save-policy" }, t("roster.save"))));
  }

  #savePolicy() {
    const f = this.#els.policy.elements;
    const attendance = {};
    for (const k of POLICY) if (f[k].value.trim() !== "") attendance[k] = Number(f[k].value);
    const body = {
      attendance,
      weekly_summary_min_chars: Number(f.weekly_summary_min_chars.value),
      weekly_summary_due_weekday: Number(f.weekly_summary_due_weekday.value),
      weekly_summary_due_time: f.weekly_summary_due_time.value,
      ...Object.fromEntries(TIMINGS.filter((k) => f[k].value.trim() !== "").map((k) => [k, Number(f[k].value)])),
      escalation: f.escalation.value.split("\n").map((x) => x.trim()).filter(Boolean),
    };
    return this.#run(() => api("/api/v1/workforce-settings", { method: "PUT", body }), t("roster.saved"), false);
  }

  #saveRules() {
    const body = {};
    for (const [name, type] of RULES) {
      const raw = this.#els.rules.elements[name].value.trim();
      body[name] = raw === "" ? null : type === "number" ? Number(raw) : raw;
    }
    for (const required of ["seats", "max_hours_week", "min_rest_h", "max_consecutive_days", "min_rest_days_per_month", "holiday_reinforcement", "max_swaps_month", "break_edge_min"]) {
      if (body[required] === null) delete body[required];
    }
    return this.#run(() => api("/api/v1/workforce-settings", { method: "PUT", body }), t("roster.saved"), false);
  }
}

customElements.define("hl-roster-list", HlRosterList);
