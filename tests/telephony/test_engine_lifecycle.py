"""Engine start/stop in one process, port binding, call caps and the dial helper."""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path

import pytest
from siptest import EventRecorder, Sipp, free_port, needs_sipp

from telephony.dial import place_test_call
from telephony.engine import (
    EngineBusyError,
    EngineConfig,
    InviteRejected,
    LegAnswered,
    LegEnded,
    LegIncoming,
    SipEngine,
    SipEngineError,
)

pytestmark = [pytest.mark.sip, needs_sipp]


def _port_taken(port: int, kind: int) -> bool:
    sock = socket.socket(socket.AF_INET, kind)
    try:
        sock.bind(("127.0.0.1", port))
        return False
    except OSError:
        return True
    finally:
        sock.close()


def test_two_engines_sequentially_and_busy_guard() -> None:
    first = SipEngine(EngineConfig(port=0, max_calls=50), EventRecorder())
    first.start()
    try:
        port = first.bound_port
        assert port > 0 and first.sip_address == f"127.0.0.1:{port}"
        # UDP and TCP share the number.
        assert _port_taken(port, socket.SOCK_DGRAM) and _port_taken(port, socket.SOCK_STREAM)
        assert first.effective_max_calls == 4  # clamped to the wheel's PJSUA_MAX_CALLS
        second = SipEngine(EngineConfig(port=0), EventRecorder())
        with pytest.raises(EngineBusyError):
            second.start()
    finally:
        first.stop()
    assert not first.running
    first.stop()  # idempotent
    with pytest.raises(SipEngineError):
        first.hangup("x").result(1)
    # A new engine in the same process after libDestroy works (same Endpoint object reused).
    with SipEngine(EngineConfig(port=0, transports=("udp",)), EventRecorder()) as third:
        assert third.bound_port > 0
        assert not _port_taken(third.bound_port, socket.SOCK_STREAM)  # no TCP asked for


def test_start_failure_releases_the_process_slot() -> None:
    blocker = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    blocker.bind(("127.0.0.1", 0))
    try:
        taken = blocker.getsockname()[1]
        engine = SipEngine(EngineConfig(port=taken), EventRecorder())
        with pytest.raises(SipEngineError, match="bind"):
            engine.start()
    finally:
        blocker.close()
    with SipEngine(EngineConfig(port=0), EventRecorder()) as engine:
        assert engine.running


def test_fixed_port_config(tmp_path: Path) -> None:
    port = free_port()
    with SipEngine(EngineConfig(port=port), EventRecorder()) as engine:
        assert engine.bound_port == port


def test_lower_max_calls_is_enforced(moh_wav: Path, tmp_path: Path) -> None:
    rec = EventRecorder()
    with SipEngine(EngineConfig(port=0, max_calls=2), rec) as engine:
        assert engine.effective_max_calls == 2

        def handler(event: object) -> None:
            if isinstance(event, LegIncoming):
                engine.answer(event.leg_id).result(3)
                engine.play(event.leg_id, str(moh_wav)).result(3)

        rec.handler = handler
        (tmp_path / "two").mkdir()
        (tmp_path / "third").mkdir()
        with Sipp(
            "uac_call.xml", engine.sip_address, tmp_path / "two", calls=2, pause_ms=1500
        ) as two:
            rec.wait_for(LegAnswered, count=2)
            with Sipp("uac_reject.xml", engine.sip_address, tmp_path / "third") as third:
                assert third.wait() == 0, third.errors()
            assert rec.wait_for(InviteRejected)[0].status_code == 486
            assert two.wait() == 0, two.errors()
        rec.wait_for(LegEnded, count=2)
        assert engine.active_legs() == []
        assert rec.handler_errors == []


