"""The telephony worker: glues the SIP engine to the console's services and router.

Everything that changes call state runs on one control thread (engine events, bus
requests, ring timers arrive as messages), so the worker needs no locks and never holds
one while the pj thread works.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from console.agents import services as agent_svc
from console.calls import schemas as call_schemas
from console.calls import services as call_svc
from console.calls.recovery import close_worker_calls
from console.calls.routing import CallRouter, QueuedCall
from console.calls.writer import OrderedWriter
from console.core.events import (
    Event,
    agent_state_changed,
    call_answer_requested,
    call_answered,
    call_arrived,
    call_control_failed,
    call_control_requested,
    call_dial_requested,
    call_ended,
    call_hangup_requested,
    call_held,
    call_offer_withdrawn,
    call_offered,
    call_party,
    call_reject_requested,
    call_transferred,
    recording_failed,
    recording_pause_requested,
    recording_paused,
)
from console.core.models import Agent, Queue, new_call_id, utcnow
from console.core.settings import Settings
from console.core.states import (
    DEFAULT_RING_TIMEOUT_S,
    DEFAULT_WRAP_UP_S,
    AgentState,
    AudioPath,
    CallDirection,
    CallState,
    EndReason,
    NotReadyReason,
    PartyState,
    TransferTo,
)
from console.customers import services as customers
from console.node import Hotline
from console.recordings import services as recording_svc
from console.recordings.capture import CallCapture, RecordingPump, Track
from console.recordings.store import Channel, RecordingInfo, RecordingKey, new_path
from console.softphone.hub import AudioHub, BrowserLeg
from telephony.engine import EngineConfig, SipEngine
from telephony.events import InviteRejected, LegAnswered, LegEnded, LegIncoming
from telephony.moh import ensure_moh_wav

log = logging.getLogger(__name__)

# How often the worker stores its heartbeat: after a crash, talk time is overstated by at
# most this much.
HEARTBEAT_S = 2.0
# After the live state came back, a worker routes this long after putting its calls back:
# every worker's keeper has seen it by then (they look every 0.5 s), so the oldest caller,
# whichever worker holds it, is back in the order before anyone is offered.
REJOIN_ROUTE_DELAY_S = 1.0


@dataclass
class CallCtx:
    """One inbound call held by this worker."""

    call_id: str
    caller_leg: str
    state: CallState = CallState.QUEUED
    qc: QueuedCall | None = None
    agent_id: int | None = None
    agent_leg: str | None = None  # the agent's SIP phone leg
    browser: BrowserLeg | None = None  # or her browser audio
    browser_port: str = ""  # the bridge port of that browser leg
    capture: CallCapture | None = None
    away: int = 0  # bumped at each page presence change: a grace timer checks it is current
    held: bool = False  # on hold: the caller hears music, the agent nothing
    taps: list[str] = field(default_factory=list)  # the recording's tap ports on the bridge
    direction: str = CallDirection.INBOUND
    presented: str = ""  # the centre's number the caller dialled: outside calls show it
    # A third party on an outside number: consulted (the caller on hold), in conference,
    # or, once the agent passed the call on, the caller's only counterpart ("external").
    third: str | None = None
    third_mode: str = ""
    third_number: str = ""
    third_up: bool = False  # it answered
    # Or a colleague consulted about the call: her agent id, and once she answered, her
    # browser leg (the third medium is then her bridge port).
    third_agent: int | None = None
    third_browser: BrowserLeg | None = None
    consults: int = 0  # bumped at each consult: a ring timer checks it is still its own
    resume: tuple[str, str] = (AgentState.AVAILABLE, "")  # outbound: her state if unanswered

    @property
    def agent_media(self) -> str | None:
        """The bridge medium carrying the agent: her phone's leg or her browser's port."""
        return self.agent_leg or (self.browser_port if self.browser else None)


def browser_port(call_id: str, agent_id: int) -> str:
    return f"web-{call_id}-{agent_id}"


def queue_routing(q: Queue | None) -> tuple[str, int, int]:
    """How a queue's calls are routed: skill, ring timeout, wrap-up time (the defaults when a
    call has no queue)."""
    if q is None:
        return "", DEFAULT_RING_TIMEOUT_S, DEFAULT_WRAP_UP_S
    return q.skill, q.ring_timeout_s, q.wrap_up_s


def tap_port(call_id: str, channel: Channel) -> str:
    return f"rec-{call_id}-{channel.value}"


# What the control thread takes from its queue: the engine's events, the bus's events,
# functions to run on it, and the order to stop. Arrivals in a row are gathered into one
# Incoming; a Tick is what the loop handles when only a timer woke it.
@dataclass(frozen=True)
class FromEngine:
    """An event of the SIP engine (pj thread)."""

    event: object


@dataclass(frozen=True)
class FromBus:
    """An event heard on the bus."""

    event: Event


@dataclass(frozen=True)
class RunCall:
    """A function to run on the control thread."""

    fn: Callable[[], None]


@dataclass(frozen=True)
class Stop:
    """Hang up everything and leave the loop."""


@dataclass(frozen=True)
class Incoming:
    """Consecutive new trunk calls, opened in one transaction."""

    legs: tuple[LegIncoming, ...]


@dataclass(frozen=True)
class Tick:
    """No message: a timer is due."""


Control = FromEngine | FromBus | RunCall | Stop | Incoming | Tick


class ControlTimers:
    """Functions due after a delay, run by the control thread between messages (ring
    timeouts, heartbeats). Used from that thread only, and before it starts."""

    def __init__(self) -> None:
        self._heap: list[tuple[float, int, Callable[[], None]]] = []
        self._seq = itertools.count()

    def schedule(self, delay: float, fn: Callable[[], None]) -> None:
        heapq.heappush(self._heap, (time.monotonic() + delay, next(self._seq), fn))

    def timeout(self) -> float | None:
        """Seconds until the next timer, None when there is none."""
        return max(0.0, self._heap[0][0] - time.monotonic()) if self._heap else None

    def due(self) -> list[Callable[[], None]]:
        """Take the timers that are due, in order."""
        now = time.monotonic()
        out = []
        while self._heap and self._heap[0][0] <= now:
            out.append(heapq.heappop(self._heap)[2])
        return out


def engine_config(settings: Settings) -> EngineConfig:
    """The SIP engine's configuration from the node's settings."""
    return EngineConfig(
        host=settings.sip_host,
        port=settings.sip_port,
        transports=tuple(settings.sip_transports),
        allowed_sources=tuple(settings.trunk_sources),
        max_calls=settings.max_calls,
        media_host=settings.sip_media_host,
        outbound_proxy=settings.sip_outbound_proxy,
    )


def sip_source(contact: str) -> str | None:
    """'host:port' (or 'host') an agent phone's INVITEs come from, from its SIP contact."""
    if not contact:
        return None
    rest = contact.split(":", 1)[1] if contact.startswith(("sip:", "sips:")) else contact
    hostport = rest.split("@", 1)[-1].split(";", 1)[0].strip("<>")
    parsed = urlsplit("//" + hostport)
    if not parsed.hostname:
        return None
    return f"{parsed.hostname}:{parsed.port}" if parsed.port else parsed.hostname


