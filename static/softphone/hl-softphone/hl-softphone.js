// The browser softphone: the agent talks to the caller through the page. 16-bit PCM in 20 ms
// frames over a WebSocket to /api/v1/calls/<id>/audio (4-byte little-endian sequence header,
// text messages for ready/ping/pong/mute/stats/state), an AudioWorklet on each side
// (../audio-worklet.js, jitter buffer in ../jitter.js).
//
// Methods: start(callId, {rate}), stop(), setMuted(bool), toggleMute(), refreshDevices(),
// selectInput(id), selectOutput(id); getters `muted`, `stats`, `health`.
// Signals (bubbling CustomEvents): `hl-softphone-health` {level, key, message, call_id} on every
// change of the indicator, `hl-softphone-mute` {muted}, `hl-softphone-state` {state} when the
// server reports the call connected/held/ended, `hl-softphone-ended` {call_id, code}.
// The parent owns the keyboard: `isMuteShortcut(e)` says whether a keydown is the mute key.
//
// The health indicator is never a silent "on call": red when the socket is down (then it
// reconnects with backoff for the server's 60 s grace period), when nothing came from the
// server for over 2 s, when the microphone is blocked, missing or gone, or when the server
// misses over 20 % of our frames; amber for smaller losses and round trips over 300 ms.
import { h, signal } from "../../lib/dom.js";
import { t } from "../../lib/i18n.js";

export const MUTE_SHORTCUT = "F8";

// F8 works while the agent types notes (like F2–F4): muting must not wait for a click
// outside a text field. The letter M already mutes the ring tone.
export function isMuteShortcut(e) {
  return e.key === MUTE_SHORTCUT && !e.ctrlKey && !e.altKey && !e.metaKey && !e.shiftKey && !e.repeat;
}

const FRAME_MS = 20;
const PING_MS = 2000;
const DEAD_MS = 3 * PING_MS + 500; // no pong for this long: the socket is dead even if "open"
const SILENT_MS = 2000; // no frame from the server for longer: red
const GRACE_MS = 60000; // the server keeps the call this long after the socket drops
const OPEN_TIMEOUT_MS = 5000;
const BACKOFF_MS = [500, 1000, 2000, 4000, 8000];
const RTT_WARN_MS = 300;
const UPLINK_BAD = 0.2;
const UPLINK_WARN = 0.05;
const DOWNLINK_WARN = 0.05;
const WINDOW_MS = 4000; // the window over which the page's own downlink losses are counted
const TICK_MS = 100;
const SEND_BACKLOG_BYTES = 16000; // a stalled socket drops frames rather than grow latency
const STORE = { input: "hotline.softphone.input", output: "hotline.softphone.output" };
let panelCount = 0;
const WORKLET_URL = new URL("../audio-worklet.js", import.meta.url).href;

