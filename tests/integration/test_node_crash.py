"""A telephony node killed with SIGKILL mid-call: talk time and the late wrap-up."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

from sqlalchemy import select

from console.core.models import Call, Recording
from console.recordings.store import parse_keys, read_pcm
from tests.integration.harness import AgentClient, Sipp, WorkerProcess, login_session

TALK_S = 4.0
DOWNTIME_S = 6.0


def test_call_cut_by_a_killed_node_ends_at_its_last_heartbeat_and_waits_for_wrap_up(
    scaled: tuple[object, WorkerProcess, int, str],
    sipp: Sipp,
) -> None:
    hl, worker, phone_port, base_url = scaled
    target = f"127.0.0.1:{hl.settings.sip_port}"  # type: ignore[attr-defined]
    agent = AgentClient(base_url, "agent1")
    try:
        sipp.start("agent_phone.xml", port=phone_port, timeout_s=60)
        agent.available()
        sipp.start("caller.xml", target=target, keys={"caller": "13912345678"}, timeout_s=60)
        offer = agent.wait_for("call_offered")
        call_id = offer["call_id"]
        assert agent.call("answer", {"call_id": call_id})["ok"]
        agent.wait_for("call_answered")
        time.sleep(TALK_S)  # deliberate: the call is on the line this long before the kill
        killed_at = dt.datetime.now(dt.UTC)
        worker.crash()
        time.sleep(DOWNTIME_S)  # the node is down; the restart must not bill this as talk
        worker.start()
        with hl.sessions() as s:  # type: ignore[attr-defined]
            call = s.get(Call, call_id)
            assert call is not None and call.end_reason == "worker-restart"
            assert call.ended_at is not None and call.ended_at <= killed_at
            # Talk time ends at the last heartbeat (every 2 s), not at the restart.
            assert call.talk_s is not None and TALK_S - 2.5 <= call.talk_s <= TALK_S + 0.5, (
                call.talk_s
            )
            assert call.status == "wrap_up" and call.disposition_code is None
            # Its recordings stopped with the process: failed, and readable up to the kill
            # (all but the unsealed tail, under 4 KiB: 256 ms of 8 kHz mono).
            rows = s.scalars(select(Recording).where(Recording.call_id == call_id)).all()
            assert {r.channel for r in rows} == {"caller", "agent", "stereo"}
            assert {(r.status, r.error) for r in rows} == {("failed", "worker-restart")}
            keys = parse_keys(hl.settings.effective_recording_keys)  # type: ignore[attr-defined]
            for row in rows:
                pcm = read_pcm(Path(row.path), keys, partial=True)
                assert not pcm.complete
                assert TALK_S - 0.6 <= pcm.duration_s <= TALK_S + 0.3, (row.channel, pcm)
        agent.wait_for(
            "call_ended", lambda d: d["call_id"] == call_id and d["end_reason"] == "worker-restart"
        )

        # The agent is free again, and her console lists the call for wrap-up.
        pending = agent.http.get(
            f"{base_url}/api/v1/agent/calls", params={"needs_wrap_up": "1"}
        ).json()
        assert [c["id"] for c in pending["items"]] == [call_id]
        assert pending["items"][0]["needs_wrap_up"] is True
        # Supervisors find it with the call-log filter.
        sup = login_session(base_url, "super1")
        log = sup.get(f"{base_url}/api/v1/calls", params={"needs_wrap_up": "1"}).json()
        assert [c["id"] for c in log["items"]] == [call_id]
        bad = sup.get(f"{base_url}/api/v1/calls", params={"needs_wrap_up": "maybe"})
        assert bad.status_code == 400 and bad.json()["error"] == "invalid-input"

        r = agent.wrap_up(call_id, "info")
        assert r.status_code == 200, r.text
        assert (
            agent.http.get(f"{base_url}/api/v1/agent/calls", params={"needs_wrap_up": "1"}).json()[
                "items"
            ]
            == []
        )
        assert (
            sup.get(f"{base_url}/api/v1/calls", params={"needs_wrap_up": "1"}).json()["items"] == []
        )
        live = hl.live.get_agent(offer["agent_id"])  # type: ignore[attr-defined]
        assert live.state == "available"
    finally:
        agent.close()
        sipp.close()
