"""SipEngine against real SIPp on loopback: one engine (port 0) shared by this module."""

from __future__ import annotations

import time
import wave
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from siptest import EventRecorder, Sipp, needs_sipp

from telephony.engine import (
    InviteRejected,
    LegAnswered,
    LegEnded,
    LegIncoming,
    LegRinging,
    SipEngine,
    SipEngineError,
    UnknownLegError,
)
from tests.helpers import wait_until

pytestmark = [pytest.mark.sip, needs_sipp]


@pytest.fixture
def sip(
    module_engine: tuple[SipEngine, EventRecorder],
) -> Iterator[tuple[SipEngine, EventRecorder]]:
    """The module engine with a fresh recorder; checks no leg or handler error leaks."""
    engine, recorder = module_engine
    recorder.reset()
    engine.set_allowed_sources(["127.0.0.1/32"])
    yield engine, recorder
    recorder.handler = None
    for leg in engine.active_legs():  # leftovers of a failed test must not poison the next
        engine.hangup(leg).exception(5)
    deadline = time.monotonic() + 5
    while engine.active_legs() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert engine.active_legs() == []
    assert recorder.handler_errors == []


def _wav_frames(path: Path) -> int:
    """Frames the WAV header announces; 0 while the recorder still holds the file open."""
    try:
        with wave.open(str(path)) as wav:
            return wav.getnframes()
    except (OSError, EOFError, wave.Error):
        return 0


def answer_with_moh(engine: SipEngine, moh: Path) -> Any:
    """Handler: answer every incoming leg with 200 and play music on hold."""

    def handler(event: object) -> None:
        if isinstance(event, LegIncoming):
            engine.answer(event.leg_id, 200).result(3)
            engine.play(event.leg_id, str(moh)).result(3)

    return handler


@pytest.mark.parametrize("transport", ["u1", "t1"])
def test_incoming_call_moh_and_remote_bye(
    sip: tuple[SipEngine, EventRecorder], moh_wav: Path, tmp_path: Path, transport: str
) -> None:
    engine, rec = sip
    recording = tmp_path / "caller.wav"

    def handler(event: object) -> None:
        answer_with_moh(engine, moh_wav)(event)
        if isinstance(event, LegIncoming):
            engine.record(event.leg_id, str(recording)).result(3)

    rec.handler = handler
    with Sipp(
        "uac_call.xml", engine.sip_address, tmp_path,
        caller="+8613800138000", service="4001", pause_ms=1500, transport=transport,
    ) as sipp:  # fmt: skip
        incoming = rec.wait_for(LegIncoming)[0]
        assert incoming.from_user == "+8613800138000"
        assert incoming.to_user == "4001"
        assert incoming.from_uri.startswith("sip:+8613800138000@127.0.0.1")
        assert incoming.source.startswith("127.0.0.1:")
        if transport == "u1":
            assert incoming.source == f"127.0.0.1:{sipp.port}"
        assert incoming.call_id_header and "@" in incoming.call_id_header
        rec.wait_for(LegAnswered, leg_id=incoming.leg_id)
        assert engine.active_legs() == [incoming.leg_id]
        ended = rec.wait_for(LegEnded, leg_id=incoming.leg_id)[0]
        assert ended.by_remote is True
        assert sipp.wait() == 0, sipp.errors()
    assert engine.active_legs() == []
    # SIPp played A-law speech at us; the recorder (dropped when the leg ended) has it.
    # The WAV header gets its sizes when the recorder is destroyed, shortly after the leg.
    wait_until(lambda: _wav_frames(recording) > 0)
    with wave.open(str(recording)) as wav:
        frames = wav.readframes(wav.getnframes())
    samples = memoryview(frames).cast("h")
    assert len(samples) > 8000, "less than half a second recorded"
    assert max(abs(s) for s in samples) > 1000, "recording is silent"
    # MOH was flowing to the caller: SIPp's log shows our RTP-bearing 200 OK with PCMA.
    assert "RTP/AVP 8" in sipp.messages()


def test_caller_cancels_before_answer(sip: tuple[SipEngine, EventRecorder], tmp_path: Path) -> None:
    engine, rec = sip
    rec.handler = lambda e: (
        engine.answer(e.leg_id, 180).result(3) if isinstance(e, LegIncoming) else None
    )
    with Sipp("uac_cancel.xml", engine.sip_address, tmp_path, pause_ms=500) as sipp:
        incoming = rec.wait_for(LegIncoming)[0]
        ended = rec.wait_for(LegEnded, leg_id=incoming.leg_id)[0]
        assert ended.by_remote is True
        assert ended.status_code == 487
        assert sipp.wait() == 0, sipp.errors()
    assert rec.of(LegAnswered) == []


