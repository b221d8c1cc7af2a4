"""Transfers, consult, conference and click-to-dial on a real node: SIPp callers and SIPp
outside numbers on loopback, the agents' audio through the page's WebSocket protocol."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import select

from console.core.models import Agent, Call, CallEvent, Queue
from tests.audio import peak_hz, rms
from tests.helpers import free_port, wait_until
from tests.integration.harness import AgentClient, AudioPage, Node, Sipp, recordings_of, start_node


@pytest.fixture
def far_port() -> int:
    """Where the outside numbers answer: the node's outbound trunk."""
    return free_port()


@pytest.fixture
def node(tmp_path: Path, sqlite_url: str, far_port: int) -> Iterator[Node]:
    yield from start_node(
        tmp_path, sqlite_url, with_phones=False, outbound_trunk=f"127.0.0.1:{far_port}"
    )


@pytest.fixture
def agents(node: Node) -> Iterator[dict[str, AgentClient]]:
    clients = {name: AgentClient(node.base_url, name) for name in ("agent1", "agent2")}
    yield clients
    for c in clients.values():
        c.close()


def answer(node: Node, sipp: Sipp, agent: AgentClient, hold_ms: int | None = None) -> str:
    """A SIPp caller (echoing what it hears) answered by the agent; returns the call id."""
    agent.available()
    keys = {"caller": "13800138000"} | ({"hold_ms": str(hold_ms)} if hold_ms else {})
    sipp.start("caller.xml", target=node.sip_target, keys=keys, extra=("-rtp_echo",))
    call_id = str(agent.wait_for("call_offered")["call_id"])
    assert agent.call("answer", {"call_id": call_id})["ok"]
    agent.wait_for("call_answered", lambda d: d["call_id"] == call_id)
    return call_id


def heard_hz(page: AudioPage, since: int) -> tuple[float, float]:
    """Loudness and main frequency of what the page heard after frame `since`."""
    pcm = np.frombuffer(b"".join(page.heard[since:]), dtype="<i2")
    return rms(pcm), peak_hz(pcm, page.rate)


def events_of(node: Node, call_id: str) -> list[CallEvent]:
    with node.hotline.sessions() as s:
        return list(
            s.scalars(select(CallEvent).where(CallEvent.call_id == call_id).order_by(CallEvent.id))
        )


def record(node: Node, call_id: str) -> Call:
    with node.hotline.sessions() as s:
        call = s.get(Call, call_id)
        assert call is not None
        s.expunge(call)
        return call


