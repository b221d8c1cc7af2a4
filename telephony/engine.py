"""Thread-safe SIP engine around pjsua2 — the only module in Hotline that imports ``pjsua2``.

Design (docs/telephony.md explains the pjsua2 traps behind each rule):

* One dedicated OS thread (the *pj thread*) creates and owns the pjsua2 Endpoint with
  ``threadCnt=0`` and ``mainThreadOnly=True``; it loops ``libHandleEvents(10)`` and drains
  a command queue. Calling pjsua2 from any other thread aborts the process, so every
  public command is marshalled onto that thread and answered with a
  ``concurrent.futures.Future``. A command issued *on* the pj thread runs inline, because
  waiting on our own queue would deadlock.
* pjsua2 callbacks never do I/O and never call user code: they turn into frozen event
  dataclasses put on a plain ``queue.Queue`` that a separate dispatcher thread hands to
  ``on_event``. Every callback catches every exception (pjsua2 would print and swallow it
  and leave the call half set up).
* Every ``Call``/``Player``/``Recorder``/``Account`` is referenced by the engine (a garbage
  collected ``Call`` answers 603) and is dropped on the pj thread *before* ``libDestroy``;
  a survivor aborts the process later.
* pjsua2 allows one Endpoint per process. We create one ``pj.Endpoint`` object for the
  whole process, never let Python delete it, and run ``libCreate``/``libDestroy`` on it
  for every engine start/stop. Hence only one ``SipEngine`` can run at a time per process;
  starting a second raises :class:`EngineBusyError`.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import functools
import gc
import ipaddress
import itertools
import logging
import queue
import random
import threading
import time
import uuid
import weakref
from collections import OrderedDict
from collections.abc import Callable, Iterable
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import unquote

import pjsua2 as pj

from telephony.events import (
    InviteRejected,
    LegAnswered,
    LegDtmf,
    LegEnded,
    LegIncoming,
    LegRinging,
)
from telephony.media import FrameSink, FrameSource, frame_bytes

log = logging.getLogger(__name__)
# A leg whose 200 is never ACKed is hung up at most this many times, one tick apart: under
# load pjsip may already be ending the session ("INVITE session already terminated"), and
# every further try only logs a warning.
NO_ACK_HANGUP_TRIES = 3

T = TypeVar("T")

__all__ = [
    "EngineBusyError",
    "EngineConfig",
    "FrameSink",
    "FrameSource",
    "InviteRejected",
    "LegAnswered",
    "LegDtmf",
    "LegEnded",
    "LegIncoming",
    "LegRinging",
    "SipEngine",
    "SipEngineError",
    "UnknownLegError",
    "build_call_cap",
    "parse_sip_user",
    "parse_uri",
]


# --------------------------------------------------------------------------- config/events


@dataclass(frozen=True)
class EngineConfig:
    """Static configuration of one SipEngine."""

    host: str = "127.0.0.1"
    port: int = 5060  # 0 = pick a free port; read back with SipEngine.bound_port
    transports: tuple[str, ...] = ("udp", "tcp")
    allowed_sources: tuple[str, ...] = ("127.0.0.1/32",)
    max_calls: int = 4  # clamped to the build's PJSUA_MAX_CALLS; see effective_max_calls
    clock_rate: int = 16000
    rtp_port: int = 0  # 0 = random start in 20000-40000 (fixed ports collide on shared hosts)
    user_agent: str = "Hotline"
    # Highest priority first; every other codec is disabled.
    codecs: tuple[str, ...] = ("PCMA/8000", "PCMU/8000", "G722/16000")
    log_level: int = 1  # pjsip console log level (0-6); >1 is noisy
    # Unanswered legs (incoming not answered with 200, outgoing not picked up) are ended
    # after this many seconds (incoming: 480, outgoing: CANCEL) so a forgotten or hostile
    # INVITE cannot hold one of the few call slots forever. 0 disables.
    ring_timeout_s: float = 120.0
    # An incoming leg answered with 200 and not ACKed within this many seconds is hung up
    # (BYE at once, not after pjsip's 32 s of 200 retransmissions). 0 disables.
    ack_timeout_s: float = 6.0
    # pjsip's transaction timeout (timer B/F/H, RFC 3261 default 64*T1 = 32 s). pjsua keeps
    # a call slot until its BYE transaction ends, and a peer that never ACKs rarely answers
    # a BYE: with 16 s the slot of such a call is back after ack_timeout_s + 16 s < 32 s.
    # Set through pjsip's C API (pjsua2 does not expose it); 0 keeps pjsip's default.
    transaction_timeout_s: float = 16.0
    start_timeout_s: float = 15.0
    stop_timeout_s: float = 10.0
    # Behind the SIP guard (telephony/guard.py) SIP is on loopback but RTP must stay on the
    # public address, and the worker's own calls go out through the guard.
    media_host: str = ""  # empty: host
    outbound_proxy: str = ""  # e.g. "sip:127.0.0.1:5060;lr;transport=udp"; empty: direct


class SipEngineError(RuntimeError):
    """A command failed inside pjsua2 or the engine is not in a state to run it."""


class EngineBusyError(SipEngineError):
    """Another SipEngine already runs in this process (pjsua2 allows one Endpoint)."""


class UnknownLegError(SipEngineError, KeyError):
    """The leg id is not (or no longer) known to the engine."""

    def __str__(self) -> str:
        """Return the message without KeyError's quoting."""
        return str(self.args[0]) if self.args else "unknown leg"


def _rejected(
    source: str, code: int, reason: str, from_value: str, to_value: str, call_id: str
) -> InviteRejected:
    """InviteRejected for an allowed (trunk) source, with who called whom."""
    return InviteRejected(
        source, code, reason, trunk=True,
        from_user=parse_sip_user(from_value), from_uri=parse_uri(from_value),
        to_user=parse_sip_user(to_value), to_uri=parse_uri(to_value),
        call_id_header=call_id,
    )  # fmt: skip


# --------------------------------------------------------------------------- URI helpers


def parse_uri(value: str) -> str:
    """Return the bare URI of a From/To value ('"Bob" <sip:1@h>;tag=x' -> 'sip:1@h')."""
    text = value.strip()
    if "<" in text:
        start = text.index("<") + 1
        end = text.find(">", start)
        return text[start:] if end < 0 else text[start:end]
    # addr-spec form: params after the host are header params (;tag=...) by RFC 3261, so
    # cut at the first ';' after the '@' (a ';' before it belongs to the user part).
    at = text.find("@")
    semi = text.find(";", at + 1 if at >= 0 else 0)
    return (text if semi < 0 else text[:semi]).strip()


def parse_sip_user(value: str) -> str:
    """Return the user part of a From/To value or URI ('sip:+8613800138000@h' -> '+86...')."""
    uri = parse_uri(value)
    scheme, sep, rest = uri.partition(":")
    if not sep:
        return ""
    scheme = scheme.lower()
    if scheme == "tel":
        # tel:+8613800138000;phone-context=... -> the number before any parameter
        return unquote(rest.split(";", 1)[0]).strip()
    if scheme not in ("sip", "sips"):
        return ""
    if "@" not in rest:
        return ""  # sip:host has no user part
    userinfo = rest.rsplit("@", 1)[0]
    user = userinfo.split(":", 1)[0]  # drop a password
    user = user.split(";", 1)[0]  # drop user parameters (;phone-context=...)
    return unquote(user).strip()


# --------------------------------------------------------------------------- source ACL


_Rule = ipaddress.IPv4Network | ipaddress.IPv6Network | tuple[str, int]


