from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from console.core.models import Call, CallEvent
from tests.helpers import wait_until
from tests.integration.harness import AgentClient, Node, Sipp, start_node


def call_record(node: Node, call_id: str) -> Call:
    with node.hotline.sessions() as s:
        call = s.get(Call, call_id)
        assert call is not None
        return call


def answered_call_flow(node: Node, sipp: Sipp, agent: AgentClient, phone_port: int) -> str:
    phone, _ = sipp.start("agent_phone.xml", port=phone_port)
    agent.available()
    caller, _ = sipp.start(
        "caller.xml", target=node.sip_target, keys={"caller": "+86-138-0013-8000"}
    )
    offer = agent.wait_for("call_offered")
    pop = offer["pop"]
    assert [c["name"] for c in pop["customers"]] == ["张伟"]
    assert pop["customers"][0]["grade"] == "A"
    assert pop["number"] == "+8613800138000" and pop["queue"]["name"] == "support"
    assert pop["queue"]["fields"] == ["address", "intent"]
    assert agent.call("answer", {"call_id": offer["call_id"]})["ok"]
    agent.wait_for("call_answered", lambda d: d["call_id"] == offer["call_id"])
    time.sleep(0.5)  # a little talk time
    assert agent.call("hangup", {"call_id": offer["call_id"]})["ok"]
    ended = agent.wait_for("call_ended", lambda d: d["call_id"] == offer["call_id"])
    assert ended["end_reason"] == "agent-hangup"
    assert sipp.wait(caller) == 0, sipp.stats(caller)
    assert sipp.wait(phone) == 0, sipp.stats(phone)
    r = agent.wrap_up(offer["call_id"], "")
    assert r.status_code == 400 and r.json()["error"] == "disposition-required"
    r = agent.wrap_up(offer["call_id"], "resolved", ["billing"])
    assert r.status_code == 200, r.text
    agent.wait_for("agent_state_changed", lambda d: d["state"] == "available")
    call = call_record(node, offer["call_id"])
    assert (
        call.arrived_at <= call.offered_at <= call.answered_at <= call.ended_at <= call.wrapped_at
    )
    assert call.end_reason == "agent-hangup" and call.disposition_code == "resolved"
    assert call.talk_s is not None and call.talk_s >= 0.4
    assert call.customer_id == pop["customers"][0]["id"]
    assert [t.tag for t in call.tags] == ["billing"]
    return offer["call_id"]


def test_answered_call_pops_the_customer_and_is_logged(
    node: Node, sipp: Sipp, agents: dict[str, AgentClient]
) -> None:
    call_id = answered_call_flow(node, sipp, agents["agent1"], node.phones["agent1"])
    with node.hotline.sessions() as s:
        kinds = list(
            s.scalars(
                select(CallEvent.kind).where(CallEvent.call_id == call_id).order_by(CallEvent.id)
            )
        )
    assert kinds == ["arrived", "offered", "answered", "ended", "wrapped"]
    sup = agents["agent2"].http  # an agent may not read the call log
    assert sup.get(f"{node.base_url}/api/v1/calls").status_code == 403
    assert sup.get(f"{node.base_url}/api/v1/calls/{call_id}").status_code == 403
    mine = agents["agent1"].http.get(f"{node.base_url}/api/v1/agent/calls").json()
    assert [c["id"] for c in mine["items"]] == [call_id]


@pytest.fixture
def pg_node(tmp_path: Path, pg_url: str) -> Iterator[Node]:
    yield from start_node(tmp_path, pg_url)


def test_answered_call_on_postgresql(pg_node: Node, sipp: Sipp) -> None:
    agent = AgentClient(pg_node.base_url, "agent1")
    try:
        answered_call_flow(pg_node, sipp, agent, pg_node.phones["agent1"])
    finally:
        agent.close()


@pytest.mark.parametrize(
    ("caller", "expected"),
    [("008613912345678", ["李娜"]), ("010-6234-5678", ["李娜"]), ("13700000000", [])],
)
def test_screen_pop_matches_numbers_in_any_format(
    node: Node, sipp: Sipp, agents: dict[str, AgentClient], caller: str, expected: list[str]
) -> None:
    agent = agents["agent2"]
    agent.available()
    proc, _ = sipp.start(
        "caller.xml", target=node.sip_target, keys={"caller": caller, "hold_ms": "1500"}
    )
    offer = agent.wait_for("call_offered")
    assert [c["name"] for c in offer["pop"]["customers"]] == expected
    agent.wait_for("call_offer_withdrawn", lambda d: d["reason"] == "caller-hangup")
    assert sipp.wait(proc) == 0, sipp.stats(proc)
    wait_until(lambda: call_record(node, offer["call_id"]).ended_at is not None)
    call = call_record(node, offer["call_id"])
    assert call.end_reason == "abandoned" and call.answered_at is None


