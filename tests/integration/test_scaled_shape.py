from __future__ import annotations

from console.core.models import Call
from tests.integration.harness import AgentClient, Sipp, WorkerProcess


def test_web_and_telephony_in_separate_processes_share_redis_and_recover_from_a_crash(
    scaled: tuple[object, WorkerProcess, int, str], sipp: Sipp
) -> None:
    hl, worker, phone_port, base_url = scaled
    target = f"127.0.0.1:{hl.settings.sip_port}"  # type: ignore[attr-defined]
    agent = AgentClient(base_url, "agent1")
    try:
        phone, _ = sipp.start("agent_phone.xml", port=phone_port)
        agent.available()
        caller, _ = sipp.start("caller.xml", target=target, keys={"caller": "13800138000"})
        offer = agent.wait_for("call_offered")  # worker process → Redis → this web process
        assert offer["pop"]["customers"][0]["name"] == "张伟"
        assert agent.call("answer", {"call_id": offer["call_id"]})["ok"]
        agent.wait_for("call_answered")
        assert agent.call("hangup", {"call_id": offer["call_id"]})["ok"]
        agent.wait_for("call_ended")
        assert sipp.wait(caller) == 0 and sipp.wait(phone) == 0
        assert agent.wrap_up(offer["call_id"], "info").status_code == 200

        # A call in progress when the worker dies is closed when it comes back.
        sipp.start("agent_phone.xml", port=phone_port)
        sipp.start("caller.xml", target=target, keys={"caller": "13912345678"}, timeout_s=60)
        offer2 = agent.wait_for("call_offered")
        assert agent.call("answer", {"call_id": offer2["call_id"]})["ok"]
        agent.wait_for("call_answered")
        worker.crash()
        with hl.sessions() as s:  # type: ignore[attr-defined]
            assert s.get(Call, offer2["call_id"]).ended_at is None
        worker.start()
        with hl.sessions() as s:  # type: ignore[attr-defined]
            call = s.get(Call, offer2["call_id"])
            assert call.ended_at is not None and call.end_reason == "worker-restart"
        live = hl.live.get_agent(offer2["agent_id"])  # type: ignore[attr-defined]
        assert live.state == "available" and live.call_id is None
    finally:
        agent.close()
        for p in sipp.procs:
            p.kill()
