from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from console.core.bus import RedisLiveState
from console.core.models import Agent, User
from console.demo import seed
from console.node import build, web_app
from tests.conftest import REDIS_URL
from tests.helpers import free_port, make_settings
from tests.integration.harness import AgentClient, Node, WorkerProcess, serve


@pytest.fixture
def agents(node: Node) -> Iterator[dict[str, AgentClient]]:
    clients = {name: AgentClient(node.base_url, name) for name in ("agent1", "agent2")}
    yield clients
    for c in clients.values():
        c.close()


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
    app, _ = web_app(hl)
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