def test_api_reject(sip: tuple[SipEngine, EventRecorder], tmp_path: Path) -> None:
    engine, rec = sip
    rec.handler = lambda e: (
        engine.reject(e.leg_id, 486).result(3) if isinstance(e, LegIncoming) else None
    )
    with Sipp("uac_reject.xml", engine.sip_address, tmp_path) as sipp:
        incoming = rec.wait_for(LegIncoming)[0]
        ended = rec.wait_for(LegEnded, leg_id=incoming.leg_id)[0]
        assert (ended.status_code, ended.by_remote) == (486, False)
        assert sipp.wait() == 0, sipp.errors()


def test_dial_agent_bridge_and_hangup(
    sip: tuple[SipEngine, EventRecorder], moh_wav: Path, tmp_path: Path
) -> None:
    engine, rec = sip
    rec.handler = answer_with_moh(engine, moh_wav)
    (tmp_path / "agent").mkdir()
    (tmp_path / "caller").mkdir()
    with (
        Sipp("uas_agent.xml", None, tmp_path / "agent") as agent,
        Sipp("uac_call.xml", engine.sip_address, tmp_path / "caller", pause_ms=4000) as caller,
    ):
        agent.wait_listening()
        caller_leg = rec.wait_for(LegIncoming)[0].leg_id
        rec.wait_for(LegAnswered, leg_id=caller_leg)
        agent_leg = engine.dial(
            f"sip:agent@127.0.0.1:{agent.port}", "+8613800138000", leg_id="agent-leg-1"
        ).result(3)
        assert agent_leg == "agent-leg-1"
        ringing = rec.wait_for(LegRinging, leg_id=agent_leg)[0]
        answered = rec.wait_for(LegAnswered, leg_id=agent_leg)[0]
        assert rec.events.index(ringing) < rec.events.index(answered)  # rang, then answered
        engine.bridge(caller_leg, agent_leg).result(3)
        assert sorted(engine.active_legs()) == sorted([caller_leg, agent_leg])
        time.sleep(0.5)  # the bridged call lasts a moment before we hang up the agent
        engine.hangup(agent_leg).result(3)
        ended = rec.wait_for(LegEnded, leg_id=agent_leg)[0]
        assert ended.by_remote is False
        assert agent.wait() == 0, agent.errors()  # the agent phone got our BYE
        from_lines = [ln for ln in agent.messages().splitlines() if ln.startswith("From:")]
        assert "sip:+8613800138000@127.0.0.1" in from_lines[0]  # INVITE's From = from_user
        # The caller is still on the line (back to silence) and hangs up itself later.
        assert engine.active_legs() == [caller_leg]
        assert rec.wait_for(LegEnded, leg_id=caller_leg)[0].by_remote is True
        assert caller.wait() == 0, caller.errors()


def test_agent_hangs_up_first(sip: tuple[SipEngine, EventRecorder], tmp_path: Path) -> None:
    engine, rec = sip
    with Sipp("uas_agent_bye.xml", None, tmp_path, pause_ms=300) as agent:
        agent.wait_listening()
        leg = engine.dial(f"sip:agent@127.0.0.1:{agent.port}", "10086").result(3)
        rec.wait_for(LegAnswered, leg_id=leg)
        ended = rec.wait_for(LegEnded, leg_id=leg)[0]
        assert ended.by_remote is True
        assert agent.wait() == 0, agent.errors()
    assert rec.of(LegRinging, leg_id=leg)


def test_dial_unreachable_and_bad_uri(sip: tuple[SipEngine, EventRecorder]) -> None:
    engine, _ = sip
    with pytest.raises(SipEngineError):
        engine.dial("not a uri", "1").result(3)
    with pytest.raises(UnknownLegError):
        engine.play("no-such-leg", "/nonexistent.wav").result(3)
    with pytest.raises(UnknownLegError):
        engine.bridge("no-such-leg", "other").result(3)
    assert engine.active_legs() == []


