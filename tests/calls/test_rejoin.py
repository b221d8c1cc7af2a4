"""After the live state was lost and restored (Redis restarted empty), each worker's router
puts its waiting calls back in the shared order, in their first places; a call ringing at an
agent stays hers and is offered to nobody else."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from sqlalchemy import select

from console.calls import schemas as call_schemas
from console.calls import services as call_svc
from console.calls.routing import CallRouter, QueuedCall
from console.calls.writer import OrderedWriter
from console.core.bus import RedisLiveState
from console.core.events import call_offered
from console.core.models import Agent, User
from console.core.settings import Settings
from console.core.states import AgentState
from console.node import Hotline, build
from tests.conftest import REDIS_URL
from tests.helpers import make_settings, seeded_hotline, wait_until

Held = tuple[Hotline, CallRouter, OrderedWriter]


@pytest.fixture
def two(tmp_path: Path, sqlite_url: str) -> Iterator[tuple[Held, Held]]:
    """Two telephony processes' nodes and routers on one database and one Redis prefix."""
    prefix = "t" + uuid.uuid4().hex[:8]

    def settings(worker_id: str) -> Settings:
        return make_settings(
            tmp_path, sqlite_url, redis_url=REDIS_URL, redis_prefix=prefix, worker_id=worker_id
        )

    made: list[Held] = []
    for hl in (seeded_hotline(settings("w-a")), build(settings("w-b"))):
        writer = OrderedWriter(hl.sessions, "test-call-writer")
        made.append((hl, CallRouter(hl, lambda delay, fn: None, writer), writer))
    try:
        yield made[0], made[1]
    finally:
        for hl, _, writer in made:
            writer.close()
            hl.close()
        live = RedisLiveState(REDIS_URL, prefix=prefix)
        live.clear()
        live.close()


def _queued(hl: Hotline, arrived: float) -> QueuedCall:
    with hl.sessions.begin() as s:
        call, q, callers = call_svc.open_inbound(s, "13800138000", "10086", hl.settings.worker_id)
        assert q is not None
        pop = call_schemas.screen_pop(call, q, callers)
        return QueuedCall(call.id, q.skill, q.ring_timeout_s, q.wrap_up_s, arrived, pop)


def test_waiting_calls_rejoin_the_order_and_a_ringing_call_stays_offered(
    two: tuple[Held, Held],
) -> None:
    (a, router_a, _), (b, router_b, _) = two
    lin, kim = _agent(a, "agent1"), _agent(a, "agent2")
    offers: list[call_offered] = []
    a.bus.subscribe(lambda ev: offers.append(ev) if isinstance(ev, call_offered) else None)
    # Nobody available: A's first, B's second and A's third caller wait, in that order.
    t = time.time()
    first, second, third = _queued(a, t), _queued(b, t + 1), _queued(a, t + 2)
    router_a.add(first)
    router_b.add(second)
    router_a.add(third)
    a.agents.transition(lin, AgentState.AVAILABLE)
    router_a.route()
    router_b.route()
    assert (first.offered_to, second.offered_to, third.offered_to) == (lin, None, None)
    a.agents.flush()  # the log holds what the restore reads
    assert isinstance(a.live, RedisLiveState)
    order = f"{a.settings.redis_prefix}:order:support"

    a.live.clear()  # what a Redis that restarted empty holds
    wait_until(lambda: a.live.generation() is not None, 3)
    assert _live(a, lin) == ("ringing", first.call_id)  # still ringing for A's first

    # Each worker puts its unoffered calls back, in their first places.
    assert router_a.rejoin() == 1  # the third: the first rings at Lin, it stays offered
    assert router_b.rejoin() == 1
    with redis.Redis.from_url(REDIS_URL, decode_responses=True) as r:
        assert r.zrange(order, 0, -1) == [second.call_id, third.call_id]

    # Kim becomes available: B's second caller is ahead of A's third, whoever routes first.
    a.agents.transition(kim, AgentState.AVAILABLE)
    router_a.route()
    router_b.route()
    assert (second.offered_to, third.offered_to) == (kim, None)
    # Lin answers the call she rang for through it all; nothing was offered twice.
    assert router_a.take(first.call_id, lin) is first
    assert a.agents.transition(
        lin,
        AgentState.ON_CALL,
        call_id=first.call_id,
        expect=["ringing"],
        expect_call=first.call_id,
    )
    wait_until(lambda: len(offers) == 2)
    time.sleep(0.2)
    assert [(o.call_id, o.agent_id) for o in offers] == [
        (first.call_id, lin),
        (second.call_id, kim),
    ]


def _agent(hl: Hotline, username: str) -> int:
    with hl.sessions() as s:
        found = s.scalar(select(Agent.id).join(User).where(User.username == username))
    assert found is not None
    return found


def _live(hl: Hotline, agent_id: int) -> tuple[str, str | None] | None:
    a = hl.live.get_agent(agent_id)
    return (a.state, a.call_id) if a else None
