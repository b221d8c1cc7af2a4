// An agent's own published schedule (six weeks from this Monday), iCalendar export, leave
// requests, swap requests to colleagues and the colleagues' requests to answer.
import { getJSON, postJSON } from "../../lib/api.js";
import { h } from "../../lib/dom.js";
import { t } from "../../lib/i18n.js";
import { messageLines, start } from "../../lib/page.js";
import { LiveLink } from "../../lib/socket.js";
import { clockTime } from "../../lib/time.js";

function clock(iso) {
  return clockTime(iso).slice(0, 5);
}

export class HlMySchedule extends HTMLElement {
  state = { schedule: null, swaps: [], leave: [] };
  #els = null;
  #link = null;

  async connectedCallback() {
    if (this.#els) return;
    if (!(await start(this))) return;
    this.#render();
    this.#load();
    // Live: a colleague's swap request, a decision or a newly published roster shows at once.
    this.#link = new LiveLink({
      onEvent: (name, data) => {
        this.#els.msg.say(t("schedule.changed." + data.kind, { day: data.day || "" }));
        this.#load();
      },
    }).connect(["schedule_changed"]);
  }

  disconnectedCallback() {
    this.#link?.socket?.disconnect();
  }

  async #load() {
    try {
      const [schedule, swaps, leave] = await Promise.all([
        getJSON("/api/v1/agent/schedule"), getJSON("/api/v1/swap-requests"), getJSON("/api/v1/leave-requests"),
      ]);
      Object.assign(this.state, { schedule, swaps, leave });
      this.#update();
    } catch (err) {
      this.#els.msg.fail(err.message);
    }
  }

  async #send(path, body, form) {
    this.#els.msg.say("");
    try {
      await postJSON(path, body);
      form?.reset();
      this.#els.swapDialog.hidden = true;
      this.#els.msg.say(t("sched.sent"));
    } catch (err) {
      this.#els.msg.fail(err.message);
    }
    await this.#load();
  }

  #render() {
    const els = {};
    els.msg = messageLines();
    els.swaps = h("p", { class: "hl-muted", "data-test": "swaps-used" });
    els.shifts = h("tbody");
    els.incoming = h("ul", { "data-test": "incoming" });
    els.mine = h("ul", { "data-test": "my-requests" });
    els.partner = h("select", { name: "partner_id", required: true, "data-test": "swap-partner" });
    els.swapDay = h("input", { name: "day", type: "hidden" });
    els.swapTitle = h("strong", {});
    els.swapDialog = h("form", { class: "hl-filter-form hl-panel", hidden: true, "data-test": "swap-form",
      onsubmit: (e) => {
        e.preventDefault();
        const f = e.target.elements;
        const body = { day: f.day.value, partner_id: Number(f.partner_id.value), reason: f.reason.value };
        if (f.partner_day.value) body.partner_day = f.partner_day.value;
        this.#send("/api/v1/swap-requests", body, e.target);
      },
      onkeydown: (e) => { if (e.key === "Escape") els.swapDialog.hidden = true; } },
      els.swapTitle, els.swapDay,
      h("label", {}, t("sched.swap_with"), els.partner),
      h("label", {}, t("sched.swap_their_day"), h("input", { name: "partner_day", type: "date", "data-test": "swap-partner-day" })),
      h("label", {}, t("sched.reason"), h("input", { name: "reason", maxlength: 500, size: 24, "data-test": "swap-reason" })),
      h("div", { class: "hl-form-actions" }, h("button", { type: "submit", class: "hl-btn hl-btn-primary", "data-test": "btn-send-swap" }, t("sched.send"))));
    const leave = h("form", { class: "hl-filter-form", "data-test": "leave-form",
      onsubmit: (e) => {
        e.preventDefault();
        const f = e.target.elements;
        this.#send("/api/v1/leave-requests", { first_day: f.first_day.value, last_day: f.last_day.value, kind: f.kind.value, reason: f.reason.value }, e.target);
      } },
      h("label", {}, t("sched.first_day"), h("input", { name: "first_day", type: "date", required: true, "data-test": "leave-first" })),
      h("label", {}, t("sched.last_day"), h("input", { name: "last_day", type: "date", required: true, "data-test": "leave-last" })),
      h("label", {}, t("sched.kind"), h("select", { name: "kind" }, ["annual", "sick", "personal", "other"].map((k) => h("option", { value: k }, t("sched.kind." + k))))),
      h("label", {}, t("sched.reason"), h("input", { name: "reason", maxlength: 500, size: 24 })),
      h("div", { class: "hl-form-actions" }, h("button", { type: "submit", class: "hl-btn", "data-test": "btn-send-leave" }, t("sched.send"))));
    this.#els = els;
    this.replaceChildren(
      h("section", { class: "hl-panel" },
        h("header", { class: "hl-panel-head" }, h("h1", {}, t("sched.title")),
          h("a", { class: "hl-btn", href: "/api/v1/agent/schedule.ics", download: "hotline-schedule.ics", "data-test": "ical" }, t("sched.ical"))),
        els.msg.error, els.msg.notice, els.swaps, els.swapDialog,
        h("div", { class: "hl-table-wrap" }, h("table", { class: "hl-table", "data-test": "my-shifts" }, els.shifts))),
      h("section", { class: "hl-panel" }, h("h2", {}, t("sched.incoming")), els.incoming),
      h("section", { class: "hl-panel" }, h("h2", {}, t("sched.leave")), leave, h("h2", {}, t("sched.my_requests")), els.mine));
  }

  #openSwap(shift) {
    const els = this.#els;
    els.swapDay.value = shift.day;
    els.swapTitle.textContent = `${t("sched.swap")} ${shift.day} ${shift.code}`;
    els.swapDialog.hidden = false;
    els.partner.focus();
  }

  #update() {
    const { schedule, swaps, leave } = this.state;
    const els = this.#els;
    els.swaps.textContent = t("sched.swaps_used", { n: schedule.swaps_this_month, max: schedule.max_swaps_month });
    els.partner.replaceChildren(...schedule.colleagues.map((c) => h("option", { value: c.id }, c.name)));
    const rows = schedule.shifts.map((s) => h("tr", { "data-test": "my-shift", "data-day": s.day },
      h("td", {}, s.day), h("td", {}, h("strong", {}, s.code), " ", s.name),
      h("td", {}, `${clock(s.start)}–${clock(s.end)}`,
        s.break_start ? h("div", { class: "hl-muted", "data-test": "break" }, t("sched.break", { from: clock(s.break_start), to: clock(s.break_end) })) : null),
      h("td", {}, s.queue),
      h("td", { "data-test": "seat" }, s.on_site ? (s.seat ? t("roster.seat", { n: s.seat }) : "") : t("sched.home")),
      h("td", {}, s.duties.map((d) => t("roster.duty." + d)).join(", ")),
      h("td", {}, h("button", { type: "button", class: "hl-btn", "data-test": "btn-swap", onclick: () => this.#openSwap(s) }, t("sched.swap")))));
    if (!rows.length) rows.push(h("tr", {}, h("td", { colspan: 7, class: "hl-muted", "data-test": "empty" }, t("sched.empty"))));
    els.shifts.replaceChildren(...rows);
    const myAgent = schedule.agent_id;
    const incoming = swaps.filter((s) => s.partner_id === myAgent && s.status === "pending");
    els.incoming.replaceChildren(...(incoming.length ? incoming.map((s) => h("li", { "data-test": "incoming-swap" },
      `${s.requester}: ${s.day}${s.partner_day ? " ⇄ " + s.partner_day : ""} ${s.reason} `,
      h("button", { type: "button", class: "hl-btn hl-btn-primary", "data-test": "btn-accept", onclick: () => this.#send(`/api/v1/swap-requests/${s.id}/answer`, { accept: true }) }, t("sched.accept")),
      " ",
      h("button", { type: "button", class: "hl-btn", onclick: () => this.#send(`/api/v1/swap-requests/${s.id}/answer`, { accept: false }) }, t("sched.decline")))) : [h("li", { class: "hl-muted" }, t("req.none"))]));
    const withdraw = (path) => h("button", { type: "button", class: "hl-btn-quiet", "data-test": "btn-withdraw", onclick: () => this.#send(path, {}) }, t("sched.withdraw"));
    const mine = [
      ...swaps.filter((s) => s.requester_id === myAgent).map((s) => h("li", { "data-test": "my-swap", "data-status": s.status },
        `${t("req.swaps")} ${s.day} → ${s.partner}: ${t("req.status." + s.status)} `,
        ["pending", "accepted"].includes(s.status) ? withdraw(`/api/v1/swap-requests/${s.id}/cancel`) : null)),
      ...leave.map((l) => h("li", { "data-test": "my-leave", "data-status": l.status },
        `${t("sched.kind." + l.kind)} ${l.first_day}–${l.last_day}: ${t(l.status === "pending" ? "req.status.accepted" : "req.status." + l.status)} `,
        l.status === "pending" ? withdraw(`/api/v1/leave-requests/${l.id}/cancel`) : null)),
    ];
    els.mine.replaceChildren(...mine);
  }
}

customElements.define("hl-my-schedule", HlMySchedule);
