// The weekly work summary (went well / to improve) with a live character count against the
// centre's minimum, the deadline, and the reminder the scheduler pushes before it.
import { getJSON, postJSON } from "../../lib/api.js";
import { h } from "../../lib/dom.js";
import { t } from "../../lib/i18n.js";
import { showLine, start } from "../../lib/page.js";
import { LiveLink } from "../../lib/socket.js";
import { dateTime } from "../../lib/time.js";

// Characters as the server counts them (code points of the trimmed parts).
const chars = (text) => [...text.trim()].length;

export class HlWeeklySummary extends HTMLElement {
  state = { status: null, misses: null, error: null, notice: null, reminder: null, busy: false, lastWeek: false };
  #els = null;
  #link = null;

  async connectedCallback() {
    if (this.#els) return;
    if (!(await start(this))) return;
    this.#render();
    this.reload();
    this.#link = new LiveLink({
      onEvent: (name, data) => {
        if (name !== "weekly_summary_reminded") return;
        this.#set({ reminder: t("weekly.reminder", { due: dateTime(data.due) }) });
        this.reload();
      },
    }).connect(["weekly_summary_reminded"]);
  }

  disconnectedCallback() {
    this.#link?.socket?.disconnect();
  }

  async reload() {
    try {
      const [status, misses] = await Promise.all([getJSON("/api/v1/weekly-summaries/mine"), getJSON("/api/v1/misses/mine")]);
      this.#set({ status, misses });
    } catch (err) {
      this.#set({ error: err.message });
    }
  }

  #render() {
    const els = (this.#els = {});
    const area = (name) => h("textarea", { rows: 6, maxlength: 10000, "data-test": name, oninput: () => this.#count() });
    els.wentWell = area("went-well");
    els.toImprove = area("to-improve");
    els.count = h("span", { class: "hl-ho-count", "aria-live": "polite", "data-test": "char-count" });
    els.due = h("p", { class: "hl-muted", "data-test": "weekly-due" });
    els.banner = h("p", { class: "hl-warn", role: "status", "data-test": "weekly-banner", hidden: true });
    els.reminder = h("p", { class: "hl-warn", role: "alert", "data-test": "weekly-reminder", hidden: true });
    els.error = h("p", { class: "hl-error", role: "alert", "data-test": "weekly-error", hidden: true });
    els.notice = h("p", { class: "hl-notice", role: "status", "data-test": "weekly-notice", hidden: true });
    els.lastWeek = h("input", { type: "checkbox", "data-test": "for-last-week", onchange: (e) => (this.state.lastWeek = e.target.checked) });
    els.lastWeekLabel = h("label", { hidden: true }, els.lastWeek, " ", t("weekly.for_last_week"));
    els.submit = h("button", { type: "submit", class: "hl-btn hl-btn-primary", "data-test": "btn-weekly-submit" }, t("weekly.submit"));
    els.form = h("form", { class: "hl-ho-summary", "data-test": "weekly-form",
        onsubmit: (e) => { e.preventDefault(); this.#submit(); },
        onkeydown: (e) => { if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) { e.preventDefault(); this.#submit(); } } },
      h("label", {}, t("weekly.went_well"), els.wentWell),
      h("label", {}, t("weekly.to_improve"), els.toImprove),
      h("div", { class: "hl-form-actions" }, els.submit, els.count, els.lastWeekLabel));
    els.done = h("div", { "data-test": "weekly-done", hidden: true });
    els.misses = h("ul", { class: "hl-ho-misses", "data-test": "my-misses" });
    this.replaceChildren(h("section", { class: "hl-panel" },
      h("header", { class: "hl-panel-head" }, h("h2", {}, t("weekly.title"))),
      els.due, els.reminder, els.banner, els.error, els.notice, els.done, els.form),
      h("section", { class: "hl-panel" }, h("header", { class: "hl-panel-head" }, h("h2", {}, t("misses.mine"))), els.misses));
  }

  #count() {
    const min = this.state.status?.min_chars ?? 0;
    const n = chars(this.#els.wentWell.value) + chars(this.#els.toImprove.value);
    this.#els.count.textContent = t("weekly.count", { n, min });
    this.#els.count.className = "hl-ho-count " + (n >= min ? "is-ok" : "is-short");
  }

  async #submit() {
    const st = this.state.status;
    if (this.state.busy || !st) return;
    const body = { went_well: this.#els.wentWell.value, to_improve: this.#els.toImprove.value };
    if (this.state.lastWeek) body.week_start = st.last_week_start;
    this.#set({ busy: true, error: null, notice: null });
    try {
      await postJSON("/api/v1/weekly-summaries", body);
      this.#els.wentWell.value = "";
      this.#els.toImprove.value = "";
      this.state.lastWeek = false;
      this.#els.lastWeek.checked = false;
      this.#set({ busy: false, notice: t("weekly.submitted_ok"), reminder: null });
      this.reload();
    } catch (err) {
      this.#set({ busy: false, error: err.message });
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
    showLine(els.reminder, s.reminder);
    els.submit.disabled = s.busy;
    if (s.misses) {
      // The rulebook wants the process transparent: each kind's count and where it leads.
      const rows = s.misses.agents.flatMap((a) => Object.entries(a.kinds).map(([kind, k]) =>
        h("li", { "data-test": "my-miss" }, h("strong", {}, t("misses.kind." + kind)), ` × ${k.count} · `, t("misses.level", { n: k.level, consequence: k.consequence }))));
      els.misses.replaceChildren(...(rows.length ? rows : [h("li", { class: "hl-muted" }, t("misses.none"))]));
    }
    const st = s.status;
    if (!st) return;
    els.due.textContent = t("weekly.due", { week: st.week_start, due: dateTime(st.due) });
    const banner = st.due_soon ? t("weekly.due_soon", { due: dateTime(st.due) })
      : st.overdue ? t("weekly.overdue")
      : st.last_week_missing ? t("weekly.last_week_missing") : "";
    els.banner.hidden = !banner;
    els.banner.textContent = banner;
    els.lastWeekLabel.hidden = !st.last_week_missing;
    const sum = st.summary;
    // This week's summary is in: show it; the form stays only for a missing last week.
    els.done.hidden = !sum;
    els.done.replaceChildren(...(sum ? [
      h("p", { class: "hl-ok" }, t("weekly.submitted", { at: dateTime(sum.submitted_at) }), sum.late ? h("strong", { class: "hl-warn" }, " · " + t("weekly.late")) : null),
      h("h3", {}, t("weekly.went_well")), h("p", { class: "hl-ho-notes" }, sum.went_well),
      h("h3", {}, t("weekly.to_improve")), h("p", { class: "hl-ho-notes" }, sum.to_improve),
    ] : []));
    els.form.hidden = !!sum && !st.last_week_missing;
    if (sum && st.last_week_missing) {
      s.lastWeek = true;
      els.lastWeek.checked = true;
    }
    this.#count();
  }
}

customElements.define("hl-weekly-summary", HlWeeklySummary);
