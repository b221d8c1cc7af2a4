// The agent console: owns all state (agent, offer, call in hand, wrap-up, recent calls),
// talks to the server (Socket.IO for live state, REST for records) and pushes plain data
// down to its children, which signal back with CustomEvents.
import { getJSON, postJSON, putJSON } from "../../lib/api.js";
import { h, isTyping } from "../../lib/dom.js";
import { has, t } from "../../lib/i18n.js";
import * as ring from "../../lib/ring.js";
import { showLine, start } from "../../lib/page.js";
import { LiveLink } from "../../lib/socket.js";
import { AgentState, BUSY_STATES } from "../../lib/states.js";
import { ServerClock, toDate } from "../../lib/time.js";
import "../hl-state-bar/hl-state-bar.js";
import "../hl-call-card/hl-call-card.js";
import "../../calls/hl-wrap-up/hl-wrap-up.js";
import "../../softphone/hl-softphone/hl-softphone.js";
import "../hl-recent-calls/hl-recent-calls.js";
import "../hl-pending-wrap-ups/hl-pending-wrap-ups.js";
import "../hl-shortcut-help/hl-shortcut-help.js";
import { isConsultShortcut, isTransferShortcut, KEYPAD_KEYS, LIVE_PARTY } from "../hl-call-controls/hl-call-controls.js";
import "../hl-transfer/hl-transfer.js";
import { isMuteShortcut } from "../../softphone/hl-softphone/hl-softphone.js";

const EVENTS = [
  "agent_state_changed", "call_offered", "call_offer_withdrawn", "call_answered", "call_ended", "call_wrapped",
  "schedule_changed", "recording_paused", "recording_failed", "call_held",
  "call_party", "call_control_failed", "call_transferred", "call_dialling",
];
const BUSY = new Set(BUSY_STATES);
// States she may dial from (the server checks again).
const CAN_DIAL = new Set([AgentState.AVAILABLE, AgentState.NOT_READY]);
// Alt+N: the "dial a number" field (by key code: Option+N types a dead key on a Mac).
const isDialShortcut = (e) => e.code === "KeyN" && e.altKey && !e.ctrlKey && !e.metaKey && !e.shiftKey;
// The socket events of the consult bar's buttons.
const CONSULT_EVENTS = { complete: "consult_complete", cancel: "consult_cancel", conference: "conference" };
// A server error id in the page's language; an id the catalog lacks still says something.
const errorText = (id) => (has("error." + id) ? t("error." + id) : t("console.action_failed", { error: id }));

// A benchmark (B1: offer → painted card) reads these.
window.hlMetrics ??= { received: {}, painted: {} };
const stamp = () => performance.timeOrigin + performance.now();

export class HlAgentConsole extends HTMLElement {
  state = {
    me: null,
    reasons: [],
    dispositions: [],
    link: "connecting",
    agent: null,
    offer: null, // {call_id, ring_timeout_s, offered_at, pop}
    call: null, // {id, phase: dialling|on_call|wrap_up, outbound, pop, dialledAt, answeredAt, endedAt, limit, end_reason, caller_number}
    pending: "", // answer | reject | hangup while waiting for the server
    wrapError: null,
    wrapBusy: false,
    customerForm: {},
    notice: null,
    error: null,
    recent: { items: [], loading: true, error: null },
    needsWrapUp: [], // her answered calls that ended without a disposition (node crash)
    muted: ring.isMuted(),
    recordingPaused: false, // the call in hand's recording is paused (sensitive details)
    held: false, // the call in hand is on hold
    keypad: false, // the DTMF keypad is open: digit keys send tones
    dtmfSent: "", // digits sent on this call, shown masked
    party: null, // the consulted third party: {state: ringing|connected|conference|failed|ended, number}
    partyBusy: "", // complete | cancel | conference while waiting for the worker
    transfer: null, // the transfer dialog: {mode: transfer|consult, targets, loading, error, busy, number}
    targets: null, // GET /api/v1/transfer-targets: {queues, agents, outside}
    dialBusy: false, // a dial request is on its way
  };
  #els = null;
  #link = null;
  #snapshotTimer = null;
  #noticeTimer = null;
  #lastOfferId = null;
  #audioCall = null; // the call the softphone carries, when she talks through the browser
  #dialled = null; // her last outbound call: {id, number, failed, cancelled}
  #transferLabel = ""; // what she chose in the transfer dialog, for the "transferred" notice
  #partyTimer = null;

