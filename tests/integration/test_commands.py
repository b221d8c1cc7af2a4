from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import requests
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from console.core.db import make_engine
from console.core.models import Agent, RosterPlan, RosterShift
from tests.helpers import free_port, wait_until
from tests.integration.harness import AgentClient


def test_hotline_demo_starts_a_working_single_node_and_stops_cleanly_on_sigterm(
    tmp_path: Path,
) -> None:
    web_port, sip_port = free_port(), free_port()
    log = tmp_path / "demo.log"
    env = {**os.environ, "HOTLINE_DATA_DIR": str(tmp_path / "var")}
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "console.cli",
                "demo",
                "--web-port",
                str(web_port),
                "--sip-port",
                str(sip_port),
            ],
            env=env,
            stdout=out,
            stderr=out,
        )
    try:
        wait_until(lambda: b"web: http" in log.read_bytes() or proc.poll() is not None, 60)
        assert proc.poll() is None, log.read_text(errors="replace")[-2000:]
        base = f"http://127.0.0.1:{web_port}"
        wait_until(lambda: _up(base), 20)
        agent = AgentClient(base, "agent1")  # demo data is there: the demo agent can log in
        agent.available()
        dial = subprocess.run(
            [
                sys.executable,
                "-m",
                "console.cli",
                "dial",
                "13800138000",
                "--target",
                f"127.0.0.1:{sip_port}",
                "--to",
                "10086",
                "--duration",
                "1.5",
            ],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert dial.returncode == 0, dial.stdout[-1000:] + dial.stderr[-2000:]
        assert "final status 200" in dial.stdout
        offer = agent.wait_for("call_offered")
        assert offer["pop"]["customers"][0]["name"] == "张伟"
        agent.wait_for("call_offer_withdrawn", lambda d: d["reason"] == "caller-hangup")
        agent.close()
    finally:
        proc.send_signal(signal.SIGTERM)  # what docker stop and systemd send
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise
    assert proc.returncode == 0, log.read_text(errors="replace")[-2000:]
    assert (tmp_path / "var" / "hotline.db").exists()
    # The demo also forecasts two weeks, solves and publishes a roster for them.
    engine = make_engine(f"sqlite:///{tmp_path / 'var' / 'hotline.db'}")
    try:
        with Session(engine) as s:
            plan = s.scalar(select(RosterPlan))
            assert plan is not None and plan.status == "published" and plan.days == 14
            assert s.scalar(
                select(func.count())
                .select_from(RosterShift)
                .where(RosterShift.roster_id == plan.id)
            )
            # With the whole demo team on it, the roster staffs most of the demo forecast.
            assert s.scalar(select(func.count()).select_from(Agent)) == 10
            assert plan.result["understaffed"] < 0.2 * plan.result["required"]
    finally:
        engine.dispose()


def _up(base: str) -> bool:
    try:
        return requests.get(f"{base}/login", timeout=1).status_code == 200
    except requests.RequestException:
        return False
