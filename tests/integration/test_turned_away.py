"""Callers the worker cannot take: turned away for capacity, or never confirming the call."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from sqlalchemy import select

from console.core.models import Call
from tests.helpers import wait_until
from tests.integration.harness import Node, Sipp, start_node


def _calls(node: Node) -> list[Call]:
    with node.hotline.sessions() as s:
        return list(s.scalars(select(Call).order_by(Call.arrived_at)))


def _open_calls(node: Node) -> int:
    return sum(1 for c in _calls(node) if c.ended_at is None)


@pytest.mark.parametrize("with_phones", [True, False], ids=["worker-limit", "pjsua-limit"])
def test_trunk_callers_turned_away_for_capacity_leave_a_record_strangers_do_not(
    tmp_path: Path, sqlite_url: str, sipp: Sipp, with_phones: bool
) -> None:
    # With agent phones the worker keeps half the slots for agent legs and refuses the
    # third caller itself; without, pjsua refuses the fifth before our code sees it.
    for node in start_node(tmp_path, sqlite_url, with_phones=with_phones):
        limit = node.worker.inbound_limit
        held = [
            sipp.start(
                "caller.xml",
                target=node.sip_target,
                keys={"caller": f"1390000000{i}", "hold_ms": "6000"},
            )[0]
            for i in range(limit)
        ]
        wait_until(lambda node=node, limit=limit: _open_calls(node) == limit, 10)
        turned, _ = sipp.start(
            "caller.xml", target=node.sip_target, keys={"caller": "13911112222", "hold_ms": "300"}
        )
        assert sipp.wait(turned) != 0
        assert "486" in sipp.stats(turned), sipp.stats(turned)[-1500:]
        stranger, _ = sipp.start(
            "caller.xml",
            target=node.sip_target,
            ip="127.0.0.2",
            keys={"caller": "13922223333", "hold_ms": "300"},
        )
        assert sipp.wait(stranger) != 0  # 486 from pjsua or 403 from us: either way, no record
        wait_until(lambda node=node: any(c.end_reason == "no-capacity" for c in _calls(node)), 5)
        time.sleep(0.5)  # a record for the stranger would be written by now
        refused = [c for c in _calls(node) if c.end_reason == "no-capacity"]
        assert [(c.caller_number, c.status, c.callee_number) for c in refused] == [
            ("+8613911112222", "ended", "10086")
        ]
        assert refused[0].ended_at is not None and refused[0].wait_s == 0
        assert refused[0].queue_id is not None  # counted as lost in the queue it called
        assert all(c.caller_number != "+8613922223333" for c in _calls(node))
        for proc in held:
            assert sipp.wait(proc) == 0, sipp.stats(proc)
        base = node.base_url
        from tests.integration.harness import login_session

        log = (
            login_session(base, "super1")
            .get(f"{base}/api/v1/calls", params={"number": "13911112222"})
            .json()
        )
        assert [(c["status"], c["end_reason"]) for c in log["items"]] == [("ended", "no-capacity")]


def test_callers_that_never_ack_free_their_slots_before_32_s_and_are_logged_as_no_ack(
    tmp_path: Path, sqlite_url: str, sipp: Sipp
) -> None:
    for node in start_node(tmp_path, sqlite_url, with_phones=False):
        slots = node.worker.effective_max_calls
        started = time.monotonic()
        silent, _ = sipp.start(
            "caller_no_ack.xml",
            target=node.sip_target,
            calls=slots,
            keys={"caller": "13800001111"},
            timeout_s=40,
        )
        wait_until(lambda node=node, slots=slots: len(_calls(node)) >= slots, 10)

        # Every slot is taken by a caller that will never ACK; a real caller keeps trying
        # until the ACK timeout has freed a slot. 32 s is a protocol deadline, not a speed
        # figure: it is when the 200's retransmissions give up (64*T1), and the issue
        # requires the slot back by then.
        def real_call_answered(node: Node = node) -> bool:
            proc, _ = sipp.start(
                "caller.xml",
                target=node.sip_target,
                keys={"caller": "13800002222", "hold_ms": "300"},
            )
            if sipp.wait(proc) == 0:
                return True
            assert "486" in sipp.stats(proc), sipp.stats(proc)[-1500:]
            return False

        wait_until(real_call_answered, 32.0 - (time.monotonic() - started), step=1.0)
        assert sipp.wait(silent, timeout=10) == 0, sipp.stats(silent)  # each one got a BYE
        silent_calls = [c for c in _calls(node) if c.caller_number == "+8613800001111"]
        assert len(silent_calls) == slots
        for c in silent_calls:
            assert c.end_reason == "no-ack" and c.status == "ended"
            assert c.ended_at is not None and (c.ended_at - c.arrived_at).total_seconds() < 10
        # The real caller's refused attempts were counted as lost callers, then it got in.
        mine = [c for c in _calls(node) if c.caller_number == "+8613800002222"]
        assert mine[-1].end_reason != "no-capacity"
        assert all(c.end_reason == "no-capacity" for c in mine[:-1])