const STYLE = `
hl-softphone { display: block; }
hl-softphone .hl-sp { background: var(--panel, #fff); border: 1px solid var(--line, #d8dee4); border-left: 6px solid var(--muted, #66727f);
  border-radius: var(--radius, 6px); padding: 6px 10px; }
hl-softphone .hl-sp[data-level="ok"] { border-left-color: var(--available, #2f855a); }
hl-softphone .hl-sp[data-level="warn"], hl-softphone .hl-sp[data-level="wait"], hl-softphone .hl-sp[data-level="held"] { border-left-color: #d69e2e; }
hl-softphone .hl-sp[data-level="bad"] { border-color: var(--danger, #c53030); border-left-color: var(--danger, #c53030); background: #fff5f5; }
hl-softphone .hl-sp-row { display: flex; flex-wrap: wrap; align-items: center; gap: 6px 14px; }
hl-softphone .hl-sp-health { display: inline-flex; align-items: center; gap: 6px; font-weight: 600; min-width: 9em; }
hl-softphone .hl-sp-dot { width: 12px; height: 12px; border-radius: 50%; background: var(--muted, #66727f); flex: none; }
hl-softphone [data-level="ok"] .hl-sp-dot { background: var(--available, #2f855a); }
hl-softphone [data-level="warn"] .hl-sp-dot, hl-softphone [data-level="wait"] .hl-sp-dot, hl-softphone [data-level="held"] .hl-sp-dot { background: #d69e2e; }
hl-softphone [data-level="bad"] .hl-sp-dot { background: var(--danger, #c53030); }
hl-softphone [data-level="ok"] .hl-sp-health { color: var(--available, #2f855a); }
hl-softphone [data-level="warn"] .hl-sp-health, hl-softphone [data-level="held"] .hl-sp-health { color: #975a16; }
hl-softphone [data-level="bad"] .hl-sp-health { color: var(--danger, #c53030); }
hl-softphone .hl-sp-figures { font: 12px var(--mono, monospace); color: var(--muted, #66727f); white-space: nowrap; }
hl-softphone .hl-sp-meter { display: inline-flex; align-items: center; gap: 6px; color: var(--muted, #66727f); font-size: 12px; line-height: 1; }
hl-softphone .hl-sp-bar { position: relative; width: 84px; height: 8px; border-radius: 4px; background: #e4e7eb; overflow: hidden; }
hl-softphone .hl-sp-bar > i { position: absolute; inset: 0; background: var(--available, #2f855a); transform-origin: left; transform: scaleX(0); }
hl-softphone .hl-sp-meter[data-muted] .hl-sp-bar > i { background: var(--muted, #66727f); }
hl-softphone .hl-sp-meter[data-muted] { color: var(--danger, #c53030); font-weight: 600; }
hl-softphone .hl-sp-mute[aria-pressed="true"] { background: var(--danger, #c53030); border-color: var(--danger, #c53030); color: #fff; }
hl-softphone .hl-sp-message { margin: 6px 0 0; display: flex; flex-wrap: wrap; align-items: center; gap: 8px; }
hl-softphone [data-level="bad"] .hl-sp-message { color: var(--danger, #c53030); font-weight: 600; font-size: 15px; }
hl-softphone [data-level="warn"] .hl-sp-message { color: #975a16; }
hl-softphone .hl-sp-devices { margin-left: auto; }
hl-softphone .hl-sp-devices[aria-expanded="true"] { color: var(--ink, #1f2933); }
hl-softphone .hl-sp-device-list { display: flex; flex-wrap: wrap; gap: 6px 16px; padding: 6px 0 2px; border-top: 1px dashed var(--line, #d8dee4); margin-top: 6px; }
hl-softphone .hl-sp-device-list[hidden] { display: none; }
hl-softphone .hl-sp-device-list label { display: inline-flex; gap: 4px; align-items: center; font-size: 12px; color: var(--muted, #66727f); }
hl-softphone .hl-sp-device-list select { max-width: 22em; font: inherit; color: var(--ink, #1f2933); }
`;

// What the indicator shows for a snapshot of the connection; pure, so the rules read in one
// place. Returns {level: "idle"|"wait"|"ok"|"held"|"warn"|"bad"|"ended", key, params}; key is completed
// as `softphone.health.<key>`.
export function assessHealth(s) {
  if (s.error) return { level: "bad", key: s.error, params: s.errorParams || {} };
  if (s.phase === "idle") return { level: "idle", key: "idle", params: {} };
  if (s.phase === "ended") return { level: "ended", key: s.endKey || "ended", params: {} };
  if (s.phase === "reconnecting") return { level: "bad", key: "reconnecting", params: {} };
  if (s.phase === "connecting") return { level: "wait", key: "connecting", params: {} };
  if (s.suspended) return { level: "bad", key: "suspended", params: {} };
  const pct = (x) => Math.round(x * 100);
  if (s.callState !== "held" && s.silentMs > SILENT_MS) {
    return { level: "bad", key: "no_downlink", params: { s: Math.floor(s.silentMs / 1000) } };
  }
  if (s.uplinkLoss > UPLINK_BAD) return { level: "bad", key: "uplink_gaps", params: { pct: pct(s.uplinkLoss) } };
  if (s.callState === "held") return { level: "held", key: "held", params: {} };
  if (s.uplinkLoss > UPLINK_WARN) return { level: "warn", key: "uplink_some", params: { pct: pct(s.uplinkLoss) } };
  if (s.downlinkLoss > DOWNLINK_WARN) return { level: "warn", key: "downlink_gaps", params: { pct: pct(s.downlinkLoss) } };
  if (s.rttMs !== null && s.rttMs > RTT_WARN_MS) return { level: "warn", key: "slow", params: { ms: Math.round(s.rttMs) } };
  return { level: "ok", key: "ok", params: {} };
}

function stored(key) {
  try {
    return localStorage.getItem(key) || "";
  } catch {
    return "";
  }
}

function store(key, value) {
  try {
    if (value) localStorage.setItem(key, value);
    else localStorage.removeItem(key);
  } catch {
    /* private mode: the choice lasts for this page only */
  }
}

