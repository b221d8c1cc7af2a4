from __future__ import annotations

import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from console.bus import RedisLiveState
from console.container import build
from console.demo import seed
from console.models import Agent, Call, User
from console.web import create_app
from tests.conftest import REDIS_URL, free_port, make_settings
from tests.integration.harness import AgentClient, Sipp, serve
from tests.integration.test_call_flow import wait_until


class WorkerProcess:
    """`hotline telephony` in its own process, as in the scaled-out shape."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.env, self.log = env, log
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        seen = self.log.stat().st_size if self.log.exists() else 0
        out = self.log.open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "console.cli", "telephony"], env=self.env, stdout=out, stderr=out
        )
        wait_until(
            lambda: b"SIP: " in self.log.read_bytes()[seen:] or self.proc.poll() is not None, 30
        )  # type: ignore[union-attr]
        assert self.proc.poll() is None, self.log.read_text(errors="replace")[-3000:]

    def crash(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()


@pytest.fixture
def scaled(tmp_path: Path, pg_url: str) -> Iterator[tuple[object, WorkerProcess, int, str]]:
    url = pg_url
    prefix = "t" + uuid.uuid4().hex[:10]
    sip_port, phone_port = free_port(), free_port()
    settings = make_settings(
        tmp_path,
        url,
        redis_url=REDIS_URL,
        redis_prefix=prefix,
        sip_port=sip_port,
        worker_id="w-scaled",
    )
    hl = build(settings)
    with hl.sessions.begin() as s:
        seed(s)
        agent = s.scalar(select(Agent).join(User).where(User.username == "agent1"))
        assert agent is not None
        agent.sip_contact = f"sip:agent1@127.0.0.1:{phone_port}"
    hl.agents.load_agents()
    app, _ = create_app(settings, hl)
    env = {
        **os.environ,
        "HOTLINE_DATA_DIR": str(tmp_path),
        "HOTLINE_DATABASE_URL": url,
        "HOTLINE_REDIS_URL": REDIS_URL,
        "HOTLINE_REDIS_PREFIX": prefix,
        "HOTLINE_SIP_PORT": str(sip_port),
        "HOTLINE_WORKER_ID": "w-scaled",
        "HOTLINE_SECRET_KEY": "test-secret",
    }
    worker = WorkerProcess(env, tmp_path / "worker.log")
    try:
        with serve(app) as base_url:
            worker.start()
            yield hl, worker, phone_port, base_url
    finally:
        worker.stop()
        RedisLiveState(REDIS_URL, prefix=prefix).clear()
        hl.close()


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
        phone2, _ = sipp.start("agent_phone.xml", port=phone_port)
        caller2, _ = sipp.start(
            "caller.xml", target=target, keys={"caller": "13912345678"}, timeout_s=60
        )
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
