from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import select, update

from console.container import Hotline, build
from console.demo import seed
from console.models import Agent, Queue, User
from console.web import create_app
from telephony.worker import TelephonyWorker
from tests.conftest import free_port, make_settings
from tests.integration.harness import AgentClient, Sipp, serve


@dataclass
class Node:
    hotline: Hotline
    worker: TelephonyWorker
    base_url: str
    phones: dict[str, int]  # agent username -> port of its SIPp phone

    @property
    def sip_target(self) -> str:
        return f"127.0.0.1:{self.worker.sip_port}"

    def agent_id(self, username: str) -> int:
        with self.hotline.sessions() as s:
            return int(s.scalar(select(Agent.id).join(User).where(User.username == username)))


@pytest.fixture
def sipp(tmp_path: Path) -> Iterator[Sipp]:
    workdir = tmp_path / "sipp"
    workdir.mkdir()
    peers = Sipp(workdir)
    yield peers
    peers.close()


def start_node(
    tmp_path: Path, db_url: str, ring_timeout_s: int = 15, with_phones: bool = True
) -> Iterator[Node]:
    hl = build(make_settings(tmp_path, db_url, sip_port=free_port(), worker_id="w-test"))
    phones: dict[str, int] = {}
    with hl.sessions.begin() as s:
        seed(s)
        s.execute(update(Queue).values(ring_timeout_s=ring_timeout_s))
        if with_phones:
            for name in ("agent1", "agent2"):
                phones[name] = free_port()
                agent = s.scalar(select(Agent).join(User).where(User.username == name))
                assert agent is not None
                agent.sip_contact = f"sip:{name}@127.0.0.1:{phones[name]}"
    hl.agents.load_agents()
    app, _ = create_app(hl.settings, hl)
    worker = TelephonyWorker(hl)
    worker.start()
    try:
        with serve(app) as base_url:
            yield Node(hl, worker, base_url, phones)
    finally:
        worker.stop()
        hl.close()


@pytest.fixture
def node(tmp_path: Path, sqlite_url: str) -> Iterator[Node]:
    yield from start_node(tmp_path, sqlite_url)


@pytest.fixture
def agents(node: Node) -> Iterator[dict[str, AgentClient]]:
    clients = {name: AgentClient(node.base_url, name) for name in ("agent1", "agent2")}
    yield clients
    for c in clients.values():
        c.close()
