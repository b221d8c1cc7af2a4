// One call's detail page: the record (caller, customer, queue, agent, times, disposition,
// tags, notes), the records of the same conversation (a transfer goes on in a new record) and
// the timeline from the call-event log: arrived, offered to whom and how long it rang, offer
// withdrawn and why, answered, held, transferred, ended, wrapped up.
import { getJSON } from "../../lib/api.js";
import { h } from "../../lib/dom.js";
import { has, t } from "../../lib/i18n.js";
import { start } from "../../lib/page.js";
import { clockTime, dateTime, duration } from "../../lib/time.js";
import { numberMark } from "../hl-call-log/hl-call-log.js";

const STYLE = `
hl-call-detail { display: grid; gap: var(--gap); }
hl-call-detail .hl-detail-grid { display: grid; grid-template-columns: minmax(0, 2fr) minmax(0, 3fr); gap: var(--gap); align-items: start; }
@media (max-width: 1000px) { hl-call-detail .hl-detail-grid { grid-template-columns: 1fr; } }
hl-call-detail .hl-timeline { list-style: none; margin: 0; padding: 0 0 0 4px; border-left: 3px solid var(--line); }
hl-call-detail .hl-timeline li { position: relative; padding: 4px 0 8px 16px; }
hl-call-detail .hl-timeline li::before { content: ""; position: absolute; left: -8px; top: 9px; width: 11px; height: 11px; border-radius: 50%; background: var(--muted); border: 2px solid var(--panel); }
hl-call-detail .hl-timeline li[data-kind="answered"]::before { background: var(--available); }
hl-call-detail .hl-timeline li[data-kind="offered"]::before { background: var(--ringing); }
hl-call-detail .hl-timeline li[data-kind="ended"]::before, hl-call-detail .hl-timeline li[data-kind="offer_withdrawn"]::before { background: var(--danger); }
hl-call-detail .hl-timeline li[data-kind="wrapped"]::before { background: var(--wrap-up); }
hl-call-detail .hl-tl-time { font-family: var(--mono); color: var(--muted); margin-right: 10px; }
hl-call-detail .hl-tl-what { font-weight: 600; }
hl-call-detail .hl-tl-more { color: var(--muted); margin-left: 8px; }
hl-call-detail .hl-chain a[aria-current="page"] { font-weight: 700; color: var(--ink); text-decoration: none; }
`;

export class HlCallDetail extends HTMLElement {
  #done = false;

  async connectedCallback() {
    if (this.#done) return;
    this.#done = true;
    if (!document.getElementById("hl-call-detail-style")) document.head.append(h("style", { id: "hl-call-detail-style" }, STYLE));
    if (!(await start(this))) return;
    const id = this.dataset.callId;
    let d;
    try {
      d = await getJSON(`/api/v1/calls/${encodeURIComponent(id)}/timeline`);
    } catch (err) {
      this.replaceChildren(h("h1", {}, t("detail.title")), h("p", { class: "hl-error", role: "alert", "data-test": "error" }, err.message));
      return;
    }
    this.#render(d);
  }

  #render(d) {
    const c = d.call;
    const fact = (label, value) => [h("dt", {}, label), h("dd", {}, value ?? "")];
    const facts = h("dl", { class: "hl-facts", "data-test": "detail-facts" },
      fact(t("calls.caller"), [c.caller_number, numberMark(c)]),
      fact(t("detail.customer"), d.customer ? `${d.customer.name} (${d.customer.grade})` : t("card.no_customer")),
      fact(t("card.queue"), c.queue || ""),
      fact(t("calls.agent"), c.agent || ""),
      fact(t("detail.direction"), t(`detail.direction.${c.direction}`)),
      fact(t("calls.time"), dateTime(c.arrived_at)),
      fact(t("card.wait"), c.wait_s != null ? duration(c.wait_s) : ""),
      fact(t("detail.ring"), c.ring_s != null ? duration(c.ring_s) : ""),
      fact(t("calls.talk"), c.talk_s != null ? duration(c.talk_s) : ""),
      fact(t("detail.wrap_up"), c.wrap_up_s != null ? duration(c.wrap_up_s) : ""),
      fact(t("calls.end_reason"), c.end_reason ? t("end." + c.end_reason) : t("calls.in_progress")),
      fact(t("wrapup.disposition"), d.disposition_label || c.disposition || ""),
      fact(t("wrapup.tags"), (c.tags || []).map((tag) => h("span", { class: "hl-chip" }, tag))),
      fact(t("wrapup.notes"), h("span", { class: "hl-customer-notes" }, c.notes || "")));
    const chain = d.chain.length > 1
      ? h("ol", { class: "hl-chain", "data-test": "detail-chain" }, d.chain.map((x) =>
        h("li", {}, h("a", { href: `/calls/${encodeURIComponent(x.id)}`, "aria-current": x.id === c.id ? "page" : null },
          `${clockTime(x.arrived_at)} · ${x.queue || ""} · ${x.agent || ""}`), x.end_reason ? h("span", { class: "hl-tl-more" }, t("end." + x.end_reason)) : null)))
      : null;
    const items = d.events.map((e) => h("li", { "data-kind": e.kind, "data-test": "timeline-entry" },
      h("time", { class: "hl-tl-time", datetime: e.at }, clockTime(e.at)),
      h("span", { class: "hl-tl-what" }, has(`timeline.${e.kind}`) ? t(`timeline.${e.kind}`, { agent: e.agent || "" }) : e.kind),
      h("span", { class: "hl-tl-more" }, this.#more(e, d))));
    this.replaceChildren(
      h("header", { class: "hl-panel-head" }, h("h1", {}, t("detail.title")),
        h("a", { class: "hl-btn", href: "/calls", "data-test": "back-to-log" }, t("detail.back"))),
      h("div", { class: "hl-detail-grid" },
        h("section", { class: "hl-panel", "aria-labelledby": "detail-record" }, h("h2", { id: "detail-record" }, t("detail.record")), facts,
          chain ? [h("h3", {}, t("detail.chain")), chain] : null),
        h("section", { class: "hl-panel", "aria-labelledby": "detail-timeline" }, h("h2", { id: "detail-timeline" }, t("detail.timeline")),
          items.length ? h("ol", { class: "hl-timeline", "data-test": "timeline" }, items) : h("p", { class: "hl-muted" }, t("detail.no_events")))));
  }

  #more(e, d) {
    const data = e.data || {};
    const parts = [];
    if (e.rang_s != null) parts.push(t("detail.rang", { duration: duration(e.rang_s) }));
    if (e.kind === "offer_withdrawn" && data.reason) parts.push(has(`card.withdrawn.${data.reason}`) ? t(`card.withdrawn.${data.reason}`) : data.reason);
    if (e.kind === "ended" && data.reason) parts.push(t("end." + data.reason));
    if (e.kind === "wrapped" && data.disposition) {
      parts.push(data.disposition === d.call.disposition && d.disposition_label ? d.disposition_label : data.disposition);
    }
    if (data.target) parts.push(`→ ${data.to || ""} ${data.target}`);
    if (data.number) parts.push(data.number);
    if (e.kind === "requeued" && data.reason) parts.push(data.reason);
    return parts.join(" · ");
  }
}

customElements.define("hl-call-detail", HlCallDetail);