def _split_host_port(value: str) -> tuple[str, int | None]:
    """Split 'ip', 'ip:port', '[v6]:port' or a bare IPv6 address into (ip, port)."""
    value = value.strip()
    if value.startswith("["):
        host, _, rest = value[1:].partition("]")
        port = rest[1:] if rest.startswith(":") else ""
        return host, int(port) if port else None
    if value.count(":") == 1:
        host, port = value.split(":")
        return host, int(port)
    return value, None


def _compile_sources(sources: Iterable[str]) -> tuple[_Rule, ...]:
    """Parse allowed_sources entries; raises ValueError on a malformed entry."""
    rules: list[_Rule] = []
    for raw in sources:
        entry = raw.strip()
        if not entry:
            continue
        if "/" in entry:
            rules.append(ipaddress.ip_network(entry, strict=False))
            continue
        host, port = _split_host_port(entry)
        addr = ipaddress.ip_address(host)
        if port is None:
            rules.append(ipaddress.ip_network(addr))
        else:
            rules.append((str(addr), port))
    return tuple(rules)


def _source_allowed(rules: tuple[_Rule, ...], source: str) -> bool:
    """True when the 'ip:port' source matches one rule (CIDR, or exact ip:port)."""
    try:
        host, port = _split_host_port(source)
        addr = ipaddress.ip_address(host)
    except ValueError:
        return False
    for rule in rules:
        if isinstance(rule, tuple):
            if rule[0] == str(addr) and rule[1] == port:
                return True
        elif addr.version == rule.version and addr in rule:
            return True
    return False


# --------------------------------------------------------------------------- process-wide endpoint

# pjsua2 allows one Endpoint object per process and Python must never delete it (its C++
# destructor calls into pjlib from whatever thread runs the GC, which aborts). We keep it in
# a module global and disown it; each engine start/stop does libCreate/libDestroy on it.
_ENDPOINT: pj.Endpoint | None = None
_ENGINE_GUARD = threading.Lock()
_RUNNING_ENGINE: SipEngine | None = None


class _Endpoint(pj.Endpoint):  # type: ignore[misc]  # pjsua2 is untyped: base is Any
    """Endpoint subclass that forwards pjsua's own INVITE rejections to the running engine."""

    def onRejectedIncomingCall(self, prm: pj.OnRejectedIncomingCallParam) -> None:
        """Report INVITEs pjsua refused itself (e.g. 486 when all call slots are used)."""
        try:
            engine = _RUNNING_ENGINE
            if engine is not None:
                engine._on_pj_rejected(prm)
        except Exception:
            log.exception("onRejectedIncomingCall failed")


def _get_endpoint() -> pj.Endpoint:
    """Return the process-wide Endpoint object, creating it once (pj thread only)."""
    global _ENDPOINT
    if _ENDPOINT is None:
        try:
            # Someone else in this process may already own one; a second Endpoint() aborts.
            _ENDPOINT = pj.Endpoint.instance()
        except pj.Error:
            ep = _Endpoint()
            ep.thisown = False  # never run ~Endpoint from Python (GC thread, interpreter exit)
            _ENDPOINT = ep
    return _ENDPOINT


@functools.cache
def build_call_cap() -> int:
    """Return the concurrent-call cap compiled into this pjsua2 build (default maxCalls)."""
    # pjsua's default max_calls is min(PJSUA_MAX_CALLS, 32) and larger values are clamped
    # silently, so the default of a fresh UaConfig is the build's real limit.
    return int(pj.UaConfig().maxCalls)


# --------------------------------------------------------------------------- pj-side objects


class _Call(pj.Call):  # type: ignore[misc]  # pjsua2 is untyped: base is Any
    """pjsua2 Call forwarding its callbacks to the engine (holds no strong engine ref)."""

    def __init__(self, engine: SipEngine, acc: pj.Account, leg_id: str, call_id: int = -1) -> None:
        super().__init__(acc, call_id)
        # A weak link: a Call <-> engine cycle could be collected by the GC on a foreign
        # thread, and destroying a Call off the pj thread aborts the process.
        self._engine_ref = _WeakEngine(engine)
        self.leg_id = leg_id

    def _forward(self, handler: str) -> None:
        # Exceptions in pjsua2 callbacks are printed and swallowed by SWIG, leaving the
        # call half set up: catch and log them here instead.
        try:
            engine = self._engine_ref()
            if engine is not None:
                getattr(engine, handler)(self)
        except Exception:
            log.exception("%s failed for %s", handler, self.leg_id)

    def onCallState(self, prm: pj.OnCallStateParam) -> None:
        """Forward a call state change to the engine."""
        self._forward("_on_call_state")

    def onCallMediaState(self, prm: pj.OnCallMediaStateParam) -> None:
        """Forward a media state change to the engine."""
        self._forward("_on_media_state")

    def onDtmfDigit(self, prm: pj.OnDtmfDigitParam) -> None:
        """Report a DTMF digit received on the leg (RFC 4733 or SIP INFO)."""
        try:
            engine = self._engine_ref()
            if engine is not None:
                engine._emit(LegDtmf(self.leg_id, str(prm.digit)))
        except Exception:
            log.exception("onDtmfDigit failed for %s", self.leg_id)


class _Account(pj.Account):  # type: ignore[misc]  # pjsua2 is untyped: base is Any
    """The engine's single local account: receives incoming calls, places outgoing ones."""

    def __init__(self, engine: SipEngine) -> None:
        super().__init__()
        self._engine_ref = _WeakEngine(engine)

    def onIncomingCall(self, prm: pj.OnIncomingCallParam) -> None:
        """Forward an incoming INVITE to the engine."""
        try:
            engine = self._engine_ref()
            if engine is not None:
                engine._on_incoming(self, prm)
        except Exception:
            log.exception("onIncomingCall failed")


class _WeakEngine:
    """Tiny weak reference wrapper (typing-friendly) to a SipEngine."""

    def __init__(self, engine: SipEngine) -> None:
        self._ref = weakref.ref(engine)

    def __call__(self) -> SipEngine | None:
        """Return the engine or None once it was garbage collected."""
        return self._ref()


# --------------------------------------------------------------------------- media ports


def _vector_bytes_slow(vec: Any) -> bytes:
    return bytes(vec)


def _vector_write_slow(vec: Any, data: bytes) -> None:
    vec.assign(data)


def _vector_bytes_fast(vec: Any) -> bytes:
    # SWIG hands out the std::vector<unsigned char> itself; libstdc++ lays it out as three
    # pointers (begin, end, capacity). Reading the bytes at begin costs ~6 us for a 640-byte
    # frame, bytes(vec) ~370 us (one Python call per element): the dominant cost of browser
    # audio otherwise. _pick_vector_copy verifies the layout before this is ever used.
    addr = int(vec.this)
    begin = ctypes.c_void_p.from_address(addr).value
    end = ctypes.c_void_p.from_address(addr + ctypes.sizeof(ctypes.c_void_p)).value
    if not begin or not end:
        return b""
    return ctypes.string_at(begin, end - begin)


def _vector_write_fast(vec: Any, data: bytes) -> None:
    vec.resize(len(data))
    if data:
        begin = ctypes.c_void_p.from_address(int(vec.this)).value
        if begin:
            ctypes.memmove(begin, data, len(data))


@functools.cache
def _pick_vector_copy() -> tuple[Callable[[Any], bytes], Callable[[Any, bytes], None]]:
    """The fast ByteVector copies when they give the same bytes as the slow ones here."""
    probe = bytes(range(256)) * 3
    try:
        vec = pj.ByteVector()
        _vector_write_fast(vec, probe)
        if bytes(vec) == probe and _vector_bytes_fast(vec) == probe:
            return _vector_bytes_fast, _vector_write_fast
    except Exception:
        log.exception("fast ByteVector copy unusable")
    log.warning("using the slow ByteVector copy (~370 us per frame)")
    return _vector_bytes_slow, _vector_write_slow


