// The ring tone: a short two-tone burst every 2 s through WebAudio. Browsers keep an
// AudioContext suspended until the user has interacted with the page, so every call here
// must fail silently: the visible pulsing card is the alert that always works.
const MUTE_KEY = "hotline.ring.muted";
let ctx = null;
let timer = null;

function context() {
  if (ctx) return ctx;
  const Ctx = window.AudioContext || window.webkitAudioContext;
  if (!Ctx) return null;
  try {
    ctx = new Ctx();
  } catch {
    ctx = null;
  }
  return ctx;
}

// Called on the first key press or click: the gesture that lets audio start later.
export function unlock() {
  const c = context();
  if (c && c.state === "suspended") c.resume().catch(() => {});
}

export function isMuted() {
  try {
    return localStorage.getItem(MUTE_KEY) === "1";
  } catch {
    return false;
  }
}

export function setMuted(muted) {
  try {
    localStorage.setItem(MUTE_KEY, muted ? "1" : "0");
  } catch {
    /* private mode: the choice lasts for this page only */
  }
  if (muted) stop();
}

function burst() {
  const c = context();
  if (!c || c.state !== "running" || isMuted()) return;
  try {
    const gain = c.createGain();
    gain.connect(c.destination);
    const t0 = c.currentTime;
    gain.gain.setValueAtTime(0.0001, t0);
    for (const [i, freq] of [[0, 880], [1, 660], [2, 880], [3, 660]]) {
      const osc = c.createOscillator();
      osc.type = "sine";
      osc.frequency.value = freq;
      const start = t0 + i * 0.18;
      gain.gain.exponentialRampToValueAtTime(0.15, start + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, start + 0.16);
      osc.connect(gain);
      osc.start(start);
      osc.stop(start + 0.17);
    }
  } catch {
    /* audio is a courtesy */
  }
}

export function start() {
  if (timer) return;
  burst();
  timer = setInterval(burst, 2000);
}

export function stop() {
  clearInterval(timer);
  timer = null;
}
