"""Python media ports on the engine's bridge: frames in and out, links, and removal."""

from __future__ import annotations

import math
import struct
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from siptest import EventRecorder, Sipp, needs_sipp

from telephony.engine import (
    LegAnswered,
    LegDtmf,
    LegEnded,
    LegIncoming,
    SipEngine,
    SipEngineError,
)
from tests.audio import peak_hz
from tests.helpers import wait_until

pytestmark = [pytest.mark.sip, needs_sipp]


class Tone:
    """A frame source of a sine tone at `rate`, counting the frames it gave."""

    def __init__(self, hz: float, rate: int) -> None:
        self.hz, self.rate, self.frames = hz, rate, 0

    def __call__(self, size: int) -> bytes:
        n = size // 2
        start = self.frames * n
        self.frames += 1
        return struct.pack(
            f"<{n}h",
            *(
                int(8000 * math.sin(2 * math.pi * self.hz * (start + i) / self.rate))
                for i in range(n)
            ),
        )


class Tap:
    """A frame sink keeping what it received (b"" ticks counted apart)."""

    def __init__(self) -> None:
        self.frames: list[bytes] = []
        self.empty = 0
        self.lock = threading.Lock()

    def __call__(self, data: bytes) -> None:
        with self.lock:
            if data:
                self.frames.append(data)
            else:
                self.empty += 1

    def samples(self, skip: int = 5) -> np.ndarray:
        with self.lock:
            return np.frombuffer(b"".join(self.frames[skip:]), dtype="<i2")


@pytest.fixture
def sip(
    module_engine: tuple[SipEngine, EventRecorder],
) -> Iterator[tuple[SipEngine, EventRecorder]]:
    engine, recorder = module_engine
    recorder.reset()
    engine.set_allowed_sources(["127.0.0.1/32"])
    yield engine, recorder
    recorder.handler = None


def test_port_to_port_resamples_and_closing_stops_callbacks(
    sip: tuple[SipEngine, EventRecorder],
) -> None:
    engine, _ = sip
    tone, tap = Tone(440, 8000), Tap()
    engine.open_port("tone-8k", 8000, source=tone).result(3)
    engine.open_port("tap-16k", 16000, sink=tap).result(3)
    engine.connect("tone-8k", "tap-16k").result(3)
    wait_until(lambda: len(tap.frames) >= 40)
    assert {len(f) for f in tap.frames} == {640}  # 20 ms at 16 kHz
    assert abs(peak_hz(tap.samples(), 16000) - 440) < 5
    with pytest.raises(SipEngineError):
        engine.open_port("tap-16k", 16000).result(3)
    # Unlinked, the sink goes on ticking with empty frames: the bridge still calls it.
    engine.disconnect("tone-8k", "tap-16k").result(3)
    before = tap.empty
    wait_until(lambda: tap.empty >= before + 10)
    engine.close_port("tone-8k").result(3)
    engine.close_port("tap-16k").result(3)
    time.sleep(0.1)
    count = len(tap.frames) + tap.empty
    time.sleep(0.3)
    assert len(tap.frames) + tap.empty == count, "a closed port is still on the bridge"
    engine.close_port("tap-16k").result(3)  # closing twice is harmless


def test_closed_ports_are_kept_for_reuse_so_churn_never_frees_one_under_the_clock(
    sip: tuple[SipEngine, EventRecorder],
) -> None:
    # Destroying a port raced pjmedia's clock thread in pjsua2 2.15.1 (SIGSEGV under load):
    # closed ports are silenced and reused instead, so their number stays at the peak.
    engine, _ = sip
    tone = Tone(440, 16000)
    engine.open_port("steady", 16000, source=tone).result(3)
    _, idle_before = engine.port_count
    taps = []
    for i in range(200):
        tap = Tap()
        taps.append(tap)
        engine.open_port(f"churn-{i}", 16000, sink=tap).result(3)
        engine.connect("steady", f"churn-{i}").result(3)
        engine.close_port(f"churn-{i}").result(3)
    in_use, idle = engine.port_count
    assert in_use == 1 and idle <= idle_before + 1
    # A reused port hands nothing to the sink of its former owner.
    heard = sum(len(t.frames) + t.empty for t in taps)
    time.sleep(0.3)
    assert sum(len(t.frames) + t.empty for t in taps) == heard
    engine.close_port("steady").result(3)


def test_port_talks_to_a_sip_caller_both_ways(
    sip: tuple[SipEngine, EventRecorder], tmp_path: Path
) -> None:
    """A tone port -> the caller's leg -> SIPp echoes RTP -> the leg -> a tap port."""
    engine, rec = sip
    rec.handler = lambda e: (
        engine.answer(e.leg_id, 200).result(3) if isinstance(e, LegIncoming) else None
    )
    tone, tap = Tone(1000, 16000), Tap()
    with Sipp(
        "uac_echo.xml", engine.sip_address, tmp_path, pause_ms=2500, extra=["-rtp_echo"]
    ) as sipp:
        leg = rec.wait_for(LegIncoming)[0].leg_id
        rec.wait_for(LegAnswered, leg_id=leg)
        assert engine.leg_rate(leg).result(3) == 8000  # PCMA
        engine.open_port("browser", 16000, source=tone).result(3)
        engine.open_port("heard", 16000, sink=tap).result(3)
        engine.connect("browser", leg).result(3)
        engine.connect(leg, "heard").result(3)
        with pytest.raises(SipEngineError):
            engine.connect("browser", "no-such-leg").result(3)
        wait_until(lambda: len(tap.frames) >= 50, timeout=5)
        heard = tap.samples(skip=10)
        assert np.sqrt(np.mean(heard.astype(float) ** 2)) > 500, "nothing came back"
        assert abs(peak_hz(heard, 16000) - 1000) < 10
        rec.wait_for(LegEnded, leg_id=leg)
        assert sipp.wait() == 0, sipp.errors()
    # The leg is gone: its links are dropped, the ports stay until closed.
    engine.close_port("browser").result(3)
    engine.close_port("heard").result(3)


def test_dtmf_reaches_the_far_end(sip: tuple[SipEngine, EventRecorder], tmp_path: Path) -> None:
    """Digits sent to the caller's leg come back through SIPp's RTP echo as digits."""
    engine, rec = sip
    rec.handler = lambda e: (
        engine.answer(e.leg_id, 200).result(3) if isinstance(e, LegIncoming) else None
    )
    with Sipp(
        "uac_echo.xml", engine.sip_address, tmp_path, pause_ms=3000, extra=["-rtp_echo"]
    ) as sipp:
        leg = rec.wait_for(LegIncoming)[0].leg_id
        rec.wait_for(LegAnswered, leg_id=leg)
        time.sleep(0.3)
        engine.send_dtmf(leg, "12#").result(3)
        with pytest.raises(ValueError):
            engine.send_dtmf(leg, "1x")
        wait_until(lambda: len(rec.of(LegDtmf)) >= 3, timeout=5)
        assert "".join(e.digit for e in rec.of(LegDtmf))[:3] == "12#"
        rec.wait_for(LegEnded, leg_id=leg)
        assert sipp.wait() == 0, sipp.errors()
