// The playback jitter buffer of the browser softphone: 20 ms frames of 16-bit PCM go in with
// their sequence numbers, audio comes out in whatever block size the audio thread asks for.
// Pure (no DOM, no Web Audio), so the AudioWorklet imports it and a test page can drive it.
//
// - Starts playing once `targetMs` is buffered; an underrun plays silence, counts one gap and
//   waits for `targetMs` again (a short pause beats crackle).
// - Capped: when more than `capMs` is queued (the far end's clock runs faster than ours, or a
//   burst arrived after a stall) the oldest audio is dropped, so latency stays bounded.
// - Sequence numbers are uint32 and wrap; a jump forward counts the missing frames as lost, a
//   frame older than the last one played or queued (duplicate, reordered) is dropped.

// A jump this large is a new stream (the sender restarted), not 60 s of lost audio.
const RESTART_FRAMES = 3000;

export class JitterBuffer {
  constructor({ frameSamples, frameMs = 20, targetMs = 40, capMs = 120 }) {
    if (!(frameSamples > 0)) throw new Error("frameSamples must be positive");
    this.frameSamples = frameSamples;
    this.frameMs = frameMs;
    this.targetSamples = Math.max(1, Math.round(targetMs / frameMs)) * frameSamples;
    this.capSamples = Math.max(this.targetSamples + frameSamples, Math.floor(capMs / frameMs) * frameSamples);
    this.reset();
  }

  // Forget the queue and the sequence (a new connection starts again at 0); counters stay.
  reset() {
    this.frames = [];
    this.readPos = 0; // samples of frames[0] already played
    this.nextSeq = null;
    this.playing = false;
    if (!this.counts) this.counts = { framesIn: 0, framesPlayed: 0, lost: 0, late: 0, trimmed: 0, underruns: 0 };
  }

  get depthSamples() {
    let n = -this.readPos;
    for (const f of this.frames) n += f.length;
    return n;
  }

  get depthMs() {
    return (this.depthSamples / this.frameSamples) * this.frameMs;
  }

  // samples: Int16Array of one frame. Returns false when the frame was dropped as late.
  push(seq, samples) {
    const c = this.counts;
    c.framesIn++;
    seq >>>= 0;
    if (this.nextSeq !== null) {
      const ahead = (seq - this.nextSeq) | 0; // signed distance, survives the uint32 wrap
      if (ahead < 0 && -ahead < RESTART_FRAMES) {
        c.late++;
        return false;
      }
      if (ahead > 0 && ahead < RESTART_FRAMES) c.lost += ahead;
    }
    this.nextSeq = (seq + 1) >>> 0;
    this.frames.push(samples);
    this.#trim();
    return true;
  }

  #trim() {
    while (this.depthSamples > this.capSamples) {
      const first = this.frames[0];
      const excess = this.depthSamples - this.capSamples;
      const left = first.length - this.readPos;
      if (excess >= left) {
        this.frames.shift();
        this.readPos = 0;
        this.counts.trimmed++;
      } else {
        // Skip inside the oldest frame rather than throw away a whole one.
        this.readPos += excess;
      }
    }
  }

  // Fills `out` (Float32Array, -1..1) and returns how many samples were real audio.
  read(out) {
    if (!this.playing) {
      if (this.depthSamples < this.targetSamples) {
        out.fill(0);
        return 0;
      }
      this.playing = true;
    }
    let i = 0;
    while (i < out.length && this.frames.length) {
      const f = this.frames[0];
      const n = Math.min(out.length - i, f.length - this.readPos);
      for (let k = 0; k < n; k++) out[i + k] = f[this.readPos + k] / 32768;
      i += n;
      this.readPos += n;
      if (this.readPos >= f.length) {
        this.frames.shift();
        this.readPos = 0;
        this.counts.framesPlayed++;
      }
    }
    if (i < out.length) {
      out.fill(0, i);
      this.playing = false;
      this.counts.underruns++;
    }
    return i;
  }

  stats() {
    return { ...this.counts, depthMs: this.depthMs, playing: this.playing };
  }
}
