// The softphone's two AudioWorklet processors, loaded with audioWorklet.addModule():
//
// - "hl-capture": microphone → 20 ms frames of 16-bit PCM at the call's rate, each posted to
//   the main thread as an ArrayBuffer with 4 bytes left free in front for the sequence header
//   (the main thread numbers frames per connection, so a reconnect starts again at 0).
// - "hl-playback": frames from the socket → the jitter buffer (jitter.js) → the speaker.
//
// The AudioContext normally runs at the call's rate (8 or 16 kHz) and nothing is resampled;
// a browser that refuses such a context gets the default rate and the linear resampler below
// (good enough for speech, and only a fallback).
import { JitterBuffer } from "./jitter.js";

const FRAME_MS = 20;
const REPORT_S = 0.2; // how often the processors post their levels and counters

// Streaming linear interpolation from one rate to another, block by block.
class Resampler {
  constructor(from, to) {
    this.step = from / to;
    this.pos = 0; // position of the next output in input samples; -1 is `prev`
    this.prev = 0;
  }

  process(input, emit) {
    const n = input.length;
    let pos = this.pos;
    while (pos < n - 1) {
      const i = Math.floor(pos);
      const frac = pos - i;
      const a = i < 0 ? this.prev : input[i];
      emit(a + (input[i + 1] - a) * frac);
      pos += this.step;
    }
    this.pos = pos - n;
    this.prev = input[n - 1];
  }
}

function rms(sumSquares, n) {
  return n ? Math.sqrt(sumSquares / n) : 0;
}

class CaptureProcessor extends AudioWorkletProcessor {
  constructor(options) {
    super();
    const rate = options.processorOptions.rate;
    this.frameSamples = (rate * FRAME_MS) / 1000;
    this.frame = new Int16Array(this.frameSamples);
    this.n = 0;
    this.sumSquares = 0;
    this.muted = !!options.processorOptions.muted;
    this.resampler = sampleRate === rate ? null : new Resampler(sampleRate, rate);
    this.port.onmessage = (e) => {
      if ("muted" in e.data) this.muted = !!e.data.muted;
    };
  }

  #sample(s) {
    // The level is the microphone's even while muted: the agent sees she is talking into a
    // muted line. What is sent is zeros.
    this.sumSquares += s * s;
    const clamped = s < -1 ? -1 : s > 1 ? 1 : s;
    this.frame[this.n++] = this.muted ? 0 : Math.round(clamped * 32767);
    if (this.n === this.frameSamples) this.#flush();
  }

  #flush() {
    const buf = new ArrayBuffer(4 + this.frameSamples * 2);
    const view = new DataView(buf);
    for (let i = 0; i < this.frameSamples; i++) view.setInt16(4 + i * 2, this.frame[i], true);
    const level = rms(this.sumSquares, this.frameSamples);
    this.n = 0;
    this.sumSquares = 0;
    this.port.postMessage({ type: "frame", buf, level }, [buf]);
  }

  process(inputs) {
    const ch = inputs[0] && inputs[0][0];
    if (!ch) return true; // no microphone connected (yet)
    if (this.resampler) this.resampler.process(ch, (s) => this.#sample(s));
    else for (let i = 0; i < ch.length; i++) this.#sample(ch[i]);
    return true;
  }
}

class PlaybackProcessor extends AudioWorkletProcessor {
  constructor(options) {
    const { rate, targetMs = 40, capMs = 120 } = options.processorOptions;
    super();
    this.jb = new JitterBuffer({ frameSamples: (rate * FRAME_MS) / 1000, frameMs: FRAME_MS, targetMs, capMs });
    this.resampler = sampleRate === rate ? null : new Resampler(rate, sampleRate);
    this.pending = []; // resampled output not yet played (fallback path only)
    this.block = new Float32Array(64);
    this.sumSquares = 0;
    this.samples = 0;
    this.lastReport = 0;
    this.port.onmessage = (e) => {
      const m = e.data;
      if (m.type === "frame") this.jb.push(m.seq, new Int16Array(m.pcm));
      else if (m.type === "reset") this.jb.reset();
    };
  }

  process(inputs, outputs) {
    const out = outputs[0][0];
    if (this.resampler) {
      while (this.pending.length < out.length) {
        this.jb.read(this.block);
        this.resampler.process(this.block, (s) => this.pending.push(s));
      }
      for (let i = 0; i < out.length; i++) out[i] = this.pending[i];
      this.pending.splice(0, out.length);
    } else {
      this.jb.read(out);
    }
    for (let i = 0; i < out.length; i++) this.sumSquares += out[i] * out[i];
    this.samples += out.length;
    for (let c = 1; c < outputs[0].length; c++) outputs[0][c].set(out);
    if (currentTime - this.lastReport >= REPORT_S) {
      this.lastReport = currentTime;
      this.port.postMessage({ type: "stats", level: rms(this.sumSquares, this.samples), ...this.jb.stats() });
      this.sumSquares = 0;
      this.samples = 0;
    }
    return true;
  }
}

registerProcessor("hl-capture", CaptureProcessor);
registerProcessor("hl-playback", PlaybackProcessor);
