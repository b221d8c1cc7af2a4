// Clock-in/out for the agent console: the agent's clock status, today's (or the next) shift
// and this month's attendance score. A native button, so Tab + Enter/Space work; results and
// errors are announced through role=status / role=alert.
import { getJSON, postJSON } from "../../lib/api.js";
import { showLine } from "../../lib/page.js";
import { h } from "../../lib/dom.js";
import { t } from "../../lib/i18n.js";
import { loadMe } from "../../lib/session.js";
import { clockTime, dateTime } from "../../lib/time.js";

const STYLE = `
hl-clock { display: block; margin: 0 0 8px; }
hl-clock .hl-clock { display: flex; flex-wrap: wrap; align-items: center; gap: 6px 16px; }
hl-clock .hl-clock-state[data-in="true"] { color: #276749; font-weight: 600; }
hl-clock .hl-clock-score[data-level="warning"] { color: #975a16; font-weight: 600; }
hl-clock .hl-clock-score[data-level="penalty"], hl-clock .hl-clock-score[data-level="severe"] { color: #c53030; font-weight: 600; }
`;

const hm = (iso) => clockTime(iso).slice(0, 5);

// "Shift now: E 08:00–17:30 · seat 6 · break 10:00–11:00": where to sit and when to step away.
function shiftText(s, key) {
  const parts = [t(key, { code: s.template_code, day: s.day, from: hm(s.start), to: hm(s.end) })];
  if (s.seat) parts.push(t("roster.seat", { n: s.seat }));
  if (s.break_start) parts.push(t("clock.break", { from: hm(s.break_start), to: hm(s.break_end) }));
  return parts.join(" · ");
}

export class HlClock extends HTMLElement {
  state = { status: null, busy: false, error: null, notice: null, reliefMissing: false };
  #els = null;

  async connectedCallback() {
    if (this.#els) return;
    if (!document.getElementById("hl-clock-style")) {
      document.head.append(h("style", { id: "hl-clock-style" }, STYLE));
    }
    try {
      await loadMe();
    } catch (err) {
      this.replaceChildren(h("p", { class: "hl-error", role: "alert", "data-test": "clock-error" }, err.message));
      return;
    }
    this.#render();
    await this.#load();
  }

  #set(patch) {
    Object.assign(this.state, patch);
    this.#update();
  }

  async #load() {
    try {
      this.#set({ status: await getJSON("/api/v1/agent/attendance") });
    } catch (err) {
      this.#set({ error: err.message });
    }
  }

  // Clocking out while the relief has not arrived asks first: the server names who is
  // missing and the agent may confirm with "Clock out anyway" (the supervisor sees it).
  async #toggle(withoutRelief = false) {
    const s = this.state;
    if (s.busy || !s.status) return;
    const kind = s.status.clocked_in ? "out" : "in";
    this.#set({ busy: true, error: null, notice: null, reliefMissing: false });
    try {
      const body = withoutRelief ? { kind, without_relief: true } : { kind };
      const res = await postJSON("/api/v1/agent/clock", body);
      this.#set({ busy: false, status: res.status, notice: t(kind === "in" ? "clock.done_in" : "clock.done_out", { time: hm(res.at) }) });
    } catch (err) {
      this.#set({ busy: false, error: err.message, reliefMissing: err.id === "relief-not-arrived" });
      this.#load();
    }
    (this.state.reliefMissing ? this.#els.anyway : this.#els.button).focus();
  }

  #render() {
    const els = {
      state: h("span", { class: "hl-clock-state", "data-test": "clock-state" }),
      shift: h("span", { class: "hl-muted", "data-test": "clock-shift" }),
      score: h("span", { class: "hl-clock-score", "data-test": "clock-score" }),
      button: h("button", { type: "button", class: "hl-btn hl-btn-primary", "data-test": "clock-button", onclick: () => this.#toggle() }),
      notice: h("span", { class: "hl-muted", role: "status", "data-test": "clock-notice" }),
      error: h("span", { class: "hl-error", role: "alert", "data-test": "clock-error" }),
      anyway: h("button", { type: "button", class: "hl-btn", "data-test": "clock-out-anyway", hidden: true, onclick: () => this.#toggle(true) }, t("clock.out_anyway")),
    };
    this.#els = els;
    this.replaceChildren(
      h("section", { class: "hl-panel hl-clock", "aria-label": t("clock.title") },
        els.button, els.state, els.shift, els.score, els.notice, els.error, els.anyway));
    this.#update();
  }

  #update() {
    const els = this.#els;
    if (!els) return;
    const { status, busy, error, notice, reliefMissing } = this.state;
    showLine(els.error, error);
    showLine(els.notice, notice);
    els.anyway.hidden = !reliefMissing;
    els.anyway.disabled = busy;
    els.button.disabled = busy || !status;
    els.button.setAttribute("aria-busy", String(busy));
    if (!status) {
      els.button.textContent = t("clock.in");
      return;
    }
    els.button.textContent = t(status.clocked_in ? "clock.out" : "clock.in");
    els.state.dataset.in = String(status.clocked_in);
    els.state.textContent = status.clocked_in ? t("clock.clocked_in", { time: dateTime(status.clocked_in_since) }) : t("clock.clocked_out");
    if (status.current_shift) els.shift.textContent = shiftText(status.current_shift, "clock.shift_now");
    else if (status.today.length) els.shift.textContent = status.today.map((x) => shiftText(x, "clock.shift_today")).join(" · ");
    else if (status.next_shift) els.shift.textContent = shiftText(status.next_shift, "clock.shift_next");
    else els.shift.textContent = t("clock.no_shift");
    const l = status.ledger;
    els.score.textContent = t("clock.score", { score: l.score, max: status.policy.start_points })
      + (l.level ? ` (${t("att.level." + l.level)})` : "");
    els.score.dataset.level = l.level || "none";
    els.score.title = l.entries.map((e) => `${e.day} ${e.points} ${e.detail}`).join("\n");
  }
}

customElements.define("hl-clock", HlClock);
