// The wallboard's arithmetic, the browser's copy of console/supervision/figures.py: what one
// call adds to its queue's counts, and the rates and averages from the counts. Durations are
// summed in whole milliseconds so the page and the server add up to the very same numbers
// (tests/browser/test_supervision.py runs both on the same calls). Definitions: docs/supervision.md.

export const ABANDONED = "abandoned";
export const INBOUND = "inbound";
export const DEFAULT_RULE = Object.freeze({ service_level_s: 20, ring_timeout_s: 15 });
export const SLIDING_HOUR_S = 3600;

export const SUM_FIELDS = Object.freeze([
  "offered", "answered", "abandoned", "lost", "waiting",
  "within_sl", "within_rings", "wait_ms", "handled", "handle_ms",
]);

export function emptySums() {
  const s = {};
  for (const f of SUM_FIELDS) s[f] = 0;
  return s;
}

// a += sign * b, in place; returns a.
export function addSums(a, b, sign = 1) {
  for (const f of SUM_FIELDS) a[f] += sign * (b[f] || 0);
  return a;
}

export const ms = (seconds) => (seconds === null || seconds === undefined ? 0 : Math.floor(seconds * 1000 + 0.5));

export const isContact = (c) => c.direction === INBOUND && !c.transferred;

// Nothing about the call can change any more: ended, and wrapped up if answered.
export const isFinal = (c) => c.ended_at != null && (c.answered_at == null || c.wrapped_at != null);

export function contribution(c, rule = DEFAULT_RULE) {
  const s = emptySums();
  if (c.direction !== INBOUND) return s;
  if (c.answered_at != null && c.wrapped_at != null) {
    s.handled = 1;
    s.handle_ms = ms(c.talk_s) + ms(c.wrap_up_s);
  }
  if (!isContact(c)) return s;
  s.offered = 1;
  if (c.answered_at != null) {
    s.answered = 1;
    const wait = c.wait_s != null ? c.wait_s : c.answered_at - c.arrived_at;
    s.wait_ms = ms(wait);
    s.within_sl = wait <= rule.service_level_s ? 1 : 0;
    s.within_rings = (c.ring_s || 0) <= rule.ring_timeout_s ? 1 : 0;
  } else if (c.ended_at != null) {
    if (c.end_reason === ABANDONED) s.abandoned = 1;
    else s.lost = 1;
  } else {
    s.waiting = 1;
  }
  return s;
}

export const queueKey = (queueId) => (queueId === null || queueId === undefined ? "none" : String(queueId));

// Sums by queue key over the calls that arrived in [start, end).
export function sumsByQueue(calls, start, end, rules) {
  const out = new Map();
  for (const c of calls) {
    if (!(c.arrived_at >= start && c.arrived_at < end)) continue;
    const key = queueKey(c.queue_id);
    const rule = rules.get(key) || DEFAULT_RULE;
    if (!out.has(key)) out.set(key, emptySums());
    addSums(out.get(key), contribution(c, rule));
  }
  return out;
}

export function total(byQueue) {
  const t = emptySums();
  for (const s of byQueue.values()) addSums(t, s);
  return t;
}

// Half up, with the very operations figures.py does.
const ratio = (part, whole) => (whole ? Math.floor((part / whole) * 10000 + 0.5) / 10000 : null);
const tenths = (totalMs, count) => (count ? Math.floor(totalMs / count / 100 + 0.5) / 10 : null);

export function figures(s) {
  const settled = s.answered + s.abandoned + s.lost;
  return {
    ...s,
    abandon_rate: ratio(s.abandoned, s.offered),
    service_level: ratio(s.within_sl, settled),
    asa_s: tenths(s.wait_ms, s.answered),
    aht_s: tenths(s.handle_ms, s.handled),
    three_rings: ratio(s.within_rings, s.answered),
  };
}
