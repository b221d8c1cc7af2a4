// The player's two-channel waveform: the caller's lane on top, the agent's below, drawn on a
// canvas from the peaks the server computed (GET /api/v1/quality/recordings/<id>/peaks),
// with the analysis' segments marked (speech per channel; silence, over-talk and hold across
// both) and the marks' times above. The parent sets `data` and `position`; a click asks it
// to seek with `wave-seek` ({time}).
import { h, signal } from "../../lib/dom.js";
import { t } from "../../lib/i18n.js";
import { duration as mmss } from "../../lib/time.js";

export const COLORS = {
  caller: "#2b6cb0",
  agent: "#2f855a",
  silence: "rgba(214, 158, 46, 0.28)",
  overtalk: "rgba(197, 48, 48, 0.30)",
  hold: "rgba(107, 70, 193, 0.18)",
  failed: "#c53030",
  passed: "#2f855a",
  mark: "#4a5568",
};
const BAND = 14; // marks' triangles above the lanes
const LANE = 76;
const GAP = 6;
const RULER = 18;
const HEIGHT = BAND + LANE + GAP + LANE + RULER;
const SIDES = ["caller", "agent"];
const STEPS = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600];

function laneTop(i) {
  return BAND + i * (LANE + GAP);
}

export class HlWaveform extends HTMLElement {
  #data = { peaks: null, segments: {}, marks: [], duration: 0 };
  #position = 0;
  #els = null;
  #resize = null;

  connectedCallback() {
    if (this.#els) return;
    const els = (this.#els = {});
    els.canvas = h("canvas", { "aria-hidden": "true" });
    els.head = h("div", { class: "hl-wave-head", "data-test": "playhead" });
    els.hover = h("div", { class: "hl-wave-hover", hidden: true });
    els.area = h("div", {
      class: "hl-wave-area", tabindex: 0, role: "slider", "data-test": "waveform",
      "aria-label": t("quality.waveform"), "aria-valuemin": 0,
      onpointerdown: (e) => this.#seekAt(e),
      onpointermove: (e) => this.#hoverAt(e),
      onpointerleave: () => { els.hover.hidden = true; },
    }, els.canvas, els.head, els.hover);
    els.labels = h("div", { class: "hl-wave-labels" },
      SIDES.map((side, i) => h("span", { class: "hl-wave-label", style: `top:${laneTop(i)}px;height:${LANE}px;color:${COLORS[side]}` }, t("quality.side." + side))));
    this.style.setProperty("--wave-height", HEIGHT + "px");
    this.replaceChildren(els.labels, els.area);
    this.#resize = new ResizeObserver(() => this.#draw());
    this.#resize.observe(els.area);
  }

  disconnectedCallback() {
    this.#resize?.disconnect();
  }

  set data(value) {
    this.#data = { segments: {}, marks: [], ...value };
    this.#draw();
    this.#place();
  }

  get duration() {
    return this.#data.duration || 0;
  }

  set position(seconds) {
    this.#position = seconds;
    this.#place();
  }

  #x(seconds, width) {
    const d = this.duration;
    return d > 0 ? Math.max(0, Math.min(width, (seconds / d) * width)) : 0;
  }

  #timeAt(e) {
    const box = this.#els.area.getBoundingClientRect();
    const ratio = Math.max(0, Math.min(1, (e.clientX - box.left) / box.width));
    return ratio * this.duration;
  }

