// The wallboard: big totals (callers waiting and the longest wait, ticking; the period's
// offered, answered, abandoned, service level, ASA, AHT, three rings; agents by state with
// not-ready reasons) and one row per queue. Reads the page's Board (hl-supervision owns it);
// built once per snapshot, then only its texts change. Signals `hl-period` {period} and
// `hl-wall` when its buttons are pressed.
import { h, signal } from "../../lib/dom.js";
import { t } from "../../lib/i18n.js";
import { clockTime, duration } from "../../lib/time.js";
import { emptySums, figures, queueKey } from "../figures.js";

export const PERIODS = ["interval", "day", "hour"];
const STATES = ["available", "ringing", "on_call", "wrap_up", "not_ready", "offline"];
const DASH = "–";

const pct = (x) => (x === null || x === undefined ? DASH : `${Math.round(x * 100)}%`);
const pct1 = (x) => (x === null || x === undefined ? DASH : `${(Math.round(x * 1000) / 10).toFixed(1)}%`);
const secs = (x) => (x === null || x === undefined ? DASH : duration(x));

export class HlWallboard extends HTMLElement {
  board = null;
  period = "day";
  wall = false;
  #els = null;
  #rows = new Map(); // queue key -> {cells}

  // A new snapshot: the queues may have changed, build again.
  rebuild() {
    const board = this.board;
    const els = {};
    els.periods = PERIODS.map((p, i) =>
      h("button", { type: "button", class: "hl-btn hl-sup-period", "data-test": `period-${p}`, "aria-pressed": String(p === this.period),
        onclick: () => signal(this, "hl-period", { period: p }) }, t(`sup.period.${p}`), h("kbd", {}, String(i + 1))));
    els.periodNote = h("span", { class: "hl-muted hl-sup-period-note", "data-test": "period-note" });
    els.wallBtn = h("button", { type: "button", class: "hl-btn", "data-test": "btn-wall", onclick: () => signal(this, "hl-wall") });
    els.link = h("span", { class: "hl-sup-link", "data-test": "link-status", role: "status" });
    const tile = (key, label, extra = null) => {
      const value = h("span", { class: "hl-sup-value", "data-test": `tile-${key}` }, DASH);
      const note = h("span", { class: "hl-sup-note", "data-test": `tile-${key}-note` });
      els[`tile_${key}`] = value;
      els[`note_${key}`] = note;
      return h("div", { class: `hl-sup-tile hl-sup-tile-${key}`, role: "group", "aria-label": label }, h("span", { class: "hl-sup-label" }, label), value, extra ?? note);
    };
    els.stateTiles = STATES.map((s) => {
      const value = h("span", { class: "hl-sup-value", "data-test": `agents-${s}` }, "0");
      els[`state_${s}`] = value;
      return h("div", { class: "hl-sup-state", "data-state": s }, h("span", { class: "hl-sup-label" }, t(`state.${s}`)), value);
    });
    els.reasons = h("p", { class: "hl-sup-reasons", "data-test": "not-ready-reasons" });
    const head = (...labels) => h("thead", {}, h("tr", {}, labels.map((l) => h("th", { scope: "col" }, l))));
    els.body = h("tbody");
    this.#rows = new Map();
    const keys = [...board.queues.map((q) => queueKey(q.id)), "all"];
    for (const key of keys) {
      const q = board.queues.find((x) => queueKey(x.id) === key);
      const cells = {};
      const cell = (name, cls = "hl-num") => (cells[name] = h("td", { class: cls, "data-test": `q-${name}` }, DASH));
      const name = h("th", { scope: "row" }, q ? q.name : t("sup.total"),
        q ? h("span", { class: "hl-sup-threshold" }, t("sup.sl_within", { seconds: q.service_level_s })) : null);
      const row = h("tr", { "data-queue": key, class: key === "all" ? "hl-sup-total" : "" }, name,
        cell("waiting"), cell("longest"), cell("offered"), cell("answered"), cell("abandoned"), cell("abandon_rate"),
        cell("service_level"), cell("asa"), cell("aht"), cell("three_rings"), cell("agents", "hl-sup-agents"));
      this.#rows.set(key, { row, cells, queue: q });
      els.body.append(row);
    }
    els.table = h("table", { class: "hl-table hl-sup-queues", "data-test": "queue-table" },
      head(t("sup.queue"), t("sup.waiting"), t("sup.longest_wait"), t("sup.offered"), t("sup.answered"), t("sup.abandoned"),
        t("sup.abandon_rate"), t("sup.service_level"), t("sup.asa"), t("sup.aht"), t("sup.three_rings"), t("sup.agents")), els.body);
    this.#els = els;
    this.replaceChildren(
      h("header", { class: "hl-sup-head" },
        h("h1", {}, t("sup.title")),
        h("div", { class: "hl-sup-periods", role: "group", "aria-label": t("sup.period") }, ...els.periods),
        els.periodNote, h("span", { class: "hl-sup-gap" }), els.link, els.wallBtn),
      h("section", { class: "hl-sup-tiles", "aria-label": t("sup.total") },
        tile("waiting", t("sup.waiting")), tile("longest", t("sup.longest_wait")), tile("offered", t("sup.offered")),
        tile("answered", t("sup.answered")), tile("abandoned", t("sup.abandoned")), tile("service_level", t("sup.service_level")),
        tile("asa", t("sup.asa")), tile("aht", t("sup.aht")), tile("three_rings", t("sup.three_rings"))),
      h("section", { class: "hl-sup-agent-states", "aria-label": t("sup.agents") }, ...els.stateTiles, els.reasons),
      h("div", { class: "hl-table-wrap hl-sup-queue-wrap" }, els.table),
      h("p", { class: "hl-muted hl-sup-keys" }, t("sup.keys")));
    this.setLink(this.dataset.link || "connecting");
  }

