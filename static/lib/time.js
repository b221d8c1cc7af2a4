// Durations as mm:ss (h:mm:ss past an hour) and wall times in the centre's zone.
// Server clocks come as epoch seconds; ServerClock estimates this browser's offset from
// fresh events so countdowns do not drift when the PC clock is wrong.
let zone; // undefined = the browser's own zone

export function setTimeZone(tz) {
  zone = tz || undefined;
}

export function duration(seconds) {
  if (seconds === null || seconds === undefined || Number.isNaN(seconds)) return "";
  const neg = seconds < 0;
  let s = Math.floor(Math.abs(seconds));
  const hh = Math.floor(s / 3600);
  s -= hh * 3600;
  const mm = Math.floor(s / 60);
  const ss = s - mm * 60;
  const two = (n) => String(n).padStart(2, "0");
  return (neg ? "-" : "") + (hh ? `${hh}:${two(mm)}:${two(ss)}` : `${two(mm)}:${two(ss)}`);
}

const fmtCache = new Map();
function formatter(kind) {
  const key = kind + "|" + (zone || "");
  if (!fmtCache.has(key)) {
    const opts =
      kind === "time"
        ? { hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23" }
        : { year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", hourCycle: "h23" };
    fmtCache.set(key, new Intl.DateTimeFormat(document.documentElement.lang || undefined, { ...opts, timeZone: zone }));
  }
  return fmtCache.get(key);
}

// ISO string or epoch seconds → Date.
export function toDate(value) {
  if (value === null || value === undefined || value === "") return null;
  if (typeof value === "number") return new Date(value * 1000);
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? null : d;
}

export function dateTime(value) {
  const d = toDate(value);
  return d ? formatter("datetime").format(d) : "";
}

export function clockTime(value) {
  const d = toDate(value);
  return d ? formatter("time").format(d) : "";
}

// A wall time "YYYY-MM-DDTHH:MM" in the display zone → ISO UTC, for API filters.
export function wallToIso(local) {
  if (!local) return "";
  const [datePart, timePart = "00:00"] = local.split("T");
  const [y, mo, d] = datePart.split("-").map(Number);
  const [hh, mi] = timePart.split(":").map(Number);
  if (!zone) return new Date(y, mo - 1, d, hh, mi).toISOString();
  const asUtc = Date.UTC(y, mo - 1, d, hh, mi);
  // Two passes settle the zone offset also next to a DST change.
  let guess = asUtc;
  for (let i = 0; i < 2; i++) guess = asUtc - zoneOffsetMs(guess);
  return new Date(guess).toISOString();
}

function zoneOffsetMs(epochMs) {
  const parts = new Intl.DateTimeFormat("en-US", {
    timeZone: zone, hourCycle: "h23", year: "numeric", month: "2-digit", day: "2-digit",
    hour: "2-digit", minute: "2-digit", second: "2-digit",
  }).formatToParts(new Date(epochMs));
  const p = Object.fromEntries(parts.map((x) => [x.type, Number(x.value)]));
  return Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second) - Math.floor(epochMs / 1000) * 1000;
}

export const ServerClock = {
  offset: null, // browser minus server, seconds; the smallest sample is the least delayed one
  sample(serverEpochS) {
    if (typeof serverEpochS !== "number" || !serverEpochS) return;
    const delta = Date.now() / 1000 - serverEpochS;
    if (this.offset === null || delta < this.offset) this.offset = delta;
  },
  reset() {
    this.offset = null;
  },
  now() {
    return Date.now() / 1000 - (this.offset ?? 0);
  },
};