class TelephonyWorker:
    """One pjsua2 process: answers trunk calls, queues them, bridges them to agents."""

    def __init__(
        self,
        hotline: Hotline,
        engine: SipEngine,
        inbox: queue.Queue[Control],
        timers: ControlTimers,
        router: CallRouter,
        writer: OrderedWriter,
        hub: AudioHub,
        pump: RecordingPump,
        recording_keys: tuple[RecordingKey, ...],
        audio_url: str = "",
    ) -> None:
        # Built and wired by the composition root (console/node.py, build_worker): the engine
        # posts its events into inbox, the router schedules its ring timeouts on timers, both
        # run on this worker's control thread.
        self._hl = hotline
        self._worker_id = hotline.settings.worker_id
        self._engine = engine
        self._q = inbox
        self._timers = timers
        self._calls: dict[str, CallCtx] = {}
        self._legs: dict[str, str] = {}
        self._contacts: dict[int, str] = {}
        self._writer = writer
        self.router = router
        self._hub = hub
        self._pump = pump
        self._keys = recording_keys
        self._audio_url = audio_url  # its internal audio server, when the web tier is elsewhere
        self._recording_dir = hotline.settings.effective_recording_dir
        self._thread = threading.Thread(target=self._run, name="hotline-call-control", daemon=True)
        self._stopping = threading.Event()
        self.inbound_limit = 1

    # -- lifecycle -------------------------------------------------------------------
    def start(self) -> None:
        """Recover from a crash, start SIP, then take events."""
        self.recover()
        with self._hl.sessions.begin() as s:
            call_svc.worker_seen(s, self._worker_id, started=True, audio_url=self._audio_url)
        self._schedule(HEARTBEAT_S, self._heartbeat)
        self._moh = str(ensure_moh_wav(self._hl.settings.moh_path))
        self._load_agent_phones()
        self._engine.start()
        # Each call bridged to a SIP phone needs a second slot for the agent leg; browser
        # agents use no slot. Agent phones are read at start: restart after adding one.
        cap = self._engine.effective_max_calls
        self.inbound_limit = max(1, cap // 2) if self._contacts else cap
        self._hl.bus.subscribe(lambda ev: self._q.put(FromBus(ev)))
        if self._hl.keeper is not None:
            self._hl.keeper.on_return(lambda: self.call_soon(self._rejoin))
        self._thread.start()
        log.info("telephony worker %s on %s", self._worker_id, self._engine.sip_address)

    def stop(self) -> None:
        """Hang up, close this worker's records, release the SIP stack."""
        self._q.put(Stop())
        self._thread.join(timeout=10)
        self._engine.stop()
        self._pump.stop()  # finishes the recordings the loop closed; their rows go next
        self._writer.close()
        self.recover(reason=EndReason.WORKER_STOPPED)

    @property
    def sip_port(self) -> int:
        return self._engine.bound_port

    @property
    def effective_max_calls(self) -> int:
        return self._engine.effective_max_calls

    def recover(self, reason: EndReason = EndReason.WORKER_RESTART) -> int:
        """Close calls this worker left open, its callers out of the shared queue order; free
        agents still tied to them."""
        return len(close_worker_calls(self._hl, self._worker_id, reason))

    def _load_agent_phones(self) -> None:
        with self._hl.sessions() as s:
            self._contacts = {
                a.id: a.sip_contact for a in s.scalars(select(Agent)) if a.sip_contact
            }
        phones = [p for p in (sip_source(c) for c in self._contacts.values()) if p]
        self._engine.set_allowed_sources([*self._hl.settings.trunk_sources, *phones])

    def _rejoin(self) -> None:
        """The live state is back (restored, or Redis reachable again): this worker's
        waiting calls go back into the shared order now, the routing follows shortly."""
        n = self.router.rejoin()
        log.info("live state back: %d waiting call(s) put back in the shared order", n)
        self._schedule(REJOIN_ROUTE_DELAY_S, self.router.route)

    def _heartbeat(self) -> None:
        """Store that this worker is alive; runs on the control thread, so a stuck loop shows."""
        worker_id = self._worker_id
        self._writer.submit(lambda s: call_svc.worker_seen(s, worker_id))
        # Workers route when an agent becomes available. A call ahead in the shared order
        # can also leave it with no agent changing state (its caller hangs up, its worker
        # dies) while a call here could have had her: retried here, it waits at most this
        # long longer.
        self.router.route()
        self._schedule(HEARTBEAT_S, self._heartbeat)

    # -- control loop ----------------------------------------------------------------
    def _schedule(self, delay: float, fn: Callable[[], None]) -> None:
        self._timers.schedule(delay, fn)

    def _run(self) -> None:
        while True:
            timeout = self._timers.timeout()
            msg: Control
            try:
                msg = self._q.get(timeout=timeout)
            except queue.Empty:
                msg = Tick()
            if isinstance(msg, Stop):
                self._hangup_all()
                return
            follow: Control | None = None
            if isinstance(msg, FromEngine) and isinstance(msg.event, LegIncoming):
                # A burst of INVITEs is opened in one transaction: one disk flush, not one
                # per caller. Only consecutive arrivals are taken, so order is kept.
                batch = [msg.event]
                while follow is None:
                    try:
                        nxt = self._q.get_nowait()
                    except queue.Empty:
                        break
                    if isinstance(nxt, FromEngine) and isinstance(nxt.event, LegIncoming):
                        batch.append(nxt.event)
                    else:
                        follow = nxt
                msg = Incoming(tuple(batch))
            self._handle(msg)
            if follow is not None:
                if isinstance(follow, Stop):
                    self._hangup_all()
                    return
                self._handle(follow)
            for fn in self._timers.due():
                try:
                    fn()
                except Exception:
                    log.exception("timer failed")

    def _handle(self, msg: Control) -> None:
        try:
            if isinstance(msg, Incoming):
                self._incoming(list(msg.legs))
            elif isinstance(msg, FromEngine):
                self._on_engine(msg.event)
            elif isinstance(msg, FromBus):
                self._on_bus(msg.event)
            elif isinstance(msg, RunCall):
                msg.fn()
        except Exception:
            log.exception("call control failed on %r", msg)

    def call_soon(self, fn: Callable[[], None]) -> None:
        """Run fn on the control thread (tests and admin actions)."""
        self._q.put(RunCall(fn))

    # -- engine events ---------------------------------------------------------------
    def _on_engine(self, ev: object) -> None:
        if isinstance(ev, LegIncoming):
            self._incoming([ev])
        elif isinstance(ev, LegAnswered):
            self._leg_answered(ev.leg_id)
        elif isinstance(ev, LegEnded):
            self._leg_ended(ev)
        elif isinstance(ev, InviteRejected):
            log.info("INVITE from %s rejected: %s %s", ev.source, ev.status_code, ev.reason)
            if ev.trunk:
                self._record_refused(
                    ev.from_user or ev.from_uri, ev.to_user or ev.to_uri, ev.status_code
                )

    def _record_refused(self, caller: str, callee: str, status_code: int) -> None:
        """A trunk caller turned away leaves a record, so the centre can count lost callers."""
        # Strangers (403) never get here: a flood must not fill the database.
        reason = EndReason.NO_CAPACITY if status_code in (486, 503) else EndReason.REFUSED
        worker_id, cc = self._worker_id, self._hl.settings.country_code

        def write(s: Session) -> None:
            call_svc.record_refused(
                s, caller, callee, worker_id, cc, reason, status_code=status_code
            )

        self._writer.submit(write)

    def _incoming(self, evs: list[LegIncoming]) -> None:
        busy = sum(1 for c in self._calls.values() if c.state != CallState.ENDED)
        accepted = []
        for ev in evs:
            if busy >= self.inbound_limit:
                self._engine.reject(ev.leg_id, 486)
                self._record_refused(ev.from_user or ev.from_uri, ev.to_user or ev.to_uri, 486)
            else:
                busy += 1
                accepted.append(ev)
        if not accepted:
            return
        s = self._hl.settings
        opened = []
        with self._hl.sessions.begin() as session:
            for ev in accepted:
                call, q, callers = call_svc.open_inbound(
                    session,
                    ev.from_user or ev.from_uri,
                    ev.to_user or ev.to_uri,
                    self._worker_id,
                    s.country_code,
                )
                pop = call_schemas.screen_pop(call, q, callers)
                opened.append(
                    (
                        ev,
                        call.id,
                        call.caller_number,
                        q.id if q else None,
                        pop,
                        queue_routing(q),
                        call.callee_number,
                    )
                )
        for ev, call_id, caller, queue_id, pop, (skill, ring, wrap), callee in opened:
            ctx = CallCtx(call_id=call_id, caller_leg=ev.leg_id, presented=callee)
            self._calls[call_id] = ctx
            self._legs[ev.leg_id] = call_id
            # The caller is answered by the system and hears music while waiting for an agent.
            self._engine.answer(ev.leg_id, 200)
            self._engine.play(ev.leg_id, self._moh, True)
            self._hl.bus.publish(
                call_arrived(
                    call_id=call_id,
                    queue_id=queue_id,
                    caller_number=caller,
                    worker_id=self._worker_id,
                    at=time.time(),
                )
            )
            pop["wait_started"] = time.time()
            ctx.qc = QueuedCall(call_id, skill, ring, wrap, time.time(), pop)
            self.router.add(ctx.qc)

    def _leg_answered(self, leg_id: str) -> None:
        ctx = self._ctx(leg_id)
        if ctx is None:
            return
        if leg_id == ctx.third:
            self._third_answered(ctx)
            return
        if (
            leg_id == ctx.caller_leg
            and ctx.direction == CallDirection.OUTBOUND
            and ctx.state == CallState.CONNECTING
            and ctx.agent_id is not None
        ):
            # The customer picked up the agent's call: her page joins as for an answer.
            self._attach_browser(ctx)
            return
        if leg_id != ctx.agent_leg or ctx.state != CallState.CONNECTING:
            return
        self._engine.bridge(ctx.caller_leg, leg_id)
        self._connected(ctx)

    def _connected(self, ctx: CallCtx) -> None:
        assert ctx.agent_id is not None
        ctx.state = CallState.CONNECTED
        call_id, agent_id = ctx.call_id, ctx.agent_id
        # Stamped here: under load the ordered writer may commit it a while later, and the
        # recording starts now.
        at = utcnow()
        self._writer.submit(lambda s: call_svc.mark_answered(s, call_id, agent_id, at))
        try:
            self._start_recording(ctx)
        except Exception as e:  # the call goes on without a recording, and it is said
            log.exception("recording of call %s could not start", ctx.call_id)
            self._recording_failed(ctx.call_id, ctx.agent_id, "all", str(e) or type(e).__name__)
        self._hl.agents.transition(
            ctx.agent_id,
            AgentState.ON_CALL,
            call_id=ctx.call_id,
            expect=[AgentState.RINGING, AgentState.ON_CALL],  # ON_CALL: her own outbound call
            expect_call=ctx.call_id,
        )
        self._hl.bus.publish(
            call_answered(call_id=ctx.call_id, agent_id=ctx.agent_id, answered_at=time.time())
        )

    def _leg_ended(self, ev: LegEnded) -> None:
        ctx = self._ctx(ev.leg_id)
        self._legs.pop(ev.leg_id, None)
        if ctx is None or ctx.state == CallState.ENDED:
            return
        if ev.leg_id == ctx.third:
            self._third_ended(ctx)
            return
        if ev.leg_id == ctx.caller_leg:
            if ctx.direction == CallDirection.OUTBOUND and ctx.state == CallState.CONNECTING:
                self._not_reached(ctx)
            elif ev.unconfirmed:
                # Our 200 was never ACKed: nobody was on the line, whatever state we were in.
                self.router.remove(ctx.call_id)
                self._hangup(ctx.agent_leg)
                if ctx.state == CallState.CONNECTING and ctx.agent_id is not None:
                    self._hl.agents.transition(
                        ctx.agent_id,
                        AgentState.AVAILABLE,
                        expect=[AgentState.RINGING],
                        expect_call=ctx.call_id,
                    )
                self._end(ctx, EndReason.NO_ACK)
            elif ctx.state == CallState.QUEUED:
                self.router.remove(ctx.call_id)
                self._end(ctx, EndReason.ABANDONED)
            elif ctx.state == CallState.CONNECTING:
                self._hangup(ctx.agent_leg)
                if ctx.agent_id is not None:
                    self._hl.agents.transition(
                        ctx.agent_id,
                        AgentState.AVAILABLE,
                        expect=[AgentState.RINGING],
                        expect_call=ctx.call_id,
                    )
                self._end(ctx, EndReason.ABANDONED)
            else:
                self._hangup(ctx.agent_leg)
                self._end(ctx, EndReason.CALLER_HANGUP)
        elif ev.leg_id == ctx.agent_leg:
            if ctx.state == CallState.CONNECTING:
                self._phone_failed(ctx)
            elif ctx.state == CallState.CONNECTED:
                self._hangup(ctx.caller_leg)
                self._end(ctx, EndReason.AGENT_HANGUP)

    def _end(self, ctx: CallCtx, reason: EndReason) -> None:
        was_connected = ctx.state == CallState.CONNECTED
        ctx.state = CallState.ENDED
        self._drop_third(ctx)
        self._release_media(ctx)
        call_id = ctx.call_id
        at = utcnow()  # the end, not when the writer gets to it
        self._writer.submit(lambda s: call_svc.mark_ended(s, call_id, reason, at))
        # Wrap-up needs the closed record: it is committed before anyone hears of the end.
        self._writer.flush()
        wrap = ctx.qc.wrap_up_s if ctx.qc else 0
        if was_connected and ctx.agent_id is not None:
            self._hl.agents.transition(
                ctx.agent_id,
                AgentState.WRAP_UP,
                call_id=ctx.call_id,
                expect=[AgentState.ON_CALL],
                expect_call=ctx.call_id,
            )
        # The agent hears of the end of a call she was on, or of her own call not reached.
        told = was_connected or ctx.direction == CallDirection.OUTBOUND
        self._hl.bus.publish(
            call_ended(
                call_id=ctx.call_id,
                agent_id=ctx.agent_id if told else None,
                end_reason=reason,
                wrap_up_s=wrap if was_connected else 0,
            )
        )
        self._calls.pop(ctx.call_id, None)
        for leg in (ctx.caller_leg, ctx.agent_leg):
            if leg:
                self._legs.pop(leg, None)

    def _hangup(self, leg: str | None) -> None:
        if leg:
            self._engine.hangup(leg)

    def _hangup_all(self) -> None:
        for ctx in list(self._calls.values()):
            self._drop_third(ctx)
            self._release_media(ctx)
            self._hangup(ctx.caller_leg)
            self._hangup(ctx.agent_leg)

    def _ctx(self, leg_id: str) -> CallCtx | None:
        call_id = self._legs.get(leg_id)
        return self._calls.get(call_id) if call_id else None

    # -- requests from the web -------------------------------------------------------
    def _on_bus(self, ev: Event) -> None:
        if isinstance(ev, agent_state_changed):
            if ev.state == AgentState.AVAILABLE:
                self.router.route()
            return
        if isinstance(ev, call_dial_requested):
            if ev.worker_id == self._worker_id:
                self._dial_out(ev)
            return
        if not isinstance(
            ev,
            call_answer_requested
            | call_reject_requested
            | call_hangup_requested
            | call_control_requested
            | recording_pause_requested,
        ):
            return
        ctx = self._calls.get(ev.call_id)
        if ctx is None:
            return  # another worker holds it
        if isinstance(ev, recording_pause_requested):
            self._pause_recording(ctx, ev.agent_id, ev.paused)
            return
        if isinstance(ev, call_control_requested):
            if ctx.state == CallState.CONNECTED and ctx.agent_id == ev.agent_id:
                self._control(ctx, ev)
            elif ctx.agent_id == ev.agent_id:  # hers, but ringing out or being passed on
                self._refuse(ctx, ev.agent_id, ev.action, "call-not-connected")
            return
        if (
            isinstance(ev, call_hangup_requested)
            and ctx.direction == CallDirection.OUTBOUND
            and ctx.state == CallState.CONNECTING
            and ctx.agent_id == ev.agent_id
        ):
            self._hangup(ctx.caller_leg)  # she gives up ringing: the leg's end closes it
            return
        if ctx.third_agent is not None and ev.agent_id == ctx.third_agent:
            self._consulted_acts(ctx, ev)
            return
        if isinstance(ev, call_answer_requested):
            self._answer(ctx, ev.agent_id)
        elif isinstance(ev, call_reject_requested):
            self.router.reject(ev.call_id, ev.agent_id)
        elif ctx.state == CallState.CONNECTED and ctx.agent_id == ev.agent_id:
            self._hangup(ctx.caller_leg)
            self._hangup(ctx.agent_leg)
            self._end(ctx, EndReason.AGENT_HANGUP)

    def _answer(self, ctx: CallCtx, agent_id: int) -> None:
        qc = self.router.take(ctx.call_id, agent_id)
        if qc is None or ctx.state != CallState.QUEUED:
            return
        ctx.state, ctx.agent_id = CallState.CONNECTING, agent_id
        # Her sign-in chose how she talks: read now, she may have signed in again since.
        with self._hl.sessions() as s:
            path, contact = agent_svc.audio_of(s, agent_id)
        if path == AudioPath.BROWSER:
            self._attach_browser(ctx)
            return
        fut = self._engine.dial(contact, ctx.qc.pop.get("number", "") if ctx.qc else "")
        try:
            leg = fut.result(timeout=5)
        except Exception:
            log.exception("dialing agent %s at %s failed", agent_id, contact)
            self._phone_failed(ctx)
            return
        ctx.agent_leg = leg
        self._legs[leg] = ctx.call_id

    def _attach_browser(self, ctx: CallCtx) -> None:
        """No SIP phone: her browser carries the audio through a port on the bridge; the
        caller's music stops and the call counts as answered now (the page attaches to the
        leg when it can, and again after a reload)."""
        assert ctx.agent_id is not None
        self._engine.stop_play(ctx.caller_leg)
        browser = self._hub.open(ctx.call_id, ctx.agent_id)
        port = self._open_browser_port(browser)
        ctx.browser, ctx.browser_port = browser, port
        self._engine.connect(ctx.caller_leg, port)
        call_id = ctx.call_id
        browser.on_presence = lambda here: self.call_soon(
            lambda: self._page_presence(call_id, browser, here)
        )
        self._connected(ctx)
        # Until her page attaches (it does within a moment of the answer) the caller hears
        # music, as whenever the page is away.
        self._page_presence(call_id, browser, browser.attached, first=True)

    def _open_browser_port(self, browser: BrowserLeg) -> str:
        port = browser_port(browser.call_id, browser.agent_id)
        self._engine.open_port(port, browser.rate, sink=browser.sink, source=browser.source).result(
            5
        )
        return port

    def _phone_failed(self, ctx: CallCtx) -> None:
        """The agent's phone did not pick up: the router requeues the call, the caller waits."""
        agent_id, qc = ctx.agent_id, ctx.qc
        assert agent_id is not None and qc is not None
        ctx.state, ctx.agent_id, ctx.agent_leg = CallState.QUEUED, None, None
        self._engine.play(ctx.caller_leg, self._moh, True)
        self.router.requeue(qc, agent_id)

    # -- media and recordings ----------------------------------------------------------
    def _start_recording(self, ctx: CallCtx) -> None:
        """The taps on the bridge at once, then the rows (committed), then the files."""
        agent_media = ctx.agent_media
        assert agent_media is not None and ctx.agent_id is not None
        caller_rate = self._engine.leg_rate(ctx.caller_leg).result(5) or 8000
        if ctx.browser is not None:
            agent_rate = ctx.browser.rate
        else:
            agent_rate = self._engine.leg_rate(agent_media).result(5) or 8000
        tap_rate = max(caller_rate, agent_rate)
        rates = {Channel.CALLER: caller_rate, Channel.AGENT: agent_rate, Channel.STEREO: tap_rate}
        call_id, agent_id = ctx.call_id, ctx.agent_id
        capture = CallCapture(
            call_id,
            self._keys,
            tap_rate,
            self._pump,
            on_failed=lambda track, error: self._track_failed(call_id, agent_id, track, error),
            on_closed=self._tracks_closed,
        )
        ctx.capture = capture
        # A tap port per side, even for browser audio: pjmedia asks a port for frames only
        # while something listens to it, so the browser leg alone would leave the agent
        # channel without ticks whenever her page is away.
        for channel, source in ((Channel.CALLER, ctx.caller_leg), (Channel.AGENT, agent_media)):
            port = tap_port(call_id, channel)
            self._engine.open_port(port, tap_rate, sink=capture.sink(channel)).result(5)
            ctx.taps.append(port)
            self._engine.connect(source, port)
        # The taps run from here; the rows are written next and the files follow them (no
        # file without a row), while the frames wait in memory.
        now = utcnow()
        with self._hl.sessions.begin() as s:
            tracks = []
            for channel, rate in rates.items():
                path = new_path(self._recording_dir, ctx.call_id, channel, now)
                row = recording_svc.start_recording(
                    s, ctx.call_id, channel, path, rate, self._keys[0].id, now
                )
                tracks.append(Track(channel, row.id, path, rate))
        capture.open(tracks)

    def _release_media(self, ctx: CallCtx) -> None:
        """Take the call's ports off the bridge, then finish its recordings; idempotent."""
        closing, ctx.taps = ctx.taps, []
        if ctx.browser is not None:
            closing.append(ctx.browser_port)
            self._hub.close(ctx.browser.call_id, ctx.browser.agent_id)
            ctx.browser, ctx.browser_port = None, ""
        futures = [self._engine.close_port(port) for port in closing]
        for fut in futures:
            # A tap's last frame is queued before its port is gone: the end goes behind it.
            fut.exception(timeout=5)
        if ctx.capture is not None:
            ctx.capture.close()
            ctx.capture = None

    def _track_failed(self, call_id: str, agent_id: int, track: Track, error: str) -> None:
        """A recording file failed (pump thread): row failed, supervisors alerted."""
        row_id = track.row_id
        self._writer.submit(lambda s: recording_svc.fail_recording(s, row_id, error, utcnow()))
        self._recording_failed(call_id, agent_id, track.channel.value, error)

    def _recording_failed(self, call_id: str, agent_id: int, channel: str, error: str) -> None:
        self._hl.bus.publish(
            recording_failed(call_id=call_id, channel=channel, error=error, agent_id=agent_id)
        )

    def _tracks_closed(self, closed: list[tuple[Track, RecordingInfo]]) -> None:
        """The files are closed and synced (pump thread): their rows are complete."""
        if not closed:
            return

        def write(s: Session) -> None:
            for track, info in closed:
                recording_svc.finish_recording(s, track.row_id, info, utcnow())

        self._writer.submit(write)

    def _page_presence(
        self, call_id: str, browser: BrowserLeg, here: bool, first: bool = False
    ) -> None:
        """The agent's page attached to or left the call: her voice to the caller, or music
        and the grace period."""
        ctx = self._calls.get(call_id)
        if ctx is None or ctx.browser is not browser or ctx.state != CallState.CONNECTED:
            return
        if here != browser.attached:
            return  # stale: the presence changed again since this was queued
        ctx.away += 1
        agent_id = ctx.agent_id
        if not (here and ctx.held):  # on hold her music goes on, whether the page is there
            self._caller_hears(ctx)
        if here:
            if not first:
                self._writer.submit(lambda s: call_svc.add_event(s, call_id, "page-back", agent_id))
            return
        if not first:
            self._writer.submit(lambda s: call_svc.add_event(s, call_id, "page-away", agent_id))
        token = ctx.away
        self._schedule(
            self._hl.settings.browser_audio_grace_s, lambda: self._grace_over(call_id, token)
        )

    def _caller_hears(self, ctx: CallCtx) -> None:
        """What the caller hears follows from the call: the agent when she is there (her
        phone, or her page attached) and the call is not held; music otherwise."""
        agent_media = ctx.agent_media
        there = ctx.browser is None or ctx.browser.attached
        if agent_media is not None and there and not ctx.held:
            self._engine.stop_play(ctx.caller_leg)
            self._engine.connect(agent_media, ctx.caller_leg)
            return
        if agent_media is not None:
            self._engine.disconnect(agent_media, ctx.caller_leg)
        self._engine.play(ctx.caller_leg, self._moh, True)

    def _grace_over(self, call_id: str, token: int) -> None:
        """The page stayed away: the call goes back to the front of its queue, the agent is
        set not ready (she is not there), the caller keeps hearing music."""
        ctx = self._calls.get(call_id)
        if ctx is None or ctx.away != token or ctx.state != CallState.CONNECTED:
            return
        if ctx.browser is None or ctx.browser.attached or ctx.qc is None or ctx.agent_id is None:
            return
        if ctx.direction == CallDirection.OUTBOUND:
            # Her own call, nobody to pass it to: it ends.
            self._hangup(ctx.caller_leg)
            self._end(ctx, EndReason.AGENT_HANGUP)
            return
        agent_id, qc = ctx.agent_id, ctx.qc
        self._release_media(ctx)
        ctx.state, ctx.agent_id = CallState.QUEUED, None
        why = "browser-audio-lost"
        self._writer.submit(lambda s: call_svc.mark_requeued(s, call_id, agent_id, why))
        self._hl.agents.transition(
            agent_id,
            AgentState.NOT_READY,
            NotReadyReason.AUDIO_LOST,
            expect=[AgentState.ON_CALL],
            expect_call=call_id,
        )
        qc.excluded.add(agent_id)  # she may be back and available: not this call again
        qc.offered_to = None
        self.router.add(qc)  # its first arrival keeps it at the front

    def _control(self, ctx: CallCtx, ev: call_control_requested) -> None:
        """Call control from the agent's console; each action lands in the call's log."""
        call_id, agent_id = ctx.call_id, ev.agent_id
        if ev.action in CALL_MOVES:
            CALL_MOVES[ev.action](self, ctx, ev)
            return
        if ev.action in ("hold", "resume") and (ctx.third or ctx.third_agent is not None):
            # Hold is part of the consult: cancel, complete or conference end it.
            self._refuse(ctx, agent_id, ev.action, "consult-in-progress")
            return
        if ev.action == "dtmf":
            # To whoever she is talking to: the consulted party while the caller is on hold.
            talking = ctx.third if ctx.third_up and ctx.third_mode == "consult" else None
            self._engine.send_dtmf(talking or ctx.caller_leg, ev.digits)
            # The digits may be a card number or a PIN: the log keeps how many, not which.
            count = len(ev.digits)
            self._writer.submit(
                lambda s: call_svc.add_event(s, call_id, "dtmf", agent_id, count=count)
            )
            return
        self._set_held(ctx, agent_id, ev.action == "hold")

    def _set_held(self, ctx: CallCtx, agent_id: int, held: bool) -> None:
        """Hold (the caller hears music, the agent nothing of her) or resume."""
        if held == ctx.held:
            return
        call_id = ctx.call_id
        ctx.held = held
        agent_media = ctx.agent_media
        if agent_media is not None:  # on hold she hears nothing of the caller
            if held:
                self._engine.disconnect(ctx.caller_leg, agent_media)
            else:
                self._engine.connect(ctx.caller_leg, agent_media)
        self._caller_hears(ctx)
        if ctx.browser is not None:
            ctx.browser.held = held
        kind = "held" if held else "resumed"
        self._writer.submit(lambda s: call_svc.add_event(s, call_id, kind, agent_id))
        self._hl.bus.publish(call_held(call_id=call_id, agent_id=agent_id, held=held))

    def _pause_recording(self, ctx: CallCtx, agent_id: int, paused: bool) -> None:
        """Pause or resume on the agent's word; logged on the call with who did it."""
        if ctx.capture is None or ctx.agent_id != agent_id or ctx.capture.paused == paused:
            return
        ctx.capture.paused = paused
        call_id = ctx.call_id
        kind = "recording-paused" if paused else "recording-resumed"
        self._writer.submit(lambda s: call_svc.add_event(s, call_id, kind, agent_id))
        self._hl.bus.publish(recording_paused(call_id=call_id, agent_id=agent_id, paused=paused))

    # -- transfers, consult, conference, click-to-dial ------------------------------------
    def _refuse(self, ctx: CallCtx, agent_id: int, action: str, error: str) -> None:
        """A call-control request that cannot be done: nothing changes, the agent is told."""
        self._hl.bus.publish(
            call_control_failed(call_id=ctx.call_id, agent_id=agent_id, action=action, error=error)
        )

    def _outside_uri(self, number: str) -> str:
        return f"sip:{number}@{self._hl.settings.outbound_trunk}"

    def _dial_third(self, ctx: CallCtx, number: str, mode: str) -> bool:
        """Call an outside number for this call, showing the centre's number it came in on."""
        try:
            leg = self._engine.dial(self._outside_uri(number), ctx.presented).result(timeout=5)
        except Exception:
            log.exception("dialling %s for call %s failed", number, ctx.call_id)
            return False
        ctx.third, ctx.third_mode, ctx.third_number, ctx.third_up = leg, mode, number, False
        self._legs[leg] = ctx.call_id
        return True

    def _drop_third(self, ctx: CallCtx) -> None:
        """Hang up the third party, if any (the call ends, or the agent cancels)."""
        if ctx.third_agent is not None:
            self._release_consulted(ctx)
            return
        leg, ctx.third = ctx.third, None
        if leg:
            self._legs.pop(leg, None)
            self._hangup(leg)

    def _party(self, ctx: CallCtx, state: PartyState) -> None:
        if ctx.agent_id is not None:
            self._hl.bus.publish(
                call_party(
                    call_id=ctx.call_id,
                    agent_id=ctx.agent_id,
                    state=state,
                    number=ctx.third_number,
                )
            )

    def _log(self, ctx: CallCtx, kind: str, agent_id: int | None, **data: object) -> None:
        call_id = ctx.call_id
        self._writer.submit(lambda s: call_svc.add_event(s, call_id, kind, agent_id, **data))

    def _third_answered(self, ctx: CallCtx) -> None:
        assert ctx.third is not None
        ctx.third_up = True
        number = ctx.third_number
        if ctx.third_mode == "external":
            # A blind transfer reached the outside number: the caller talks to it now.
            ctx.state = CallState.CONNECTED
            self._engine.bridge(ctx.caller_leg, ctx.third)
            call_id = ctx.call_id
            self._writer.submit(lambda s: call_svc.mark_far_end(s, call_id, True, number))
            return
        agent_media = ctx.agent_media
        if agent_media is not None:  # the agent and the consulted party hear each other
            self._engine.connect(agent_media, ctx.third)
            self._engine.connect(ctx.third, agent_media)
        self._log(ctx, "consult-answered", ctx.agent_id, number=number)
        self._party(ctx, PartyState.CONNECTED)

    def _third_ended(self, ctx: CallCtx) -> None:
        """The third party hung up, or was never reached."""
        leg, ctx.third = ctx.third, None
        if leg:
            self._legs.pop(leg, None)
        number, was_up = ctx.third_number, ctx.third_up
        if ctx.third_mode == "external":
            if was_up:
                self._hangup(ctx.caller_leg)
                self._end(ctx, EndReason.FAR_END_HANGUP)
                return
            # Not reached: the caller waits in the queue again, in her first place.
            call_id = ctx.call_id
            self._writer.submit(lambda s: call_svc.mark_far_end(s, call_id, False, number))
            ctx.state = CallState.QUEUED
            if ctx.qc is not None:
                self.router.add(ctx.qc)
            return
        # A consult or conference: the agent goes on with the caller (still on hold after a
        # consult: she takes her back herself, as after any hold).
        self._log(ctx, "consult-ended" if was_up else "consult-failed", ctx.agent_id)
        self._party(ctx, PartyState.ENDED if was_up else PartyState.FAILED)

    def _transfer(self, ctx: CallCtx, ev: call_control_requested) -> None:
        """Blind transfer: to a queue (the caller waits there, ahead of later callers), to an
        agent (her phone rings at once; if she lets it ring the call waits in its queue) or
        to an outside number (if not reached, the caller waits in the queue again)."""
        agent_id, to, target = ev.agent_id, ev.to, ev.target
        if ctx.third is not None or ctx.third_agent is not None:
            self._refuse(ctx, agent_id, "transfer", "consult-in-progress")
            return
        if to == TransferTo.NUMBER and not self._hl.settings.outbound_trunk:
            self._refuse(ctx, agent_id, "transfer", "no-outbound-trunk")
            return
        new_id = new_call_id()
        chosen: int | None = None
        if to == TransferTo.AGENT:
            chosen = int(target)
            reserved = chosen != agent_id and self._hl.agents.transition(
                chosen, AgentState.RINGING, call_id=new_id, expect=[AgentState.AVAILABLE]
            )
            if not reserved:
                self._refuse(ctx, agent_id, "transfer", "agent-not-available")
                return
        self._writer.flush()  # her answer is on record before her part is closed
        try:
            with self._hl.sessions.begin() as s:
                new = call_svc.continue_transferred(
                    s,
                    ctx.call_id,
                    agent_id,
                    to,
                    target,
                    self._worker_id,
                    new_id=new_id,
                    queue_id=int(target) if to == TransferTo.QUEUE else None,
                )
                q = s.get(Queue, new.queue_id) if new.queue_id else None
                pop = call_schemas.screen_pop(new, q, customers.for_caller(s, new.caller_number))
                routing = queue_routing(q)
        except Exception:
            # Nothing moved: the chosen agent is free again and the agent keeps her caller.
            log.exception("transfer of call %s could not be recorded", ctx.call_id)
            if chosen is not None:
                self._hl.agents.transition(
                    chosen, AgentState.AVAILABLE, expect=[AgentState.RINGING], expect_call=new_id
                )
            self._refuse(ctx, agent_id, "transfer", "transfer-failed")
            return
        arrived = ctx.qc.arrived if ctx.qc else time.time()
        priority = ctx.qc.priority if ctx.qc else 0
        self._hand_off(ctx, agent_id, new_id, to, target)
        pop["wait_started"] = time.time()
        ctx.qc = QueuedCall(new_id, *routing, arrived, pop, priority)
        if to == TransferTo.NUMBER:
            ctx.state = CallState.CONNECTING
            if not self._dial_third(ctx, target, "external"):
                ctx.state = CallState.QUEUED
                self.router.add(ctx.qc)
            return
        self._hl.bus.publish(
            call_arrived(
                call_id=new_id,
                queue_id=q.id if q else None,
                caller_number=new.caller_number,
                worker_id=self._worker_id,
                at=time.time(),
            )
        )
        if chosen is not None:
            self.router.offer(ctx.qc, chosen)
        else:
            self.router.add(ctx.qc)

    def _hand_off(
        self, ctx: CallCtx, agent_id: int, new_id: str, to: str, target: str, music: bool = True
    ) -> None:
        """The agent's part ends (her recording with it; she wraps it up) and the caller's
        conversation goes on under new_id, the caller hearing music unless told otherwise."""
        old_id = ctx.call_id
        wrap = ctx.qc.wrap_up_s if ctx.qc else DEFAULT_WRAP_UP_S
        self._release_media(ctx)
        if ctx.agent_leg:
            self._legs.pop(ctx.agent_leg, None)
            self._hangup(ctx.agent_leg)
            ctx.agent_leg = None
        ctx.held = False
        if music:
            self._engine.play(ctx.caller_leg, self._moh, True)
        self._hl.agents.transition(
            agent_id,
            AgentState.WRAP_UP,
            call_id=old_id,
            expect=[AgentState.ON_CALL],
            expect_call=old_id,
        )
        self._hl.bus.publish(
            call_ended(
                call_id=old_id, agent_id=agent_id, end_reason=EndReason.TRANSFERRED, wrap_up_s=wrap
            )
        )
        self._hl.bus.publish(
            call_transferred(
                call_id=old_id, agent_id=agent_id, to=to, target=target, new_call_id=new_id
            )
        )
        del self._calls[old_id]
        ctx.call_id, ctx.agent_id, ctx.state = new_id, None, CallState.QUEUED
        self._calls[new_id] = ctx
        for leg in (ctx.caller_leg, ctx.third):
            if leg:
                self._legs[leg] = new_id

    def _consult(self, ctx: CallCtx, ev: call_control_requested) -> None:
        """Attended transfer, first step: the caller on hold, the agent calls the number."""
        agent_id, number = ev.agent_id, ev.target
        if ctx.third is not None or ctx.third_agent is not None:
            self._refuse(ctx, agent_id, "consult", "consult-in-progress")
            return
        if ev.to == TransferTo.AGENT:
            self._consult_agent(ctx, agent_id, int(number))
            return
        if not self._hl.settings.outbound_trunk:
            self._refuse(ctx, agent_id, "consult", "no-outbound-trunk")
            return
        was_held = ctx.held
        self._set_held(ctx, agent_id, True)
        if not self._dial_third(ctx, number, "consult"):
            if not was_held:
                self._set_held(ctx, agent_id, False)
            self._refuse(ctx, agent_id, "consult", "not-reached")
            return
        self._log(ctx, "consult", agent_id, number=number)
        self._party(ctx, PartyState.RINGING)

    def _consult_agent(self, ctx: CallCtx, agent_id: int, colleague: int) -> None:
        """Consult a colleague: the caller on hold, her console rings with the caller's
        screen pop; when she answers, the two agents talk through their pages."""
        reserved = colleague != agent_id and self._hl.agents.transition(
            colleague, AgentState.RINGING, call_id=ctx.call_id, expect=[AgentState.AVAILABLE]
        )
        if not reserved or ctx.qc is None:
            self._refuse(ctx, agent_id, "consult", "agent-not-available")
            return
        self._set_held(ctx, agent_id, True)
        with self._hl.sessions() as s:
            name = call_svc.names(s).agents.get(colleague, str(colleague))
        ctx.third_agent, ctx.third_mode, ctx.third_number = colleague, "consult", name
        ctx.third, ctx.third_up, ctx.third_browser = None, False, None
        ctx.consults += 1
        self._log(ctx, "consult", agent_id, agent=colleague)
        self._party(ctx, PartyState.RINGING)
        qc = ctx.qc
        self._hl.bus.publish(
            call_offered(
                call_id=ctx.call_id,
                agent_id=colleague,
                ring_timeout_s=qc.ring_timeout_s,
                offered_at=time.time(),
                pop=qc.pop,
            )
        )
        call_id, token = ctx.call_id, ctx.consults
        self._schedule(qc.ring_timeout_s, lambda: self._consult_unanswered(call_id, token))

    def _consult_unanswered(self, call_id: str, token: int) -> None:
        ctx = self._calls.get(call_id)
        if ctx and ctx.consults == token and ctx.third_agent is not None and not ctx.third_up:
            self._consulted_gone(ctx, failed=True)

    def _consulted_acts(self, ctx: CallCtx, ev: Event) -> None:
        """The consulted colleague answers, refuses or hangs up."""
        if isinstance(ev, call_answer_requested) and not ctx.third_up:
            colleague = ctx.third_agent
            assert colleague is not None
            self._hl.agents.transition(
                colleague,
                AgentState.ON_CALL,
                call_id=ctx.call_id,
                expect=[AgentState.RINGING],
                expect_call=ctx.call_id,
            )
            browser = self._hub.open(ctx.call_id, colleague)
            port = self._open_browser_port(browser)
            ctx.third, ctx.third_browser, ctx.third_up = port, browser, True
            agent_media = ctx.agent_media
            if agent_media is not None:
                self._engine.connect(agent_media, port)
                self._engine.connect(port, agent_media)
            self._hl.bus.publish(
                call_answered(call_id=ctx.call_id, agent_id=colleague, answered_at=time.time())
            )
            self._log(ctx, "consult-answered", colleague)
            self._party(ctx, PartyState.CONNECTED)
        elif isinstance(ev, call_reject_requested | call_hangup_requested):
            self._consulted_gone(ctx, failed=not ctx.third_up)

    def _consulted_gone(self, ctx: CallCtx, failed: bool) -> None:
        """The colleague let it ring, refused or hung up: the agent is back with her caller
        (on hold after a consult, as after the consult of a number)."""
        self._release_consulted(ctx)
        self._log(ctx, "consult-failed" if failed else "consult-ended", ctx.agent_id)
        self._party(ctx, PartyState.FAILED if failed else PartyState.ENDED)

    def _release_consulted(self, ctx: CallCtx) -> None:
        """Take the colleague off the call: her port off the bridge, she is free again."""
        colleague, browser, port = ctx.third_agent, ctx.third_browser, ctx.third
        ctx.third_agent, ctx.third_browser, ctx.third, ctx.third_up = None, None, None, False
        if colleague is None:
            return
        if browser is not None and port:
            self._hub.close(browser.call_id, colleague)
            self._engine.close_port(port).exception(timeout=5)
        self._hl.agents.transition(
            colleague,
            AgentState.AVAILABLE,
            expect=[AgentState.RINGING, AgentState.ON_CALL],
            expect_call=ctx.call_id,
        )
        self._hl.bus.publish(
            call_offer_withdrawn(call_id=ctx.call_id, agent_id=colleague, reason="consult-ended")
        )

    def _hand_to_consulted(self, ctx: CallCtx, agent_id: int) -> None:
        """Attended transfer to the consulted colleague: the agent leaves; the colleague
        takes the caller over in the new record, her page staying attached."""
        colleague, browser, port = ctx.third_agent, ctx.third_browser, ctx.third
        assert colleague is not None and browser is not None and port is not None
        old_id = ctx.call_id
        self._writer.flush()
        with self._hl.sessions.begin() as s:
            new = call_svc.continue_transferred(
                s, old_id, agent_id, TransferTo.AGENT, str(colleague), self._worker_id,
                connected=True, taken_by=colleague,
            )  # fmt: skip
            new_id = new.id
        ctx.third_agent, ctx.third_browser, ctx.third, ctx.third_up = None, None, None, False
        self._hand_off(ctx, agent_id, new_id, TransferTo.AGENT, str(colleague), music=False)
        self._hub.rekey(browser, new_id)
        ctx.agent_id, ctx.browser, ctx.browser_port = colleague, browser, port
        ctx.state = CallState.CONNECTED
        self._engine.connect(ctx.caller_leg, port)
        self._caller_hears(ctx)
        self._hl.agents.transition(
            colleague,
            AgentState.ON_CALL,
            call_id=new_id,
            expect=[AgentState.ON_CALL],
            expect_call=old_id,
        )
        try:
            self._start_recording(ctx)
        except Exception as e:
            log.exception("recording of call %s could not start", new_id)
            self._recording_failed(new_id, colleague, "all", str(e) or type(e).__name__)
        call_id = new_id
        browser.on_presence = lambda here: self.call_soon(
            lambda: self._page_presence(call_id, browser, here)
        )
        self._hl.bus.publish(
            call_answered(call_id=new_id, agent_id=colleague, answered_at=time.time())
        )

    def _cancel_consult(self, ctx: CallCtx, ev: call_control_requested) -> None:
        """The agent hangs up on the third party and goes back to the caller."""
        if (ctx.third is None and ctx.third_agent is None) or ctx.third_mode not in (
            "consult",
            "conference",
        ):
            self._refuse(ctx, ev.agent_id, "cancel", "no-consult")
            return
        self._drop_third(ctx)
        self._set_held(ctx, ev.agent_id, False)
        self._log(ctx, "consult-cancelled", ev.agent_id)
        self._party(ctx, PartyState.ENDED)

    def _conference(self, ctx: CallCtx, ev: call_control_requested) -> None:
        """The caller joins the agent and the consulted party: all three hear each other."""
        if ctx.third is None or ctx.third_mode != "consult" or not ctx.third_up:
            self._refuse(ctx, ev.agent_id, "conference", "no-consult")
            return
        # (A consulted colleague joins the same way: her bridge port is the third medium.)
        ctx.third_mode = "conference"
        self._engine.connect(ctx.caller_leg, ctx.third)
        self._engine.connect(ctx.third, ctx.caller_leg)
        if ctx.taps:  # the caller's channel of the recording carries the whole far side
            self._engine.connect(ctx.third, tap_port(ctx.call_id, Channel.CALLER))
        self._set_held(ctx, ev.agent_id, False)
        self._log(ctx, "conference", ev.agent_id, number=ctx.third_number)
        self._party(ctx, PartyState.CONFERENCE)

    def _complete(self, ctx: CallCtx, ev: call_control_requested) -> None:
        """Attended transfer, last step: the agent leaves, the caller and the consulted
        party go on talking."""
        agent_id, third, number = ev.agent_id, ctx.third, ctx.third_number
        if third is None or not ctx.third_up:
            self._refuse(ctx, agent_id, "complete", "no-consult")
            return
        if ctx.third_agent is not None:
            self._hand_to_consulted(ctx, agent_id)
            return
        self._writer.flush()
        with self._hl.sessions.begin() as s:
            new = call_svc.continue_transferred(
                s, ctx.call_id, agent_id, TransferTo.NUMBER, number, self._worker_id,
                connected=True,
            )  # fmt: skip
            new_id = new.id
        self._hand_off(ctx, agent_id, new_id, TransferTo.NUMBER, number, music=False)
        ctx.third_mode, ctx.state = "external", CallState.CONNECTED
        self._engine.stop_play(ctx.caller_leg)
        self._engine.bridge(ctx.caller_leg, third)

    def _dial_out(self, ev: call_dial_requested) -> None:
        """Click-to-dial: the record is open and the agent on it; call the customer."""
        with self._hl.sessions() as s:
            path, _ = agent_svc.audio_of(s, ev.agent_id)
            hand = call_svc.call_in_hand(s, ev.call_id)
            if hand is None:
                return
            q = hand.queue
            pop = call_schemas.screen_pop(hand.call, q, hand.callers)
            routing = queue_routing(q)
        ctx = CallCtx(
            call_id=ev.call_id,
            caller_leg="",
            state=CallState.CONNECTING,
            agent_id=ev.agent_id,
            direction=CallDirection.OUTBOUND,
            presented=ev.caller_id,
            resume=(ev.resume_state, ev.resume_reason),
        )
        ctx.qc = QueuedCall(ev.call_id, *routing, time.time(), pop)
        self._calls[ev.call_id] = ctx
        busy = sum(1 for c in self._calls.values() if c.state != CallState.ENDED)
        error = ""
        if path != AudioPath.BROWSER:
            error = "dial-needs-browser-audio"
        elif not self._hl.settings.outbound_trunk:
            error = "no-outbound-trunk"
        elif busy > self.inbound_limit:
            error = "no-capacity"
        else:
            try:
                ctx.caller_leg = self._engine.dial(
                    self._outside_uri(ev.number), ev.caller_id
                ).result(timeout=5)
            except Exception:
                log.exception("dialling %s for agent %s failed", ev.number, ev.agent_id)
                error = "not-reached"
        if error:
            self._refuse(ctx, ev.agent_id, "dial", error)
            self._not_reached(ctx)
            return
        self._legs[ctx.caller_leg] = ev.call_id

    def _not_reached(self, ctx: CallCtx) -> None:
        """Nobody answered the agent's call: its record ends, she is back where she was."""
        self._end(ctx, EndReason.NOT_REACHED)  # not connected: no wrap-up
        if ctx.agent_id is not None:
            state, reason = ctx.resume
            self._hl.agents.transition(
                ctx.agent_id, state, reason, expect=[AgentState.ON_CALL], expect_call=ctx.call_id
            )


# Call-control actions that move the call between parties (hold, resume and DTMF are
# handled in place by TelephonyWorker._control).
CALL_MOVES: dict[str, Callable[[TelephonyWorker, CallCtx, call_control_requested], None]] = {
    "transfer": TelephonyWorker._transfer,
    "consult": TelephonyWorker._consult,
    "complete": TelephonyWorker._complete,
    "cancel": TelephonyWorker._cancel_consult,
    "conference": TelephonyWorker._conference,
}
