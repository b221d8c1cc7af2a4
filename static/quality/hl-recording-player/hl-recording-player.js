// The player of one recorded call: the two-channel waveform with the analysis' marks, the
// audio (the stereo playback file, or the two channel files together when there is none)
// through the audited GET /api/v1/recordings/<id>/audio, playback speed, the marks and rule
// hits that jump the playback there, the metrics and the transcript when there is one.
// Keys: Space play/pause, ←/→ 5 s, [ ] speed, N/P next/previous mark.
import { getJSON } from "../../lib/api.js";
import { h, isTyping } from "../../lib/dom.js";
import { t } from "../../lib/i18n.js";
import { showLine, start } from "../../lib/page.js";
import { dateTime, duration as mmss } from "../../lib/time.js";
import { seconds } from "../format.js";
import { COLORS } from "../hl-waveform/hl-waveform.js";
import "../hl-waveform/hl-waveform.js";

export const RATES = [0.75, 1, 1.25, 1.5, 2];
const SEEK_S = 5;
const RATE_KEY = "hl.player.rate";
const LIBRARY = "/quality/recordings";
const MARK_COLORS = { silence: COLORS.silence, overtalk: COLORS.overtalk, hold: COLORS.hold, first_word: COLORS.agent };

export class HlRecordingPlayer extends HTMLElement {
  state = { entry: null, marks: [], duration: 0, position: 0, playing: false, rate: 1, error: null };
  #els = null;
  #audio = []; // the first leads; a second (the other channel file) follows it
  #frame = 0;
  #lastSync = 0;
  #shown = {};
  // Seeks asked for before an audio element had loaded: applied when its metadata is in.
  #pending = new Map();
  #starting = false;
  #cancelStart = false;

