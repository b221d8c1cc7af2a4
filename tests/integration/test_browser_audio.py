"""Browser audio through the web tier: a WebSocket client speaking the page's protocol talks
to a real SIPp caller through the worker's bridge, reattaches after a drop, and is refused
a call that is not its own."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import simple_websocket
from sqlalchemy import select

from console.core.models import CallAnalysis, CallEvent, Recording
from console.quality.jobs import run_batch
from console.quality.services import RunTrigger
from console.recordings.store import parse_keys, read_pcm
from tests.audio import peak_hz, recorded_samples, rms
from tests.helpers import wait_until
from tests.integration.harness import (
    AgentClient,
    AudioPage,
    Node,
    Sipp,
    WorkerProcess,
    browser_headers,
    recordings_of,
    start_node,
)


@pytest.fixture
def browser_node(tmp_path: Path, sqlite_url: str) -> Iterator[Node]:
    yield from start_node(tmp_path, sqlite_url, with_phones=False)


def refused(node: Node, agent: AgentClient, call_id: str, origin: str | None = None) -> int:
    url = node.base_url.replace("http://", "ws://") + f"/api/v1/calls/{call_id}/audio"
    ws = simple_websocket.Client.connect(url, headers=browser_headers(agent, origin))
    try:
        while True:
            ws.receive(timeout=5)
    except simple_websocket.ConnectionClosed as e:
        return int(e.reason)


def test_agent_page_hears_the_caller_and_the_caller_hears_the_page(
    browser_node: Node, sipp: Sipp
) -> None:
    node = browser_node
    agent, other = AgentClient(node.base_url, "agent1"), AgentClient(node.base_url, "agent2")
    try:
        agent.available()
        sipp.start("caller_speaks.xml", target=node.sip_target, keys={"caller": "13800138000"})
        offer = agent.wait_for("call_offered")
        call_id = offer["call_id"]
        assert agent.call("answer", {"call_id": call_id})["ok"]
        agent.wait_for("call_answered", lambda d: d["call_id"] == call_id)

        assert refused(node, other, call_id) == 4403  # not her call
        assert refused(node, agent, "no-such-call") == 4404
        # A page of another site cannot borrow the agent's cookie to listen in.
        assert refused(node, agent, call_id, origin="http://evil.example") == 4403

        page = AudioPage(node.base_url, agent, call_id)
        assert page.rate == 16000
        page.ping()
        time.sleep(2.5)
        # The page hears the caller's speech (SIPp's A-law recording), frame after frame.
        assert len(page.heard) > 80
        heard = np.frombuffer(b"".join(page.heard[10:]), dtype="<i2")
        assert rms(heard) > 300
        assert page.seqs == list(range(len(page.seqs)))
        assert {"type": "pong", "t": 123.5} in page.texts
        stats = [t for t in page.texts if t["type"] == "stats"]
        assert stats and stats[-1]["uplink_frames"] > 50  # type: ignore[operator]

        # A reload: the socket goes, the call stays, a new socket picks the call up again.
        page.close()
        time.sleep(0.5)
        again = AudioPage(node.base_url, agent, call_id, hz=440)
        time.sleep(1.5)
        assert len(again.heard) > 40
        assert agent.call("hangup", {"call_id": call_id})["ok"]
        agent.wait_for("call_ended", lambda d: d["call_id"] == call_id)
        wait_until(lambda: again.closed is not None, timeout=5)
        assert again.closed is not None and int(again.closed.reason) in (1000, 4404)
        again.close()

        # The caller heard the page: the agent channel of the recording is the page's tone.
        def rows() -> list[Recording]:
            return recordings_of(node.hotline.sessions, call_id)

        wait_until(lambda: {r.status for r in rows()} == {"complete"})
        agent_row = next(r for r in rows() if r.channel == "agent")
        keys = parse_keys(node.hotline.settings.effective_recording_keys)
        tone = recorded_samples(agent_row.path, keys)
        first = tone[int(0.5 * 16000) : int(2.0 * 16000)]  # the first page, before the reload
        assert rms(first) > 2000 and abs(peak_hz(first, 16000) - 440) < 5
    finally:
        agent.close()
        other.close()


@pytest.fixture
def graceful_node(tmp_path: Path, sqlite_url: str) -> Iterator[Node]:
    yield from start_node(tmp_path, sqlite_url, with_phones=False, browser_audio_grace_s=2)


def test_page_away_gives_the_caller_music_and_past_the_grace_the_call_is_requeued(
    graceful_node: Node, sipp: Sipp
) -> None:
    """The caller is SIPp echoing what it hears, so the caller channel of the recording is
    what the caller heard: the page's tone while it is there, music while it is away."""
    node = graceful_node
    agent1, agent2 = AgentClient(node.base_url, "agent1"), AgentClient(node.base_url, "agent2")
    try:
        agent1.available()
        sipp.start(
            "caller.xml", target=node.sip_target, keys={"caller": "13800138000"},
            extra=("-rtp_echo",),
        )  # fmt: skip
        call_id = agent1.wait_for("call_offered")["call_id"]
        assert agent1.call("answer", {"call_id": call_id})["ok"]
        agent1.wait_for("call_answered", lambda d: d["call_id"] == call_id)
        page = AudioPage(node.base_url, agent1, call_id, hz=440)
        time.sleep(1.5)
        page.close()  # a reload or a blip: back within the grace period
        time.sleep(1.0)
        page = AudioPage(node.base_url, agent1, call_id, hz=440)
        time.sleep(1.5)
        page.close()  # the tab is closed for good
        agent2.available()
        offer = agent2.wait_for("call_offered", lambda d: d["call_id"] == call_id, timeout=10)
        state = agent1.wait_for("agent_state_changed", lambda d: d["state"] == "not_ready")
        assert state["reason"] == "audio_lost"
        assert agent2.call("answer", {"call_id": offer["call_id"]})["ok"]
        agent2.wait_for("call_answered", lambda d: d["call_id"] == call_id)
        second = AudioPage(node.base_url, agent2, call_id, hz=880)
        time.sleep(1.5)
        assert agent2.call("hangup", {"call_id": call_id})["ok"]
        agent2.wait_for("call_ended", lambda d: d["call_id"] == call_id)
        second.close()

        with node.hotline.sessions() as s:
            events = s.scalars(
                select(CallEvent).where(CallEvent.call_id == call_id).order_by(CallEvent.id)
            ).all()
            kinds = [(e.kind, e.agent_id) for e in events]
            marks = {e.kind: e.at for e in events}

        a1, a2 = node.agent_id("agent1"), node.agent_id("agent2")
        assert ("page-away", a1) in kinds and ("page-back", a1) in kinds
        assert ("requeued", a1) in kinds and kinds.count(("answered", a2)) == 1

        def recs() -> list[Recording]:
            return recordings_of(node.hotline.sessions, call_id)

        wait_until(lambda: len(recs()) == 6 and {r.status for r in recs()} == {"complete"})
        keys = parse_keys(node.hotline.settings.effective_recording_keys)
        first = {r.channel: r for r in recs()[:3]}
        heard = recorded_samples(first["caller"].path, keys)
        said = recorded_samples(first["agent"].path, keys)
        rate = first["caller"].sample_rate
        start = first["caller"].started_at
        away = (marks["page-away"] - start).total_seconds()
        back = (marks["page-back"] - start).total_seconds()
        assert back - away > 0.8
        # While the page was there the caller heard it (440 Hz) ...
        there = heard[int(0.6 * rate) : int((away - 0.3) * rate)]
        assert rms(there) > 1000 and abs(peak_hz(there, rate) - 440) < 10
        # ... while it was away, music and nothing of the agent.
        gone = heard[int((away + 0.3) * rate) : int((back - 0.1) * rate)]
        assert rms(gone) > 200 and abs(peak_hz(gone, rate) - 440) > 20
        agent_rate = first["agent"].sample_rate
        assert rms(said[int((away + 0.1) * agent_rate) : int((back - 0.1) * agent_rate)]) == 0
        # The second agent's part is a recording of its own: the caller heard her 880 Hz.
        second_heard = np.frombuffer(read_pcm(Path(recs()[3].path), keys).data, dtype="<i2")
        part = second_heard[int(0.6 * rate) : int(1.2 * rate)]
        assert abs(peak_hz(part, rate) - 880) < 10
    finally:
        agent1.close()
        agent2.close()