  #seekAt(e) {
    if (!this.duration || e.button !== 0) return;
    signal(this, "wave-seek", { time: this.#timeAt(e) });
  }

  #hoverAt(e) {
    if (!this.duration) return;
    const els = this.#els;
    const box = els.area.getBoundingClientRect();
    els.hover.hidden = false;
    els.hover.style.transform = `translateX(${Math.round(e.clientX - box.left)}px)`;
    els.hover.dataset.time = mmss(this.#timeAt(e));
  }

  #place() {
    const els = this.#els;
    if (!els) return;
    const width = els.area.clientWidth;
    els.head.style.transform = `translateX(${Math.round(this.#x(this.#position, width))}px)`;
    els.head.hidden = !this.duration;
    els.area.setAttribute("aria-valuemax", String(Math.round(this.duration)));
    els.area.setAttribute("aria-valuenow", String(Math.round(this.#position)));
    els.area.setAttribute("aria-valuetext", `${mmss(this.#position)} / ${mmss(this.duration)}`);
  }

  #draw() {
    const els = this.#els;
    if (!els) return;
    const width = els.area.clientWidth;
    if (!width) return;
    const ratio = window.devicePixelRatio || 1;
    const canvas = els.canvas;
    canvas.width = Math.round(width * ratio);
    canvas.height = Math.round(HEIGHT * ratio);
    canvas.style.width = width + "px";
    canvas.style.height = HEIGHT + "px";
    const ctx = canvas.getContext("2d");
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    ctx.clearRect(0, 0, width, HEIGHT);
    const { peaks, segments } = this.#data;
    const seg = segments || {};
    const x = (s) => this.#x(s, width);
    const across = (spans, color) => {
      ctx.fillStyle = color;
      for (const [a, b] of spans || []) ctx.fillRect(x(a), BAND, Math.max(1, x(b) - x(a)), 2 * LANE + GAP);
    };
    SIDES.forEach((side, i) => {
      const top = laneTop(i);
      ctx.fillStyle = "#f7f9fb";
      ctx.fillRect(0, top, width, LANE);
      // Speech in this channel: a light tint and a bar along the lane's foot.
      ctx.globalAlpha = 0.10;
      ctx.fillStyle = COLORS[side];
      for (const [a, b] of seg[side]?.speech || []) ctx.fillRect(x(a), top, Math.max(1, x(b) - x(a)), LANE);
      ctx.globalAlpha = 0.75;
      for (const [a, b] of seg[side]?.speech || []) ctx.fillRect(x(a), top + LANE - 3, Math.max(1, x(b) - x(a)), 3);
      ctx.globalAlpha = 1;
    });
    across(seg.holds, COLORS.hold);
    across(seg.silences, COLORS.silence);
    across(seg.overtalk, COLORS.overtalk);
    if (peaks) SIDES.forEach((side, i) => this.#wave(ctx, peaks.channels?.[side], laneTop(i), width, COLORS[side]));
    for (const m of this.#data.marks || []) {
      const at = x(m.at);
      ctx.fillStyle = m.kind === "rule" ? (m.failed ? COLORS.failed : COLORS.passed) : COLORS.mark;
      ctx.beginPath();
      ctx.moveTo(at - 5, 1);
      ctx.lineTo(at + 5, 1);
      ctx.lineTo(at, BAND - 2);
      ctx.closePath();
      ctx.fill();
    }
    this.#ruler(ctx, width);
  }

  #wave(ctx, channel, top, width, color) {
    if (!channel || !channel.low?.length) return;
    const { low, high } = channel;
    const n = low.length;
    let loudest = 30; // 3 % of full scale: a quiet line is not blown up into a wall
    for (let i = 0; i < n; i++) loudest = Math.max(loudest, -low[i], high[i]);
    const mid = top + LANE / 2;
    const half = LANE / 2 - 5;
    ctx.fillStyle = "#d8dee4";
    ctx.fillRect(0, mid, width, 1);
    ctx.fillStyle = color;
    for (let px = 0; px < width; px++) {
      const i0 = Math.floor((px / width) * n);
      const i1 = Math.max(i0 + 1, Math.floor(((px + 1) / width) * n));
      let lo = 0;
      let hi = 0;
      for (let i = i0; i < i1 && i < n; i++) {
        if (low[i] < lo) lo = low[i];
        if (high[i] > hi) hi = high[i];
      }
      const y1 = mid - (hi / loudest) * half;
      const y2 = mid - (lo / loudest) * half;
      ctx.fillRect(px, y1, 1, Math.max(1, y2 - y1));
    }
  }

  #ruler(ctx, width) {
    const d = this.duration;
    if (!d) return;
    const top = HEIGHT - RULER;
    const step = STEPS.find((s) => (d / s) * 70 <= width) || STEPS[STEPS.length - 1];
    ctx.fillStyle = "#66727f";
    ctx.font = "11px system-ui, sans-serif";
    ctx.textBaseline = "top";
    for (let s = 0; s <= d; s += step) {
      const at = this.#x(s, width);
      ctx.fillRect(at, top, 1, 4);
      const label = mmss(s);
      const w = ctx.measureText(label).width;
      ctx.fillText(label, Math.min(width - w, Math.max(0, at - w / 2)), top + 5);
    }
  }
}

customElements.define("hl-waveform", HlWaveform);