  async connectedCallback() {
    if (this.#els) return;
    if (!(await start(this))) return;
    const saved = Number(localStorage.getItem(RATE_KEY));
    if (RATES.includes(saved)) this.state.rate = saved;
    const id = this.dataset.callId || "";
    let entry;
    try {
      entry = await getJSON("/api/v1/quality/recordings/" + encodeURIComponent(id));
    } catch (err) {
      this.replaceChildren(backLink(), h("p", { class: "hl-error", role: "alert", "data-test": "error" }, err.message));
      return;
    }
    const a = entry.analysis;
    const longest = Math.max(0, ...entry.recordings.filter((r) => r.status === "complete").map((r) => r.duration_s || 0));
    this.state.entry = entry;
    this.state.duration = a?.duration_s || longest || entry.call.duration_s || 0;
    this.state.marks = buildMarks(a, entry.rule_labels || {});
    this.#render();
    this.#loadPeaks(id);
    document.addEventListener("keydown", this.#onKey);
    document.addEventListener("keyup", this.#onKeyUp);
  }

  disconnectedCallback() {
    document.removeEventListener("keydown", this.#onKey);
    document.removeEventListener("keyup", this.#onKeyUp);
    cancelAnimationFrame(this.#frame);
    for (const audio of this.#audio) audio.pause();
  }

  async #loadPeaks(id) {
    const els = this.#els;
    try {
      const peaks = await getJSON(`/api/v1/quality/recordings/${encodeURIComponent(id)}/peaks`);
      if (peaks.duration_s) this.state.duration = peaks.duration_s;
      els.wave.data = this.#waveData(peaks);
      els.waveNote.hidden = true;
      this.#update();
    } catch (err) {
      showLine(els.waveNote, err.message);
      els.waveNote.classList.add("hl-error");
    }
  }

  #waveData(peaks = null) {
    const a = this.state.entry.analysis;
    return { peaks, segments: a?.segments || {}, marks: this.state.marks, duration: this.state.duration };
  }

  // ---- playback ------------------------------------------------------------------------------

  #lead() {
    return this.#audio[0] || null;
  }

  #ready(audio) {
    return audio && audio.readyState >= 1;
  }

  async #play() {
    const lead = this.#lead();
    if (!lead) return;
    this.#cancelStart = false;
    if (this.#starting) return;
    this.#starting = true;
    try {
      // preload="none" until now: the first request for the audio is the audited playback.
      // Loaded and moved to the position first, so playback never starts from 0 and jumps.
      await Promise.all(this.#audio.map((audio) => this.#loaded(audio)));
      // Paused again (Space) while it was loading: it does not start after all.
      if (this.#cancelStart) return;
      await Promise.all(this.#audio.map((audio) => audio.play()));
    } catch (err) {
      if (err.name !== "AbortError") this.#fail(err.message || t("quality.audio.none"));
    } finally {
      this.#starting = false;
    }
  }

  // The element's metadata loaded and any seek asked for before applied (and done).
  async #loaded(audio) {
    if (!this.#ready(audio)) {
      const ready = once(audio, "loadedmetadata");
      // Leaving preload="none" resumes the suspended load (one request from byte 0: one
      // audited playback); load() only when no load was ever started.
      audio.preload = "auto";
      if (audio.networkState === HTMLMediaElement.NETWORK_EMPTY) audio.load();
      await ready;
    }
    if (this.#pending.has(audio)) {
      const seeked = once(audio, "seeked");
      audio.currentTime = this.#pending.get(audio);
      this.#pending.delete(audio);
      await seeked;
    }
  }

  #pause() {
    for (const audio of this.#audio) audio.pause();
  }

  #toggle() {
    if (this.state.playing || (this.#starting && !this.#cancelStart)) {
      this.#cancelStart = this.#starting;
      this.#pause();
    } else this.#play();
  }

  #seek(time, { play = false } = {}) {
    const d = this.state.duration || Infinity;
    const to = Math.max(0, Math.min(d, time));
    this.state.position = to;
    for (const audio of this.#audio) {
      if (this.#ready(audio)) audio.currentTime = to;
      else this.#pending.set(audio, to);
    }
    this.#update();
    if (play && !this.state.playing) this.#play();
  }

  #setRate(rate) {
    this.state.rate = rate;
    localStorage.setItem(RATE_KEY, String(rate));
    for (const audio of this.#audio) {
      audio.defaultPlaybackRate = rate;
      audio.playbackRate = rate;
    }
    this.#update();
  }

  #stepRate(step) {
    const i = RATES.indexOf(this.state.rate);
    this.#setRate(RATES[Math.max(0, Math.min(RATES.length - 1, (i < 0 ? 1 : i) + step))]);
  }

  #jump(step) {
    const marks = this.state.marks;
    if (!marks.length) return;
    const now = this.state.position;
    const target = step > 0 ? marks.find((m) => m.at > now + 0.05) : [...marks].reverse().find((m) => m.at < now - 0.3);
    if (target) this.#seek(target.at);
  }

  #tick = () => {
    const lead = this.#lead();
    // Until a seek made before loading is applied, the element's time is not the position.
    if (this.#ready(lead) && !this.#pending.has(lead)) {
      this.state.position = lead.currentTime;
      const follower = this.#audio[1];
      const now = performance.now();
      // Two files play side by side: keep the follower within 150 ms of the lead.
      if (follower && this.#ready(follower) && now - this.#lastSync > 500) {
        this.#lastSync = now;
        if (Math.abs(follower.currentTime - lead.currentTime) > 0.15) follower.currentTime = lead.currentTime;
      }
    }
    this.#update();
    if (this.state.playing) this.#frame = requestAnimationFrame(this.#tick);
  };

  #audioEvents(audio, leads) {
    audio.addEventListener("loadedmetadata", () => {
      audio.playbackRate = this.state.rate;
    });
    audio.addEventListener("error", () => this.#fail(t("quality.audio.none")));
    if (!leads) return;
    audio.addEventListener("play", () => {
      this.state.playing = true;
      cancelAnimationFrame(this.#frame);
      this.#frame = requestAnimationFrame(this.#tick);
      this.#update();
    });
    for (const name of ["pause", "ended"]) {
      audio.addEventListener(name, () => {
        this.state.playing = false;
        if (name === "ended") for (const other of this.#audio.slice(1)) other.pause();
        this.#tick();
      });
    }
    audio.addEventListener("seeked", () => {
      if (!this.state.playing) this.#tick();
    });
  }

  #fail(message) {
    this.state.error = message;
    this.#update();
  }

  // ---- keys ----------------------------------------------------------------------------------

  #onKey = (e) => {
    if (e.ctrlKey || e.metaKey || e.altKey || isTyping(e.target)) return;
    switch (e.key) {
      case " ":
        if (e.repeat) break;
        this.#toggle();
        break;
      case "ArrowLeft":
        this.#seek(this.state.position - SEEK_S);
        break;
      case "ArrowRight":
        this.#seek(this.state.position + SEEK_S);
        break;
      case "[":
        this.#stepRate(-1);
        break;
      case "]":
        this.#stepRate(1);
        break;
      case "n":
      case "N":
        this.#jump(1);
        break;
      case "p":
      case "P":
        this.#jump(-1);
        break;
      default:
        return;
    }
    e.preventDefault();
  };

  // Space on a focused button would also press it on key-up: it already played or paused.
  #onKeyUp = (e) => {
    if (e.key === " " && !isTyping(e.target)) e.preventDefault();
  };

