// The supervisor's live picture, without DOM: loaded from the snapshot, then changed by the
// events (the raw ones at once, the record facts of `supervision_calls` when they come). It
// holds every call of the sliding hour and every call still open or not wrapped up one by
// one; older calls of the shift day and of the interval are in the snapshot's base sums, to
// which calls leaving the hour are added. Each method says what changed, so the elements
// redraw only that.
import { addSums, contribution, DEFAULT_RULE, emptySums, isFinal, queueKey, SLIDING_HOUR_S, sumsByQueue, total } from "./figures.js";

const STATE_NOT_READY = "not_ready";
const REASON_MISSED = "missed";
const WAITING_LIST_MAX = 10000; // a call never ended (lost event) cannot grow the page forever

const blankCall = (id) => ({
  id, queue_id: null, agent_id: null, direction: "inbound", transferred: false, arrived_at: 0,
  answered_at: null, ended_at: null, wrapped_at: null, wait_s: null, ring_s: null, talk_s: null,
  wrap_up_s: null, end_reason: null, caller_number: "", customer: "",
});

const round3 = (x) => Math.round(x * 1000) / 1000;
const progress = (c) => (c.wrapped_at != null ? 3 : c.ended_at != null ? 2 : c.answered_at != null ? 1 : 0);

export class Board {
  constructor() {
    this.loaded = false;
    this.calls = new Map();
    this.agents = new Map();
    this.queues = [];
    this.rules = new Map();
    this.base = { day: new Map(), interval: new Map() };
    this.periods = null;
    this.counted = new Set();
  }

  load(snap) {
    this.loaded = true;
    this.at = snap.at;
    this.day = snap.day;
    this.dayStartHour = snap.day_start_hour;
    this.intervalMin = snap.interval_min;
    this.periods = snap.periods;
    this.queues = snap.queues;
    this.rules = new Map(snap.queues.map((q) => [queueKey(q.id), { service_level_s: q.service_level_s, ring_timeout_s: q.ring_timeout_s }]));
    const base = (obj) => new Map(Object.entries(obj || {}).map(([k, v]) => [k, { ...emptySums(), ...v }]));
    this.base = { day: base(snap.base.day), interval: base(snap.base.interval) };
    this.calls = new Map(snap.calls.map((c) => [c.id, { ...c }]));
    this.agents = new Map(snap.agents.map((a) => [a.agent_id, { ...a }]));
    // Calls whose answer is in the agents' handled counts already (the snapshot's are).
    this.counted = new Set(snap.calls.filter((c) => c.answered_at != null).map((c) => c.id));
  }

  // The first news of an answer (the event or the record's facts, whichever comes first)
  // counts it for her once; returns her id when her row changed.
  #countAnswer(callId, agentId, answeredAt) {
    if (this.counted.has(callId)) return null;
    this.counted.add(callId);
    const a = this.agents.get(agentId);
    if (!a || !this.#inDay(answeredAt)) return null;
    a.handled += 1;
    return a.agent_id;
  }

  // The snapshot's periods are over: the page asks for a fresh one.
  stale(now) {
    return !this.periods || now >= this.periods.interval.end;
  }