def test_in_the_scaled_shape_the_web_tier_relays_the_page_to_the_worker_process(
    scaled: tuple[object, WorkerProcess, int, str], sipp: Sipp
) -> None:
    hl, _, _, base_url = scaled
    target = f"127.0.0.1:{hl.settings.sip_port}"  # type: ignore[attr-defined]
    agent = AgentClient(base_url, "agent2")  # no SIP phone: browser audio
    try:
        agent.available()
        sipp.start("caller_speaks.xml", target=target, keys={"caller": "13800138000"})
        call_id = agent.wait_for("call_offered")["call_id"]
        assert agent.call("answer", {"call_id": call_id})["ok"]
        agent.wait_for("call_answered", lambda d: d["call_id"] == call_id)
        page = AudioPage(base_url, agent, call_id)  # to the web process, relayed to the worker
        time.sleep(2.0)
        assert len(page.heard) > 60
        assert rms(np.frombuffer(b"".join(page.heard[10:]), dtype="<i2")) > 300
        assert agent.call("hangup", {"call_id": call_id})["ok"]
        wait_until(lambda: page.closed is not None, timeout=5)
        assert page.closed is not None and int(page.closed.reason) in (1000, 4404)
        page.close()

        def rows() -> list[Recording]:
            return recordings_of(hl.sessions, call_id)  # type: ignore[attr-defined]

        wait_until(lambda: {r.status for r in rows()} == {"complete"} and len(rows()) == 3)
        keys = parse_keys(hl.settings.effective_recording_keys)  # type: ignore[attr-defined]
        said = next(r for r in rows() if r.channel == "agent")
        tone = np.frombuffer(read_pcm(Path(said.path), keys).data, dtype="<i2")
        part = tone[int(0.5 * said.sample_rate) : int(1.5 * said.sample_rate)]
        assert rms(part) > 2000 and abs(peak_hz(part, said.sample_rate) - 440) < 5
    finally:
        agent.close()