def test_stop_hangs_up_live_calls(moh_wav: Path, tmp_path: Path) -> None:
    rec = EventRecorder()
    engine = SipEngine(EngineConfig(port=0), rec)
    engine.start()
    try:
        with Sipp("uas_agent.xml", None, tmp_path) as agent:
            agent.wait_listening()
            leg = engine.dial(f"sip:agent@127.0.0.1:{agent.port}", "100").result(3)
            rec.wait_for(LegAnswered, leg_id=leg)
            engine.play(leg, str(moh_wav)).result(3)
            engine.record(leg, str(tmp_path / "rec.wav")).result(3)
            engine.stop()  # must BYE the agent and drop player/recorder/call before libDestroy
            assert agent.wait() == 0, agent.errors()
        assert rec.wait_for(LegEnded, leg_id=leg)[0].by_remote is False
        assert engine.active_legs() == []
    finally:
        engine.stop()


@pytest.mark.parametrize("transport", ["udp", "tcp"])
def test_place_test_call_we_hang_up(moh_wav: Path, tmp_path: Path, transport: str) -> None:
    sipp_transport = "u1" if transport == "udp" else "t1"
    with Sipp("uas_agent.xml", None, tmp_path, transport=sipp_transport) as uas:
        uas.wait_listening()
        t0 = time.monotonic()
        code = place_test_call(
            f"127.0.0.1:{uas.port}", "+8613800138000", "4001", moh_wav, 1.0, transport
        )
        held_s = time.monotonic() - t0
        assert code == 200
        assert uas.wait() == 0, uas.errors()  # uas_agent.xml ends only on our BYE
    # The call was held for duration_s before we hung up (a floor, not a speed limit).
    assert held_s >= 1.0
    invite = uas.messages()
    assert "INVITE sip:4001@127.0.0.1" in invite
    assert "sip:+8613800138000@" in invite
    assert "BYE sip:" in invite  # the hang-up came from us


def test_place_test_call_far_end_hangs_up(tmp_path: Path) -> None:
    with Sipp("uas_agent_bye.xml", None, tmp_path, pause_ms=300) as uas:
        uas.wait_listening()
        box: dict[str, int] = {}
        # An hour-long call: returning at all means it returned when the far end hung up.
        caller = threading.Thread(
            target=lambda: box.setdefault(
                "code", place_test_call(f"127.0.0.1:{uas.port}", "1000", "4001", None, 3600.0)
            ),
            daemon=True,  # a call that never returns must not hang the run
        )
        caller.start()
        caller.join(30)  # generous: fails only when the far end's BYE is not noticed
        assert not caller.is_alive(), "place_test_call did not return on the far end's BYE"
        assert box["code"] == 200
        assert uas.wait() == 0, uas.errors()


def test_place_test_call_busy_and_engine_guard(tmp_path: Path) -> None:
    with Sipp("uas_busy.xml", None, tmp_path) as uas:
        uas.wait_listening()
        assert place_test_call(f"127.0.0.1:{uas.port}", "1000", "4001", None, 1.0) == 486
        assert uas.wait() == 0, uas.errors()
    # Only one engine per process: the dial helper refuses to start a second one.
    with (
        SipEngine(EngineConfig(port=0), EventRecorder()) as engine,
        pytest.raises(EngineBusyError),
    ):
        place_test_call(engine.sip_address, "1", "2", None, 1.0)


def test_ring_timeout_frees_unanswered_slot(tmp_path: Path) -> None:
    rec = EventRecorder()  # nobody answers
    with SipEngine(EngineConfig(port=0, ring_timeout_s=0.5), rec) as engine:
        with Sipp("uac_reject.xml", engine.sip_address, tmp_path) as caller:
            leg = rec.wait_for(LegIncoming)[0].leg_id
            ended = rec.wait_for(LegEnded, leg_id=leg, timeout=5)[0]
            assert (ended.status_code, ended.by_remote) == (480, False)
            assert caller.wait() == 0, caller.errors()
        assert engine.active_legs() == []


def test_place_test_call_nobody_answers(tmp_path: Path) -> None:
    with Sipp("uas_ring_only.xml", None, tmp_path) as uas:
        uas.wait_listening()
        code = place_test_call(
            f"127.0.0.1:{uas.port}", "1000", "4001", None, 5.0, ring_timeout_s=1.0
        )
        assert code == 487  # the engine CANCELled after the ring timeout
        assert uas.wait() == 0, uas.errors()
    assert "CANCEL sip:" in uas.messages()  # uas_ring_only.xml answers 487 only to a CANCEL