  setLink(status) {
    this.dataset.link = status;
    if (!this.#els) return;
    this.#els.link.textContent = t(`sup.link.${status}`);
    this.#els.link.dataset.status = status;
  }

  // Everything that depends on the events and the clock.
  update(now) {
    const els = this.#els;
    const board = this.board;
    if (!els || !board?.loaded) return;
    for (const [i, p] of PERIODS.entries()) els.periods[i].setAttribute("aria-pressed", String(p === this.period));
    els.wallBtn.replaceChildren(this.wall ? t("sup.exit_wall") : t("sup.wall"), h("kbd", {}, "F"));
    els.periodNote.textContent = this.#periodNote(now);
    const { byQueue, total } = board.sums(this.period, now);
    const waiting = board.waiting();
    const all = figures(total);
    const wAll = waiting.get("all");
    this.#text(els.tile_waiting, String(wAll.count));
    this.#text(els.tile_longest, wAll.oldest === null ? DASH : duration(now - wAll.oldest));
    els.tile_longest.dataset.alert = String(wAll.oldest !== null && now - wAll.oldest > this.#maxThreshold());
    this.#text(els.tile_offered, String(all.offered));
    this.#text(els.tile_answered, String(all.answered));
    this.#text(els.tile_abandoned, String(all.abandoned));
    this.#text(els.note_abandoned, all.abandon_rate === null ? "" : t("sup.rate", { rate: pct1(all.abandon_rate) }));
    this.#text(els.tile_service_level, pct(all.service_level));
    this.#text(els.tile_asa, secs(all.asa_s));
    this.#text(els.tile_aht, secs(all.aht_s));
    this.#text(els.tile_three_rings, pct(all.three_rings));
    const counts = board.agentCounts();
    for (const s of STATES) this.#text(els[`state_${s}`], String(counts.states[s] || 0));
    const reasons = Object.entries(counts.reasons).sort((a, b) => b[1] - a[1])
      .map(([r, n]) => `${r === "none" ? t("sup.reason_none") : t(`reason.${r}`)} ${n}`);
    this.#text(els.reasons, reasons.length ? t("sup.not_ready_reasons", { list: reasons.join(" · ") }) : "");
    for (const [key, { cells, queue }] of this.#rows) {
      const f = figures(key === "all" ? total : byQueue.get(key) || emptySums());
      const w = waiting.get(key) || { count: 0, oldest: null };
      this.#text(cells.waiting, String(w.count));
      this.#text(cells.longest, w.oldest === null ? DASH : duration(now - w.oldest));
      cells.longest.dataset.alert = String(w.oldest !== null && now - w.oldest > (queue?.service_level_s ?? this.#maxThreshold()));
      this.#text(cells.offered, String(f.offered));
      this.#text(cells.answered, String(f.answered));
      this.#text(cells.abandoned, String(f.abandoned));
      this.#text(cells.abandon_rate, pct1(f.abandon_rate));
      this.#text(cells.service_level, pct(f.service_level));
      this.#text(cells.asa, secs(f.asa_s));
      this.#text(cells.aht, secs(f.aht_s));
      this.#text(cells.three_rings, pct(f.three_rings));
      const c = board.agentCounts(queue ? queue.skill : null).states;
      const busy = (c.ringing || 0) + (c.on_call || 0) + (c.wrap_up || 0);
      this.#text(cells.agents, t("sup.agents_line", { available: c.available || 0, busy, not_ready: c.not_ready || 0 }));
    }
  }

  #maxThreshold() {
    return Math.min(...this.board.queues.map((q) => q.service_level_s), 20);
  }

  #periodNote(now) {
    const b = this.board;
    const hm = (epoch) => clockTime(epoch).slice(0, 5);
    if (this.period === "interval") return t("sup.note.interval", { from: hm(b.periods.interval.start), to: hm(b.periods.interval.end) });
    if (this.period === "hour") return t("sup.note.hour", { from: hm(now - 3600), to: hm(now) });
    return t("sup.note.day", { day: b.day, hour: String(b.dayStartHour).padStart(2, "0") });
  }

  #text(el, text) {
    if (el.textContent !== text) el.textContent = text;
  }
}

customElements.define("hl-wallboard", HlWallboard);
