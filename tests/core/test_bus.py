from __future__ import annotations

import multiprocessing as mp
import threading
import time
import uuid
from collections.abc import Iterator

import pytest
import redis

from console.core.bus import InProcessBus, InProcessLiveState, LiveState, RedisBus, RedisLiveState
from console.core.events import agent_state_changed, call_offered
from tests.conftest import REDIS_URL
from tests.helpers import wait_until


@pytest.fixture(params=["memory", "redis"])
def live(request: pytest.FixtureRequest) -> Iterator[LiveState]:
    if request.param == "memory":
        yield InProcessLiveState()
        return
    state = RedisLiveState(REDIS_URL, prefix="t" + uuid.uuid4().hex[:8])
    yield state
    state.clear()
    state.close()


def test_reserve_picks_longest_idle_agent_with_the_skill(live: LiveState) -> None:
    for agent_id, skills in ((1, ["support"]), (2, ["sales"]), (3, ["support", "sales"])):
        live.ensure_agent(agent_id, skills)
    # Deliberate pauses: each agent's idle clock starts visibly later than the one before.
    live.transition(3, "available")
    time.sleep(0.01)
    live.transition(2, "available")
    time.sleep(0.01)
    live.transition(1, "available")
    got = live.reserve("support", [], "call-a")
    assert (
        got is not None and got.agent_id == 3 and got.state == "ringing" and got.call_id == "call-a"
    )
    got = live.reserve("support", [], "call-b")
    assert got is not None and got.agent_id == 1
    assert live.reserve("support", [], "call-c") is None
    assert live.reserve("sales", [2], "call-d") is None
    got = live.reserve("sales", [], "call-d")
    assert got is not None and got.agent_id == 2


def test_transition_is_compare_and_set(live: LiveState) -> None:
    live.ensure_agent(7, ["support"])
    assert live.transition(7, "on_call", expect=["ringing"]) is None
    assert live.transition(7, "available", expect=["offline"]) is not None
    live.reserve("support", [], "c1")
    assert live.transition(7, "available", expect=["ringing"], expect_call="other") is None
    done = live.transition(7, "not_ready", "missed", expect=["ringing"], expect_call="c1")
    assert done is not None and done.reason == "missed" and done.call_id is None
    assert live.reserve("support", [], "c2") is None


def _reserve_many(prefix: str, n: int, out: mp.Queue[list[int]]) -> None:
    state = RedisLiveState(REDIS_URL, prefix=prefix)
    got = []
    for i in range(n):
        a = state.reserve("support", [], f"{prefix}-{mp.current_process().pid}-{i}")
        if a is not None:
            got.append(a.agent_id)
    out.put(got)


def test_redis_reservation_is_atomic_across_processes() -> None:
    prefix = "t" + uuid.uuid4().hex[:8]
    state = RedisLiveState(REDIS_URL, prefix=prefix)
    try:
        for agent_id in range(1, 41):
            state.ensure_agent(agent_id, ["support"])
            state.transition(agent_id, "available")
        ctx = mp.get_context("spawn")
        out: mp.Queue[list[int]] = ctx.Queue()
        procs = [ctx.Process(target=_reserve_many, args=(prefix, 30, out)) for _ in range(4)]
        for p in procs:
            p.start()
        results = [out.get(timeout=60) for _ in procs]
        for p in procs:
            p.join(timeout=10)
        reserved = [a for r in results for a in r]
        assert sorted(reserved) == list(range(1, 41))  # each agent once, none twice
    finally:
        state.clear()
        state.close()


@pytest.mark.parametrize("kind", ["memory", "redis"])
def test_bus_delivers_events_in_order(kind: str) -> None:
    channel = "t" + uuid.uuid4().hex
    bus = InProcessBus() if kind == "memory" else RedisBus(REDIS_URL, channel=channel)
    got: list[object] = []
    done = threading.Event()

    def handler(ev: object) -> None:
        got.append(ev)
        if len(got) == 3:
            done.set()

    bus.subscribe(handler)
    if kind == "redis":  # Redis drops what is published before the SUBSCRIBE has landed
        r = redis.Redis.from_url(REDIS_URL)
        try:
            wait_until(lambda: dict(r.pubsub_numsub(channel)).get(channel.encode(), 0) >= 1)
        finally:
            r.close()
    events = [
        agent_state_changed(agent_id=1, state="available", since=1.0),
        call_offered(
            call_id="c", agent_id=1, ring_timeout_s=15, offered_at=2.0, pop={"customers": []}
        ),
        agent_state_changed(agent_id=1, state="ringing", since=3.0, call_id="c"),
    ]
    for ev in events:
        bus.publish(ev)
    assert done.wait(5)
    assert got == events
    bus.close()