  #inDay(at) {
    return this.periods && at >= this.periods.day.start && at < this.periods.day.end;
  }

  // ---- raw events (supervisors room) ---------------------------------------------------------
  arrived(ev) {
    if (this.calls.has(ev.call_id)) return;
    if (this.calls.size > WAITING_LIST_MAX) return;
    this.calls.set(ev.call_id, { ...blankCall(ev.call_id), queue_id: ev.queue_id, arrived_at: ev.at, caller_number: ev.caller_number });
  }

  dialling(ev) {
    if (this.calls.has(ev.call_id)) return;
    this.calls.set(ev.call_id, {
      ...blankCall(ev.call_id), direction: "outbound", agent_id: ev.agent_id, arrived_at: ev.at ?? Date.now() / 1000,
      caller_number: ev.number, customer: ev.pop?.customers?.[0]?.name || "",
    });
  }

  // Returns the agent id whose row changed (her handled count), if any.
  answered(ev) {
    const c = this.calls.get(ev.call_id);
    if (c && c.answered_at == null) {
      c.answered_at = ev.answered_at;
      c.agent_id = ev.agent_id;
      c.wait_s = round3(ev.answered_at - c.arrived_at);
    }
    return this.#countAnswer(ev.call_id, ev.agent_id, ev.answered_at);
  }

  ended(ev, now) {
    const c = this.calls.get(ev.call_id);
    if (!c || c.ended_at != null) return;
    c.ended_at = Math.max(now, c.answered_at ?? c.arrived_at);
    c.end_reason = ev.end_reason;
    if (c.answered_at != null) c.talk_s = round3(c.ended_at - c.answered_at);
    else c.wait_s = round3(c.ended_at - c.arrived_at);
  }

  // The record facts (`supervision_calls`): they replace what the raw events guessed. A
  // record only moves forward (answered, ended, wrapped up): facts read before the ones held
  // (crossing a snapshot) are left out.
  // Returns the agents whose rows changed (handled counts).
  facts(list) {
    const changed = [];
    for (const f of list) {
      const c = this.calls.get(f.id);
      if (!c) this.calls.set(f.id, { ...f });
      else if (progress(f) >= progress(c)) Object.assign(c, f);
      if (f.answered_at != null && f.agent_id != null) {
        const who = this.#countAnswer(f.id, f.agent_id, f.answered_at);
        if (who !== null) changed.push(who);
      }
    }
    return changed;
  }

  // Returns true when the agent is known (her row changes).
  agentState(ev) {
    const a = this.agents.get(ev.agent_id);
    if (!a) return false;
    if (ev.since < a.since) return true; // older than what the snapshot holds
    const wasMissed = a.state === STATE_NOT_READY && a.reason === REASON_MISSED;
    if (ev.state === STATE_NOT_READY && ev.reason === REASON_MISSED && !wasMissed && this.#inDay(ev.since)) a.missed += 1;
    a.state = ev.state;
    a.reason = ev.reason || "";
    a.since = ev.since;
    a.call_id = ev.call_id ?? null;
    a.adherence = adherenceReason(a, ev.since);
    a.in_adherence = a.adherence === "ok" || a.adherence === "off";
    return true;
  }

  // Returns true when the agent is known (her row changes).
  clocked(ev) {
    const a = this.agents.get(ev.agent_id);
    if (!a) return false;
    a.clocked_in = ev.kind === "in";
    a.clocked_in_since = a.clocked_in ? ev.at : null;
    a.adherence = adherenceReason(a, ev.at);
    a.in_adherence = a.adherence === "ok" || a.adherence === "off";
    return true;
  }

  // Calls that can no longer change and left the sliding hour go into the base sums.
  prune(now) {
    const held = new Set([...this.agents.values()].map((a) => a.call_id).filter(Boolean));
    for (const [id, c] of this.calls) {
      if (!isFinal(c) || c.arrived_at >= now - SLIDING_HOUR_S || held.has(id)) continue;
      const key = queueKey(c.queue_id);
      const part = contribution(c, this.rules.get(key) || DEFAULT_RULE);
      for (const name of ["day", "interval"]) {
        const p = this.periods[name];
        if (c.arrived_at >= p.start && c.arrived_at < p.end) {
          if (!this.base[name].has(key)) this.base[name].set(key, emptySums());
          addSums(this.base[name].get(key), part);
        }
      }
      this.calls.delete(id);
      this.counted.delete(id);
    }
  }

  // ---- what the page shows ------------------------------------------------------------------
  // Sums by queue key and in total over a period: "interval", "day" or "hour".
  sums(period, now) {
    let byQueue;
    if (period === "hour") {
      byQueue = sumsByQueue(this.calls.values(), now - SLIDING_HOUR_S, Infinity, this.rules);
    } else {
      const p = this.periods[period];
      byQueue = sumsByQueue(this.calls.values(), p.start, p.end, this.rules);
      for (const [key, s] of this.base[period]) {
        if (!byQueue.has(key)) byQueue.set(key, emptySums());
        addSums(byQueue.get(key), s);
      }
    }
    return { byQueue, total: total(byQueue) };
  }

  // Callers waiting now (inbound, not answered, not ended) by queue key: count and the
  // earliest arrival; `all` for every queue.
  waiting() {
    const out = new Map();
    const all = { count: 0, oldest: null };
    for (const c of this.calls.values()) {
      if (c.direction !== "inbound" || c.answered_at != null || c.ended_at != null) continue;
      const key = queueKey(c.queue_id);
      if (!out.has(key)) out.set(key, { count: 0, oldest: null });
      for (const w of [out.get(key), all]) {
        w.count += 1;
        if (w.oldest === null || c.arrived_at < w.oldest) w.oldest = c.arrived_at;
      }
    }
    out.set("all", all);
    return out;
  }

  // Agents by state (and not-ready reason) among those with a skill (null: everyone).
  agentCounts(skill = null) {
    const states = {};
    const reasons = {};
    for (const a of this.agents.values()) {
      if (skill !== null && !a.skills.includes(skill)) continue;
      states[a.state] = (states[a.state] || 0) + 1;
      if (a.state === STATE_NOT_READY) {
        const r = a.reason || "none";
        reasons[r] = (reasons[r] || 0) + 1;
      }
    }
    return { states, reasons };
  }

  queueName(queueId) {
    return this.queues.find((q) => q.id === queueId)?.name ?? "";
  }
}

// Attendance's reason (console/attendance/services.realtime), redone when her desk state
// changes: her shift running now (as of the snapshot), clocked in, logged in.
export function adherenceReason(a, now) {
  const loggedIn = a.state !== "offline";
  const onShift = a.shift && now >= a.shift.start && now < a.shift.end;
  if (!onShift) return loggedIn ? "unscheduled-login" : "off";
  if (!a.clocked_in && !loggedIn) return "absent";
  if (!a.clocked_in) return "not-clocked-in";
  if (!loggedIn) return "not-logged-in";
  return "ok";
}
