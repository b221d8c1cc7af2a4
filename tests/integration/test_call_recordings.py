"""Every answered call is recorded per channel plus a stereo playback file, encrypted; the
agent can pause it for a sensitive moment and nothing of that span is stored."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sqlalchemy import select

from console.core.models import Call, CallEvent, Recording
from console.recordings.store import Channel, Pcm, parse_keys, read_pcm
from tests.audio import rms
from tests.helpers import wait_until
from tests.integration.harness import AgentClient, Node, Sipp, recordings_of, start_node


def recordings(node: Node, call_id: str) -> dict[str, Recording]:
    return {r.channel: r for r in recordings_of(node.hotline.sessions, call_id)}


def all_complete(node: Node, call_id: str) -> bool:
    rows = recordings(node, call_id)
    return len(rows) == 3 and all(r.status == "complete" for r in rows.values())


def decrypt(node: Node, row: Recording) -> Pcm:
    keys = parse_keys(node.hotline.settings.effective_recording_keys)
    return read_pcm(Path(row.path), keys)


def samples(pcm: Pcm) -> np.ndarray:
    return np.frombuffer(pcm.data, dtype="<i2").astype(float)


def window(x: np.ndarray, rate: int, start_s: float, end_s: float) -> np.ndarray:
    return x[int(start_s * rate) : int(end_s * rate)]


def talk(node: Node, agent: AgentClient, sipp: Sipp, caller: str) -> str:
    agent.available()
    sipp.start("caller_speaks.xml", target=node.sip_target, keys={"caller": caller})
    offer = agent.wait_for("call_offered")
    assert agent.call("answer", {"call_id": offer["call_id"]})["ok"]
    agent.wait_for("call_answered", lambda d: d["call_id"] == offer["call_id"])
    return str(offer["call_id"])


def hang_up(node: Node, agent: AgentClient, call_id: str) -> Call:
    assert agent.call("hangup", {"call_id": call_id})["ok"]
    agent.wait_for("call_ended", lambda d: d["call_id"] == call_id)
    wait_until(lambda: all_complete(node, call_id), timeout=10)
    with node.hotline.sessions() as s:
        call = s.get(Call, call_id)
        assert call is not None and call.answered_at and call.ended_at
        s.expunge(call)
        return call


def talk_s(call: Call) -> float:
    assert call.answered_at is not None and call.ended_at is not None
    return (call.ended_at - call.answered_at) / dt.timedelta(seconds=1)


def test_phone_call_recorded_per_channel_and_a_paused_span_holds_nothing(
    node: Node, sipp: Sipp, agents: dict[str, AgentClient]
) -> None:
    agent = agents["agent1"]
    sipp.start("agent_phone.xml", port=node.phones["agent1"])  # a phone that says nothing
    call_id = talk(node, agent, sipp, "+8613800138000")
    time.sleep(1.2)
    assert agent.call("pause_recording", {"call_id": call_id, "paused": True})["ok"]
    agent.wait_for("recording_paused", lambda d: d["paused"] is True)
    time.sleep(1.2)
    assert agent.call("pause_recording", {"call_id": call_id, "paused": False})["ok"]
    agent.wait_for("recording_paused", lambda d: d["paused"] is False)
    time.sleep(1.2)
    call = hang_up(node, agent, call_id)

    rows = recordings(node, call_id)
    assert {r.sample_rate for r in rows.values()} == {8000}  # G.711 on both sides
    pcm = {channel: decrypt(node, row) for channel, row in rows.items()}
    for channel, row in rows.items():
        # The row carries what the file holds; the audio is as long as the talk time.
        assert row.size_bytes == Path(row.path).stat().st_size
        assert row.sha256 and len(row.sha256) == 64
        assert row.duration_s == pytest.approx(pcm[channel].duration_s, abs=0.001)
        assert abs(pcm[channel].duration_s - talk_s(call)) <= 0.1, channel
    assert pcm[Channel.STEREO].channels == 2

    with node.hotline.sessions() as s:
        events = s.scalars(
            select(CallEvent).where(CallEvent.call_id == call_id).order_by(CallEvent.id)
        ).all()
        marks = {e.kind: e for e in events if e.kind.startswith("recording-")}
    assert set(marks) == {"recording-paused", "recording-resumed"}
    assert {e.agent_id for e in marks.values()} == {node.agent_id("agent1")}
    assert call.answered_at is not None
    paused_at = (marks["recording-paused"].at - call.answered_at).total_seconds()
    resumed_at = (marks["recording-resumed"].at - call.answered_at).total_seconds()
    assert resumed_at - paused_at > 1.0

    caller = samples(pcm[Channel.CALLER])
    agent_side = samples(pcm[Channel.AGENT])
    stereo = samples(pcm[Channel.STEREO]).reshape(-1, 2)
    # The caller's speech is on the caller channel, before and after the pause...
    assert rms(window(caller, 8000, 0.2, paused_at - 0.1)) > 300
    assert rms(window(caller, 8000, resumed_at + 0.2, resumed_at + 1.0)) > 300
    # ...and nothing of either side inside it; the silent phone leaves the agent channel empty.
    assert rms(window(caller, 8000, paused_at + 0.1, resumed_at - 0.1)) == 0
    assert rms(agent_side) < 50
    # Stereo: caller left, agent right, sample for sample.
    n = min(len(stereo), len(caller))
    assert np.array_equal(stereo[:n, 0], caller[:n])
    assert rms(stereo[:, 1]) < 50


def test_browser_agent_call_is_recorded_wideband_where_the_browser_is(
    browser_node: Node, sipp: Sipp, browser_agents: dict[str, AgentClient]
) -> None:
    node, agent = browser_node, browser_agents["agent1"]
    call_id = talk(node, agent, sipp, "+8613800138000")
    time.sleep(1.0)
    call = hang_up(node, agent, call_id)
    rows = recordings(node, call_id)
    # The caller is G.711 (8 kHz); the agent's browser port is 16 kHz, the stereo file too.
    assert {c: r.sample_rate for c, r in rows.items()} == {
        "caller": 8000,
        "agent": 16000,
        "stereo": 16000,
    }
    pcm = {channel: decrypt(node, row) for channel, row in rows.items()}
    for channel in rows:
        assert abs(pcm[channel].duration_s - talk_s(call)) <= 0.1, channel
    caller = samples(pcm[Channel.CALLER])
    stereo = samples(pcm[Channel.STEREO]).reshape(-1, 2)
    assert rms(caller[1600:]) > 300
    assert rms(stereo[3200:, 0]) > 300  # the caller, upsampled by the bridge, on the left
    assert rms(stereo[:, 1]) < 50  # no page attached: the agent said nothing


@pytest.fixture
def browser_node(tmp_path: Path, sqlite_url: str) -> Iterator[Node]:
    yield from start_node(tmp_path, sqlite_url, with_phones=False)


@pytest.fixture
def browser_agents(browser_node: Node) -> Iterator[dict[str, AgentClient]]:
    client = AgentClient(browser_node.base_url, "agent1")
    yield {"agent1": client}
    client.close()


def fail_then_go_on(node: Node, agent: AgentClient, sipp: Sipp) -> tuple[str, dict[str, Any]]:
    """A call whose recording fails: supervisors hear of it, the call goes on to a normal end."""
    supervisor = AgentClient(node.base_url, "super1")
    try:
        call_id = talk(node, agent, sipp, "+8613800138000")
        alert = supervisor.wait_for("recording_failed", lambda d: d["call_id"] == call_id)
        assert agent.wait_for("recording_failed", lambda d: d["call_id"] == call_id)
    finally:
        supervisor.close()
    time.sleep(0.5)  # the call is still up: the caller is on the line, the agent hangs up
    assert agent.call("hangup", {"call_id": call_id})["ok"]
    ended = agent.wait_for("call_ended", lambda d: d["call_id"] == call_id)
    assert ended["end_reason"] == "agent-hangup"
    return call_id, alert


def test_unwritable_store_fails_the_recording_and_the_call_goes_on(
    tmp_path: Path, sqlite_url: str, sipp: Sipp
) -> None:
    not_a_folder = tmp_path / "store"
    not_a_folder.write_text("a file where the recordings folder should be")
    for node in start_node(tmp_path, sqlite_url, with_phones=False, recording_dir=not_a_folder):
        agent = AgentClient(node.base_url, "agent1")
        try:
            call_id, alert = fail_then_go_on(node, agent, sipp)
        finally:
            agent.close()
        assert "ENOTDIR" in alert["error"] or "EEXIST" in alert["error"]
        wait_until(
            lambda: {r.status for r in recordings(node, call_id).values()} == {"failed"}  # noqa: B023
        )


@pytest.mark.skipif(os.geteuid() != 0, reason="mounting a small tmpfs needs root (CI is root)")
def test_full_disk_fails_the_recording_within_a_second_and_keeps_what_was_written(
    tmp_path: Path, sqlite_url: str, sipp: Sipp
) -> None:
    store = tmp_path / "small"
    store.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=96k", "tmpfs", str(store)], check=True)
    try:
        for node in start_node(tmp_path, sqlite_url, with_phones=False, recording_dir=store):
            agent = AgentClient(node.base_url, "agent1")
            try:
                started = time.time()
                call_id, alert = fail_then_go_on(node, agent, sipp)
            finally:
                agent.close()
            assert "ENOSPC" in alert["error"]
            # 96 KiB fill in ~1.5 s at 64 KiB/s (8 kHz caller, 16 kHz agent and stereo); the
            # alert follows the failed write at once.
            assert alert["_received_at"] - started < 10
            rows = recordings(node, call_id)
            assert "failed" in {r.status for r in rows.values()}
            keys = parse_keys(node.hotline.settings.effective_recording_keys)
            for row in rows.values():
                if row.status == "failed":
                    # What was sealed before the disk filled is still readable.
                    assert read_pcm(Path(row.path), keys, partial=True).duration_s >= 0
    finally:
        subprocess.run(["umount", "-l", str(store)], check=False)
