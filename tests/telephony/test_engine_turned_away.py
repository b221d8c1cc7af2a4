"""SipEngine against SIPp: who a refused INVITE came from, and callers that never ACK."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path

import pytest
from siptest import EventRecorder, Sipp, needs_sipp

from telephony.engine import InviteRejected, LegAnswered, LegEnded, LegIncoming, SipEngine
from tests.helpers import wait_until

pytestmark = [pytest.mark.sip, needs_sipp]


@pytest.fixture
def sip(
    module_engine: tuple[SipEngine, EventRecorder], moh_wav: Path
) -> Iterator[tuple[SipEngine, EventRecorder]]:
    """The module engine answering every caller with 200 and music; nothing may leak."""
    engine, rec = module_engine
    rec.reset()
    engine.set_allowed_sources(["127.0.0.1/32"])

    def answer(event: object) -> None:
        if isinstance(event, LegIncoming):
            engine.answer(event.leg_id, 200).result(3)
            engine.play(event.leg_id, str(moh_wav)).result(3)

    rec.handler = answer
    yield engine, rec
    rec.handler = None
    for leg in engine.active_legs():
        engine.hangup(leg).exception(5)
    assert rec.handler_errors == []


def test_pjsua_refusing_a_trunk_caller_for_capacity_says_who_called_but_not_for_strangers(
    sip: tuple[SipEngine, EventRecorder], tmp_path: Path
) -> None:
    engine, rec = sip
    for d in ("four", "fifth", "stranger"):
        (tmp_path / d).mkdir()
    with Sipp(
        "uac_call.xml", engine.sip_address, tmp_path / "four", calls=4, pause_ms=3000
    ) as four:
        rec.wait_for(LegAnswered, count=4)
        with Sipp(
            "uac_reject.xml",
            engine.sip_address,
            tmp_path / "fifth",
            caller="13911112222",
            service="10086",
        ) as fifth:
            assert fifth.wait() == 0, fifth.errors()
        with Sipp(
            "uac_reject.xml",
            engine.sip_address,
            tmp_path / "stranger",
            ip="127.0.0.2",
            caller="13922223333",
        ) as stranger:
            assert stranger.wait() == 0, stranger.errors()
        busy = rec.wait_for(InviteRejected, count=2, status_code=486)
        assert four.wait() == 0, four.errors()
    trunk = [r for r in busy if r.trunk]
    assert [(r.from_user, r.to_user) for r in trunk] == [("13911112222", "10086")]
    assert trunk[0].source.startswith("127.0.0.1:") and trunk[0].call_id_header
    (other,) = [r for r in busy if not r.trunk]
    assert other.source.startswith("127.0.0.2:") and other.from_user == ""  # never parsed
    rec.wait_for(LegEnded, count=4)


def test_callers_that_never_ack_are_hung_up_and_their_slots_return_before_32_s(
    sip: tuple[SipEngine, EventRecorder], tmp_path: Path
) -> None:
    engine, rec = sip
    # The configured timeouts put the slots back before 32 s; the test checks that they do
    # come back, bounded only by generous waits.
    assert engine.config.ack_timeout_s + engine.config.transaction_timeout_s < 32
    (tmp_path / "silent").mkdir()
    with Sipp(
        "uac_no_ack.xml", engine.sip_address, tmp_path / "silent", calls=4, timeout_s=40
    ) as silent:
        legs = [e.leg_id for e in rec.wait_for(LegIncoming, count=4)]
        ended = rec.wait_for(LegEnded, count=4, timeout=engine.config.ack_timeout_s + 30)
        assert sorted(e.leg_id for e in ended) == sorted(legs)
        # 408 on an unconfirmed leg: hung up by the ACK timeout, not by anyone else.
        assert all(e.unconfirmed and e.status_code == 408 and not e.by_remote for e in ended)
        assert rec.of(LegAnswered) == []
        # pjsua keeps each slot until its BYE transaction ends; SIPp never answers the BYEs.
        # A real caller keeps trying until it gets in.
        tries = itertools.count(1)

        def real_call_answered() -> bool:
            workdir = tmp_path / f"try{next(tries)}"
            workdir.mkdir()
            with Sipp("uac_call.xml", engine.sip_address, workdir, pause_ms=200) as real:
                return real.wait() == 0

        wait_until(real_call_answered, timeout=60, step=1.0)
        assert silent.wait() == 0, silent.errors()  # every silent caller got our BYE
    assert len(rec.of(LegAnswered)) == 1  # the real caller, confirmed
