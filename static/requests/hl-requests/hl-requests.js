// Leave and swap requests waiting for a scheduler or supervisor. Approving a swap re-checks the
// roster against every hard rule; a refusal by the rules lists what would break.
import { getJSON, postJSON } from "../../lib/api.js";
import { h } from "../../lib/dom.js";
import { t } from "../../lib/i18n.js";
import { messageLines, start } from "../../lib/page.js";

export class HlRequests extends HTMLElement {
  #els = null;

  async connectedCallback() {
    if (this.#els) return;
    if (!(await start(this))) return;
    this.#render();
    this.#load();
  }

  #render() {
    const els = {};
    els.msg = messageLines();
    els.leave = h("ul", { "data-test": "leave-list" });
    els.swaps = h("ul", { "data-test": "swap-list" });
    els.violations = h("ul", { "data-test": "swap-violations" });
    this.#els = els;
    this.replaceChildren(h("section", { class: "hl-panel" },
      h("header", { class: "hl-panel-head" }, h("h1", {}, t("req.title"))),
      els.msg.error, els.msg.notice, els.violations,
      h("h2", {}, t("req.swaps")), els.swaps,
      h("h2", {}, t("req.leave")), els.leave));
  }

  async #load() {
    try {
      const [leave, swaps] = await Promise.all([getJSON("/api/v1/leave-requests?status=pending"), getJSON("/api/v1/swap-requests?status=accepted")]);
      const none = () => [h("li", { class: "hl-muted" }, t("req.none"))];
      this.#els.leave.replaceChildren(...(leave.length ? leave.map((l) => this.#row("leave", l,
        `${l.agent} · ${t("sched.kind." + l.kind)} · ${l.first_day} – ${l.last_day} · ${l.reason}`)) : none()));
      this.#els.swaps.replaceChildren(...(swaps.length ? swaps.map((s) => this.#row("swap", s,
        `${s.requester} → ${s.partner} · ${s.day}${s.partner_day ? " ⇄ " + s.partner_day : ""} · ${s.reason}`)) : none()));
    } catch (err) {
      this.#els.msg.fail(err.message);
    }
  }

  #row(kind, item, text) {
    const path = kind === "leave" ? `/api/v1/leave-requests/${item.id}/decision` : `/api/v1/swap-requests/${item.id}/decision`;
    const decide = async (approve) => {
      this.#els.msg.say("");
      this.#els.violations.replaceChildren();
      try {
        await postJSON(path, { approve });
        this.#els.msg.say(t(approve ? "req.status.approved" : "req.status.refused"));
      } catch (err) {
        this.#els.msg.fail(err.message);
        const list = err.detail?.request?.violations || [];
        this.#els.violations.replaceChildren(...list.map((v) => h("li", { class: "hl-error", "data-test": "swap-violation", "data-rule": v.rule },
          `${v.agent} · ${v.day} · `, h("code", {}, v.rule), " ", v.message)));
      }
      await this.#load();
    };
    return h("li", { "data-test": kind + "-request", "data-id": item.id }, text, " ",
      h("button", { type: "button", class: "hl-btn hl-btn-primary", "data-test": "btn-approve", onclick: () => decide(true) }, t("req.approve")), " ",
      h("button", { type: "button", class: "hl-btn", "data-test": "btn-refuse", onclick: () => decide(false) }, t("req.refuse")));
  }
}

customElements.define("hl-requests", HlRequests);
