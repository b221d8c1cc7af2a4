// Controls of the call in hand: hold and resume (the caller hears music), the DTMF keypad
// (an IVR or a bank line on the far end), pausing the recording while a card number is
// read out, transfer and consult; while a consult is up, a bar with the third party's
// number and state and what she can do with it (complete the transfer, conference, cancel).
// Signals `hl-hold` {on}, `hl-dtmf` {digits}, `hl-pause-recording`, `hl-open-transfer`
// {mode: transfer|consult}, `hl-consult-action` {action: complete|conference|cancel},
// `hl-consult-dismiss`; owns no call state (the console passes {held, recordingPaused,
// keypad, sent, party: {state, number} | null, busy}).
import { h, signal } from "../../lib/dom.js";
import { t } from "../../lib/i18n.js";

export const KEYPAD_KEYS = ["1", "2", "3", "4", "5", "6", "7", "8", "9", "*", "0", "#"];

// The shortcuts of the call moves (hl-shortcut-help lists them). F10 focuses Chromium's menu
// unless the page takes it (it does, on a call); Shift+F10 (context menu) and F11 (full
// screen) are left to the browser. Alt+C is matched by its key code: on a Mac, Option+C
// types "ç".
export const TRANSFER_KEY = "F10";
export const CONSULT_KEY = { code: "KeyC", label: "Alt+C" };

export function isTransferShortcut(e) {
  return e.key === TRANSFER_KEY && !e.ctrlKey && !e.altKey && !e.metaKey && !e.shiftKey;
}

export function isConsultShortcut(e) {
  return e.code === CONSULT_KEY.code && e.altKey && !e.ctrlKey && !e.metaKey && !e.shiftKey;
}

// A consult's third party while it is there (the bar offers complete, conference, cancel);
// "failed" and "ended" are final: the bar says so until she resumes the caller or dismisses it.
export const LIVE_PARTY = new Set(["ringing", "connected", "conference"]);

export class HlCallControls extends HTMLElement {
  #data = { held: false, recordingPaused: false, keypad: false, sent: "", party: null, busy: "" };
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
    const open = (mode) => () => signal(this, "hl-open-transfer", { mode });
    els.transfer = h("button", { type: "button", class: "hl-btn", "data-test": "btn-transfer", "aria-haspopup": "dialog", onclick: open("transfer") },
      t("transfer.open"), h("kbd", {}, TRANSFER_KEY));
    els.consult = h("button", { type: "button", class: "hl-btn", "data-test": "btn-consult", "aria-haspopup": "dialog", onclick: open("consult") },
      t("consult.open"), h("kbd", {}, CONSULT_KEY.label));
    els.bar = this.#renderBar();
    this.#els = els;
    this.replaceChildren(
      h("div", { class: "hl-call-controls-row" }, els.hold, els.keypadBtn, els.recording, h("span", { class: "hl-controls-gap" }), els.transfer, els.consult),
      els.bar.root,
      els.pad);
  }

  #renderBar() {
    const act = (action) => () => signal(this, "hl-consult-action", { action });
    const bar = {};
    bar.number = h("span", { class: "hl-consult-number", "data-test": "consult-number" });
    bar.state = h("span", { class: "hl-consult-state", "data-test": "consult-state", role: "status", "aria-live": "polite" });
    bar.complete = h("button", { type: "button", class: "hl-btn hl-btn-primary", "data-test": "btn-consult-complete", onclick: act("complete") }, t("consult.complete"));
    bar.conference = h("button", { type: "button", class: "hl-btn", "data-test": "btn-consult-conference", onclick: act("conference") }, t("consult.conference"));
    bar.cancel = h("button", { type: "button", class: "hl-btn hl-btn-danger-quiet", "data-test": "btn-consult-cancel", onclick: act("cancel") });
    bar.dismiss = h("button", { type: "button", class: "hl-btn", "data-test": "btn-consult-dismiss", onclick: () => signal(this, "hl-consult-dismiss") }, t("consult.dismiss"));
    bar.held = h("p", { class: "hl-consult-held", "data-test": "consult-held-hint" }, t("consult.caller_held"));
    bar.busy = h("span", { class: "hl-muted", "data-test": "consult-busy" });
    bar.root = h("section", { class: "hl-consult-bar", "data-test": "consult-bar", "aria-label": t("consult.bar") },
      h("div", { class: "hl-consult-line" },
        h("span", { class: "hl-consult-kind" }, t("consult.bar")),
        bar.number,
        bar.state,
        h("span", { class: "hl-consult-actions" }, bar.complete, bar.conference, bar.cancel, bar.dismiss, bar.busy)),
      bar.held);
    return bar;
  }

  #updateBar() {
    const { party, busy, held } = this.#data;
    const bar = this.#els.bar;
    bar.root.hidden = !party;
    if (!party) return;
    const live = LIVE_PARTY.has(party.state);
    bar.root.dataset.state = party.state;
    bar.number.textContent = party.number || "";
    bar.state.textContent = t("consult.state." + party.state);
    bar.complete.hidden = bar.conference.hidden = bar.cancel.hidden = !live;
    bar.dismiss.hidden = live;
    bar.complete.disabled = !!busy || !["connected", "conference"].includes(party.state);
    bar.conference.disabled = !!busy || party.state !== "connected";
    bar.conference.hidden = !live || party.state === "conference";
    bar.cancel.disabled = !!busy;
    bar.cancel.textContent = t(party.state === "conference" ? "consult.drop" : "consult.cancel");
    bar.busy.textContent = busy ? t("consult.busy." + busy) : "";
    // After a consult the caller stays on hold until she takes her back (F6).
    bar.held.hidden = live || !held;
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
    const consulting = LIVE_PARTY.has(d.party?.state);
    els.transfer.disabled = els.consult.disabled = consulting;
    els.transfer.title = els.consult.title = consulting ? t("error.consult-in-progress") : "";
    this.#updateBar();
    els.sent.textContent = d.sent ? t("call.dtmf_sent", { digits: d.sent }) : t("call.keypad_hint");
    this.toggleAttribute("data-held", !!d.held);
    this.toggleAttribute("data-consulting", consulting);
  }
}

customElements.define("hl-call-controls", HlCallControls);
