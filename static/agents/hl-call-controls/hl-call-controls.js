// Controls of the call in hand: hold and resume (the caller hears music), the DTMF keypad
// (an IVR or a bank line on the far end), and pausing the recording while a card number is
// read out. Signals `hl-hold` {on}, `hl-dtmf` {digits}, `hl-pause-recording`; owns no call
// state (the console passes {held, recordingPaused, keypad}).
import { h, signal } from "../../lib/dom.js";
import { t } from "../../lib/i18n.js";

export const KEYPAD_KEYS = ["1", "2", "3", "4", "5", "6", "7", "8", "9", "*", "0", "#"];

export class HlCallControls extends HTMLElement {
  #data = { held: false, recordingPaused: false, keypad: false, sent: "" };
  #els = null;

  set data(value) {
    this.#data = { ...this.#data, ...value };
    this.#update();
  }

  get keypadOpen() {
    return !!this.#data.keypad;
  }

  connectedCallback() {
    if (!this.#els) this.#render();
    this.#update();
  }

  #render() {
    const els = {};
    els.hold = h("button", { type: "button", class: "hl-btn", "data-test": "btn-hold", onclick: () => signal(this, "hl-hold", { on: !this.#data.held }) });
    els.keypadBtn = h("button", { type: "button", class: "hl-btn hl-btn-quiet", "data-test": "btn-keypad", "aria-expanded": "false", onclick: () => signal(this, "hl-keypad") });
    els.recording = h("button", { type: "button", class: "hl-btn hl-btn-quiet hl-recording-toggle", "data-test": "recording-toggle", onclick: () => signal(this, "hl-pause-recording") });
    els.keys = KEYPAD_KEYS.map((k) => h("button", { type: "button", class: "hl-key", "data-test": `dtmf-${k}`, onclick: () => signal(this, "hl-dtmf", { digits: k }) }, k));
    els.sent = h("output", { class: "hl-dtmf-sent", "data-test": "dtmf-sent", "aria-live": "polite" });
    els.pad = h("div", { class: "hl-keypad", "data-test": "keypad", role: "group", "aria-label": t("call.keypad") }, h("div", { class: "hl-keypad-keys" }, els.keys), els.sent);
    this.#els = els;
    this.replaceChildren(h("div", { class: "hl-call-controls-row" }, els.hold, els.keypadBtn, els.recording), els.pad);
  }

  #update() {
    const els = this.#els;
    if (!els) return;
    const d = this.#data;
    els.hold.replaceChildren(t(d.held ? "call.resume" : "call.hold"), h("kbd", {}, "F6"));
    els.hold.setAttribute("aria-pressed", String(!!d.held));
    els.keypadBtn.replaceChildren(t("call.keypad"), h("kbd", {}, "F7"));
    els.keypadBtn.setAttribute("aria-expanded", String(!!d.keypad));
    els.recording.replaceChildren(t(d.recordingPaused ? "recording.resume" : "recording.pause"), h("kbd", {}, "F9"));
    els.recording.setAttribute("aria-pressed", String(!!d.recordingPaused));
    els.pad.hidden = !d.keypad;
    els.sent.textContent = d.sent ? t("call.dtmf_sent", { digits: d.sent }) : t("call.keypad_hint");
    this.toggleAttribute("data-held", !!d.held);
  }
}

customElements.define("hl-call-controls", HlCallControls);