# Ports of stopped engines: kept alive, never destroyed (see _pj_teardown).
_RETIRED_PORTS: list[_Port] = []


class _Port(pj.AudioMediaPort):  # type: ignore[misc]  # pjsua2 is untyped: base is Any
    """A conference-bridge port fed and drained by Python (browser audio, recording taps).

    Both callbacks run on pjmedia's clock thread, 50 times a second, whether or not anything
    is linked to the port: they only hand bytes to the sink and take bytes from the source,
    which must not block (queues, deques).

    A port is never destroyed while the endpoint lives: closing one detaches it (silent, no
    sink, no source) and keeps it for the next port of the same rate. pjsua2 2.15.1 takes a
    destroyed AudioMediaPort off the bridge asynchronously (pjproject PR #3928) while its
    memory goes at once, so the clock thread could call a freed port: under load workers
    died with SIGSEGV after "'_Port' object has no attribute '_sink'" (fixed upstream after
    2.15.1, pjsua2 PR #4200). An idle port costs two cheap callbacks every 20 ms.
    """

    def __init__(self, rate: int) -> None:
        super().__init__()
        self.rate = rate
        self.port_id = ""
        self._sink: FrameSink | None = None
        self._source: FrameSource | None = None
        self._frame_bytes = frame_bytes(rate)
        self._read, self._write = _pick_vector_copy()
        self._failures = 0

    def attach(self, port_id: str, sink: FrameSink | None, source: FrameSource | None) -> None:
        """Give the port its (new) owner; pj thread."""
        self.port_id, self._failures = port_id, 0
        self._sink, self._source = sink, source

    def detach(self) -> None:
        """Silence the port: it hands nothing on and sends nothing; pj thread."""
        self._sink = self._source = None
        self.port_id = ""

    def onFrameReceived(self, frame: pj.MediaFrame) -> None:
        """Audio the bridge mixed for this port; b"" when nothing was sent to it."""
        sink = self._sink  # read once: the pj thread may detach the port meanwhile
        if sink is None:
            return
        try:
            audio = frame.type == pj.PJMEDIA_FRAME_TYPE_AUDIO
            sink(self._read(frame.buf) if audio else b"")
        except Exception:
            self._failed("onFrameReceived")

    def onFrameRequested(self, frame: pj.MediaFrame) -> None:
        """Audio this port puts on the bridge; silence when the source has nothing."""
        source = self._source
        try:
            data = source(self._frame_bytes) if source is not None else None
            if data:
                self._write(frame.buf, data)
                frame.size = len(data)
                frame.type = pj.PJMEDIA_FRAME_TYPE_AUDIO
            else:
                frame.type = pj.PJMEDIA_FRAME_TYPE_NONE
        except Exception:
            self._failed("onFrameRequested")

    def _failed(self, where: str) -> None:
        # 50 calls a second: log the first failures, not every one.
        self._failures += 1
        if self._failures <= 3:
            log.exception("%s failed for port %s", where, self.port_id)


@dataclass
class _Leg:
    """Per-leg state, touched only on the pj thread."""

    leg_id: str
    call: _Call | None
    outgoing: bool
    source: str = ""
    created: float = field(default_factory=time.monotonic)
    hidden: bool = False  # rejected at the door: never reported, never counted
    local_end: bool = False  # we hung up / rejected -> LegEnded.by_remote=False
    ringing_sent: bool = False
    ok_sent_at: float | None = None  # monotonic time our 200 went out (incoming legs)
    no_ack_hangups: int = 0  # hang-ups tried because our 200 was never ACKed
    answered_sent: bool = False
    ended: bool = False
    media_active: bool = False
    play_path: str | None = None
    play_loop: bool = True
    player: pj.AudioMediaPlayer | None = None
    record_path: str | None = None
    recorder: pj.AudioMediaRecorder | None = None


_STOP = object()  # sentinel for the dispatcher queue


# --------------------------------------------------------------------------- engine