// RMS (0..1) to the meter's 0..1 over a 60 dB range: speech should move it visibly.
function meterScale(rms) {
  if (!(rms > 0)) return 0;
  return Math.min(1, Math.max(0, (20 * Math.log10(rms) + 60) / 60));
}

function micErrorKey(err) {
  const name = err && err.name;
  if (name === "NotAllowedError" || name === "SecurityError") return "mic_blocked";
  if (name === "NotFoundError" || name === "OverconstrainedError") return "mic_missing";
  if (name === "NotReadableError" || name === "AbortError") return "mic_busy";
  return "mic_error";
}

class AudioStartError extends Error {
  constructor(key, detail = "") {
    super(key);
    this.key = key;
    this.detail = detail;
  }
}

export class HlSoftphone extends HTMLElement {
  #els = null;
  #callId = null;
  #rate = 16000;
  #phase = "idle"; // idle | connecting | connected | reconnecting | ended
  #error = null;
  #errorParams = {};
  #endKey = null;
  #callState = null;
  #muted = false;
  #run = 0; // bumps on every start/stop, so late callbacks of an older run do nothing

  #ws = null;
  #ctx = null;
  #stream = null;
  #source = null;
  #capture = null;
  #playback = null;

  #timers = { tick: null, ping: null, retry: null, open: null };
  #attempt = 0;
  #droppedAt = null;
  #reconnects = 0;
  #seqOut = 0;
  #framesIn = 0;
  #framesOut = 0;
  #sendDropped = 0;
  #readyAt = 0;
  #lastFrameAt = 0;
  #lastPongAt = 0;
  #rtt = null;
  #uplink = { frames: 0, gaps: 0, loss: 0, prev: null };
  #jb = { depthMs: 0, lost: 0, underruns: 0, trimmed: 0, late: 0, framesIn: 0, level: 0 };
  #window = [];
  #downlinkLoss = 0;
  #micLevel = 0;
  #micShown = 0;
  #farShown = 0;
  #health = { level: "idle", key: "idle", params: {} };
  #healthSig = "";
  #devices = { input: [], output: [] };
  #onDeviceChange = () => this.refreshDevices();