def test_caller_hanging_up_in_queue_is_abandoned_with_wait_time(node: Node, sipp: Sipp) -> None:
    proc, _ = sipp.start(
        "caller.xml", target=node.sip_target, keys={"caller": "15011112222", "hold_ms": "1200"}
    )
    assert sipp.wait(proc) == 0, sipp.stats(proc)
    wait_until(lambda: _last_call(node) is not None and _last_call(node).ended_at is not None)
    call = _last_call(node)
    assert call.end_reason == "abandoned" and call.status == "ended"
    assert call.offered_at is None and 1.0 <= (call.wait_s or 0) <= 5.0
    assert node.worker.router.waiting() == []


def _all_calls_ended(node: Node) -> bool:
    with node.hotline.sessions() as s:
        calls = list(s.scalars(select(Call)))
    return bool(calls) and all(c.ended_at is not None for c in calls)


def _last_call(node: Node) -> Call | None:
    with node.hotline.sessions() as s:
        return s.scalar(select(Call).order_by(Call.arrived_at.desc()).limit(1))


def test_unanswered_offer_goes_to_the_next_agent(
    tmp_path: Path, sqlite_url: str, sipp: Sipp
) -> None:
    for node in start_node(tmp_path, sqlite_url, ring_timeout_s=1):
        a1 = AgentClient(node.base_url, "agent1")
        a2 = AgentClient(node.base_url, "agent2")
        try:
            a1.available()
            time.sleep(0.05)  # deliberate: agent1's idle clock starts visibly earlier
            a2.available()  # agent1 has been idle longest: she is offered first
            proc, _ = sipp.start(
                "caller.xml",
                target=node.sip_target,
                keys={"caller": "18600001234", "hold_ms": "3000"},
            )
            first = a1.wait_for("call_offered")
            a1.wait_for("call_offer_withdrawn", lambda d: d["reason"] == "rona", timeout=5)
            missed = a1.wait_for("agent_state_changed", lambda d: d["state"] == "not_ready")
            assert missed["reason"] == "missed"
            second = a2.wait_for("call_offered", timeout=5)
            assert second["call_id"] == first["call_id"]
            assert sipp.wait(proc) == 0
            wait_until(
                lambda node=node, first=first: (
                    call_record(node, first["call_id"]).ended_at is not None
                )
            )
            call = call_record(node, first["call_id"])
            assert call.offers == 2 and call.end_reason == "abandoned"
        finally:
            a1.close()
            a2.close()


def test_invite_from_a_source_that_is_not_a_trunk_gets_403_and_takes_no_slot(
    node: Node, sipp: Sipp
) -> None:
    strangers = [
        sipp.start("caller.xml", target=node.sip_target, ip="127.0.0.2", keys={"hold_ms": "200"})[0]
        for _ in range(6)
    ]
    for proc in strangers:
        assert sipp.wait(proc) != 0  # SIPp expected a 200 and got 403
        assert "403" in sipp.stats(proc)
    with node.hotline.sessions() as s:
        assert s.scalar(select(Call)) is None  # nothing was opened for them
    allowed = [
        sipp.start("caller.xml", target=node.sip_target, keys={"hold_ms": "800"})[0]
        for _ in range(node.worker.inbound_limit)
    ]
    for proc in allowed:
        assert sipp.wait(proc) == 0, sipp.stats(proc)


def test_malformed_invites_do_not_hurt_other_calls(node: Node, sipp: Sipp) -> None:
    host, port = node.sip_target.split(":")
    junk = [
        b"INVITE sip:10086@127.0.0.1 SIP/2.0\r\n\r\n",
        b"\x00\xff garbage \r\n\r\n",
        b"INVITE sip:10086@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bKx\r\n"
        b"From: <sip:1@x>;tag=1\r\nTo: <sip:10086@x>\r\nCall-ID: bad1\r\nCSeq: 1 INVITE\r\n"
        b"Content-Type: application/sdp\r\nContent-Length: 9999\r\n\r\nv=0\r\n",
        b"INVITE sip:10086@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bKy\r\n"
        b"From: <sip:1@x>;tag=1\r\nTo: <sip:10086@x>\r\nCall-ID: bad2\r\nCSeq: one INVITE\r\n"
        b"Content-Type: application/sdp\r\nContent-Length: 12\r\n\r\nm=audio nope",
    ]
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        for msg in junk * 5:
            s.sendto(msg, (host, int(port)))
    # Deliberate: the node digests the junk before the real call; dropped datagrams leave
    # nothing to poll for.
    time.sleep(0.5)
    proc, _ = sipp.start("caller.xml", target=node.sip_target, keys={"hold_ms": "500"})
    assert sipp.wait(proc) == 0, sipp.stats(proc)
    wait_until(lambda: node.worker.router.waiting() == [])