  // ---- view ----------------------------------------------------------------------------------

  #render() {
    const { entry } = this.state;
    const c = entry.call;
    const a = entry.analysis;
    const els = (this.#els = {});
    const complete = entry.recordings.filter((r) => r.status === "complete");
    const stereo = complete.filter((r) => r.channel === "stereo").pop();
    const mono = ["agent", "caller"].map((ch) => complete.filter((r) => r.channel === ch).pop()).filter(Boolean);
    const files = stereo ? [stereo] : mono;
    this.#audio = files.map((r, i) => {
      const audio = h("audio", { preload: "none", src: r.audio_url, "data-test": "audio-" + r.channel });
      audio.defaultPlaybackRate = this.state.rate;
      this.#audioEvents(audio, i === 0);
      return audio;
    });
    const audioNote = !files.length ? t("quality.audio.none") : stereo ? t("quality.audio.stereo") : t("quality.audio.two_files");

    els.wave = h("hl-waveform", {});
    els.wave.addEventListener("wave-seek", (e) => this.#seek(e.detail.time));
    els.waveNote = h("p", { class: "hl-muted hl-wave-note" }, t("quality.waveform.loading"));
    els.play = h("button", { type: "button", class: "hl-btn hl-btn-primary hl-play", "data-test": "btn-play", disabled: !files.length, onclick: () => this.#toggle() });
    els.time = h("span", { class: "hl-player-time", "data-test": "position", "aria-live": "off" });
    els.rates = RATES.map((r) => h("button", { type: "button", class: "hl-btn hl-rate", "data-test": "rate", "data-rate": r, onclick: () => this.#setRate(r) }, r + "×"));
    els.prev = h("button", { type: "button", class: "hl-btn", "data-test": "btn-prev-mark", onclick: () => this.#jump(-1) }, "‹ ", t("quality.prev_mark"), h("kbd", {}, "P"));
    els.next = h("button", { type: "button", class: "hl-btn", "data-test": "btn-next-mark", onclick: () => this.#jump(1) }, t("quality.next_mark"), " ›", h("kbd", {}, "N"));
    els.error = h("p", { class: "hl-error", role: "alert", "data-test": "error", hidden: true });
    els.marks = h("ol", { class: "hl-marks", "data-test": "marks" });

    const status = analysisNote(a);
    this.replaceChildren(
      backLink(),
      h("section", { class: "hl-panel hl-player-head" },
        h("h1", {}, t("quality.player.heading", { time: dateTime(c.arrived_at) })),
        h("p", { class: "hl-player-facts", "data-test": "call-facts" },
          fact(t("calls.agent"), c.agent || "—"),
          fact(t("card.queue"), c.queue || "—"),
          fact(t("calls.caller"), c.caller_number),
          fact(t("quality.col.duration"), c.duration_s != null ? mmss(c.duration_s) : "—"),
          fact(t("wrapup.disposition"), c.disposition_label || "—"),
          c.tags.length ? h("span", { class: "hl-fact" }, c.tags.map((tag) => h("span", { class: "hl-chip" }, tag))) : null)),
      h("div", { class: "hl-player-grid" },
        h("section", { class: "hl-panel hl-player-main" },
          status ? h("p", { class: status.cls, "data-test": "analysis-note" }, status.text) : null,
          els.wave,
          els.waveNote,
          h("div", { class: "hl-player-controls" },
            els.play,
            els.time,
            h("div", { class: "hl-rates", role: "group", "aria-label": t("quality.speed") }, h("span", { class: "hl-muted" }, t("quality.speed")), els.rates),
            h("div", { class: "hl-mark-nav" }, els.prev, els.next)),
          els.error,
          h("p", { class: "hl-muted hl-player-keys", "data-test": "keys" },
            keyHint([t("quality.key.space")], t("quality.key.play")),
            keyHint(["←", "→"], t("quality.key.seek")),
            keyHint(["[", "]"], t("quality.key.speed")),
            keyHint(["N", "P"], t("quality.key.marks")),
            h("span", {}, audioNote)),
          legend(),
          ...this.#audio,
          metricsBlock(a),
          transcriptBlock(a)),
        h("aside", { class: "hl-panel hl-player-side" },
          h("h2", {}, t("quality.marks"), " ", h("span", { class: "hl-muted" }, String(this.state.marks.length))),
          this.state.marks.length ? els.marks : h("p", { class: "hl-muted" }, a?.status === "done" ? t("quality.marks.none") : "—"),
          rulesBlock(a, entry.rule_labels || {}, (at) => this.#seek(at, { play: true })))));
    els.marks.replaceChildren(...this.state.marks.map((m, i) =>
      h("li", {}, h("button", {
        type: "button", class: "hl-mark", "data-test": "mark", "data-kind": m.kind, "data-at": m.at, "data-index": i,
        onclick: () => this.#seek(m.at, { play: true }),
      },
      h("span", { class: "hl-mark-time" }, mmss(m.at)),
      h("span", { class: "hl-swatch", style: `background:${markColor(m)}` }),
      h("span", { class: "hl-mark-text" }, m.text)))));
    els.markButtons = [...els.marks.querySelectorAll("button")];
    els.wave.data = this.#waveData();
    this.#update();
  }

  // Runs every animation frame while playing: only what changed is touched.
  #update() {
    const els = this.#els;
    if (!els) return;
    const s = this.state;
    const shown = this.#shown;
    els.wave.position = s.position;
    const time = `${mmss(s.position)} / ${mmss(s.duration)}`;
    if (els.time.textContent !== time) els.time.textContent = time;
    this.dataset.position = s.position.toFixed(2);
    if (shown.playing !== s.playing) {
      shown.playing = s.playing;
      this.dataset.playing = String(s.playing);
      els.play.replaceChildren(s.playing ? "⏸ " + t("quality.pause") : "▶ " + t("quality.play"), h("kbd", {}, t("quality.key.space")));
      els.play.setAttribute("aria-pressed", String(s.playing));
    }
    if (shown.rate !== s.rate) {
      shown.rate = s.rate;
      this.dataset.rate = String(s.rate);
      for (const b of els.rates) b.setAttribute("aria-pressed", String(Number(b.dataset.rate) === s.rate));
    }
    if (shown.error !== s.error) {
      shown.error = s.error;
      showLine(els.error, s.error);
    }
    let current = -1;
    s.marks.forEach((m, i) => { if (m.at <= s.position + 0.05) current = i; });
    if (shown.current !== current) {
      shown.current = current;
      els.markButtons.forEach((b, i) => b.toggleAttribute("aria-current", i === current));
    }
  }
}

// The next `name` event of the element (rejected on its error event).
function once(el, name) {
  return new Promise((resolve, reject) => {
    const done = (e) => {
      el.removeEventListener(name, done);
      el.removeEventListener("error", done);
      if (e.type === "error") reject(new Error(t("quality.audio.none")));
      else resolve();
    };
    el.addEventListener(name, done);
    el.addEventListener("error", done);
  });
}

function backLink() {
  // Back to the library as it was left (its filters are in its URL) when we came from it.
  let href = LIBRARY;
  try {
    const ref = new URL(document.referrer);
    if (ref.origin === location.origin && ref.pathname === LIBRARY) href = ref.pathname + ref.search;
  } catch {
    // no referrer
  }
  return h("a", { class: "hl-back", href, "data-test": "back" }, "← ", t("quality.back"));
}

function fact(label, value) {
  return h("span", { class: "hl-fact" }, h("span", { class: "hl-muted" }, label), " ", h("strong", {}, value));
}

function keyHint(keys, text) {
  return h("span", { class: "hl-key-hint" }, keys.map((k) => h("kbd", {}, k)), " ", text);
}

function markColor(m) {
  if (m.kind === "rule") return m.failed ? COLORS.failed : COLORS.passed;
  return MARK_COLORS[m.kind] || COLORS.mark;
}

function analysisNote(a) {
  if (!a) return { cls: "hl-notice", text: t("quality.analysis.waiting") };
  if (a.status === "failed") {
    return { cls: "hl-error", text: t("quality.analysis.failed", { message: t("error." + a.error).replace("{detail}", a.error_detail || "") }) };
  }
  if (a.status === "pending") return { cls: "hl-notice", text: t("quality.analysis.pending") };
  return null;
}

function legend() {
  const item = (color, key, bar = false) =>
    h("span", { class: "hl-legend-item" }, h("span", { class: "hl-swatch" + (bar ? " is-bar" : ""), style: `background:${color}` }), t(key));
  return h("p", { class: "hl-legend", "data-test": "legend" },
    item(COLORS.caller, "quality.legend.speech_caller", true),
    item(COLORS.agent, "quality.legend.speech_agent", true),
    item(COLORS.silence, "quality.legend.silence"),
    item(COLORS.overtalk, "quality.legend.overtalk"),
    item(COLORS.hold, "quality.legend.hold"),
    h("span", { class: "hl-legend-item" }, h("span", { class: "hl-tri" }), t("quality.legend.rule")));
}

// The marks the list shows and N/P walks, by time: dead air, over-talk, holds, the agent's
// first word, and every rule hit with its evidence.
export function buildMarks(a, labels) {
  if (!a || a.status !== "done") return [];
  const seg = a.segments || {};
  const marks = [];
  const spans = (list, kind, key) => {
    for (const [from, to] of list || []) marks.push({ at: from, end: to, kind, text: t(key, { s: round1(to - from) }) });
  };
  spans(seg.silences, "silence", "quality.mark.silence");
  spans(seg.overtalk, "overtalk", "quality.mark.overtalk");
  spans(seg.holds, "hold", "quality.mark.hold");
  const first = a.metrics?.agent_first_word_s;
  if (first !== null && first !== undefined) {
    marks.push({ at: first, kind: "first_word", text: `${t("quality.mark.first_word")} (${seconds(first)})` });
  }
  for (const r of a.rules || []) {
    for (const ev of r.evidence || []) {
      const said = ev.line?.text || ev.matched || ev.phrase;
      marks.push({ at: ev.at_s, kind: "rule", failed: r.status === "failed", rule: r.rule_id,
        text: `${labels[r.rule_id] || r.rule_id}: “${said}”` });
    }
  }
  return marks.sort((x, y) => x.at - y.at);
}

function round1(x) {
  return Math.round(x * 10) / 10;
}

function metricsBlock(a) {
  if (!a || a.status !== "done") return null;
  const m = a.metrics || {};
  const rows = [
    ["quality.metric.duration", m.duration_s != null ? mmss(m.duration_s) : null],
    ["quality.metric.agent_talk_share", m.agent_talk_share != null ? Math.round(m.agent_talk_share * 100) + "%" : null],
    ["quality.metric.longest_silence", m.longest_silence_s != null ? seconds(m.longest_silence_s) : null],
    ["quality.metric.overtalk", m.overtalk_s != null ? seconds(m.overtalk_s) : null],
    ["quality.metric.interruptions", m.interruptions],
    ["quality.metric.first_word", m.agent_first_word_s != null ? seconds(m.agent_first_word_s) : null],
    ["quality.metric.hold", m.hold_s != null ? seconds(m.hold_s) : null],
    ["quality.metric.ring", m.ring_s != null ? seconds(m.ring_s) : null],
  ];
  return h("section", { class: "hl-player-metrics", "data-test": "metrics" },
    h("h2", {}, t("quality.metrics")),
    h("dl", {}, rows.map(([key, value]) => h("div", {}, h("dt", {}, t(key)), h("dd", {}, value ?? "—")))));
}

function transcriptBlock(a) {
  const lines = Array.isArray(a?.transcript) ? a.transcript : [];
  return h("section", { class: "hl-player-transcript", "data-test": "transcript" },
    h("h2", {}, t("quality.transcript")),
    lines.length
      ? h("ol", { class: "hl-transcript" }, lines.map((l) =>
        h("li", { "data-side": l.side }, h("span", { class: "hl-mark-time" }, mmss(l.start_s)), " ",
          h("strong", {}, t("quality.side." + l.side)), " ", l.text)))
      : h("p", { class: "hl-muted" }, t("quality.transcript.none")));
}

function rulesBlock(a, labels, seek) {
  const verdicts = a?.status === "done" ? a.rules || [] : [];
  const checked = verdicts.filter((r) => r.status !== "not_applicable");
  let body;
  if (!verdicts.length) body = h("p", { class: "hl-muted" }, t("quality.rules.none"));
  else if (!checked.length) body = h("p", { class: "hl-muted", "data-test": "rules-unchecked" }, t("quality.rules.unchecked"));
  else {
    body = h("ul", { class: "hl-rules" }, checked.map((r) =>
      h("li", { "data-test": "rule", "data-status": r.status },
        h("span", { class: "hl-chip " + (r.status === "failed" ? "hl-chip-bad" : "hl-chip-good") }, t("quality.rule_status." + r.status)),
        " ", h("strong", {}, labels[r.rule_id] || r.rule_id), " ", h("span", { class: "hl-muted" }, r.language),
        (r.evidence || []).map((ev) => h("button", { type: "button", class: "hl-evidence", onclick: () => seek(ev.at_s) },
          h("span", { class: "hl-mark-time" }, mmss(ev.at_s)), " “", ev.line?.text || ev.matched, "”")))));
  }
  return h("section", { class: "hl-player-rules", "data-test": "rules" }, h("h2", {}, t("quality.rules")), body);
}


customElements.define("hl-recording-player", HlRecordingPlayer);