  connectedCallback() {
    if (!document.getElementById("hl-softphone-style")) {
      document.head.append(h("style", { id: "hl-softphone-style" }, STYLE));
    }
    if (!this.#els) this.#render();
    navigator.mediaDevices?.addEventListener?.("devicechange", this.#onDeviceChange);
    this.refreshDevices();
    this.#update();
  }

  disconnectedCallback() {
    navigator.mediaDevices?.removeEventListener?.("devicechange", this.#onDeviceChange);
    // An element taken off the page must not keep the microphone open.
    this.stop();
  }

  // --- public API ---------------------------------------------------------------------

  async start(callId, { rate = 16000 } = {}) {
    if (rate !== 8000 && rate !== 16000) throw new Error(`rate must be 8000 or 16000, not ${rate}`);
    this.#teardown();
    const run = ++this.#run;
    this.#callId = String(callId);
    this.#rate = rate;
    this.#muted = false;
    this.#reset();
    this.#phase = "connecting";
    this.#timers.tick = setInterval(() => this.#tick(), TICK_MS);
    this.#update();
    try {
      await this.#openAudio(rate, run);
    } catch (err) {
      if (run !== this.#run) return;
      this.#fail(err instanceof AudioStartError ? err.key : "audio_error", { detail: err.detail || err.message || String(err) });
      return;
    }
    if (run !== this.#run) return;
    this.refreshDevices(); // labels are readable once the microphone is allowed
    this.#connect(run);
  }

  stop() {
    this.#teardown();
    this.#phase = "idle";
    this.#error = null;
    this.#update();
  }

  #teardown() {
    this.#run++;
    this.#closeSocket(1000);
    this.#closeAudio();
    for (const k of Object.keys(this.#timers)) {
      clearTimeout(this.#timers[k]);
      clearInterval(this.#timers[k]);
      this.#timers[k] = null;
    }
  }

  get muted() {
    return this.#muted;
  }

  set muted(value) {
    this.setMuted(value);
  }

  setMuted(on) {
    on = !!on;
    if (on === this.#muted) return;
    this.#muted = on;
    this.#capture?.port.postMessage({ muted: on });
    this.#sendJSON({ type: "mute", on });
    signal(this, "hl-softphone-mute", { muted: on });
    this.#update();
  }

  toggleMute() {
    this.setMuted(!this.#muted);
  }

  get health() {
    const { level, key, params } = this.#health;
    return { level, key, message: t(`softphone.health.${key}`, params) };
  }

  get stats() {
    const ws = this.#ws;
    return {
      connected: this.#phase === "connected" && !!ws && ws.readyState === WebSocket.OPEN,
      rtt_ms: this.#rtt === null ? null : Math.round(this.#rtt),
      gaps: this.#jb.lost + this.#jb.underruns,
      frames_in: this.#framesIn,
      frames_out: this.#framesOut,
      buffer_ms: this.#jb.depthMs,
      mic_level: this.#micLevel,
      far_level: this.#jb.level,
      state: this.#phase,
      call_state: this.#callState,
      health: this.#health.level,
      health_key: this.#health.key,
      muted: this.#muted,
      lost: this.#jb.lost,
      underruns: this.#jb.underruns,
      trimmed: this.#jb.trimmed,
      late: this.#jb.late,
      played_in: this.#jb.framesIn,
      uplink_frames: this.#uplink.frames,
      uplink_gaps: this.#uplink.gaps,
      uplink_loss: this.#uplink.loss,
      send_dropped: this.#sendDropped,
      reconnects: this.#reconnects,
      rate: this.#rate,
      context_rate: this.#ctx ? this.#ctx.sampleRate : null,
    };
  }

  async refreshDevices() {
    const md = navigator.mediaDevices;
    if (!md?.enumerateDevices) return;
    let list = [];
    try {
      list = await md.enumerateDevices();
    } catch {
      return;
    }
    this.#devices.input = list.filter((d) => d.kind === "audioinput" && d.deviceId !== "default");
    this.#devices.output = list.filter((d) => d.kind === "audiooutput" && d.deviceId !== "default");
    this.#fillDevices();
  }

  async selectInput(deviceId) {
    store(STORE.input, deviceId);
    this.#fillDevices();
    if (this.#ctx) await this.#replaceMic(this.#run);
  }

  async selectOutput(deviceId) {
    store(STORE.output, deviceId);
    this.#fillDevices();
    if (this.#ctx) await this.#applySink();
  }

  // --- audio --------------------------------------------------------------------------

  async #getMic() {
    const md = navigator.mediaDevices;
    if (!md?.getUserMedia) throw new AudioStartError("unsupported");
    const base = { echoCancellation: true, noiseSuppression: true, autoGainControl: true, channelCount: 1 };
    const chosen = stored(STORE.input);
    try {
      return await md.getUserMedia({ audio: chosen ? { ...base, deviceId: { exact: chosen } } : base });
    } catch (err) {
      // The remembered microphone was unplugged: fall back to the system default.
      if (chosen && (err.name === "OverconstrainedError" || err.name === "NotFoundError")) {
        store(STORE.input, "");
        try {
          return await md.getUserMedia({ audio: base });
        } catch (err2) {
          throw new AudioStartError(micErrorKey(err2), err2.message);
        }
      }
      throw new AudioStartError(micErrorKey(err), err.message);
    }
  }

  async #openAudio(rate, run) {
    if (typeof AudioWorkletNode !== "function") throw new AudioStartError("unsupported");
    const stream = await this.#getMic();
    if (run !== this.#run) {
      stream.getTracks().forEach((tr) => tr.stop());
      return;
    }
    this.#stream = stream;
    this.#watchTrack(stream);
    // A context at the call's rate means no resampling anywhere; a browser that refuses it
    // (or refuses to feed it a microphone) gets its default rate and the worklets resample.
    let ctx = null;
    let source = null;
    try {
      ctx = new AudioContext({ sampleRate: rate, latencyHint: "interactive" });
      source = ctx.createMediaStreamSource(stream);
    } catch {
      ctx?.close().catch(() => {});
      ctx = new AudioContext({ latencyHint: "interactive" });
      source = ctx.createMediaStreamSource(stream);
    }
    this.#ctx = ctx;
    this.#source = source;
    ctx.onstatechange = () => this.#update();
    await ctx.audioWorklet.addModule(WORKLET_URL);
    if (run !== this.#run) return;
    const capture = new AudioWorkletNode(ctx, "hl-capture", {
      numberOfInputs: 1, numberOfOutputs: 1, outputChannelCount: [1], processorOptions: { rate, muted: this.#muted },
    });
    const playback = new AudioWorkletNode(ctx, "hl-playback", {
      numberOfInputs: 0, numberOfOutputs: 1, outputChannelCount: [1], processorOptions: { rate, targetMs: 40, capMs: 120 },
    });
    capture.port.onmessage = (e) => this.#onCaptured(e.data);
    playback.port.onmessage = (e) => this.#onPlayback(e.data);
    source.connect(capture);
    // The capture node writes nothing; connecting it keeps the graph pulling it.
    capture.connect(ctx.destination);
    playback.connect(ctx.destination);
    this.#capture = capture;
    this.#playback = playback;
    await this.#applySink();
    if (ctx.state === "suspended") ctx.resume().catch(() => {});
  }

  #watchTrack(stream) {
    const track = stream.getAudioTracks()[0];
    if (track) track.onended = () => {
      if (this.#stream === stream) this.#fail("mic_ended", {}, { keepSocket: true });
    };
  }

  async #replaceMic(run) {
    let stream;
    try {
      stream = await this.#getMic();
    } catch (err) {
      if (run === this.#run) this.#fail(err.key || "mic_error", { detail: err.detail || "" }, { keepSocket: true });
      return;
    }
    if (run !== this.#run || !this.#ctx) {
      stream.getTracks().forEach((tr) => tr.stop());
      return;
    }
    this.#source?.disconnect();
    this.#stream?.getTracks().forEach((tr) => tr.stop());
    this.#stream = stream;
    this.#watchTrack(stream);
    this.#source = this.#ctx.createMediaStreamSource(stream);
    this.#source.connect(this.#capture);
    if (this.#error && this.#error.startsWith("mic_")) this.#error = null;
    this.#update();
  }

  async #applySink() {
    const id = stored(STORE.output);
    const ctx = this.#ctx;
    if (!ctx || typeof ctx.setSinkId !== "function") return;
    try {
      await ctx.setSinkId(id || "");
    } catch {
      store(STORE.output, ""); // the remembered speaker is gone: the default plays
      this.#fillDevices();
    }
  }

  #closeAudio() {
    this.#stream?.getTracks().forEach((tr) => tr.stop());
    this.#stream = null;
    if (this.#capture) this.#capture.port.onmessage = null;
    if (this.#playback) this.#playback.port.onmessage = null;
    this.#source = this.#capture = this.#playback = null;
    this.#ctx?.close().catch(() => {});
    this.#ctx = null;
  }

  #onCaptured(m) {
    if (m.type !== "frame") return;
    this.#micLevel = m.level;
    const ws = this.#ws;
    if (this.#phase !== "connected" || !ws || ws.readyState !== WebSocket.OPEN) return;
    if (ws.bufferedAmount > SEND_BACKLOG_BYTES) {
      this.#sendDropped++;
      return;
    }
    new DataView(m.buf).setUint32(0, this.#seqOut, true);
    this.#seqOut = (this.#seqOut + 1) >>> 0;
    ws.send(m.buf);
    this.#framesOut++;
  }

  #onPlayback(m) {
    if (m.type === "stats") this.#jb = m;
  }

  // --- socket -------------------------------------------------------------------------

  #connect(run) {
    if (run !== this.#run) return;
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const url = `${scheme}://${location.host}/api/v1/calls/${encodeURIComponent(this.#callId)}/audio?rate=${this.#rate}`;
    let ws;
    try {
      ws = new WebSocket(url);
    } catch {
      this.#drop(run);
      return;
    }
    ws.binaryType = "arraybuffer";
    this.#ws = ws;
    this.#seqOut = 0;
    this.#playback?.port.postMessage({ type: "reset" });
    ws.onmessage = (e) => {
      if (ws !== this.#ws) return;
      if (typeof e.data === "string") this.#onText(e.data);
      else this.#onFrame(e.data);
    };
    ws.onclose = (e) => {
      if (ws === this.#ws) this.#onClose(e.code, run);
    };
    clearTimeout(this.#timers.open);
    this.#timers.open = setTimeout(() => {
      if (ws === this.#ws && this.#phase !== "connected") this.#drop(run);
    }, OPEN_TIMEOUT_MS);
  }

  #onText(text) {
    let m;
    try {
      m = JSON.parse(text);
    } catch {
      return;
    }
    const now = performance.now();
    if (m.type === "ready") {
      if (m.rate && m.rate !== this.#rate) {
        // The server may not pick another rate; hearing garbage would be worse than failing.
        this.#fail("rate_mismatch", { rate: m.rate });
        return;
      }
      clearTimeout(this.#timers.open);
      if (this.#droppedAt !== null) this.#reconnects++;
      this.#phase = "connected";
      this.#attempt = 0;
      this.#droppedAt = null;
      this.#readyAt = this.#lastPongAt = now;
      this.#lastFrameAt = 0;
      this.#uplink.prev = null;
      if (this.#muted) this.#sendJSON({ type: "mute", on: true });
      this.#ping();
      clearInterval(this.#timers.ping);
      this.#timers.ping = setInterval(() => this.#ping(), PING_MS);
    } else if (m.type === "pong") {
      this.#lastPongAt = now;
      if (typeof m.t === "number") this.#rtt = now - m.t;
    } else if (m.type === "stats") {
      this.#onStats(m);
    } else if (m.type === "state") {
      this.#callState = m.state;
      signal(this, "hl-softphone-state", { state: m.state, call_id: this.#callId });
      if (m.state === "ended") this.#end("ended", 1000);
    }
    this.#update();
  }

  // The server's counters are taken as totals since the connection opened; the ratio is over
  // the last window (the difference from the previous report). A total that went down means
  // the server restarted its counters, so that report is a window by itself.
  #onStats(m) {
    const frames = Number(m.uplink_frames) || 0;
    const gaps = Number(m.uplink_gaps) || 0;
    const prev = this.#uplink.prev;
    const counting = !!prev && frames >= prev.frames && gaps >= prev.gaps;
    const df = counting ? frames - prev.frames : frames;
    const dg = counting ? gaps - prev.gaps : gaps;
    this.#uplink = {
      frames: this.#uplink.frames + df,
      gaps: this.#uplink.gaps + dg,
      loss: df + dg > 0 ? dg / (df + dg) : 0,
      prev: { frames, gaps },
    };
  }

  #onFrame(buf) {
    if (buf.byteLength < 6) return;
    const seq = new DataView(buf).getUint32(0, true);
    this.#framesIn++;
    this.#lastFrameAt = performance.now();
    const pcm = buf.slice(4, 4 + ((buf.byteLength - 4) & ~1));
    this.#playback?.port.postMessage({ type: "frame", seq, pcm }, [pcm]);
  }

  #ping() {
    this.#sendJSON({ type: "ping", t: performance.now() });
  }

  #sendJSON(obj) {
    const ws = this.#ws;
    if (ws && ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(obj));
  }

  #onClose(code, run) {
    if (code === 1000) this.#end("ended", code);
    else if (code === 4404) this.#end("not_found", code);
    else if (code === 4403) this.#fail("forbidden", {});
    else this.#drop(run);
  }

  // The socket is gone but the call may not be: try again with backoff while the server
  // still keeps the call, and say so on the indicator meanwhile.
  #drop(run) {
    if (run !== this.#run) return;
    this.#closeSocket(4000);
    clearInterval(this.#timers.ping);
    clearTimeout(this.#timers.open);
    const now = performance.now();
    if (this.#droppedAt === null) this.#droppedAt = now;
    if (now - this.#droppedAt > GRACE_MS) {
      this.#fail("lost", {});
      return;
    }
    this.#phase = "reconnecting";
    const delay = BACKOFF_MS[Math.min(this.#attempt, BACKOFF_MS.length - 1)];
    this.#attempt++;
    clearTimeout(this.#timers.retry);
    this.#timers.retry = setTimeout(() => this.#connect(run), delay);
    this.#update();
  }

  #closeSocket(code) {
    const ws = this.#ws;
    this.#ws = null;
    if (!ws) return;
    ws.onmessage = ws.onclose = null;
    try {
      if (ws.readyState === WebSocket.OPEN || ws.readyState === WebSocket.CONNECTING) ws.close(code);
    } catch {
      /* already closing */
    }
  }

  #end(key, code) {
    const callId = this.#callId;
    this.#teardown();
    this.#phase = "ended";
    this.#endKey = key;
    this.#update();
    signal(this, "hl-softphone-ended", { call_id: callId, code });
  }

  // A problem the agent must act on (or that ends the audio): red until start() or Retry.
  #fail(key, params, { keepSocket = false } = {}) {
    if (!keepSocket) {
      this.#teardown();
      this.#phase = "ended";
    }
    this.#error = key;
    this.#errorParams = params;
    this.#update();
  }

  #retry() {
    const callId = this.#callId;
    if (!callId) return;
    if (this.#error && this.#error.startsWith("mic_") && this.#ctx) this.#replaceMic(this.#run);
    else this.start(callId, { rate: this.#rate });
  }

  #reset() {
    this.#error = null;
    this.#errorParams = {};
    this.#endKey = null;
    this.#callState = null;
    this.#attempt = 0;
    this.#droppedAt = null;
    this.#reconnects = 0;
    this.#framesIn = this.#framesOut = this.#sendDropped = 0;
    this.#rtt = null;
    this.#uplink = { frames: 0, gaps: 0, loss: 0, prev: null };
    this.#jb = { depthMs: 0, lost: 0, underruns: 0, trimmed: 0, late: 0, framesIn: 0, level: 0 };
    this.#window = [];
    this.#downlinkLoss = 0;
    this.#micLevel = 0;
  }

  // --- health and view ----------------------------------------------------------------

  #tick() {
    const now = performance.now();
    if (this.#phase === "connected" && now - this.#lastPongAt > DEAD_MS) {
      this.#drop(this.#run);
      return;
    }
    // The page's own losses (sequence gaps and underruns) over the last few seconds.
    const jb = this.#jb;
    this.#window.push({ at: now, bad: jb.lost + jb.underruns, got: jb.framesIn });
    while (this.#window.length > 2 && now - this.#window[0].at > WINDOW_MS) this.#window.shift();
    const first = this.#window[0];
    const last = this.#window[this.#window.length - 1];
    const bad = last.bad - first.bad;
    const got = last.got - first.got;
    this.#downlinkLoss = bad + got > 0 ? bad / (bad + got) : 0;
    this.#update();
  }

  #snapshot() {
    const now = performance.now();
    const since = this.#lastFrameAt || this.#readyAt;
    return {
      phase: this.#phase,
      error: this.#error,
      errorParams: this.#errorParams,
      endKey: this.#endKey,
      callState: this.#callState,
      suspended: !!this.#ctx && this.#ctx.state === "suspended",
      silentMs: this.#phase === "connected" && since ? now - since : 0,
      uplinkLoss: this.#uplink.loss,
      downlinkLoss: this.#downlinkLoss,
      rttMs: this.#rtt,
    };
  }

  #render() {
    const els = {};
    els.dot = h("span", { class: "hl-sp-dot", "aria-hidden": "true" });
    els.label = h("span", { "data-test": "sp-health-label" });
    els.health = h("span", { class: "hl-sp-health", role: "status", "aria-live": "polite", "data-test": "sp-health" }, els.dot, els.label);
    els.figures = h("span", { class: "hl-sp-figures", "data-test": "sp-figures" });
    els.micBar = h("i");
    els.micLabel = h("span", {}, t("softphone.mic"));
    els.mic = h("span", { class: "hl-sp-meter", "data-test": "sp-mic-meter" }, els.micLabel, h("span", { class: "hl-sp-bar" }, els.micBar));
    els.farBar = h("i");
    els.far = h("span", { class: "hl-sp-meter", "data-test": "sp-far-meter" }, t("softphone.far"), h("span", { class: "hl-sp-bar" }, els.farBar));
    els.mute = h("button", { type: "button", class: "hl-btn hl-sp-mute", "data-test": "sp-mute", onclick: () => this.toggleMute() });
    els.input = h("select", { "data-test": "sp-input", onchange: (e) => this.selectInput(e.target.value) });
    els.output = h("select", { "data-test": "sp-output", onchange: (e) => this.selectOutput(e.target.value) });
    els.outputNote = h("span", { class: "hl-muted", hidden: true }, t("softphone.output_default_only"));
    els.deviceList = h("div", { class: "hl-sp-device-list", id: `hl-sp-devices-${++panelCount}`, "data-test": "sp-device-list", hidden: true },
      h("label", {}, t("softphone.input"), els.input),
      h("label", {}, t("softphone.output"), els.output, els.outputNote));
    els.devices = h("button", {
      type: "button", class: "hl-btn hl-btn-quiet hl-sp-devices", "data-test": "sp-devices", "aria-expanded": "false",
      "aria-controls": els.deviceList.id, onclick: () => this.#toggleDevices(),
    }, t("softphone.devices"));
    els.text = h("span", { "data-test": "sp-message" });
    els.retry = h("button", { type: "button", class: "hl-btn", "data-test": "sp-retry", hidden: true, onclick: () => this.#retry() }, t("softphone.retry"));
    els.resume = h("button", { type: "button", class: "hl-btn", "data-test": "sp-resume", hidden: true, onclick: () => this.#ctx?.resume().catch(() => {}) }, t("softphone.resume"));
    els.message = h("p", { class: "hl-sp-message", hidden: true }, els.text, els.resume, els.retry);
    els.root = h("section", { class: "hl-sp", "data-test": "softphone", "aria-label": t("softphone.title") },
      h("div", { class: "hl-sp-row" }, els.health, els.figures, els.mic, els.far, els.mute, els.devices),
      els.message,
      els.deviceList);
    this.#els = els;
    this.replaceChildren(els.root);
    this.#fillDevices();
  }

  #toggleDevices() {
    const els = this.#els;
    const open = els.deviceList.hidden;
    els.deviceList.hidden = !open;
    els.devices.setAttribute("aria-expanded", String(open));
    if (open) this.refreshDevices();
  }

  #fillDevices() {
    const els = this.#els;
    if (!els) return;
    const fill = (select, list, chosen, fallbackKey) => {
      const opts = [h("option", { value: "" }, t("softphone.default_device"))];
      list.forEach((d, i) => opts.push(h("option", { value: d.deviceId }, d.label || t(fallbackKey, { n: i + 1 }))));
      if (chosen && !list.some((d) => d.deviceId === chosen)) opts.push(h("option", { value: chosen }, t("softphone.device_absent")));
      select.replaceChildren(...opts);
      select.value = chosen;
    };
    fill(els.input, this.#devices.input, stored(STORE.input), "softphone.input_n");
    fill(els.output, this.#devices.output, stored(STORE.output), "softphone.output_n");
    const canSink = typeof AudioContext !== "undefined" && typeof AudioContext.prototype.setSinkId === "function";
    els.output.hidden = !canSink;
    els.outputNote.hidden = canSink;
  }

  #update() {
    const els = this.#els;
    const health = assessHealth(this.#snapshot());
    this.#health = health;
    const message = t(`softphone.health.${health.key}`, health.params);
    const sig = `${health.level}|${health.key}|${JSON.stringify(health.params)}`;
    if (sig !== this.#healthSig) {
      this.#healthSig = sig;
      signal(this, "hl-softphone-health", { level: health.level, key: health.key, message, call_id: this.#callId });
    }
    if (!els) return;
    els.root.dataset.level = health.level;
    els.root.dataset.state = this.#phase;
    els.label.textContent = t(`softphone.level.${health.level}`);
    // The label says it for the calm levels; a problem is spelled out under it.
    const explain = health.level === "warn" || health.level === "bad" || (health.level === "ended" && health.key !== "ended");
    els.message.hidden = !explain;
    els.text.textContent = explain ? message : "";
    els.message.setAttribute("role", health.level === "bad" ? "alert" : "status");
    els.retry.hidden = !(health.level === "bad" && this.#error && this.#error !== "forbidden" && this.#error !== "rate_mismatch" && this.#callId);
    els.resume.hidden = health.key !== "suspended";
    els.root.title = message;

    const live = this.#phase === "connected" || this.#phase === "reconnecting";
    const rtt = this.#rtt === null ? "—" : String(Math.round(this.#rtt));
    const gaps = this.#jb.lost + this.#jb.underruns + this.#uplink.gaps;
    els.figures.textContent = live ? t("softphone.figures", { rtt, gaps }) : "";
    els.figures.title = t("softphone.figures_detail", {
      down: this.#jb.lost + this.#jb.underruns, up: this.#uplink.gaps, buffer: Math.round(this.#jb.depthMs),
    });

    this.#micShown = Math.max(meterScale(this.#micLevel), this.#micShown * 0.8);
    this.#farShown = Math.max(meterScale(this.#jb.level), this.#farShown * 0.8);
    if (!this.#ctx) this.#micShown = this.#farShown = 0;
    els.micBar.style.transform = `scaleX(${this.#micShown.toFixed(3)})`;
    els.farBar.style.transform = `scaleX(${this.#farShown.toFixed(3)})`;
    els.mic.toggleAttribute("data-muted", this.#muted);
    els.micLabel.textContent = this.#muted ? t("softphone.mic_muted") : t("softphone.mic");

    if (els.mute.getAttribute("aria-pressed") !== String(this.#muted)) {
      els.mute.replaceChildren(this.#muted ? t("softphone.unmute") : t("softphone.mute"), h("kbd", {}, MUTE_SHORTCUT));
      els.mute.setAttribute("aria-pressed", String(this.#muted));
    }
    els.mute.disabled = this.#phase === "idle" || this.#phase === "ended";
  }
}

customElements.define("hl-softphone", HlSoftphone);