def test_blind_transfer_to_an_agent_then_to_a_queue(
    node: Node, sipp: Sipp, agents: dict[str, AgentClient]
) -> None:
    a1, a2 = agents["agent1"], agents["agent2"]
    id1, id2 = node.agent_id("agent1"), node.agent_id("agent2")
    first = answer(node, sipp, a1)
    # Refused before anything changes: an agent who is not available, a queue that is not.
    refused = a1.call("transfer", {"call_id": first, "to": "agent", "target": str(id2)})
    assert refused == refused | {"ok": False, "error": "agent-not-available"}
    refused = a1.call("transfer", {"call_id": first, "to": "queue", "target": "999"})
    assert refused["ok"] is False and refused["error"] == "queue-not-found"
    refused = a1.call("transfer", {"call_id": first, "to": "moon", "target": "1"})
    assert refused["ok"] is False and refused["error"] == "invalid-input"

    a2.available()
    assert a1.call("transfer", {"call_id": first, "to": "agent", "target": str(id2)})["ok"]
    ended = a1.wait_for("call_ended", lambda d: d["call_id"] == first)
    assert ended["end_reason"] == "transferred" and ended["agent_id"] == id1
    second = a1.wait_for("call_transferred")["new_call_id"]
    # Straight to her, not to whoever is longest idle.
    assert a2.wait_for("call_offered")["call_id"] == second
    assert a1.wrap_up(first).status_code == 200  # her part is hers to wrap up at once
    a1.available()
    assert a2.call("answer", {"call_id": second})["ok"]
    a2.wait_for("call_answered", lambda d: d["call_id"] == second)
    page = AudioPage(node.base_url, a2, second, hz=880)
    time.sleep(1.5)
    loud, hz = heard_hz(page, len(page.heard) // 2)
    assert loud > 300 and abs(hz - 880) < 30  # the caller echoes her: they are connected

    with node.hotline.sessions() as s:
        sales = s.scalar(select(Queue.id).where(Queue.name == "sales"))
    assert a2.call("transfer", {"call_id": second, "to": "queue", "target": str(sales)})["ok"]
    third = a2.wait_for("call_transferred")["new_call_id"]
    wait_until(lambda: page.closed is not None, timeout=5)  # her page leaves the call
    page.close()
    # agent2 has no sales skill: the call goes to agent1, the one agent of that queue.
    assert a1.wait_for("call_offered")["call_id"] == third
    assert a1.call("answer", {"call_id": third})["ok"]
    a1.wait_for("call_answered", lambda d: d["call_id"] == third)
    time.sleep(1.0)
    assert a1.call("hangup", {"call_id": third})["ok"]
    a1.wait_for("call_ended", lambda d: d["call_id"] == third)
    assert a2.wrap_up(second).status_code == 200

    chain = [record(node, c) for c in (first, second, third)]
    assert [c.parent_id for c in chain] == [None, first, second]
    assert [c.agent_id for c in chain] == [id1, id2, id1]
    assert [c.end_reason for c in chain] == ["transferred", "transferred", "agent-hangup"]
    assert chain[2].queue_id == sales and chain[1].queue_id == chain[0].queue_id
    assert all(c.caller_number == "+8613800138000" for c in chain)
    moved = [e for e in events_of(node, first) if e.kind == "transferred"]
    assert [(e.agent_id, e.data) for e in moved] == [(id1, {"to": "agent", "target": str(id2)})]
    # Each part has its own recordings, all complete.
    for c in (first, second, third):
        wait_until(lambda c=c: {r.status for r in recordings_of(node.hotline.sessions, c)} == {
            "complete"
        })  # fmt: skip
        assert len(recordings_of(node.hotline.sessions, c)) == 3


def test_blind_transfer_to_an_outside_number_shows_the_number_the_caller_dialled(
    node: Node, sipp: Sipp, agents: dict[str, AgentClient], far_port: int
) -> None:
    a1 = agents["agent1"]
    far, _ = sipp.start("agent_phone.xml", port=far_port, extra=("-trace_msg",))
    first = answer(node, sipp, a1, hold_ms=6000)
    bad = a1.call("transfer", {"call_id": first, "to": "number", "target": "abc"})
    assert bad["ok"] is False and bad["error"] == "invalid-number"
    assert a1.call("transfer", {"call_id": first, "to": "number", "target": "139 0013 9000"})["ok"]
    a1.wait_for("call_ended", lambda d: d["end_reason"] == "transferred")
    second = a1.wait_for("call_transferred")["new_call_id"]
    assert sipp.wait(far, timeout=20) == 0, sipp.stats(far)  # answered, then hung up by us
    # The outside party sees the centre's number the caller dialled.
    invite = sipp.stats(far).split("INVITE sip:", 1)[1]
    assert invite.startswith("+8613900139000@127.0.0.1")
    assert "From: <sip:10086@" in invite or 'From: "10086"' in invite or "sip:10086@" in invite
    wait_until(lambda: record(node, second).ended_at is not None, timeout=10)
    cont = record(node, second)
    assert cont.parent_id == first and cont.agent_id is None
    assert cont.callee_number == "+8613900139000" and cont.answered_at is not None
    assert cont.end_reason == "caller-hangup"
    assert [e.kind for e in events_of(node, second)][:2] == ["arrived", "far-answered"]


def test_blind_transfer_to_a_busy_number_puts_the_caller_back_in_the_queue(
    node: Node, sipp: Sipp, agents: dict[str, AgentClient], far_port: int
) -> None:
    a1, a2 = agents["agent1"], agents["agent2"]
    sipp.start("busy.xml", port=far_port)
    first = answer(node, sipp, a1)
    a2.available()
    assert a1.call("transfer", {"call_id": first, "to": "number", "target": "13900139000"})["ok"]
    second = a1.wait_for("call_transferred")["new_call_id"]
    # Not reached: the caller waits again and the next agent gets her.
    assert a2.wait_for("call_offered", timeout=20)["call_id"] == second
    wait_until(lambda: "far-not-reached" in [e.kind for e in events_of(node, second)])
    assert a2.call("answer", {"call_id": second})["ok"]
    a2.wait_for("call_answered")
    assert a2.call("hangup", {"call_id": second})["ok"]
    a2.wait_for("call_ended", lambda d: d["call_id"] == second)


def test_consult_then_conference_then_complete(
    node: Node, sipp: Sipp, agents: dict[str, AgentClient], far_port: int
) -> None:
    a1 = agents["agent1"]
    far, _ = sipp.start("agent_phone.xml", port=far_port, extra=("-rtp_echo",))
    first = answer(node, sipp, a1, hold_ms=14000)
    page = AudioPage(node.base_url, a1, first, hz=440)
    time.sleep(1.0)
    assert a1.call("consult", {"call_id": first, "number": "13900139000"})["ok"]
    assert a1.wait_for("call_held")["held"] is True
    assert a1.wait_for("call_party", lambda d: d["state"] == "ringing")["number"] == (
        "+8613900139000"
    )
    a1.wait_for("call_party", lambda d: d["state"] == "connected")
    # Hold belongs to the consult now.
    assert a1.call("hold", {"call_id": first, "on": False})["ok"]
    assert a1.wait_for("call_control_failed")["error"] == "consult-in-progress"
    start = len(page.heard)
    time.sleep(1.5)
    loud, hz = heard_hz(page, start + 25)
    assert loud > 300 and abs(hz - 440) < 30  # the consulted party echoes her: they talk

    assert a1.call("conference", {"call_id": first})["ok"]
    a1.wait_for("call_party", lambda d: d["state"] == "conference")
    assert a1.wait_for("call_held")["held"] is False
    time.sleep(1.0)
    assert a1.call("consult_complete", {"call_id": first})["ok"]
    a1.wait_for("call_ended", lambda d: d["call_id"] == first and d["end_reason"] == "transferred")
    second = a1.wait_for("call_transferred")["new_call_id"]
    wait_until(lambda: page.closed is not None, timeout=5)
    page.close()
    assert sipp.wait(far, timeout=25) == 0, sipp.stats(far)  # the caller hung up on it later
    wait_until(lambda: record(node, second).ended_at is not None, timeout=10)
    cont = record(node, second)
    assert cont.parent_id == first and cont.end_reason == "caller-hangup"
    assert cont.answered_at is not None and cont.agent_id is None
    kinds = [e.kind for e in events_of(node, first)]
    for kind in ("consult", "consult-answered", "conference", "transferred"):
        assert kind in kinds, kinds
    assert a1.wrap_up(first).status_code == 200


def test_consult_cancel_brings_the_caller_back(
    node: Node, sipp: Sipp, agents: dict[str, AgentClient], far_port: int
) -> None:
    a1 = agents["agent1"]
    far, _ = sipp.start("agent_phone.xml", port=far_port)
    first = answer(node, sipp, a1)
    page = AudioPage(node.base_url, a1, first, hz=660)
    assert a1.call("consult_cancel", {"call_id": first})["ok"]
    assert a1.wait_for("call_control_failed")["error"] == "no-consult"
    assert a1.call("consult", {"call_id": first, "number": "13900139000"})["ok"]
    a1.wait_for("call_party", lambda d: d["state"] == "connected")
    # A reload finds the call as it is: on hold, the consulted party on the line.
    wait_until(
        lambda: (
            a1.call("snapshot")["call"]["controls"]
            == {
                "held": True,
                "recording_paused": False,
                "party": {"state": "connected", "number": "+8613900139000"},
            }
        )
    )
    assert a1.call("consult_cancel", {"call_id": first})["ok"]
    a1.wait_for("call_party", lambda d: d["state"] == "ended")
    assert a1.wait_for("call_held", lambda d: d["held"] is False)
    assert sipp.wait(far, timeout=10) == 0, sipp.stats(far)  # hung up on
    start = len(page.heard)
    time.sleep(1.5)
    loud, hz = heard_hz(page, start + 25)
    assert loud > 300 and abs(hz - 660) < 30  # back with the caller, who echoes her
    wait_until(lambda: a1.call("snapshot")["call"]["controls"]["party"] is None)
    assert a1.call("snapshot")["call"]["controls"]["held"] is False
    page.close()
    assert a1.call("hangup", {"call_id": first})["ok"]
    a1.wait_for("call_ended", lambda d: d["call_id"] == first)
    assert "consult-cancelled" in [e.kind for e in events_of(node, first)]


def test_click_to_dial_talks_records_and_wraps_up(
    node: Node, sipp: Sipp, agents: dict[str, AgentClient], far_port: int
) -> None:
    a1, a2 = agents["agent1"], agents["agent2"]
    # Her SIP phone: the worker only calls customers into a browser; refused before any
    # record is opened.
    with node.hotline.sessions.begin() as s:
        agent = s.get(Agent, node.agent_id("agent1"))
        assert agent is not None
        agent.sip_contact = "sip:agent1@127.0.0.1:5999"
    assert a1.call("dial", {"number": "13900139000"})["error"] == "dial-needs-browser-audio"
    with node.hotline.sessions.begin() as s:
        agent = s.get(Agent, node.agent_id("agent1"))
        assert agent is not None
        agent.sip_contact = ""
        assert s.scalar(select(Call.id).where(Call.direction == "outbound")) is None
    assert a1.call("dial", {"number": "13900139000"})["error"] == "agent-offline"
    a1.available()
    bad = a1.call("dial", {"number": "x"})
    assert bad["ok"] is False and bad["error"] == "invalid-number"
    bad = a1.call("dial", {"number": "13900139000", "queue_id": "one"})
    assert bad["ok"] is False and bad["error"] == "invalid-input"
    far, _ = sipp.start("agent_phone.xml", port=far_port, extra=("-rtp_echo", "-trace_msg"))
    placed = a1.call("dial", {"number": "13900139000"})
    assert placed["ok"], placed
    call_id = placed["call_id"]
    dialling = a1.wait_for("call_dialling")
    assert dialling["call_id"] == call_id and dialling["pop"]["number"] == "+8613900139000"
    assert a1.call("dial", {"number": "13900139000"})["error"] == "agent-busy"
    a1.wait_for("call_answered", lambda d: d["call_id"] == call_id)
    page = AudioPage(node.base_url, a1, call_id, hz=440)
    time.sleep(1.5)
    loud, hz = heard_hz(page, len(page.heard) // 2)
    assert loud > 300 and abs(hz - 440) < 30
    assert a1.call("hangup", {"call_id": call_id})["ok"]
    a1.wait_for("call_ended", lambda d: d["call_id"] == call_id)
    page.close()
    assert sipp.wait(far, timeout=10) == 0, sipp.stats(far)
    assert "sip:10086@" in sipp.stats(far).split("INVITE sip:", 1)[1].split("\n\n", 1)[0]
    assert a1.wrap_up(call_id).status_code == 200
    call = record(node, call_id)
    assert call.direction == "outbound" and call.agent_id == node.agent_id("agent1")
    assert call.caller_number == "+8613900139000" and call.callee_number == "10086"
    assert call.end_reason == "agent-hangup" and call.disposition_code == "resolved"
    wait_until(
        lambda: {r.status for r in recordings_of(node.hotline.sessions, call_id)} == {"complete"}
    )
    # Nobody answers: the agent is back in the state she dialled from, no wrap-up.
    a2_id = node.agent_id("agent2")
    assert a2.call("set_state", {"state": "not_ready", "reason": "training"})["ok"]
    busy, _ = sipp.start("busy.xml", port=far_port)
    lost = a2.call("dial", {"number": "13900139000"})["call_id"]
    ended = a2.wait_for("call_ended", lambda d: d["call_id"] == lost)
    assert ended["end_reason"] == "not-reached" and ended["agent_id"] == a2_id
    back = a2.wait_for(
        "agent_state_changed", lambda d: d["agent_id"] == a2_id and d["state"] != "on_call"
    )
    assert (back["state"], back["reason"]) == ("not_ready", "training")
    assert record(node, lost).end_reason == "not-reached"
    sipp.wait(busy, timeout=10)


def test_outside_numbers_need_an_outbound_trunk(
    tmp_path: Path, sqlite_url: str, sipp: Sipp
) -> None:
    for node in start_node(tmp_path, sqlite_url, with_phones=False):
        agent = AgentClient(node.base_url, "agent1")
        try:
            call_id = answer(node, sipp, agent)
            for event, data in (
                ("transfer", {"to": "number", "target": "13900139000"}),
                ("consult", {"number": "13900139000"}),
            ):
                refused = agent.call(event, {"call_id": call_id, **data})
                assert refused["ok"] is False and refused["error"] == "no-outbound-trunk"
                assert "HOTLINE_OUTBOUND_TRUNK" in refused["message"]
            assert agent.call("hangup", {"call_id": call_id})["ok"]
            agent.wait_for("call_ended")
            assert agent.wrap_up(call_id).status_code == 200
            assert agent.call("dial", {"number": "13900139000"})["error"] == "no-outbound-trunk"
        finally:
            agent.close()


def test_consult_a_colleague_then_hand_her_the_caller(
    node: Node, sipp: Sipp, agents: dict[str, AgentClient]
) -> None:
    a1, a2 = agents["agent1"], agents["agent2"]
    id2 = node.agent_id("agent2")
    first = answer(node, sipp, a1)
    mine = AudioPage(node.base_url, a1, first, hz=440)
    refused = a1.call("consult", {"call_id": first, "agent": id2})
    assert refused["ok"] is False and refused["error"] == "agent-not-available"
    a2.available()
    # She refuses the first time: the agent is told, the caller stays on hold.
    assert a1.call("consult", {"call_id": first, "agent": id2})["ok"]
    assert a2.wait_for("call_offered")["call_id"] == first
    assert a2.call("reject", {"call_id": first})["ok"]
    a1.wait_for("call_party", lambda d: d["state"] == "failed")
    assert a2.wait_for("call_offer_withdrawn")["reason"] == "consult-ended"
    a2.wait_for("agent_state_changed", lambda d: d["state"] == "available")
    # Then she takes it: the two agents hear each other, the caller (on hold) neither.
    assert a1.call("consult", {"call_id": first, "agent": id2})["ok"]
    offer = a2.wait_for("call_offered")
    assert offer["call_id"] == first and offer["pop"]["number"] == "+8613800138000"
    assert a2.call("answer", {"call_id": first})["ok"]
    a2.wait_for("call_answered", lambda d: d["call_id"] == first)
    party = a1.wait_for("call_party", lambda d: d["state"] == "connected")
    assert party["number"] == "Agent Kim"
    theirs = AudioPage(node.base_url, a2, first, hz=880)
    time.sleep(1.5)
    loud, hz = heard_hz(mine, len(mine.heard) - 40)
    assert loud > 300 and abs(hz - 880) < 30
    loud, hz = heard_hz(theirs, len(theirs.heard) // 2)
    assert loud > 300 and abs(hz - 440) < 30
    # Complete: agent1 leaves and wraps up; agent2 has the caller (who echoes her).
    assert a1.call("consult_complete", {"call_id": first})["ok"]
    a1.wait_for("call_ended", lambda d: d["call_id"] == first and d["end_reason"] == "transferred")
    second = a1.wait_for("call_transferred")["new_call_id"]
    assert a2.wait_for("call_answered", lambda d: d["call_id"] == second)["agent_id"] == id2
    wait_until(lambda: mine.closed is not None, timeout=5)
    mine.close()
    start = len(theirs.heard)
    time.sleep(1.5)
    loud, hz = heard_hz(theirs, start + 25)
    assert loud > 300 and abs(hz - 880) < 30  # her own tone back from the caller's echo
    assert theirs.closed is None  # her page stayed on the line through the hand-over
    assert a2.call("hangup", {"call_id": second})["ok"]
    a2.wait_for("call_ended", lambda d: d["call_id"] == second)
    theirs.close()
    assert a1.wrap_up(first).status_code == 200 and a2.wrap_up(second).status_code == 200
    cont = record(node, second)
    assert (cont.parent_id, cont.agent_id, cont.end_reason) == (first, id2, "agent-hangup")
    wait_until(
        lambda: {r.status for r in recordings_of(node.hotline.sessions, second)} == {"complete"}
    )
    kinds = [(e.kind, e.agent_id) for e in events_of(node, first)]
    assert ("consult-failed", node.agent_id("agent1")) in kinds
    assert ("consult-answered", id2) in kinds