def test_more_calls_than_slots_get_486_and_nothing_sticks(node: Node, sipp: Sipp) -> None:
    limit = node.worker.inbound_limit
    procs = [
        sipp.start(
            "caller.xml",
            target=node.sip_target,
            keys={"caller": f"1390000000{i}", "hold_ms": "2500"},
        )[0]
        for i in range(limit + 2)
    ]
    codes = [sipp.wait(p) for p in procs]
    assert codes.count(0) == limit, [sipp.stats(p) for p in procs]
    busy = [p for p, c in zip(procs, codes, strict=True) if c != 0]
    assert all("486" in sipp.stats(p) for p in busy), [sipp.stats(p)[-1500:] for p in busy]
    wait_until(lambda: node.worker.router.waiting() == [])
    # The queue empties as the callers hang up; their records are closed just after.
    wait_until(lambda: _all_calls_ended(node))
    # Slots came back: the same load again is served the same way.
    again = [
        sipp.start("caller.xml", target=node.sip_target, keys={"hold_ms": "300"})[0]
        for _ in range(limit)
    ]
    assert [sipp.wait(p) for p in again] == [0] * limit


TELEPHONY_SCENARIOS = Path(__file__).parent.parent / "telephony" / "scenarios"


def test_agent_phone_hanging_up_ends_the_call_as_agent_hangup(
    node: Node, sipp: Sipp, agents: dict[str, AgentClient]
) -> None:
    agent = agents["agent1"]
    phone, _ = sipp.start(
        str(TELEPHONY_SCENARIOS / "uas_agent_bye.xml"), port=node.phones["agent1"], duration_ms=700
    )
    agent.available()
    caller, _ = sipp.start("caller.xml", target=node.sip_target, keys={"caller": "15011112222"})
    offer = agent.wait_for("call_offered")
    assert offer["pop"]["customers"][0]["grade"] == "D"
    assert agent.call("answer", {"call_id": offer["call_id"]})["ok"]
    ended = agent.wait_for("call_ended", lambda d: d["call_id"] == offer["call_id"])
    assert ended["end_reason"] == "agent-hangup" and ended["agent_id"] == node.agent_id("agent1")
    assert sipp.wait(caller) == 0 and sipp.wait(phone) == 0
    state = agent.wait_for("agent_state_changed", lambda d: d["state"] == "wrap_up")
    assert state["call_id"] == offer["call_id"]
    r = agent.call("set_state", {"state": "available"})  # wrap-up must be finished first
    assert r["ok"] is False and r["error"] == "agent-busy"


def test_busy_agent_phone_puts_the_call_back_to_the_queue(
    node: Node, sipp: Sipp, agents: dict[str, AgentClient]
) -> None:
    a1, a2 = agents["agent1"], agents["agent2"]
    busy, _ = sipp.start(str(TELEPHONY_SCENARIOS / "uas_busy.xml"), port=node.phones["agent1"])
    a1.available()
    caller, _ = sipp.start(
        "caller.xml", target=node.sip_target, keys={"caller": "18600001234", "hold_ms": "4000"}
    )
    offer = a1.wait_for("call_offered")
    assert a1.call("answer", {"call_id": offer["call_id"]})["ok"]
    withdrawn = a1.wait_for("call_offer_withdrawn")
    assert withdrawn["reason"] == "phone-unreachable"
    state = a1.wait_for("agent_state_changed", lambda d: d["state"] == "not_ready")
    assert state["reason"] == "phone_unreachable"
    a2.available()
    again = a2.wait_for("call_offered")
    assert again["call_id"] == offer["call_id"]
    assert sipp.wait(caller) == 0
    sipp.wait(busy)


def test_socket_handshake_from_another_origin_is_refused(node: Node) -> None:
    from tests.integration.harness import login_session

    http = login_session(node.base_url, "agent1")
    url = f"{node.base_url}/socket.io/?EIO=4&transport=polling"
    assert http.get(url, headers={"Origin": node.base_url}).status_code == 200
    assert http.get(url, headers={"Origin": "http://evil.example"}).status_code == 400