  async connectedCallback() {
    if (this.#els) return;
    this.replaceChildren(h("p", { class: "hl-muted hl-loading" }, "…"));
    const me = await start(this);
    if (!me) return;
    this.state.me = me;
    this.state.reasons = me.reasons || [];
    this.state.dispositions = me.dispositions || [];
    this.#render();
    if (me.audio?.phone_missing) {
      // She chose her SIP phone at sign-in, but none is set up for her: say where the
      // audio goes instead, for the whole session.
      this.prepend(h("p", { class: "hl-warn", role: "status", "data-test": "phone-missing" }, t("audio.phone_missing")));
    }
    this.#listen();
    this.#link = new LiveLink({
      onEvent: (name, data) => this.#onEvent(name, data),
      onSnapshot: (snap) => this.#applySnapshot(snap),
      onStatus: (status) => this.#set({ link: status }),
    }).connect(EVENTS);
    this.#loadRecent();
    this.#loadTargets().catch(() => {}); // whether outside numbers can be called; said again on use
  }

  // --- state --------------------------------------------------------------------------

  #set(patch) {
    Object.assign(this.state, patch);
    this.#update();
  }

  #myAgent(data) {
    return data && this.state.me && data.agent_id === this.state.me.user.agent_id;
  }

  #applySnapshot(snap) {
    if (!snap || !("agent" in snap)) return;
    // A late wrap-up the agent opened herself is not live state: a snapshot keeps it.
    const late = this.state.call?.late && !snap.offer ? this.state.call : null;
    const patch = { agent: snap.agent, offer: null, call: late, pending: "" };
    if (snap.offer) patch.offer = snap.offer;
    if (snap.call) {
      const c = snap.call;
      const outbound = c.direction === "outbound";
      let phase = "on_call";
      if (snap.agent?.state === "wrap_up" || c.status === "wrap_up") phase = "wrap_up";
      else if (outbound && c.status === "connecting") phase = "dialling"; // her call still rings out
      const keep = this.state.call?.id === c.id ? this.state.call : null;
      if (outbound) this.#dialled = this.#dialled?.id === c.id ? this.#dialled : { id: c.id, number: c.caller_number };
      patch.call = {
        id: c.id, phase, outbound, pop: keep?.pop || c.pop, caller_number: c.caller_number, end_reason: c.end_reason,
        dialledAt: (toDate(c.arrived_at)?.getTime() ?? Date.now()) / 1000,
        answeredAt: (toDate(c.answered_at)?.getTime() ?? Date.now()) / 1000,
        endedAt: (toDate(c.ended_at)?.getTime() ?? Date.now()) / 1000,
        limit: c.wrap_up_limit_s || 0,
      };
    }
    if (patch.call?.id !== this.state.call?.id) Object.assign(patch, { wrapError: null, customerForm: {}, party: null, partyBusy: "", transfer: null });
    // The call's controls as its events left them (after a reload: on hold, recording
    // paused, a consult going on). A finished consult's bar stays while the caller is held.
    const ctl = snap.call?.controls;
    if (ctl && patch.call?.phase === "on_call") {
      const s = this.state;
      const finished = patch.call.id === s.call?.id && s.party && !LIVE_PARTY.has(s.party.state) && ctl.held ? s.party : null;
      Object.assign(patch, {
        held: !!ctl.held,
        recordingPaused: !!ctl.recording_paused,
        party: ctl.party ? { state: ctl.party.state, number: ctl.party.number } : finished,
      });
    }
    this.#set(patch);
  }

  // The call deltas that follow a busy state change normally arrive within milliseconds;
  // if the page still disagrees with the agent's state a moment later (a delta was
  // missed), it asks the server for the truth instead of guessing.
  #resync() {
    clearTimeout(this.#snapshotTimer);
    this.#snapshotTimer = setTimeout(() => {
      if (this.#consistent()) return;
      this.#link.request("snapshot", {}).then((snap) => this.#applySnapshot(snap), () => {});
    }, 500);
  }

  #consistent() {
    const { agent, offer, call } = this.state;
    const id = agent?.call_id;
    switch (agent?.state) {
      case AgentState.RINGING:
        return !!id && offer?.call_id === id;
      case AgentState.ON_CALL:
        return !!id && call?.id === id && (call.phase === "on_call" || call.phase === "dialling");
      case AgentState.WRAP_UP:
        return !!id && call?.id === id && call.phase === "wrap_up";
      default:
        return !offer && !call;
    }
  }

  #onEvent(name, data) {
    if (!this.#myAgent(data) && !(name === "call_ended" && this.#knows(data?.call_id))) return;
    const s = this.state;
    switch (name) {
      case "agent_state_changed": {
        ServerClock.sample(data.since);
        const patch = { agent: { ...(s.agent || {}), ...data } };
        if (!BUSY.has(data.state)) {
          patch.offer = null;
          patch.pending = "";
          if (s.call) Object.assign(patch, { call: null, party: null, partyBusy: "", transfer: null });
        } else {
          this.#resync();
        }
        this.#set(patch);
        break;
      }
      case "call_offered":
        window.hlMetrics.received[data.call_id] ??= stamp();
        this.#lastOfferId = data.call_id;
        ServerClock.sample(data.offered_at);
        this.#set({ offer: data, pending: "", call: null, notice: null });
        break;
      case "call_offer_withdrawn":
        // The worker frees the agent before it publishes the withdrawal, so the offer may
        // already be gone (cleared by agent_state_changed): still say why it went.
        if (s.offer?.call_id === data.call_id || this.#lastOfferId === data.call_id) {
          this.#set({ offer: s.offer?.call_id === data.call_id ? null : s.offer, pending: "" });
          this.#notify(t("card.withdrawn." + data.reason));
        }
        break;
      case "call_answered":
        ServerClock.sample(data.answered_at);
        if (s.offer?.call_id === data.call_id) {
          this.#set({
            offer: null, pending: "",
            call: { id: data.call_id, phase: "on_call", pop: s.offer.pop, caller_number: s.offer.pop?.number, answeredAt: data.answered_at },
            recordingPaused: false, held: false, keypad: false, dtmfSent: "", party: null,
          });
        } else if (s.call?.id === data.call_id && s.call.phase === "dialling") {
          // The customer picked up her call: the card turns into a call in hand.
          this.#set({
            pending: "",
            call: { ...s.call, phase: "on_call", answeredAt: data.answered_at },
            recordingPaused: false, held: false, keypad: false, dtmfSent: "", party: null,
          });
        } else if (s.call?.id !== data.call_id) this.#resync();
        break;
      case "call_ended":
        if (this.#myAgent(data) && (data.end_reason === "not-reached" || (s.call?.id === data.call_id && s.call.phase === "dialling"))) {
          this.#notReached(data.call_id, data.end_reason);
        } else if (s.offer?.call_id === data.call_id && data.agent_id == null) {
          // The caller left while it rang: no wrap-up for this agent.
          this.#set({ offer: null, pending: "" });
          this.#notify(t("card.withdrawn.caller-hangup"));
        } else if (s.call?.id === data.call_id && this.#myAgent(data)) {
          this.#set({
            pending: "", party: null, partyBusy: "", transfer: null,
            call: { ...s.call, phase: "wrap_up", end_reason: data.end_reason, endedAt: ServerClock.now(), limit: data.wrap_up_s || 0 },
          });
        } else if (this.#myAgent(data)) {
          this.#resync();
          this.#loadNeedsWrapUp();
        }
        break;
      case "call_wrapped":
        if (s.call?.id === data.call_id) this.#set({ call: null, wrapError: null, customerForm: {} });
        this.#loadRecent();
        break;
      case "call_held":
        if (s.call?.id === data.call_id) {
          // A finished consult's bar stays while the caller waits on hold; she is back now.
          const over = s.party && !LIVE_PARTY.has(s.party.state) && !data.held;
          this.#set({ held: !!data.held, ...(over ? { party: null } : {}) });
        }
        break;
      case "call_party":
        if (s.call?.id === data.call_id) this.#onParty(data);
        break;
      case "call_control_failed":
        // The worker could not do it (the agent chosen became busy, the number was not
        // reached...): nothing changed on the call; she must know.
        if (data.action === "dial" && this.#dialled?.id === data.call_id) this.#dialled.failed = true;
        clearTimeout(this.#partyTimer);
        this.#set({ error: errorText(data.error), partyBusy: "", notice: null });
        break;
      case "call_transferred": {
        const label = this.#transferLabel || this.#targetLabel(data.to, data.target);
        this.#transferLabel = "";
        clearTimeout(this.#partyTimer);
        if (s.call?.id === data.call_id) this.#set({ party: null, partyBusy: "", transfer: null });
        this.#notify(t("transfer.done", { target: label }));
        break;
      }
      case "call_dialling":
        this.#dialled = { ...(this.#dialled?.id === data.call_id ? this.#dialled : {}), id: data.call_id, number: data.number };
        if (s.call?.id !== data.call_id) {
          this.#set({
            offer: null, pending: "", notice: null, error: null,
            call: { id: data.call_id, phase: "dialling", outbound: true, pop: data.pop, caller_number: data.number, dialledAt: ServerClock.now() },
            recordingPaused: false, held: false, keypad: false, dtmfSent: "", party: null, partyBusy: "", transfer: null,
            wrapError: null, customerForm: {},
          });
        }
        break;
      case "recording_paused":
        if (s.call?.id === data.call_id) this.#set({ recordingPaused: !!data.paused });
        break;
      case "recording_failed":
        // The call goes on; she (and her supervisor) must know it is not being recorded.
        if (s.call?.id === data.call_id) this.#notify(t("recording.failed"), "error");
        break;
      case "schedule_changed":
        // A published roster, a swap or leave: say so; the details are on "My schedule".
        if (this.#myAgent(data)) this.#notify(t("schedule.changed." + data.kind, { day: data.day || "" }));
        break;
    }
  }

  // The third party of a consult: the bar follows it. Once it is gone the caller may still be
  // on hold (after a consult): the bar stays and says so until she resumes or dismisses it.
  #onParty(data) {
    clearTimeout(this.#partyTimer);
    const party = { state: data.state, number: data.number };
    if (LIVE_PARTY.has(data.state) || this.state.held) {
      this.#set({ party, partyBusy: "" });
      return;
    }
    this.#set({ party: null, partyBusy: "" });
    this.#notify(t(data.state === "failed" ? "consult.over.failed" : "consult.over.ended", { number: data.number }), data.state === "failed" ? "error" : "info");
  }

  // Her outbound call ended unanswered: the card goes (no wrap-up: nobody was reached) and
  // she is told why, unless a more precise reason came already or she gave up herself.
  #notReached(callId, reason) {
    const s = this.state;
    const dialled = this.#dialled?.id === callId ? this.#dialled : null;
    const number = dialled?.number || (s.call?.id === callId ? s.call.caller_number : "") || "";
    if (s.call?.id === callId) this.#set({ call: null, pending: "", party: null, transfer: null });
    this.#loadRecent(); // the attempt is on record: she can call back from the list
    if (dialled?.failed) return;
    if (dialled?.cancelled) this.#notify(t("dial.cancelled", { number }));
    else if (reason === "not-reached") this.#set({ error: t("dial.not_reached", { number }) });
    else this.#set({ error: t("dial.ended", { number, reason: t("end." + reason) }) });
  }

  #targetLabel(to, target) {
    const list = to === "queue" ? this.state.targets?.queues : to === "agent" ? this.state.targets?.agents : null;
    return list?.find((x) => String(x.id) === String(target))?.name || target;
  }

  #knows(callId) {
    return !!callId && (this.state.offer?.call_id === callId || this.state.call?.id === callId);
  }

  #notify(text, kind = "info") {
    clearTimeout(this.#noticeTimer);
    this.#set({ notice: text ? { text, kind } : null });
    if (text) this.#noticeTimer = setTimeout(() => this.#set({ notice: null }), 8000);
  }

  #fail(err) {
    this.#set({ error: err?.message || String(err) });
  }

  // --- actions --------------------------------------------------------------------------

  async #setState(state, reason = "") {
    this.#set({ error: null });
    try {
      const ack = await this.#link.request("set_state", { state, reason });
      if (ack.agent) this.#set({ agent: ack.agent });
    } catch (err) {
      this.#fail(err);
    }
  }

  async #callAction(action, callId) {
    if (!callId || this.state.pending) return;
    // Hanging up her own call while it rings out is giving up, not "not reached".
    if (action === "hangup" && this.state.call?.phase === "dialling" && this.#dialled?.id === callId) this.#dialled.cancelled = true;
    this.#set({ pending: action, error: null });
    try {
      await this.#link.request(action, { call_id: callId });
      // The outcome arrives as events (answered, withdrawn, ended); until then stay pending.
    } catch (err) {
      this.#set({ pending: "" });
      this.#fail(err);
    }
  }

  // --- transfer, consult, click-to-dial --------------------------------------------------

  async #loadTargets() {
    const targets = await getJSON("/api/v1/transfer-targets");
    this.#set({ targets });
    return targets;
  }

  async #openTransfer(mode, number = "") {
    const s = this.state;
    if (s.call?.phase !== "on_call") return;
    if (LIVE_PARTY.has(s.party?.state)) {
      this.#set({ error: errorText("consult-in-progress") });
      return;
    }
    if (this.#els.transfer.open && s.transfer?.mode === mode && !number) return; // open already
    this.#set({ transfer: { mode, number, targets: s.targets, loading: !s.targets, error: null, busy: false } });
    try {
      // Fresh each time: who is available changes by the second.
      const targets = await this.#loadTargets();
      if (this.state.transfer) this.#set({ transfer: { ...this.state.transfer, targets, loading: false } });
    } catch (err) {
      if (this.state.transfer) this.#set({ transfer: { ...this.state.transfer, loading: false, error: err.message } });
    }
  }

  async #moveCall(event, payload, label = "") {
    const s = this.state;
    if (s.call?.phase !== "on_call" || !s.transfer || s.transfer.busy) return;
    this.#set({ transfer: { ...s.transfer, busy: true, error: null }, error: null });
    try {
      await this.#link.request(event, { call_id: s.call.id, ...payload });
      // The outcome arrives as events (call_ended + call_transferred, call_party) or as
      // call_control_failed.
      this.#transferLabel = label;
      this.#set({ transfer: null });
    } catch (err) {
      if (this.state.transfer) this.#set({ transfer: { ...this.state.transfer, busy: false, error: err.message } });
      else this.#fail(err);
    }
  }

  async #consultAction(action) {
    const s = this.state;
    if (s.call?.phase !== "on_call" || s.partyBusy || !CONSULT_EVENTS[action]) return;
    this.#set({ partyBusy: action, error: null });
    clearTimeout(this.#partyTimer);
    // The worker answers with an event; should none come, the buttons come back.
    this.#partyTimer = setTimeout(() => this.state.partyBusy === action && this.#set({ partyBusy: "" }), 8000);
    try {
      await this.#link.request(CONSULT_EVENTS[action], { call_id: s.call.id });
    } catch (err) {
      clearTimeout(this.#partyTimer);
      this.#set({ partyBusy: "" });
      this.#fail(err);
    }
  }

  #dialWhy() {
    const s = this.state;
    if (s.me?.audio?.path !== "browser") return t("error.dial-needs-browser-audio");
    if (s.targets && !s.targets.outside) return t("error.no-outbound-trunk");
    return "";
  }

  #canDialNow() {
    const s = this.state;
    return CAN_DIAL.has(s.agent?.state) && !s.offer && !s.call && !s.dialBusy && s.link === "connected";
  }

  // Why she cannot dial right now ("" when she can).
  #dialBlocked() {
    const s = this.state;
    if (this.#dialWhy()) return this.#dialWhy();
    if (this.#canDialNow() || s.dialBusy) return "";
    if (s.link !== "connected") return t("console.offline_link");
    return t(s.offer || s.call ? "dial.finish_call" : "dial.go_ready");
  }

  async #dial({ number, queue_id = null, customer_id = null }) {
    const s = this.state;
    if (s.dialBusy) return;
    if (!String(number || "").trim()) {
      this.#set({ error: t("error.invalid-number") });
      this.#els.dialInput.focus();
      return;
    }
    const why = this.#dialBlocked();
    if (why) {
      this.#set({ error: why });
      return;
    }
    this.#set({ dialBusy: true, error: null, notice: null });
    try {
      const payload = { number: String(number).trim() };
      if (queue_id != null) payload.queue_id = queue_id;
      if (customer_id != null) payload.customer_id = customer_id;
      const ack = await this.#link.request("dial", payload);
      if (this.#dialled?.id !== ack.call_id) this.#dialled = { id: ack.call_id, number: payload.number };
      this.#els.dialInput.value = "";
    } catch (err) {
      this.#fail(err);
    } finally {
      this.#set({ dialBusy: false });
    }
  }

  // A customer's phone button: from a call, consult that number; otherwise dial it.
  #phone({ number, customer_id, action }) {
    if (action === "consult" && this.state.call?.phase === "on_call") this.#openTransfer("consult", number);
    else this.#dial({ number, customer_id, queue_id: this.state.call?.pop?.queue?.id ?? null });
  }

  async #pauseRecording() {
    const call = this.state.call;
    if (call?.phase !== "on_call") return;
    try {
      await this.#link.request("pause_recording", { call_id: call.id, paused: !this.state.recordingPaused });
      // The worker confirms with recording_paused.
    } catch (err) {
      this.#fail(err);
    }
  }

  async #hold(on) {
    const call = this.state.call;
    if (call?.phase !== "on_call") return;
    try {
      await this.#link.request("hold", { call_id: call.id, on });
    } catch (err) {
      this.#fail(err);
    }
  }

  async #dtmf(digits) {
    const call = this.state.call;
    if (call?.phase !== "on_call") return;
    // Shown masked: what was typed may be a card number or a PIN.
    this.#set({ dtmfSent: (this.state.dtmfSent + "•".repeat(digits.length)).slice(-16) });
    try {
      await this.#link.request("dtmf", { call_id: call.id, digits });
    } catch (err) {
      this.#fail(err);
    }
  }

  async #wrapUp(detail) {
    if (this.state.wrapBusy) return;
    this.#set({ wrapBusy: true, wrapError: null });
    try {
      await postJSON(`/api/v1/calls/${encodeURIComponent(detail.call_id)}/wrap-up`, {
        disposition: detail.disposition, tags: detail.tags, notes: detail.notes,
      });
      this.#set({ wrapBusy: false, call: null, customerForm: {} });
      this.#notify(t("wrapup.done"));
      this.#loadRecent();
    } catch (err) {
      this.#set({ wrapBusy: false, wrapError: err.message });
    }
  }

  async #saveCustomer({ id, payload }) {
    this.#set({ customerForm: { saving: true } });
    try {
      const callId = this.state.call?.id ?? this.state.offer?.call_id;
      const saved = id
        ? await putJSON(`/api/v1/customers/${id}`, payload)
        : await postJSON("/api/v1/customers", callId ? { ...payload, call_id: callId } : payload);
      const swap = (pop) => {
        if (!pop) return pop;
        const others = (pop.customers || []).filter((c) => c.id !== saved.id);
        return { ...pop, customers: [saved, ...others] };
      };
      const s = this.state;
      this.#set({
        customerForm: { saved: true },
        offer: s.offer ? { ...s.offer, pop: swap(s.offer.pop) } : null,
        call: s.call ? { ...s.call, pop: swap(s.call.pop) } : null,
      });
    } catch (err) {
      this.#set({ customerForm: { error: err.message } });
    }
  }

  async #loadRecent() {
    this.#loadNeedsWrapUp();
    this.#set({ recent: { ...this.state.recent, loading: true } });
    try {
      const page = await getJSON("/api/v1/agent/calls");
      this.#set({ recent: { items: page.items || [], loading: false, error: null } });
    } catch (err) {
      this.#set({ recent: { ...this.state.recent, loading: false, error: err.message } });
    }
  }

  async #loadNeedsWrapUp() {
    try {
      const page = await getJSON("/api/v1/agent/calls?needs_wrap_up=1");
      this.#set({ needsWrapUp: page.items || [] });
    } catch (err) {
      this.#fail(err);
    }
  }

  #lateWrapUp(c) {
    if (this.state.offer || this.state.call) return; // the call in hand comes first
    this.#set({
      wrapError: null, customerForm: {},
      call: {
        id: c.id, phase: "wrap_up", late: true, caller_number: c.caller_number, end_reason: c.end_reason,
        pop: { number: c.caller_number, number_invalid: c.caller_number_invalid, customers: [] },
        endedAt: (toDate(c.ended_at)?.getTime() ?? Date.now()) / 1000, limit: 0,
      },
    });
  }

  // --- view -----------------------------------------------------------------------------

  #listen() {
    this.addEventListener("hl-set-state", (e) => this.#setState(e.detail.state, e.detail.reason));
    this.addEventListener("hl-answer", (e) => this.#callAction("answer", e.detail.call_id));
    this.addEventListener("hl-reject", (e) => this.#callAction("reject", e.detail.call_id));
    this.addEventListener("hl-hangup", (e) => this.#callAction("hangup", e.detail.call_id));
    this.addEventListener("hl-wrap-up", (e) => this.#wrapUp(e.detail));
    this.addEventListener("hl-save-customer", (e) => this.#saveCustomer(e.detail));
    this.addEventListener("hl-refresh-calls", () => this.#loadRecent());
    this.addEventListener("hl-late-wrap-up", (e) => this.#lateWrapUp(e.detail.call));
    this.addEventListener("hl-toggle-mute", () => this.#toggleMute());
    this.addEventListener("hl-hold", (e) => this.#hold(e.detail.on));
    this.addEventListener("hl-dtmf", (e) => this.#dtmf(e.detail.digits));
    this.addEventListener("hl-keypad", () => this.#set({ keypad: !this.state.keypad }));
    this.addEventListener("hl-pause-recording", () => this.#pauseRecording());
    this.addEventListener("hl-help", () => this.#els.help.toggle());
    this.addEventListener("hl-open-transfer", (e) => this.#openTransfer(e.detail.mode));
    this.addEventListener("hl-transfer-close", () => this.state.transfer && this.#set({ transfer: null }));
    this.addEventListener("hl-transfer", (e) => this.#moveCall("transfer", { to: e.detail.to, target: e.detail.target }, e.detail.label));
    this.addEventListener("hl-consult", (e) => this.#moveCall("consult", e.detail.agent != null ? { agent: e.detail.agent } : { number: e.detail.number }));
    this.addEventListener("hl-consult-action", (e) => this.#consultAction(e.detail.action));
    this.addEventListener("hl-consult-dismiss", () => this.#set({ party: null }));
    this.addEventListener("hl-dial", (e) => this.#dial(e.detail));
    this.addEventListener("hl-phone", (e) => this.#phone(e.detail));
    document.addEventListener("keydown", (e) => this.#onKey(e));
    // Audio may only start after a user gesture; the first click or key unlocks it.
    document.addEventListener("pointerdown", () => ring.unlock(), { once: true });
    document.addEventListener("keydown", () => ring.unlock(), { once: true });
  }

  #toggleMute() {
    const muted = !this.state.muted;
    ring.setMuted(muted);
    this.#set({ muted });
  }

  #onKey(e) {
    const s = this.state;
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) {
      if (s.call?.phase === "wrap_up") {
        e.preventDefault();
        this.#els.wrapUp.submit();
      }
      return;
    }
    if (isMuteShortcut(e)) {
      e.preventDefault();
      if (this.#audioCall) this.#els.softphone.toggleMute();
      return;
    }
    const onCall = s.call?.phase === "on_call";
    // F10 and Alt+C open the dialog, or switch it to the other mode when it is open.
    if (onCall && !e.repeat && (isTransferShortcut(e) || isConsultShortcut(e))) {
      e.preventDefault(); // F10 would focus the browser's menu
      this.#openTransfer(isTransferShortcut(e) ? "transfer" : "consult");
      return;
    }
    // The transfer dialog is modal: its own keys (↑↓, Enter, Esc) and nothing else.
    if (this.#els.transfer.open) return;
    if (isDialShortcut(e) && !e.repeat) {
      e.preventDefault();
      const why = this.#dialBlocked();
      if (why) this.#set({ error: why });
      else this.#els.dialInput.focus();
      return;
    }
    const plain = !e.ctrlKey && !e.altKey && !e.metaKey && !e.repeat;
    if (plain && onCall && ["F6", "F7", "F9"].includes(e.key)) {
      e.preventDefault();
      if (e.key === "F6") this.#hold(!s.held);
      else if (e.key === "F7") this.#set({ keypad: !s.keypad });
      else this.#pauseRecording();
      return;
    }
    if (plain && onCall && s.keypad && KEYPAD_KEYS.includes(e.key) && !isTyping(e.target)) {
      e.preventDefault();
      this.#dtmf(e.key);
      return;
    }
    const fkeys = { F2: [AgentState.AVAILABLE, ""], F3: [AgentState.NOT_READY, null], F4: [AgentState.OFFLINE, ""] };
    if (e.key in fkeys && !e.ctrlKey && !e.altKey && !e.metaKey) {
      e.preventDefault(); // F3 would open the browser's find bar
      if (e.repeat) return;
      const [state, reason] = fkeys[e.key];
      this.#setState(state, reason ?? this.#els.stateBar.reason);
      return;
    }
    if (e.ctrlKey || e.altKey || e.metaKey || e.repeat || isTyping(e.target)) return;
    const key = e.key.toLowerCase();
    if (key === "a" && s.offer) this.#callAction("answer", s.offer.call_id);
    else if (key === "r" && s.offer) this.#callAction("reject", s.offer.call_id);
    else if (key === "h" && (s.call?.phase === "on_call" || s.call?.phase === "dialling")) this.#callAction("hangup", s.call.id);
    else if (key === "m") this.#toggleMute();
    else if (e.key === "?") this.#els.help.toggle();
    else return;
    e.preventDefault();
  }

  // The softphone carries the call in hand when she signed in with browser audio: started
  // once per answered call (after a reload too: the snapshot brings the call back and the
  // softphone attaches to the same call), stopped when the call leaves her hands.
  #updateAudio() {
    const s = this.state;
    const els = this.#els;
    const onCall = s.call?.phase === "on_call" ? s.call.id : null;
    const browser = s.me?.audio?.path === "browser";
    const want = browser ? onCall : null;
    if (want !== this.#audioCall) {
      this.#audioCall = want;
      if (want) els.softphone.start(want, { rate: s.me.audio.rate || 16000 });
      else els.softphone.stop();
    }
    els.softphone.hidden = !want;
    els.controls.hidden = !onCall;
    els.controls.data = { held: s.held, recordingPaused: s.recordingPaused, keypad: s.keypad, sent: s.dtmfSent, party: onCall ? s.party : null, busy: s.partyBusy };
    this.toggleAttribute("data-recording-paused", !!s.recordingPaused && !!onCall);
  }

  #render() {
    const els = {
      stateBar: document.createElement("hl-state-bar"),
      softphone: document.createElement("hl-softphone"),
      controls: document.createElement("hl-call-controls"),
      card: document.createElement("hl-call-card"),
      wrapUp: document.createElement("hl-wrap-up"),
      recent: document.createElement("hl-recent-calls"),
      needsWrapUp: document.createElement("hl-pending-wrap-ups"),
      help: document.createElement("hl-shortcut-help"),
      transfer: document.createElement("hl-transfer"),
      idle: h("div", { class: "hl-idle", "data-test": "idle" }),
      idleText: h("p", { class: "hl-idle-text" }),
      dialInput: h("input", {
        type: "tel", class: "hl-dial-input", "data-test": "input-dial", autocomplete: "off", inputmode: "tel",
        placeholder: t("dial.placeholder"), "aria-label": t("dial.title"),
      }),
      dialButton: h("button", { type: "submit", class: "hl-btn hl-btn-primary", "data-test": "btn-dial" }, t("dial.button"), h("kbd", {}, "Alt+N")),
      dialWhy: h("p", { class: "hl-muted hl-dial-why", "data-test": "dial-why" }),
      notice: h("p", { class: "hl-notice", role: "status", "data-test": "notice" }),
      error: h("p", { class: "hl-error hl-banner", role: "alert", "data-test": "error", onclick: () => this.#set({ error: null }) }),
    };
    els.dialForm = h("form", {
      class: "hl-dial", "data-test": "dial-form", novalidate: true,
      onsubmit: (e) => { e.preventDefault(); this.#dial({ number: els.dialInput.value }); },
    }, h("span", { class: "hl-dial-title" }, "☎ ", t("dial.title")), els.dialInput, els.dialButton);
    els.idle.append(els.idleText, els.dialForm, els.dialWhy);
    this.#els = els;
    this.replaceChildren(
      els.stateBar,
      els.error,
      els.notice,
      h("div", { class: "hl-console-grid" },
        h("div", { class: "hl-console-main" }, els.softphone, els.controls, els.card, els.wrapUp, els.idle),
        h("aside", { class: "hl-console-side" }, els.needsWrapUp, els.recent)),
      els.help,
      els.transfer);
    this.#update();
  }

  #update() {
    const els = this.#els;
    if (!els) return;
    const s = this.state;
    const labels = Object.fromEntries(s.dispositions.map((d) => [d.code, d.label]));
    els.stateBar.data = { agent: s.agent, reasons: s.reasons, link: s.link, muted: s.muted };
    this.dataset.state = s.agent?.state || AgentState.OFFLINE;

    let card = null;
    if (s.offer) {
      card = { mode: "ringing", callId: s.offer.call_id, pop: s.offer.pop, ringTimeout: s.offer.ring_timeout_s, offeredAt: s.offer.offered_at };
    } else if (s.call?.phase === "dialling") {
      card = { mode: "dialling", callId: s.call.id, pop: s.call.pop, dialledAt: s.call.dialledAt, outbound: true };
    } else if (s.call?.phase === "on_call") {
      card = { mode: "on_call", callId: s.call.id, pop: s.call.pop, answeredAt: s.call.answeredAt, outbound: !!s.call.outbound };
    }
    if (card) Object.assign(card, { busy: s.pending, dispositionLabels: labels, customerForm: s.customerForm });
    els.card.data = card;
    els.card.hidden = !card;
    this.#updateAudio();
    if (s.offer && !window.hlMetrics.painted[s.offer.call_id]) {
      const id = s.offer.call_id;
      requestAnimationFrame(() => { window.hlMetrics.painted[id] ??= stamp(); });
    }
    if (s.offer && s.agent?.state !== AgentState.OFFLINE) ring.start();
    else ring.stop();

    const wrap = s.call?.phase === "wrap_up" ? s.call : null;
    els.wrapUp.data = wrap ? { call: wrap, dispositions: s.dispositions, error: s.wrapError, busy: s.wrapBusy, customerForm: s.customerForm } : null;
    els.wrapUp.hidden = !wrap;

    els.idle.hidden = !!(card || wrap);
    const st = s.agent?.state || AgentState.OFFLINE;
    els.idleText.textContent = st === AgentState.AVAILABLE ? t("card.waiting") : t("card.idle." + (st === AgentState.NOT_READY ? "not_ready" : "offline"));
    // Dialling out: from available or not ready, with browser audio and an outbound trunk.
    const dialWhy = this.#dialWhy();
    const canDial = this.#canDialNow();
    els.dialForm.hidden = !CAN_DIAL.has(st);
    els.dialInput.disabled = !!dialWhy;
    els.dialButton.disabled = !!dialWhy || !canDial;
    els.dialWhy.textContent = dialWhy;
    els.dialWhy.hidden = !dialWhy || els.dialForm.hidden;
    els.transfer.data = s.call?.phase === "on_call" ? s.transfer : null;

    els.notice.textContent = s.notice?.text || "";
    els.notice.hidden = !s.notice;
    els.notice.classList.toggle("is-error", s.notice?.kind === "error");
    showLine(els.error, s.error);
    const dialBlocked = this.#dialBlocked() || (s.dialBusy ? t("dial.finish_call") : "");
    els.recent.data = { ...s.recent, dispositionLabels: labels, dial: { enabled: !dialBlocked, why: dialBlocked } };
    els.needsWrapUp.data = { items: s.needsWrapUp, current: s.call?.id ?? null, busy: !!(s.offer || s.call) };
  }
}

customElements.define("hl-agent-console", HlAgentConsole);