class SipEngine:
    """SIP user agent whose pjsua2 endpoint lives on one dedicated thread."""

    def __init__(self, config: EngineConfig, on_event: Callable[[object], None]) -> None:
        """Prepare the engine; nothing touches pjsua2 until start()."""
        self.config = config
        self._on_event = on_event
        self._rules = _compile_sources(config.allowed_sources)
        self._rules_lock = threading.Lock()
        self._cmd_q: queue.Queue[tuple[Callable[[], Any], Future[Any]] | None] = queue.Queue()
        self._evt_q: queue.Queue[object] = queue.Queue()
        self._pj_thread: threading.Thread | None = None
        self._dispatch_thread: threading.Thread | None = None
        self._pj_ident: int | None = None
        self._ready = threading.Event()
        self._start_error: BaseException | None = None
        self._running = False  # commands accepted
        self._stopping = False
        self._state_lock = threading.Lock()
        self._bound_port = 0
        self._effective_max = 0
        # pj-thread-only state
        self._ep: pj.Endpoint | None = None
        self._acc: _Account | None = None
        self._legs: dict[str, _Leg] = {}
        self._reap: list[str] = []
        self._transport_ids: list[int] = []
        # snapshot of visible live legs for active_legs() from any thread
        self._visible: set[str] = set()
        self._visible_lock = threading.Lock()
        self._seq = itertools.count(1)
        self._recent_refusals: OrderedDict[str, float] = OrderedDict()  # pj thread only
        # Bridge media by name: legs by leg id, Python ports by port id. Links are directed
        # (source -> sink) and kept here, because this build's getPortInfo().listeners is
        # garbage; a link whose ends have no audio yet is connected once they do.
        self._ports: dict[str, _Port] = {}  # pj thread only
        self._idle_ports: list[_Port] = []  # closed, kept for reuse (see _Port); pj thread
        self._links: set[tuple[str, str]] = set()  # pj thread only

    # ------------------------------------------------------------------ properties

    @property
    def bound_port(self) -> int:
        """SIP port actually bound (useful with port=0)."""
        return self._bound_port

    @property
    def effective_max_calls(self) -> int:
        """Concurrent call limit after clamping to the pjsua2 build."""
        return self._effective_max or max(1, min(self.config.max_calls, build_call_cap()))

    @property
    def sip_address(self) -> str:
        """'host:port' the engine listens on."""
        return f"{self.config.host}:{self._bound_port}"

    @property
    def running(self) -> bool:
        """True between a successful start() and stop()."""
        return self._running

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> None:
        """Start the pj and dispatcher threads; block until the endpoint is up or raise."""
        global _RUNNING_ENGINE
        with _ENGINE_GUARD:
            if _RUNNING_ENGINE is not None:
                raise EngineBusyError(
                    "a SipEngine already runs in this process; pjsua2 allows one Endpoint "
                    "per process - stop it first or use another process"
                )
            if self._pj_thread is not None:
                raise SipEngineError("a SipEngine cannot be restarted; create a new one")
            _RUNNING_ENGINE = self
        self._dispatch_thread = threading.Thread(
            target=self._dispatch_loop, name="sip-events", daemon=True
        )
        self._dispatch_thread.start()
        # Daemon so a forgotten stop() cannot hang interpreter exit; the atexit hook below
        # still stops it cleanly (libDestroy) before daemon threads are torn down.
        self._pj_thread = threading.Thread(target=self._pj_main, name="sip-pj", daemon=True)
        self._pj_thread.start()
        if not self._ready.wait(self.config.start_timeout_s):
            self._start_error = SipEngineError("SIP engine did not start in time")
        if self._start_error is not None:
            err = self._start_error
            self._start_error = None
            with self._state_lock:
                self._stopping = True
                self._running = False
            self._shutdown_threads()
            raise err

    def stop(self) -> None:
        """Hang up every leg, release all pj objects on the pj thread, libDestroy; idempotent."""
        with self._state_lock:
            if self._stopping or self._pj_thread is None:
                return
            self._stopping = True
            self._running = False
        self._shutdown_threads()

    def _shutdown_threads(self) -> None:
        """Ask the pj thread to finish, wait for it, then stop the dispatcher."""
        global _RUNNING_ENGINE
        self._cmd_q.put(None)  # wakes the pj loop's drain and tells it to shut down
        if self._pj_thread is not None and self._pj_thread is not threading.current_thread():
            self._pj_thread.join(self.config.stop_timeout_s + 5)
            if self._pj_thread.is_alive():
                log.error("pj thread did not stop; leaving the endpoint to the process exit")
        self._evt_q.put(_STOP)
        if (
            self._dispatch_thread is not None
            and self._dispatch_thread is not threading.current_thread()
        ):
            self._dispatch_thread.join(5)
        with _ENGINE_GUARD:
            if _RUNNING_ENGINE is self and not (
                self._pj_thread is not None and self._pj_thread.is_alive()
            ):
                _RUNNING_ENGINE = None

    def __enter__(self) -> SipEngine:
        """Start the engine in a with-block."""
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        """Stop the engine at the end of a with-block."""
        self.stop()

    # ------------------------------------------------------------------ public commands

    def set_allowed_sources(self, sources: Iterable[str]) -> None:
        """Replace the INVITE source allow-list (CIDRs, 'ip' or exact 'ip:port'); thread-safe."""
        rules = _compile_sources(list(sources))  # validate before swapping
        with self._rules_lock:
            self._rules = rules

    def answer(self, leg_id: str, code: int = 200) -> Future[None]:
        """Answer an incoming leg with 180, 183 (early media) or 200."""
        if code not in (180, 183, 200):
            raise ValueError(f"answer code must be 180, 183 or 200, not {code}")
        return self._submit(lambda: self._do_answer(leg_id, code))

    def reject(self, leg_id: str, code: int = 486) -> Future[None]:
        """Refuse an unanswered incoming leg with a final status code (4xx-6xx)."""
        if not 400 <= code <= 699:
            raise ValueError(f"reject code must be 400-699, not {code}")
        return self._submit(lambda: self._do_hangup(leg_id, code))

    def hangup(self, leg_id: str) -> Future[None]:
        """End a leg (BYE, CANCEL or 603 depending on its state)."""
        return self._submit(lambda: self._do_hangup(leg_id, 0))

    def dial(self, uri: str, from_user: str, *, leg_id: str | None = None) -> Future[str]:
        """Place an outgoing call to uri with From user from_user; result is the leg id."""
        new_id = leg_id or self._new_leg_id("out")
        return self._submit(lambda: self._do_dial(uri, from_user, new_id))

    def play(self, leg_id: str, wav_path: str, loop: bool = True) -> Future[None]:
        """Play a WAV file to the leg (e.g. music on hold), replacing any current player."""
        return self._submit(lambda: self._do_play(leg_id, str(wav_path), loop))

    def stop_play(self, leg_id: str) -> Future[None]:
        """Stop the leg's player, if any."""
        return self._submit(lambda: self._do_stop_play(leg_id))

    def bridge(self, leg_a: str, leg_b: str) -> Future[None]:
        """Stop the players on both legs and connect their audio both ways."""
        return self._submit(lambda: self._do_bridge(leg_a, leg_b))

    def unbridge(self, leg_a: str, leg_b: str) -> Future[None]:
        """Disconnect the audio between two bridged legs."""
        return self._submit(lambda: self._do_unbridge(leg_a, leg_b))

    def record(self, leg_id: str, wav_path: str) -> Future[None]:
        """Record the audio received from the leg to a WAV file (until the leg ends)."""
        return self._submit(lambda: self._do_record(leg_id, str(wav_path)))

    def stop_record(self, leg_id: str) -> Future[None]:
        """Stop and finalise the leg's recording, if any."""
        return self._submit(lambda: self._do_stop_record(leg_id))

    def open_port(
        self,
        port_id: str,
        rate: int,
        *,
        sink: FrameSink | None = None,
        source: FrameSource | None = None,
    ) -> Future[None]:
        """Add a Python port to the bridge: `sink` gets every 20 ms frame sent to it (b"" when
        none), `source` is asked for each frame it sends (None: silence). Both run on the
        media clock thread and must not block. Ports use no call slot."""
        if rate not in (8000, 16000, 32000, 48000):
            raise ValueError(f"port rate must be 8, 16, 32 or 48 kHz, not {rate}")
        return self._submit(lambda: self._do_open_port(port_id, rate, sink, source))

    def close_port(self, port_id: str) -> Future[None]:
        """Unlink the port and take it off the bridge (unknown ids are ignored)."""
        return self._submit(lambda: self._do_close_port(port_id))

    def connect(self, source: str, sink: str) -> Future[None]:
        """Send the audio of `source` (a leg or port id) to `sink`, one way."""
        return self._submit(lambda: self._do_connect(source, sink))

    def disconnect(self, source: str, sink: str) -> Future[None]:
        """Stop sending the audio of `source` to `sink` (a missing link is ignored)."""
        return self._submit(lambda: self._do_disconnect(source, sink))

    def send_dtmf(self, leg_id: str, digits: str) -> Future[None]:
        """Send DTMF digits (0-9, *, #, A-D) to the leg, RFC 4733 in the RTP stream."""
        if not digits or any(d not in "0123456789*#ABCDabcd" for d in digits):
            raise ValueError(f"not DTMF digits: {digits!r}")
        return self._submit(lambda: self._do_send_dtmf(leg_id, digits.upper()))

    def leg_rate(self, leg_id: str) -> Future[int]:
        """Sample rate of the leg's codec (8000 for G.711, 16000 for G.722); 0 without media."""
        return self._submit(lambda: self._do_leg_rate(leg_id))

    def active_legs(self) -> list[str]:
        """Ids of reported legs that have not ended yet (thread-safe snapshot)."""
        with self._visible_lock:
            return sorted(self._visible)

    # ------------------------------------------------------------------ command plumbing

    def _new_leg_id(self, prefix: str) -> str:
        """Unique, readable leg id."""
        return f"{prefix}-{next(self._seq)}-{uuid.uuid4().hex[:8]}"

    def _submit(self, fn: Callable[[], T]) -> Future[T]:
        """Run fn on the pj thread (inline when already there); return its Future."""
        fut: Future[T] = Future()
        if threading.get_ident() == self._pj_ident:
            self._run_command(fn, fut)
            return fut
        # Check and enqueue under the lock stop() takes, so no command can land behind the
        # stop sentinel and wait forever.
        with self._state_lock:
            if not self._running:
                fut.set_exception(SipEngineError("SIP engine is not running"))
                return fut
            self._cmd_q.put((fn, fut))
        return fut

    @staticmethod
    def _run_command(fn: Callable[[], T], fut: Future[T]) -> None:
        """Execute one command on the pj thread, mapping errors to traceback-free exceptions."""
        if not fut.set_running_or_notify_cancel():
            return
        error: BaseException | None = None
        try:
            result = fn()
        except pj.Error as exc:
            # A stored pj.Error traceback keeps frames (and pj objects) alive past
            # libDestroy, which aborts the process later: hand out a fresh plain exception.
            error = SipEngineError(_pj_error_text(exc))
        except Exception as exc:
            exc.__traceback__ = None
            exc.__context__ = None
            exc.__cause__ = None
            error = exc
        if error is not None:
            fut.set_exception(error)
        else:
            fut.set_result(result)

    def _emit(self, event: object) -> None:
        """Queue an event for the dispatcher thread (never call user code on the pj thread)."""
        self._evt_q.put(event)

    def _dispatch_loop(self) -> None:
        """Deliver queued events to on_event, one at a time, swallowing its exceptions."""
        while True:
            event = self._evt_q.get()
            if event is _STOP:
                return
            try:
                self._on_event(event)
            except Exception:
                log.exception("on_event handler failed for %r", event)

    # ------------------------------------------------------------------ pj thread main

    def _pj_main(self) -> None:
        """Own the endpoint: init, loop events + commands, tear down."""
        self._pj_ident = threading.get_ident()
        try:
            self._pj_init()
        except BaseException as exc:
            self._start_error = (
                SipEngineError(_pj_error_text(exc)) if isinstance(exc, pj.Error) else exc
            )
            self._start_error.__traceback__ = None
            self._pj_teardown()
            self._ready.set()
            return
        with self._state_lock:
            # Accept commands from here on (start() also waits for _ready).
            self._running = not self._stopping
        self._ready.set()
        # Python's cycle collector runs on whichever thread happens to allocate, and a pjsua2
        # object it frees there (a port, a call, a player caught in a reference cycle)
        # is destroyed off the pj thread: the process dies with a segmentation fault (seen
        # in CI, "Garbage-collecting" on the call-record writer's thread). While the endpoint
        # lives, the collector runs here only, on the same thresholds.
        collecting = gc.isenabled()
        gc.disable()
        try:
            self._pj_loop()
        finally:
            try:
                self._pj_teardown()
            finally:
                if collecting:
                    gc.enable()

    def _pj_init(self) -> None:
        """libCreate/libInit, null audio device, codecs, transports, account, libStart."""
        ep = _get_endpoint()
        self._ep = ep
        ep.libCreate()
        cfg = pj.EpConfig()
        cap = build_call_cap()
        self._effective_max = max(1, min(self.config.max_calls, cap))
        cfg.uaConfig.threadCnt = 0  # no pjsua worker threads: only our thread touches pj
        cfg.uaConfig.mainThreadOnly = True  # callbacks run inside our libHandleEvents
        cfg.uaConfig.maxCalls = self._effective_max
        cfg.uaConfig.userAgent = self.config.user_agent
        cfg.logConfig.level = self.config.log_level
        cfg.logConfig.consoleLevel = self.config.log_level
        cfg.medConfig.clockRate = self.config.clock_rate
        cfg.medConfig.sndClockRate = self.config.clock_rate
        cfg.medConfig.threadCnt = 1
        ep.libInit(cfg)
        if self.config.transaction_timeout_s > 0:
            _set_transaction_timeout(int(self.config.transaction_timeout_s * 1000))
        # No sound card here: without a null device startTransmit fails and recordings
        # stay empty.
        ep.audDevManager().setNullDev()
        self._set_codecs(ep)
        self._create_transports(ep)
        ep.libStart()
        acc_cfg = pj.AccountConfig()
        acc_cfg.idUri = f"sip:hotline@{self._uri_host()}:{self._bound_port}"
        acc_cfg.mediaConfig.transportConfig.port = self.config.rtp_port or (
            random.randrange(20000, 40000, 2)
        )
        acc_cfg.mediaConfig.transportConfig.portRange = 1000
        media_host = self.config.media_host or self.config.host
        if media_host not in ("", "0.0.0.0", "::"):
            acc_cfg.mediaConfig.transportConfig.boundAddress = media_host
        if self.config.outbound_proxy:
            acc_cfg.sipConfig.proxies.append(self.config.outbound_proxy)
        acc = _Account(self)
        acc.create(acc_cfg, True)  # default account: gets every incoming INVITE
        self._acc = acc

    def _uri_host(self) -> str:
        """Host part for our own URIs (IPv6 in brackets)."""
        host = self.config.host
        return f"[{host}]" if ":" in host and not host.startswith("[") else host

    def _set_codecs(self, ep: pj.Endpoint) -> None:
        """Disable every codec, then enable the configured ones in order."""
        available = [c.codecId for c in ep.codecEnum2()]
        for codec_id in available:
            ep.codecSetPriority(codec_id, 0)
        priority = 254  # 255 is stored as 254 anyway
        for wanted in self.config.codecs:
            for codec_id in available:
                if codec_id.lower().startswith(wanted.lower()):
                    ep.codecSetPriority(codec_id, priority)
                    priority -= 1

    def _create_transports(self, ep: pj.Endpoint) -> None:
        """Bind the configured transports, all on one port number (retry for port=0)."""
        kinds = {
            "udp": pj.PJSIP_TRANSPORT_UDP,
            "tcp": pj.PJSIP_TRANSPORT_TCP,
        }
        wanted = [t.lower() for t in self.config.transports]
        unknown = [t for t in wanted if t not in kinds]
        if unknown or not wanted:
            raise SipEngineError(f"unsupported transports {self.config.transports!r}")
        attempts = 8 if self.config.port == 0 else 1
        last_error = ""
        for _ in range(attempts):
            port = self.config.port
            created: list[int] = []
            try:
                for kind in wanted:
                    tc = pj.TransportConfig()
                    tc.port = port
                    if self.config.host:
                        tc.boundAddress = self.config.host
                    tid = ep.transportCreate(kinds[kind], tc)
                    created.append(tid)
                    if port == 0:
                        # First transport picks the number, the others must reuse it.
                        port = _port_of(ep.transportGetInfo(tid).localName)
                self._transport_ids = created
                self._bound_port = port
                return
            except pj.Error as exc:
                last_error = _pj_error_text(exc)
                for tid in created:
                    with contextlib.suppress(pj.Error):
                        ep.transportClose(tid)
        raise SipEngineError(f"cannot bind SIP transports {wanted} on port: {last_error}")

    def _pj_loop(self) -> None:
        """Poll pjsip and run queued commands until stop() is requested."""
        ep = self._ep
        assert ep is not None
        next_sweep = time.monotonic() + 1.0
        while True:
            ep.libHandleEvents(10)
            if self._drain_commands():
                break
            self._reap_legs()
            _collect_garbage()
            if time.monotonic() >= next_sweep:
                next_sweep = time.monotonic() + 0.5
                if self.config.ring_timeout_s > 0:
                    self._expire_unanswered()
                if self.config.ack_timeout_s > 0:
                    self._expire_unacknowledged()
        self._pj_shutdown_calls()

    def _expire_unacknowledged(self) -> None:
        """Hang up incoming legs whose 200 was not ACKed within ack_timeout_s."""
        limit = time.monotonic() - self.config.ack_timeout_s
        for leg in list(self._legs.values()):
            if leg.ended or leg.hidden or leg.answered_sent or leg.call is None:
                continue
            if leg.ok_sent_at is None or leg.ok_sent_at > limit:
                continue
            if leg.no_ack_hangups >= NO_ACK_HANGUP_TRIES:
                continue  # pjsip is ending it (its DISCONNECTED follows); asking again is noise
            leg.no_ack_hangups += 1
            leg.local_end = True
            op = pj.CallOpParam()
            # 408 is the cause pjsip itself uses when the ACK never comes; with any other
            # cause pjsip holds the BYE back until an ACK that will not arrive (pjproject
            # #1712), and the call slot stays taken for 64 s.
            op.statusCode = 408
            op.reason = "No ACK"
            try:
                leg.call.hangup(op)
            except pj.Error as exc:
                log.warning("no-ACK hangup of %s: %s", leg.leg_id, _pj_error_text(exc))

    def _expire_unanswered(self) -> None:
        """End legs that rang longer than ring_timeout_s (frees their call slot)."""
        limit = time.monotonic() - self.config.ring_timeout_s
        for leg in list(self._legs.values()):
            if leg.ended or leg.hidden or leg.answered_sent or leg.local_end or leg.call is None:
                continue
            if leg.created > limit:
                continue
            leg.local_end = True
            op = pj.CallOpParam()
            if not leg.outgoing:
                op.statusCode = 480
                op.reason = "Not answered"
            try:
                leg.call.hangup(op)
            except pj.Error as exc:
                log.warning("ring timeout hangup of %s: %s", leg.leg_id, _pj_error_text(exc))

    def _drain_commands(self) -> bool:
        """Run every queued command; True when the stop sentinel was seen."""
        while True:
            try:
                item = self._cmd_q.get_nowait()
            except queue.Empty:
                return False
            if item is None:
                return True
            fn, fut = item
            self._run_command(fn, fut)

    def _pj_shutdown_calls(self) -> None:
        """Hang up every call and keep polling until they are gone (or a timeout)."""
        ep = self._ep
        assert ep is not None
        for leg in list(self._legs.values()):
            if not leg.ended:
                leg.local_end = True
        try:
            ep.hangupAllCalls()
        except pj.Error as exc:
            log.warning("hangupAllCalls: %s", _pj_error_text(exc))
        deadline = time.monotonic() + self.config.stop_timeout_s
        while time.monotonic() < deadline and any(not leg.ended for leg in self._legs.values()):
            ep.libHandleEvents(10)
            self._reap_legs()
        # Give the BYE/ACK transactions a moment to go out before the stack disappears.
        end = time.monotonic() + 0.2
        while time.monotonic() < end:
            ep.libHandleEvents(10)
        # Fail commands queued after stop() was requested.
        self._fail_queued_commands()

    def _fail_queued_commands(self) -> None:
        """Fail every command still queued: the engine will not run it."""
        while True:
            try:
                item = self._cmd_q.get_nowait()
            except queue.Empty:
                break
            if item is not None:
                item[1].set_exception(SipEngineError("SIP engine stopped"))

    def _pj_teardown(self) -> None:
        """Drop every pj object on this thread, then libDestroy."""
        for leg in list(self._legs.values()):
            if not leg.ended and not leg.hidden:
                # Stopped without DISCONNECTED (timeout): still tell the app it ended.
                self._emit(LegEnded(leg.leg_id, 0, "engine stopped", False))
            self._release_media(leg)
            leg.call = None
        self._legs.clear()
        self._reap.clear()
        self._links.clear()
        # Ports are not destroyed either (see _Port): destroyed now they would race the
        # clock until libDestroy, and their pending removal aborts libDestroy; destroyed
        # after it, they abort too. Silenced and disowned, they stay until the process ends
        # (a few per engine; tests start several engines in one process).
        for port in [*self._ports.values(), *self._idle_ports]:
            port.detach()
            port.thisown = False  # Python never runs ~AudioMediaPort for it
            _RETIRED_PORTS.append(port)
        self._ports.clear()
        self._idle_ports.clear()
        with self._visible_lock:
            self._visible.clear()
        if self._acc is not None:
            with contextlib.suppress(pj.Error):
                self._acc.shutdown()
            self._acc = None
        ep = self._ep
        self._ep = None
        if ep is not None:
            try:
                ep.libDestroy()
            except pj.Error as exc:
                log.warning("libDestroy: %s", _pj_error_text(exc))
        # Anything still queued after libDestroy can only fail.
        self._fail_queued_commands()

    # ------------------------------------------------------------------ pj callbacks (pj thread)

    def _on_incoming(self, acc: _Account, prm: pj.OnIncomingCallParam) -> None:
        """Screen the INVITE's source, then report it as LegIncoming (no auto-answer)."""
        source = str(prm.rdata.srcAddress)
        leg_id = self._new_leg_id("in")
        call = _Call(self, acc, leg_id, prm.callId)
        # Keep the Call referenced before anything else: a collected Call answers 603.
        leg = _Leg(leg_id=leg_id, call=call, outgoing=False, source=source, hidden=True)
        self._legs[leg_id] = leg
        with self._rules_lock:
            rules = self._rules
        if not _source_allowed(rules, source):
            # No parsing and no record for strangers: a flood must cost as little as possible.
            self._refuse(leg, InviteRejected(source, 403, "Forbidden"))
            return
        from_value, to_value, call_id = self._incoming_identity(call, prm)
        if self._visible_count() >= self._effective_max:
            self._refuse(leg, _rejected(source, 486, "Busy Here", from_value, to_value, call_id))
            return
        leg.hidden = False
        with self._visible_lock:
            self._visible.add(leg_id)
        self._emit(
            LegIncoming(
                leg_id=leg_id,
                source=source,
                from_user=parse_sip_user(from_value),
                from_uri=parse_uri(from_value),
                to_user=parse_sip_user(to_value),
                to_uri=parse_uri(to_value),
                call_id_header=call_id,
            )
        )

    def _incoming_identity(self, call: _Call, prm: pj.OnIncomingCallParam) -> tuple[str, str, str]:
        """From, To and Call-ID of an incoming call (CallInfo, falling back to the raw INVITE)."""
        try:
            ci = call.getInfo()
            return str(ci.remoteUri), str(ci.localUri), str(ci.callIdString)
        except pj.Error:
            pass
        headers = _raw_headers(str(prm.rdata.wholeMsg))
        return headers.get("from", ""), headers.get("to", ""), headers.get("call-id", "")

    def _refuse(self, leg: _Leg, rejected: InviteRejected) -> None:
        """Answer an unwanted INVITE with a final code at once so its slot frees immediately."""
        leg.local_end = True
        self._emit(rejected)
        if rejected.trunk and rejected.call_id_header:
            # Should pjsua report this refusal too (onRejectedIncomingCall), it is one caller.
            self._recent_refusals[rejected.call_id_header] = time.monotonic()
        op = pj.CallOpParam()
        op.statusCode = rejected.status_code
        op.reason = rejected.reason
        assert leg.call is not None
        leg.call.hangup(op)  # may deliver DISCONNECTED synchronously; leg is registered

    def _on_pj_rejected(self, prm: pj.OnRejectedIncomingCallParam) -> None:
        """pjsua refused an INVITE by itself (no slot, bad SDP...): report InviteRejected."""
        try:
            source = str(prm.rdata.srcAddress)
        except Exception:
            source = ""
        code, reason = int(prm.statusCode), str(prm.reason)
        with self._rules_lock:
            rules = self._rules
        if not source or not _source_allowed(rules, source):
            self._emit(InviteRejected(source, code, reason))
            return
        try:
            headers = _raw_headers(str(prm.rdata.wholeMsg))
        except Exception:
            headers = {}
        call_id = headers.get("call-id", "")
        # pjsua answers 486 statelessly: a retransmitted INVITE (the 486 was lost) is refused
        # again and must not count as a second lost caller.
        now = time.monotonic()
        while self._recent_refusals and next(iter(self._recent_refusals.values())) < now - 64:
            self._recent_refusals.popitem(last=False)
        if call_id and call_id in self._recent_refusals:
            return
        if call_id:
            self._recent_refusals[call_id] = now
            while len(self._recent_refusals) > 1024:
                self._recent_refusals.popitem(last=False)
        from_value = headers.get("from") or str(prm.remoteInfo)
        to_value = headers.get("to") or str(prm.localInfo)
        self._emit(_rejected(source, code, reason, from_value, to_value, call_id))

    def _on_call_state(self, call: _Call) -> None:
        """Translate a pjsua call state into Leg* events."""
        leg = self._legs.get(call.leg_id)
        if leg is None or leg.ended:
            return
        try:
            ci = call.getInfo()
        except pj.Error:
            return  # tearing down; DISCONNECTED will follow or teardown reports it
        state = ci.state
        if state == pj.PJSIP_INV_STATE_EARLY and leg.outgoing and not leg.ringing_sent:
            if ci.lastStatusCode in (180, 183):
                leg.ringing_sent = True
                self._emit(LegRinging(leg.leg_id))
        elif state == pj.PJSIP_INV_STATE_CONFIRMED and not leg.answered_sent:
            leg.answered_sent = True
            if not leg.hidden:
                self._emit(LegAnswered(leg.leg_id))
        elif state == pj.PJSIP_INV_STATE_DISCONNECTED:
            leg.ended = True
            leg.media_active = False
            # Dropping the Call inside its own callback would free the object under pjsua2's
            # feet: the pj loop reaps it once this callback has returned.
            self._reap.append(leg.leg_id)
            if not leg.hidden:
                with self._visible_lock:
                    self._visible.discard(leg.leg_id)
                self._emit(
                    LegEnded(
                        leg.leg_id,
                        int(ci.lastStatusCode),
                        str(ci.lastReason),
                        not leg.local_end,
                        unconfirmed=leg.ok_sent_at is not None and not leg.answered_sent,
                    )
                )

    def _on_media_state(self, call: _Call) -> None:
        """Note whether audio is up and (re)apply the leg's player/bridge/recorder."""
        leg = self._legs.get(call.leg_id)
        if leg is None or leg.ended:
            return
        leg.media_active = self._audio_media(leg) is not None
        if leg.media_active:
            self._apply_media(leg)

    # ------------------------------------------------------------------ media helpers (pj thread)

    def _audio_media(self, leg: _Leg) -> pj.AudioMedia | None:
        """The leg's active audio media, or None (guarded: getInfo raises while tearing down)."""
        if leg.call is None or leg.ended:
            return None
        try:
            ci = leg.call.getInfo()
            for media in ci.media:
                if (
                    media.type == pj.PJMEDIA_TYPE_AUDIO
                    and media.status
                    in (pj.PJSUA_CALL_MEDIA_ACTIVE, pj.PJSUA_CALL_MEDIA_REMOTE_HOLD)
                    and media.audioConfSlot >= 0
                ):
                    return leg.call.getAudioMedia(media.index)
        except pj.Error:
            return None
        return None

    def _apply_media(self, leg: _Leg) -> None:
        """Create/connect what the leg should have: player, bridge links, recorder."""
        am = self._audio_media(leg)
        if am is None:
            return
        if leg.play_path is not None:
            if leg.player is None:
                player = pj.AudioMediaPlayer()
                options = 0 if leg.play_loop else pj.PJMEDIA_FILE_NO_LOOP
                player.createPlayer(leg.play_path, options)
                leg.player = player
            leg.player.startTransmit(am)
        self._connect_links(leg.leg_id)
        if leg.record_path is not None:
            if leg.recorder is None:
                recorder = pj.AudioMediaRecorder()
                recorder.createRecorder(leg.record_path)
                leg.recorder = recorder
            am.startTransmit(leg.recorder)

    def _drop_player(self, leg: _Leg) -> None:
        """Disconnect and destroy the leg's player."""
        player, leg.player = leg.player, None
        leg.play_path = None
        if player is not None:
            _stop_transmit(player, self._audio_media(leg))
        del player  # ~AudioMediaPlayer on the pj thread

    def _drop_recorder(self, leg: _Leg) -> None:
        """Disconnect and destroy the leg's recorder (finalises the WAV header)."""
        recorder, leg.recorder = leg.recorder, None
        leg.record_path = None
        if recorder is not None:
            _stop_transmit(self._audio_media(leg), recorder)
        del recorder

    def _media(self, name: str) -> Any:
        """The bridge media called `name`: a port, or a leg's audio; None when it has none."""
        port = self._ports.get(name)
        if port is not None:
            return port
        leg = self._legs.get(name)
        return self._audio_media(leg) if leg is not None else None

    def _connect_links(self, name: str) -> None:
        """Connect every link touching `name` whose both ends have audio now."""
        for src, dst in list(self._links):
            if name not in (src, dst):
                continue
            src_m, dst_m = self._media(src), self._media(dst)
            if src_m is not None and dst_m is not None:
                src_m.startTransmit(dst_m)

    def _drop_link(self, src: str, dst: str) -> None:
        """Forget and break one directed link."""
        if (src, dst) not in self._links:
            return
        self._links.discard((src, dst))
        _stop_transmit(self._media(src), self._media(dst))

    def _drop_links_of(self, name: str) -> None:
        """Break every link touching `name`."""
        for src, dst in [link for link in self._links if name in link]:
            self._drop_link(src, dst)

    def _unlink(self, leg: _Leg, peer: _Leg) -> None:
        """Remove the bridge link between two legs, both directions."""
        self._drop_link(leg.leg_id, peer.leg_id)
        self._drop_link(peer.leg_id, leg.leg_id)

    def _release_media(self, leg: _Leg) -> None:
        """Release a leg's player, recorder and bridge links."""
        self._drop_links_of(leg.leg_id)
        with contextlib.suppress(pj.Error):
            self._drop_player(leg)
        with contextlib.suppress(pj.Error):
            self._drop_recorder(leg)

    def _reap_legs(self) -> None:
        """Release media and drop the Call of legs that reached DISCONNECTED."""
        while self._reap:
            leg_id = self._reap.pop()
            leg = self._legs.pop(leg_id, None)
            if leg is None:
                continue
            self._release_media(leg)
            leg.call = None  # last reference: ~Call runs here, on the pj thread

    def _visible_count(self) -> int:
        """Number of live, reported legs (incoming and outgoing)."""
        with self._visible_lock:
            return len(self._visible)

    # ------------------------------------------------------------------ command bodies (pj thread)

    def _leg(self, leg_id: str) -> _Leg:
        """Return a live, reported leg or raise UnknownLegError."""
        leg = self._legs.get(leg_id)
        if leg is None or leg.hidden or leg.ended:
            raise UnknownLegError(f"unknown or ended leg {leg_id!r}")
        return leg

    def _do_answer(self, leg_id: str, code: int) -> None:
        """Send 180/183/200 on an incoming leg."""
        leg = self._leg(leg_id)
        if leg.outgoing:
            raise SipEngineError(f"leg {leg_id} is outgoing; only incoming legs can be answered")
        assert leg.call is not None
        op = pj.CallOpParam(True)
        op.statusCode = code
        op.opt.audioCount = 1
        op.opt.videoCount = 0
        leg.call.answer(op)
        if code == 200 and leg.ok_sent_at is None:
            leg.ok_sent_at = time.monotonic()

    def _do_hangup(self, leg_id: str, code: int) -> None:
        """Hang up/refuse a leg; code 0 lets pjsua pick (BYE / CANCEL / 603)."""
        leg = self._leg(leg_id)
        assert leg.call is not None
        leg.local_end = True
        op = pj.CallOpParam()
        if code:
            op.statusCode = code
        leg.call.hangup(op)

    def _do_dial(self, uri: str, from_user: str, leg_id: str) -> str:
        """Create an outgoing Call on the local account."""
        if leg_id in self._legs:
            raise SipEngineError(f"leg id {leg_id!r} already in use")
        if self._visible_count() >= self._effective_max:
            raise SipEngineError(f"all {self._effective_max} call slots are in use")
        if self._acc is None or self._ep is None:
            raise SipEngineError("SIP engine is not running")
        if self._ep.utilVerifySipUri(uri) != 0:
            raise SipEngineError(f"not a valid SIP URI: {uri!r}")
        call = _Call(self, self._acc, leg_id)
        leg = _Leg(leg_id=leg_id, call=call, outgoing=True, source="")
        # Register before makeCall: pjsua may run callbacks inside makeCall itself.
        self._legs[leg_id] = leg
        with self._visible_lock:
            self._visible.add(leg_id)
        op = pj.CallOpParam(True)
        op.opt.audioCount = 1
        op.opt.videoCount = 0
        if from_user:
            op.txOption.localUri = f"sip:{from_user}@{self._uri_host()}:{self._bound_port}"
        try:
            call.makeCall(uri, op)
        except pj.Error:
            self._legs.pop(leg_id, None)
            leg.call = None
            with self._visible_lock:
                self._visible.discard(leg_id)
            raise
        return leg_id

    def _do_play(self, leg_id: str, wav_path: str, loop: bool) -> None:
        """Replace the leg's player; connect at once if media is up, else on media-up."""
        leg = self._leg(leg_id)
        self._drop_player(leg)
        # Open the file now so a bad path fails this command instead of a later callback.
        player = pj.AudioMediaPlayer()
        player.createPlayer(wav_path, 0 if loop else pj.PJMEDIA_FILE_NO_LOOP)
        leg.player = player
        leg.play_path = wav_path
        leg.play_loop = loop
        self._apply_media(leg)

    def _do_stop_play(self, leg_id: str) -> None:
        """Drop the leg's player."""
        self._drop_player(self._leg(leg_id))

    def _do_bridge(self, leg_a: str, leg_b: str) -> None:
        """Record the a<->b link and connect it once both legs have audio."""
        if leg_a == leg_b:
            raise SipEngineError("cannot bridge a leg to itself")
        a, b = self._leg(leg_a), self._leg(leg_b)
        self._drop_player(a)
        self._drop_player(b)
        self._links.update({(leg_a, leg_b), (leg_b, leg_a)})
        self._connect_links(leg_a)

    def _do_unbridge(self, leg_a: str, leg_b: str) -> None:
        """Remove the a<->b link."""
        self._unlink(self._leg(leg_a), self._leg(leg_b))

    def _do_record(self, leg_id: str, wav_path: str) -> None:
        """Start recording the leg's received audio (replaces a running recording)."""
        leg = self._leg(leg_id)
        self._drop_recorder(leg)
        recorder = pj.AudioMediaRecorder()
        recorder.createRecorder(wav_path)
        leg.recorder = recorder
        leg.record_path = wav_path
        self._apply_media(leg)

    def _do_stop_record(self, leg_id: str) -> None:
        """Stop the leg's recording."""
        self._drop_recorder(self._leg(leg_id))

    def _do_open_port(
        self, port_id: str, rate: int, sink: FrameSink | None, source: FrameSource | None
    ) -> None:
        """A Python port at `rate`, 20 ms frames, mono 16-bit: an idle one of that rate, or a
        new one."""
        if port_id in self._ports or port_id in self._legs:
            raise SipEngineError(f"media id {port_id!r} already in use")
        port = next((p for p in self._idle_ports if p.rate == rate), None)
        if port is not None:
            self._idle_ports.remove(port)
        else:
            port = _Port(rate)
            fmt = pj.MediaFormatAudio()
            fmt.init(pj.PJMEDIA_FORMAT_PCM, rate, 1, 20000, 16)
            port.createPort(f"hl-port-{len(self._ports) + len(self._idle_ports)}", fmt)
        port.attach(port_id, sink, source)
        self._ports[port_id] = port

    def _do_close_port(self, port_id: str) -> None:
        """Unlink the port and silence it, keeping it for reuse (destroying it would race the
        clock thread; see _Port)."""
        if port_id not in self._ports:
            return
        self._drop_links_of(port_id)
        port = self._ports.pop(port_id)
        port.detach()
        self._idle_ports.append(port)

    @property
    def port_count(self) -> tuple[int, int]:
        """Ports in use and idle (kept for reuse)."""
        return len(self._ports), len(self._idle_ports)

    def _check_media_name(self, name: str) -> None:
        if name not in self._ports:
            self._leg(name)  # raises UnknownLegError

    def _do_connect(self, source: str, sink: str) -> None:
        """Remember source -> sink and connect it now if both ends have audio."""
        if source == sink:
            raise SipEngineError("cannot send a medium to itself")
        self._check_media_name(source)
        self._check_media_name(sink)
        self._links.add((source, sink))
        self._connect_links(source)

    def _do_disconnect(self, source: str, sink: str) -> None:
        """Forget and break source -> sink."""
        self._drop_link(source, sink)

    def _do_send_dtmf(self, leg_id: str, digits: str) -> None:
        leg = self._leg(leg_id)
        assert leg.call is not None
        leg.call.dialDtmf(digits)

    def _do_leg_rate(self, leg_id: str) -> int:
        """Clock rate of the leg's audio stream codec, 0 without active audio."""
        leg = self._leg(leg_id)
        if leg.call is None:
            return 0
        try:
            ci = leg.call.getInfo()
            for media in ci.media:
                if media.type == pj.PJMEDIA_TYPE_AUDIO and media.audioConfSlot >= 0:
                    return int(leg.call.getStreamInfo(media.index).codecClockRate)
        except pj.Error:
            return 0
        return 0