def test_hold_gives_the_caller_music_and_dtmf_is_sent_and_logged(
    browser_node: Node, sipp: Sipp
) -> None:
    node = browser_node
    agent = AgentClient(node.base_url, "agent1")
    try:
        agent.available()
        sipp.start(
            "caller.xml", target=node.sip_target, keys={"caller": "13800138000"},
            extra=("-rtp_echo",),
        )  # fmt: skip
        call_id = agent.wait_for("call_offered")["call_id"]
        assert agent.call("answer", {"call_id": call_id})["ok"]
        agent.wait_for("call_answered", lambda d: d["call_id"] == call_id)
        page = AudioPage(node.base_url, agent, call_id, hz=440)
        time.sleep(1.2)
        assert agent.call("hold", {"call_id": call_id, "on": True})["ok"]
        assert agent.wait_for("call_held", lambda d: d["held"] is True)["call_id"] == call_id
        time.sleep(1.5)
        assert agent.call("hold", {"call_id": call_id, "on": False})["ok"]
        agent.wait_for("call_held", lambda d: d["held"] is False)
        time.sleep(1.2)
        # (While digits are sent the stream carries them instead of her voice.)
        bad = agent.call("dtmf", {"call_id": call_id, "digits": "12x"})
        assert bad["ok"] is False and bad["error"] == "invalid-input"
        assert agent.call("dtmf", {"call_id": call_id, "digits": "4111"})["ok"]
        time.sleep(1.2)
        assert agent.call("hangup", {"call_id": call_id})["ok"]
        agent.wait_for("call_ended", lambda d: d["call_id"] == call_id)
        wait_until(lambda: page.closed is not None, timeout=5)
        page.close()
        # The page was told, so its light shows "on hold", not a fault.
        states = [t["state"] for t in page.texts if t["type"] == "state"]
        assert states[:2] == ["held", "connected"]

        with node.hotline.sessions() as s:
            events = s.scalars(
                select(CallEvent).where(CallEvent.call_id == call_id).order_by(CallEvent.id)
            ).all()
            log = {e.kind: e for e in events}
            rows = {
                r.channel: r
                for r in s.scalars(select(Recording).where(Recording.call_id == call_id))
            }
        a1 = node.agent_id("agent1")
        assert log["held"].agent_id == a1 and log["resumed"].agent_id == a1
        assert log["dtmf"].agent_id == a1 and log["dtmf"].data == {"count": 4}  # not the digits
        wait_until(
            lambda: all(
                r.status == "complete" for r in recordings_of(node.hotline.sessions, call_id)
            )
        )
        keys = parse_keys(node.hotline.settings.effective_recording_keys)
        caller = rows["caller"]
        heard = np.frombuffer(read_pcm(Path(caller.path), keys).data, dtype="<i2")
        rate = caller.sample_rate
        held = (log["held"].at - caller.started_at).total_seconds()
        resumed = (log["resumed"].at - caller.started_at).total_seconds()
        before = heard[int(0.6 * rate) : int((held - 0.1) * rate)]
        during = heard[int((held + 0.3) * rate) : int((resumed - 0.1) * rate)]
        after = heard[int((resumed + 0.3) * rate) : int((resumed + 0.9) * rate)]
        assert rms(before) > 1000 and abs(peak_hz(before, rate) - 440) < 10
        assert rms(during) > 200 and abs(peak_hz(during, rate) - 440) > 20  # music, not her
        assert rms(after) > 1000 and abs(peak_hz(after, rate) - 440) < 10
        # The recorded call gets its automatic analysis (the scheduler's job, run here): the
        # hold is in it.
        result = run_batch(node.hotline.sessions, keys, 10, RunTrigger.MANUAL)
        assert (result.analysed, result.failed) == (1, 0)
        with node.hotline.sessions() as s:
            analysis = s.scalar(select(CallAnalysis).where(CallAnalysis.call_id == call_id))
        assert analysis is not None and analysis.status == "done"
        assert analysis.metrics["holds"] >= 1
        assert analysis.metrics["hold_s"] >= resumed - held - 0.6
    finally:
        agent.close()
