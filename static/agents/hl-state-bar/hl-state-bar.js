// The agent's own state: label with time in state, and the three states she may choose.
// Signals `hl-set-state` {state, reason} and `hl-toggle-mute`; owns no state itself.
import { h, signal } from "../../lib/dom.js";
import { t } from "../../lib/i18n.js";
import { AgentState, BUSY_STATES } from "../../lib/states.js";
import { duration, ServerClock } from "../../lib/time.js";

const BUSY = new Set(BUSY_STATES);

export class HlStateBar extends HTMLElement {
  #data = { agent: null, reasons: [], link: "connecting", muted: false };
  #timer = null;
  #els = null;

  set data(value) {
    this.#data = value;
    this.#update();
  }

  get reason() {
    return this.#els?.reason.value || "";
  }

  connectedCallback() {
    if (!this.#els) this.#render();
    this.#timer = setInterval(() => this.#tick(), 1000);
    this.#update();
  }

  disconnectedCallback() {
    clearInterval(this.#timer);
  }

  #render() {
    const choose = (state) => () => signal(this, "hl-set-state", { state, reason: state === AgentState.NOT_READY ? this.reason : "" });
    const els = {};
    els.label = h("span", { class: "hl-state-label", "data-test": "state-label", role: "status", "aria-live": "polite" });
    els.since = h("span", { class: "hl-state-since", "data-test": "state-since" });
    els.available = h("button", { type: "button", class: "hl-btn hl-btn-available", "data-test": "btn-available", onclick: choose(AgentState.AVAILABLE) },
      t("state.available"), h("kbd", {}, "F2"));
    els.reason = h("select", { class: "hl-reason", "data-test": "select-reason", "aria-label": t("state.reason") });
    els.notReady = h("button", { type: "button", class: "hl-btn hl-btn-not-ready", "data-test": "btn-not-ready", onclick: choose(AgentState.NOT_READY) },
      t("state.not_ready"), h("kbd", {}, "F3"));
    els.offline = h("button", { type: "button", class: "hl-btn hl-btn-offline", "data-test": "btn-offline", onclick: choose(AgentState.OFFLINE) },
      t("state.offline"), h("kbd", {}, "F4"));
    els.mute = h("button", { type: "button", class: "hl-btn hl-btn-quiet", "data-test": "btn-mute", onclick: () => signal(this, "hl-toggle-mute") });
    els.link = h("span", { class: "hl-link", "data-test": "link-status", role: "status" });
    els.help = h("button", { type: "button", class: "hl-btn hl-btn-quiet hl-help-btn", "data-test": "btn-help", "aria-label": t("help.title"), title: t("help.title"), onclick: () => signal(this, "hl-help") }, "?");
    this.#els = els;
    this.replaceChildren(
      h("div", { class: "hl-state-current" }, els.label, els.since),
      h("div", { class: "hl-state-actions" }, els.available, h("span", { class: "hl-not-ready-group" }, els.reason, els.notReady), els.offline),
      h("div", { class: "hl-state-tools" }, els.link, els.mute, els.help),
    );
  }

  #update() {
    const els = this.#els;
    if (!els) return;
    const { agent, reasons, link, muted } = this.#data;
    const state = agent?.state || AgentState.OFFLINE;
    let label = t("state." + state);
    if (state === AgentState.NOT_READY && agent?.reason) label += " · " + t("reason." + agent.reason);
    els.label.textContent = label;
    els.label.dataset.state = state;
    this.dataset.state = state;
    if (els.reason.options.length !== reasons.length) {
      els.reason.replaceChildren(...reasons.map((r) => h("option", { value: r }, t("reason." + r))));
    }
    const blocked = BUSY.has(state) || link !== "connected";
    for (const b of [els.available, els.notReady, els.offline]) b.disabled = blocked;
    els.available.setAttribute("aria-pressed", String(state === AgentState.AVAILABLE));
    els.notReady.setAttribute("aria-pressed", String(state === AgentState.NOT_READY));
    els.offline.setAttribute("aria-pressed", String(state === AgentState.OFFLINE));
    els.link.textContent = link === "connected" ? "" : t(link === "connecting" ? "console.connecting" : "console.reconnecting");
    els.link.hidden = link === "connected";
    els.mute.textContent = muted ? t("card.unmute") : t("card.mute");
    els.mute.append(h("kbd", {}, "M"));
    els.mute.setAttribute("aria-pressed", String(muted));
    this.#tick();
  }

  #tick() {
    const since = this.#data.agent?.since;
    this.#els.since.textContent = since ? duration(ServerClock.now() - since) : "";
  }
}

customElements.define("hl-state-bar", HlStateBar);
