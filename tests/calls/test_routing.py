"""Two telephony workers' routers sharing one Redis live state serve one queue order."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import select

from console.calls import schemas as call_schemas
from console.calls import services as call_svc
from console.calls.routing import CallRouter, QueuedCall, Schedule
from console.calls.writer import OrderedWriter
from console.core.bus import RedisLiveState
from console.core.models import Agent, User
from console.core.settings import Settings
from console.core.states import AgentState
from console.node import Hotline, build
from tests.conftest import REDIS_URL
from tests.helpers import make_settings, seeded_hotline

Timer = tuple[float, Callable[[], None]]


@dataclass
class Worker:
    """A router built as console/node.py build_worker builds it: its node, an ordered
    writer, and the timers it scheduled (kept here, run by the test)."""

    hotline: Hotline
    router: CallRouter
    writer: OrderedWriter
    timers: list[Timer]

    def queue(self, arrived: float, priority: int = 0) -> QueuedCall:
        """A new inbound call of the support queue held by this worker."""
        with self.hotline.sessions.begin() as s:
            call, q, callers = call_svc.open_inbound(
                s, "13800138000", "10086", self.hotline.settings.worker_id
            )
            assert q is not None
            pop = call_schemas.screen_pop(call, q, callers)
            qc = QueuedCall(call.id, q.skill, q.ring_timeout_s, q.wrap_up_s, arrived, pop)
        qc.priority = priority
        return qc


@pytest.fixture
def workers(tmp_path: Path, sqlite_url: str) -> Iterator[tuple[Worker, Worker]]:
    """Workers A and B: two nodes (as two telephony processes) on one database and one
    Redis prefix."""
    prefix = "t" + uuid.uuid4().hex[:8]

    def settings(worker_id: str) -> Settings:
        return make_settings(
            tmp_path, sqlite_url, redis_url=REDIS_URL, redis_prefix=prefix, worker_id=worker_id
        )

    made = []
    for hl in (seeded_hotline(settings("w-a")), build(settings("w-b"))):
        writer = OrderedWriter(hl.sessions, "test-call-writer")
        timers: list[Timer] = []
        made.append(Worker(hl, CallRouter(hl, keep(timers), writer), writer, timers))
    try:
        yield made[0], made[1]
    finally:
        for w in made:
            w.writer.close()
            w.hotline.close()
        live = RedisLiveState(REDIS_URL, prefix=prefix)
        live.clear()
        live.close()


def keep(timers: list[Timer]) -> Schedule:
    """A router's timer schedule that only keeps what it is given."""
    return lambda delay, fn: timers.append((delay, fn))


def agent_id(hl: Hotline, username: str) -> int:
    with hl.sessions() as s:
        found = s.scalar(select(Agent.id).join(User).where(User.username == username))
    assert found is not None
    return found


def route_both(a: Worker, b: Worker) -> None:
    """Both workers route on an agent becoming available; the younger call's first."""
    a.router.route()
    b.router.route()


def test_the_oldest_caller_is_offered_first_whichever_worker_holds_it(
    workers: tuple[Worker, Worker],
) -> None:
    a, b = workers
    agents = a.hotline.agents
    lin, kim = agent_id(a.hotline, "agent1"), agent_id(a.hotline, "agent2")
    t = time.time()
    first, third = b.queue(t), b.queue(t + 2)
    second = a.queue(t + 1)
    b.router.add(first)
    a.router.add(second)
    b.router.add(third)

    agents.transition(lin, AgentState.AVAILABLE)
    route_both(a, b)
    assert (first.offered_to, second.offered_to, third.offered_to) == (lin, None, None)
    live = a.hotline.live.get_agent(lin)
    assert live is not None and live.state == AgentState.RINGING and live.call_id == first.call_id

    # Lin answers; Kim becomes available: the next caller is A's, ahead of B's third.
    assert b.router.take(first.call_id, lin) is first
    agents.transition(kim, AgentState.AVAILABLE)
    b.router.route()
    a.router.route()
    assert (second.offered_to, third.offered_to) == (kim, None)


def test_a_call_let_ring_keeps_its_place(workers: tuple[Worker, Worker]) -> None:
    a, b = workers
    agents = a.hotline.agents
    lin, kim = agent_id(a.hotline, "agent1"), agent_id(a.hotline, "agent2")
    t = time.time()
    older, younger = b.queue(t), a.queue(t + 1)
    b.router.add(older)
    a.router.add(younger)
    agents.transition(lin, AgentState.AVAILABLE)
    route_both(a, b)
    assert older.offered_to == lin

    _, ring_timeout = b.timers.pop()
    ring_timeout()  # RONA: Lin is set not ready, the call waits again in its first place
    assert older.offered_to is None
    live = a.hotline.live.get_agent(lin)
    assert live is not None and live.state == AgentState.NOT_READY
    agents.transition(kim, AgentState.AVAILABLE)
    route_both(a, b)
    assert (older.offered_to, younger.offered_to) == (kim, None)


def test_a_call_rejected_waits_ahead_but_lets_the_next_caller_have_her(
    workers: tuple[Worker, Worker],
) -> None:
    a, b = workers
    lin = agent_id(a.hotline, "agent1")
    t = time.time()
    older, younger = b.queue(t), a.queue(t + 1)
    b.router.add(older)
    a.router.add(younger)
    a.hotline.agents.transition(lin, AgentState.AVAILABLE)
    route_both(a, b)
    assert older.offered_to == lin
    b.router.reject(older.call_id, lin)  # she is available again, not for this call
    a.router.route()
    assert older.offered_to is None and younger.offered_to == lin


def test_a_call_offered_to_a_chosen_agent_holds_nobody_back(
    workers: tuple[Worker, Worker],
) -> None:
    a, b = workers
    agents = a.hotline.agents
    lin, kim = agent_id(a.hotline, "agent1"), agent_id(a.hotline, "agent2")
    t = time.time()
    transferred, later = a.queue(t), b.queue(t + 1)
    # A transfer to Lin (as the worker's _transfer does): she is reserved for the call
    # directly and it rings her; meanwhile it is in nobody's way.
    agents.transition(lin, AgentState.AVAILABLE)
    assert agents.transition(
        lin, AgentState.RINGING, call_id=transferred.call_id, expect=[AgentState.AVAILABLE]
    )
    a.router.offer(transferred, lin)
    b.router.add(later)
    agents.transition(kim, AgentState.AVAILABLE)
    route_both(a, b)
    assert later.offered_to == kim


def test_a_caller_who_hangs_up_leaves_the_order(workers: tuple[Worker, Worker]) -> None:
    a, b = workers
    lin = agent_id(a.hotline, "agent1")
    t = time.time()
    gone, next_one = b.queue(t), a.queue(t + 1)
    b.router.add(gone)
    a.router.add(next_one)
    b.router.remove(gone.call_id)
    a.hotline.agents.transition(lin, AgentState.AVAILABLE)
    a.router.route()
    assert next_one.offered_to == lin