# --------------------------------------------------------------------------- small helpers


def _collect_garbage() -> None:
    """Run the cycle collector here (the pj thread) when its counts pass the thresholds the
    interpreter would use, oldest generation first."""
    counts, limits = gc.get_count(), gc.get_threshold()
    for generation in (2, 1, 0):
        if limits[generation] and counts[generation] > limits[generation]:
            gc.collect(generation)
            return


def _set_transaction_timeout(ms: int) -> None:
    """Set pjsip's transaction timeout (timers B, F, H) through its C API.

    pjsua2 has no setter for it, but the wheel's extension module exports pjsip's own
    ``pjsip_tsx_set_timers(t1, t2, t4, td)`` (0 keeps a value); dlopen of the already
    loaded module returns the same library, hence the same pjsip globals.
    """
    try:
        lib = ctypes.CDLL(pj._pjsua2.__file__)
        setter = lib.pjsip_tsx_set_timers
    except (OSError, AttributeError) as exc:
        log.warning("cannot set the SIP transaction timeout (%s); pjsip's 32 s stays", exc)
        return
    setter.argtypes = [ctypes.c_uint, ctypes.c_uint, ctypes.c_uint, ctypes.c_uint]
    setter.restype = None
    setter(0, 0, 0, ms)


def _stop_transmit(source: Any, sink: Any) -> None:
    """Break one bridge link; a leg tearing down may already have lost its media."""
    if source is None or sink is None:
        return
    with contextlib.suppress(pj.Error):
        source.stopTransmit(sink)


def _pj_error_text(exc: BaseException) -> str:
    """Readable text of a pj.Error (its str() is often empty)."""
    try:
        info = exc.info()  # type: ignore[attr-defined]
        if info:
            return str(info).strip()
    except Exception:
        pass
    return str(exc) or exc.__class__.__name__


def _port_of(address: str) -> int:
    """Port of an 'ip:port' / '[v6]:port' string."""
    return int(address.rsplit(":", 1)[1])


def _raw_headers(message: str) -> dict[str, str]:
    """First value of each header of a raw SIP message, keys lower-cased (compact forms too)."""
    compact = {"f": "from", "t": "to", "i": "call-id"}
    headers: dict[str, str] = {}
    for line in message.split("\r\n\r\n", 1)[0].splitlines()[1:]:
        name, sep, value = line.partition(":")
        if not sep:
            continue
        key = name.strip().lower()
        key = compact.get(key, key)
        headers.setdefault(key, value.strip())
    return headers


@atexit.register
def _stop_running_engine_at_exit() -> None:
    """Stop a forgotten engine so libDestroy runs on its own thread before exit."""
    engine = _RUNNING_ENGINE
    if engine is not None:
        try:
            engine.stop()
        except Exception:
            log.exception("stopping the SIP engine at exit failed")