def test_source_not_allowed_gets_403_and_no_slot_leaks(
    sip: tuple[SipEngine, EventRecorder], moh_wav: Path, tmp_path: Path
) -> None:
    engine, rec = sip
    rec.handler = answer_with_moh(engine, moh_wav)
    (tmp_path / "bad").mkdir()
    (tmp_path / "good").mkdir()
    # Six INVITEs (more than there are call slots) from 127.0.0.2, which is not allowed.
    with Sipp(
        "uac_reject.xml", engine.sip_address, tmp_path / "bad", ip="127.0.0.2", calls=6
    ) as bad:
        assert bad.wait() == 0, bad.errors()
    rejected = rec.wait_for(InviteRejected, count=6, status_code=403)
    assert all(r.source.startswith("127.0.0.2:") for r in rejected)
    assert rec.of(LegIncoming) == []
    assert engine.active_legs() == []
    # All four slots are still free.
    with Sipp(
        "uac_call.xml", engine.sip_address, tmp_path / "good", calls=4, pause_ms=1000
    ) as good:
        rec.wait_for(LegAnswered, count=4)
        assert good.wait() == 0, good.errors()
    rec.wait_for(LegEnded, count=4)


def test_allowed_sources_exact_ip_port(
    sip: tuple[SipEngine, EventRecorder], moh_wav: Path, tmp_path: Path
) -> None:
    engine, rec = sip
    rec.handler = answer_with_moh(engine, moh_wav)
    with Sipp("uac_call.xml", engine.sip_address, tmp_path, ip="127.0.0.2", pause_ms=300) as phone:
        engine.set_allowed_sources(["10.0.0.0/8", f"127.0.0.2:{phone.port}"])
        # The set happens before SIPp sends (it needs ~50 ms to start); still, make sure.
        incoming = rec.wait_for(LegIncoming)[0]
        assert incoming.source == f"127.0.0.2:{phone.port}"
        assert phone.wait() == 0, phone.errors()
    rec.wait_for(LegEnded)


def test_fifth_concurrent_call_gets_486(
    sip: tuple[SipEngine, EventRecorder], moh_wav: Path, tmp_path: Path
) -> None:
    engine, rec = sip
    assert engine.effective_max_calls == 4
    rec.handler = answer_with_moh(engine, moh_wav)
    (tmp_path / "four").mkdir()
    (tmp_path / "fifth").mkdir()
    with Sipp(
        "uac_call.xml", engine.sip_address, tmp_path / "four", calls=4, pause_ms=2500
    ) as four:
        rec.wait_for(LegAnswered, count=4)
        assert len(engine.active_legs()) == 4
        with Sipp("uac_reject.xml", engine.sip_address, tmp_path / "fifth") as fifth:
            assert fifth.wait() == 0, fifth.errors()
        rec.wait_for(InviteRejected, status_code=486)
        with pytest.raises(SipEngineError, match="slots"):
            engine.dial("sip:nobody@127.0.0.1:9", "1").result(3)
        assert len(rec.of(LegIncoming)) == 4
        assert four.wait() == 0, four.errors()
    rec.wait_for(LegEnded, count=4)
    assert engine.active_legs() == []


def test_malformed_invites_then_good_call(
    sip: tuple[SipEngine, EventRecorder], moh_wav: Path, tmp_path: Path
) -> None:
    engine, rec = sip
    seen: list[str] = []

    def handler(event: object) -> None:
        # A real app would reject INVITEs it cannot route; do that for anything that slipped in.
        if isinstance(event, LegIncoming) and not seen:
            seen.append(event.leg_id)
            engine.reject(event.leg_id, 400).exception(3)

    rec.handler = handler
    (tmp_path / "bad").mkdir()
    (tmp_path / "good").mkdir()
    with Sipp("malformed.xml", engine.sip_address, tmp_path / "bad") as bad:
        assert bad.wait() == 0, bad.errors()
    wait_until(lambda: {r.status_code for r in rec.of(InviteRejected)} >= {400, 488})
    wait_until(lambda: engine.active_legs() == [])  # what slipped in was rejected with 400
    assert engine.active_legs() == []
    assert {r.status_code for r in rec.of(InviteRejected)} >= {400, 488}
    rec.reset()
    rec.handler = answer_with_moh(engine, moh_wav)
    with Sipp("uac_call.xml", engine.sip_address, tmp_path / "good", pause_ms=300) as good:
        rec.wait_for(LegAnswered)
        assert good.wait() == 0, good.errors()
    rec.wait_for(LegEnded)
