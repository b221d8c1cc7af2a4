"""Test caller behind ``hotline dial``: one outgoing call from its own SipEngine.

Only one SipEngine (one pjsua2 Endpoint) can run per process at a time, so
place_test_call() raises :class:`telephony.engine.EngineBusyError` when called in a process
whose engine is already running (e.g. inside a telephony worker). Run it from a separate
process instead.
"""

from __future__ import annotations

import contextlib
import queue
import time
from pathlib import Path

from telephony.engine import EngineConfig, LegAnswered, LegEnded, SipEngine, SipEngineError


def place_test_call(
    target: str,
    from_number: str,
    to_number: str,
    wav: Path | None,
    duration_s: float,
    transport: str = "udp",
    *,
    ring_timeout_s: float = 30.0,
    host: str = "127.0.0.1",
) -> int:
    """Call sip:<to_number>@<target> as from_number, play wav, hang up; return the final code.

    Returns 200 for an answered call (whoever hung up first), otherwise the failure status
    of the INVITE (e.g. 403, 486; 487 when nobody answered within ring_timeout_s).
    """
    transport = transport.lower()
    if transport not in ("udp", "tcp"):
        raise ValueError(f"transport must be 'udp' or 'tcp', not {transport!r}")
    events: queue.Queue[object] = queue.Queue()
    config = EngineConfig(
        host=host,
        port=0,
        transports=(transport,),
        allowed_sources=(),  # a test caller accepts no incoming INVITEs
        max_calls=1,
        ring_timeout_s=ring_timeout_s,  # the engine CANCELs an unanswered call for us
    )
    engine = SipEngine(config, events.put)
    engine.start()
    try:
        uri = f"sip:{to_number}@{target}"
        if transport == "tcp":
            uri += ";transport=tcp"
        leg = engine.dial(uri, from_number).result(timeout=5)
        # Phase 1: ringing until answered or ended (ring timeout enforced by the engine).
        while True:
            event = events.get(timeout=ring_timeout_s + 30)
            if isinstance(event, LegEnded) and event.leg_id == leg:
                return event.status_code
            if isinstance(event, LegAnswered) and event.leg_id == leg:
                break
        if wav is not None:
            engine.play(leg, str(wav), loop=True).result(timeout=5)
        # Phase 2: talk for duration_s unless the far end hangs up first.
        if _wait_end(events, leg, duration_s) is None:
            with contextlib.suppress(SipEngineError):  # the far end hung up in the meantime
                engine.hangup(leg).result(timeout=5)
            _wait_end(events, leg, 10)
        return 200
    finally:
        engine.stop()


def _wait_end(events: queue.Queue[object], leg: str, timeout: float) -> LegEnded | None:
    """Wait up to timeout seconds for LegEnded of leg; None when it did not come."""
    deadline = time.monotonic() + timeout
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return None
        try:
            event = events.get(timeout=remaining)
        except queue.Empty:
            return None
        if isinstance(event, LegEnded) and event.leg_id == leg:
            return event
